package main

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/circuit-breaker/circuit-breaker/config"
	"github.com/circuit-breaker/circuit-breaker/providers"
	_ "github.com/circuit-breaker/circuit-breaker/providers/all"
	"github.com/circuit-breaker/circuit-breaker/providers/catalog"
	"github.com/circuit-breaker/circuit-breaker/providers/router"
)

// llmDeployments turns the configuration (and, unless turned off, the
// provider keys in the environment) into the router's deployments and
// price overrides. Every problem is reported at once.
func llmDeployments(c config.LLM, getenv func(string) string) ([]router.Deployment, []catalog.Override, error) {
	cat := catalog.Default()
	var deps []router.Deployment
	var overrides []catalog.Override
	var errs []error
	names := make([]string, 0, len(c.Providers))
	for name := range c.Providers {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		p := c.Providers[name]
		providerID := p.Provider
		if providerID == "" {
			providerID = name
		}
		cp, known := cat.Provider(providerID)
		cfg := providers.Config{Name: name, Format: p.Format, BaseURL: strings.TrimRight(p.BaseURL, "/"), APIKey: string(p.APIKey),
			Headers: p.Headers, APIVersion: p.APIVersion, Region: p.Region, AccessKeyID: p.AccessKeyID,
			SecretAccessKey: string(p.SecretAccessKey), SessionToken: string(p.SessionToken)}
		if known {
			// Start from what the environment says of a catalogue provider
			// (its key variable, base URL), then let the file win.
			env := envConfig(cat, providerID, getenv)
			if cfg.Format == "" {
				cfg.Format = cp.Format
			}
			if cfg.BaseURL == "" {
				cfg.BaseURL = env.BaseURL
				if cfg.BaseURL == "" {
					cfg.BaseURL, _ = cp.ResolveBaseURL(getenv)
				}
			}
			if cfg.APIKey == "" {
				cfg.APIKey = env.APIKey
			}
			if cfg.Region == "" {
				cfg.Region = env.Region
			}
			if cfg.AccessKeyID == "" && cfg.SecretAccessKey == "" {
				cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken = env.AccessKeyID, env.SecretAccessKey, env.SessionToken
			}
		} else {
			providerID = ""
		}
		if cfg.Format == "" {
			errs = append(errs, fmt.Errorf("llm.providers.%s: format is required (%s is not a catalogue provider)", name, name))
			continue
		}
		client, err := providers.New(cfg)
		if err != nil {
			errs = append(errs, fmt.Errorf("llm.providers.%s: %w", name, err))
			continue
		}
		deps = append(deps, router.Deployment{Name: name, Provider: providerID, Client: client, Models: p.Models, ModelMap: p.ModelMap, Weight: p.Weight})
		for model, pr := range p.Prices {
			overrides = append(overrides, catalog.Override{Deployment: name, Model: model,
				Input: pr.Input, Output: pr.Output, CacheRead: pr.CacheRead, CacheWrite: pr.CacheWrite, Reasoning: pr.Reasoning})
		}
	}
	if c.FromEnv == nil || *c.FromEnv {
		for _, cfg := range cat.FromEnv(getenv) {
			if _, configured := c.Providers[cfg.Name]; configured {
				continue
			}
			client, err := providers.New(cfg)
			if err != nil {
				errs = append(errs, fmt.Errorf("provider %s from the environment: %w", cfg.Name, err))
				continue
			}
			deps = append(deps, router.Deployment{Name: cfg.Name, Provider: cfg.Name, Client: client})
		}
	}
	return deps, overrides, errors.Join(errs...)
}

// envConfig is what the environment says of one catalogue provider (zero
// when it says nothing).
func envConfig(cat *catalog.Catalog, id string, getenv func(string) string) providers.Config {
	for _, c := range cat.FromEnv(getenv) {
		if c.Name == id {
			return c
		}
	}
	return providers.Config{}
}

// newRouter builds the LLM router of the configuration.
func newRouter(c config.LLM, getenv func(string) string, rec router.Recorder, tenants router.TenantModels, log *slog.Logger) (*router.Router, error) {
	deps, overrides, err := llmDeployments(c, getenv)
	if err != nil {
		return nil, err
	}
	prices, err := catalog.NewTable(catalog.Default(), overrides...)
	if err != nil {
		return nil, fmt.Errorf("llm prices: %w", err)
	}
	var virtual []router.VirtualModel
	for _, name := range sortedNames(c.VirtualModels) {
		v := c.VirtualModels[name]
		vm := router.VirtualModel{Name: name, Strategy: v.Strategy}
		for i, m := range v.Models {
			t := router.Target{Model: m}
			if i < len(v.Weights) {
				t.Weight = v.Weights[i]
			}
			vm.Targets = append(vm.Targets, t)
		}
		virtual = append(virtual, vm)
	}
	r := c.Routing
	return router.New(router.Config{
		Deployments: deps,
		Virtual:     virtual,
		Prices:      prices,
		Retry:       router.Retry{MaxAttempts: r.MaxAttempts, BaseDelay: time.Duration(r.RetryBaseDelay), MaxDelay: time.Duration(r.RetryMaxDelay)},
		Breaker:     router.Breaker{Failures: r.BreakerFailures, OpenFor: time.Duration(r.BreakerOpenFor)},
		Recorder:    rec,
		Tenants:     tenants,
		Logger:      log,
	})
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// logDeployments says which deployments the router has, so that an
// operator sees at start-up which keys were picked up (never the keys).
func logDeployments(log *slog.Logger, r *router.Router) {
	ds := r.Deployments()
	if len(ds) == 0 {
		log.Info("llm router has no deployments: set a provider key (OPENAI_API_KEY, ANTHROPIC_API_KEY, …) or configure [llm.providers]")
		return
	}
	names := make([]string, len(ds))
	for i, d := range ds {
		names[i] = d.Name
	}
	log.Info("llm router", "deployments", names)
}
