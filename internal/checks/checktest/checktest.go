// Package checktest runs check families against test targets (httptest servers
// on loopback) through the real scanner, for the families' own tests.
package checktest

import (
	"context"
	"crypto/tls"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rampart-scan/rampart/internal/check"
	"github.com/rampart-scan/rampart/internal/identity"
	"github.com/rampart-scan/rampart/internal/report"
	"github.com/rampart-scan/rampart/internal/scanner"
)

// Target is a test API.
type Target struct {
	Handler http.Handler
	// Spec is the OpenAPI document (YAML); empty for discovery.
	Spec       string
	Identities []*identity.Identity
	Active     bool
	// JWT is key material the tester gives.
	JWT check.JWTKeys
	// TLS serves the target over HTTPS with this configuration (the scan then uses --insecure).
	TLS *tls.Config
	// Depth defaults to standard.
	Depth check.Depth
	// LLM paces the LLM probes (zero: no delay, 60 s).
	LLM check.LLMOptions
}

// Scan runs the families against the target and returns the validated report.
func Scan(t *testing.T, tg Target, fams ...check.Check) *report.Report {
	t.Helper()
	srv := httptest.NewUnstartedServer(tg.Handler)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // failed test handshakes are expected
	if tg.TLS != nil {
		srv.TLS = tg.TLS
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	depth := tg.Depth
	if depth == "" {
		depth = check.Standard
	}
	cfg := scanner.Config{
		Target: srv.URL, Identities: tg.Identities, Active: tg.Active, Depth: depth, Insecure: tg.TLS != nil,
		MaxDuration: 2 * time.Minute, Timeout: 5 * time.Second, ConnectTimeout: 2 * time.Second,
		Concurrency: 8, MaxRequests: 5000, Burst: 20, Seed: 1, Version: "test", Checks: fams, JWT: tg.JWT, LLM: tg.LLM,
	}
	if tg.Spec != "" {
		p := filepath.Join(t.TempDir(), "openapi.yaml")
		if err := os.WriteFile(p, []byte(tg.Spec), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg.SpecSource = p
	}
	var rules []check.Rule
	for _, f := range fams {
		m := f.Meta()
		for _, r := range m.Rules {
			if r.Category == "" {
				r.Category = m.Category
			}
			rules = append(rules, r)
		}
	}
	cat, err := check.NewCatalogue(rules)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Catalogue = cat
	out, err := scanner.Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	return out.Report
}

// Find returns the findings of a rule.
func Find(r *report.Report, rule string) []check.Finding {
	var out []check.Finding
	for _, f := range r.Findings {
		if f.Rule == rule {
			out = append(out, f)
		}
	}
	return out
}

// Above returns findings more severe than sev.
func Above(r *report.Report, sev check.Severity) []check.Finding {
	var out []check.Finding
	for _, f := range r.Findings {
		if f.Severity > sev {
			out = append(out, f)
		}
	}
	return out
}

// Key is an identity with one header.
func Key(name, header, value string) *identity.Identity {
	return &identity.Identity{IDName: name, Role: identity.RoleUser, Headers: http.Header{http.CanonicalHeaderKey(header): {value}}}
}
