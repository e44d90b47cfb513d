package router

// tenantVirtual is a tenant's virtual model compiled against one table.
type tenantVirtual struct {
	tab     *table
	version int
	vm      *virtual
}

// tenantVirtual returns the tenant's own virtual model called name,
// compiled against t (recompiled when the table or the definition changes).
// A definition that no longer compiles (its deployment was removed) is
// skipped with a warning, so the name falls through to the configured
// models.
func (r *Router) tenantVirtual(t *table, tenant, name string) (*virtual, bool) {
	if r.cfg.Tenants == nil || tenant == "" {
		return nil, false
	}
	def, version, ok := r.cfg.Tenants.VirtualModel(tenant, name)
	key := tenant + "\x00" + name
	if !ok {
		r.tenantVMs.Delete(key)
		return nil, false
	}
	if c, ok := r.tenantVMs.Load(key); ok {
		if tv := c.(*tenantVirtual); tv.tab == t && tv.version == version {
			return tv.vm, tv.vm != nil
		}
	}
	def.Name = name
	vm, errs := t.compile(def)
	if len(errs) > 0 {
		r.log.Warn("tenant virtual model does not compile; ignored", "tenant", tenant, "model", name, "err", errs[0])
		vm = nil
	}
	r.tenantVMs.Store(key, &tenantVirtual{tab: t, version: version, vm: vm})
	return vm, vm != nil
}

// TenantLister is a TenantModels that can also list a tenant's virtual
// models (for model listings).
type TenantLister interface {
	TenantModels
	VirtualModels(tenant string) []VirtualModel
}

// ModelsFor lists the models a tenant may call: its own virtual models
// (which hide configured ones of the same name), then Models().
func (r *Router) ModelsFor(tenant string) []ModelInfo {
	all := r.Models()
	tl, ok := r.cfg.Tenants.(TenantLister)
	if !ok || tenant == "" {
		return all
	}
	t := r.tab.Load()
	own := map[string]bool{}
	var out []ModelInfo
	for _, v := range tl.VirtualModels(tenant) {
		vm, ok := r.tenantVirtual(t, tenant, v.Name)
		if !ok {
			continue
		}
		own[v.Name] = true
		strategy := vm.Strategy
		if strategy == "" {
			strategy = StrategyFallback
		}
		out = append(out, ModelInfo{ID: v.Name, OwnedBy: "virtual", Virtual: true, Strategy: strategy, Deployments: depNames(vm.flat)})
	}
	for _, m := range all {
		if !own[m.ID] {
			out = append(out, m)
		}
	}
	return out
}
