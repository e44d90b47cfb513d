package router

import (
	"context"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

// tenantModels is an in-memory TenantModels.
type tenantModels struct {
	mu sync.Mutex
	m  map[string]VirtualModel
	v  map[string]int
}

func (tm *tenantModels) set(tenant string, vm VirtualModel) {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	tm.m[tenant+"/"+vm.Name] = vm
	tm.v[tenant+"/"+vm.Name]++
}

func (tm *tenantModels) VirtualModel(tenant, name string) (VirtualModel, int, bool) {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	vm, ok := tm.m[tenant+"/"+name]
	return vm, tm.v[tenant+"/"+name], ok
}

func (tm *tenantModels) VirtualModels(tenant string) []VirtualModel {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	var out []VirtualModel
	for k, vm := range tm.m {
		if strings.HasPrefix(k, tenant+"/") {
			out = append(out, vm)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func TestTenantVirtualModels(t *testing.T) {
	tm := &tenantModels{m: map[string]VirtualModel{}, v: map[string]int{}}
	s := newSetup(t, Config{Deployments: []Deployment{{Name: "a"}, {Name: "b"}}, Tenants: tm,
		Virtual: []VirtualModel{{Name: "smart", Targets: []Target{{Model: "a/m"}}}}})
	tm.set("acme", VirtualModel{Name: "smart", Targets: []Target{{Model: "b/m"}}})
	tm.set("acme", VirtualModel{Name: "mine", Targets: []Target{{Model: "b/m"}}})
	ctx := context.Background()
	cases := []struct {
		name, tenant, model, want string
	}{
		{"a tenant's own model wins over the configured one", "acme", "smart", "b"},
		{"another tenant sees the configured one", "globex", "smart", "a"},
		{"a tenant's own model", "acme", "mine", "b"},
	}
	for _, c := range cases {
		_, call, err := s.r.Chat(ctx, userRequest(c.model, "x"), Caller{Tenant: c.tenant})
		if err != nil || call.Deployment != c.want {
			t.Errorf("%s: deployment %q, err %v; want %q", c.name, call.Deployment, err, c.want)
		}
	}
	if _, _, err := s.r.Chat(ctx, userRequest("mine", "x"), Caller{Tenant: "globex"}); llm.AsError(err).Kind != llm.KindNotFound {
		t.Errorf("another tenant's model: err %v, want not found", err)
	}
	var ids []string
	for _, m := range s.r.ModelsFor("acme") {
		ids = append(ids, m.ID+":"+strings.Join(m.Deployments, "+"))
	}
	if got := strings.Join(ids, ","); got != "mine:b,smart:b,m:a+b" {
		t.Errorf("acme's models = %s", got)
	}
	// A new version is picked up.
	tm.set("acme", VirtualModel{Name: "mine", Targets: []Target{{Model: "a/m"}}})
	if _, call, _ := s.r.Chat(ctx, userRequest("mine", "x"), Caller{Tenant: "acme"}); call.Deployment != "a" {
		t.Errorf("after an update: deployment %q, want a", call.Deployment)
	}
	// One that no longer compiles falls through to the configured models.
	tm.set("acme", VirtualModel{Name: "smart", Targets: []Target{{Model: "gone/m"}}})
	if _, call, _ := s.r.Chat(ctx, userRequest("smart", "x"), Caller{Tenant: "acme"}); call.Deployment != "a" {
		t.Errorf("broken tenant model: deployment %q, want the configured a", call.Deployment)
	}
}
