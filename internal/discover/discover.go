// Package discover finds what to scan when no spec is given: a spec at a
// well-known path, or else live endpoints from a small built-in path list,
// judged against the target's catch-all baseline.
package discover

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/rampart-scan/rampart/internal/baseline"
	"github.com/rampart-scan/rampart/internal/plan"
	"github.com/rampart-scan/rampart/internal/probe"
	"github.com/rampart-scan/rampart/internal/spec"
)

// SpecPaths are tried in order, relative to the base URL and then to the origin.
var SpecPaths = []string{
	"/openapi.json", "/openapi.yaml", "/openapi.yml", "/swagger.json", "/swagger.yaml",
	"/v3/api-docs", "/v2/api-docs", "/api-docs", "/api/openapi.json", "/api/swagger.json",
	"/swagger/v1/swagger.json", "/docs/openapi.json", "/.well-known/openapi.json", "/openapi",
}

// EndpointPaths is the built-in list probed when no spec is found.
var EndpointPaths = []string{
	"/", "/api", "/api/v1", "/api/v2", "/v1", "/v2", "/health", "/healthz", "/status", "/version",
	"/me", "/api/me", "/user", "/users", "/api/users", "/v1/users", "/v2/users", "/account", "/accounts",
	"/profile", "/items", "/products", "/orders", "/invoices", "/projects", "/resources", "/tenants",
	"/orgs", "/organizations", "/admin", "/api/admin", "/config", "/settings", "/search", "/files",
	"/secure-data", "/data", "/graphql",
}

// FindSpec looks for a spec at well-known paths. It returns nil when none parses.
func FindSpec(ctx context.Context, c *probe.Client, urlFor func(string) string) (*spec.Spec, string, error) {
	for _, p := range SpecPaths {
		u := urlFor(p)
		ex, err := c.Do(ctx, &probe.Request{Method: http.MethodGet, URL: u, Header: http.Header{"Accept": {"application/json, application/yaml;q=0.9, */*;q=0.5"}}})
		if err != nil {
			if fatal(err) {
				return nil, "", err
			}
			continue
		}
		if ex.Status != http.StatusOK || len(ex.Body) == 0 || ex.Truncated {
			continue
		}
		body := strings.TrimSpace(string(ex.Body[:min(len(ex.Body), 512)]))
		if !strings.Contains(body, "openapi") && !strings.Contains(body, "swagger") {
			continue
		}
		s, err := spec.Parse(ctx, ex.Body, u)
		if err == nil {
			return s, u, nil
		}
	}
	return nil, "", nil
}

func fatal(err error) bool {
	return errors.Is(err, probe.ErrBudgetExhausted) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// Endpoints probes the built-in path list (GET, as identity) and keeps the
// paths whose answer is not the catch-all and not 404/405.
func Endpoints(ctx context.Context, c *probe.Client, urlFor func(string) string, bl *baseline.Store, ident probe.Credentials) ([]plan.Operation, error) {
	var out []plan.Operation
	for _, p := range EndpointPaths {
		if err := bl.Take(ctx, c, urlFor, baseline.Prefix(p), ident); err != nil {
			if fatal(err) {
				return out, err
			}
		}
		ex, err := c.Do(ctx, &probe.Request{Method: http.MethodGet, URL: urlFor(p), Identity: ident, Header: http.Header{"Accept": {"application/json, */*;q=0.5"}}})
		if err != nil {
			if fatal(err) {
				return out, err
			}
			continue
		}
		switch ex.Status {
		case http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusNotImplemented, http.StatusBadGateway:
			continue
		}
		if bl.IsCatchAll(p, ex) {
			continue
		}
		out = append(out, plan.Operation{Method: http.MethodGet, Path: p})
	}
	return out, nil
}
