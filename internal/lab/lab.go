// Package lab is Rampart's deliberately vulnerable API and its hardened twin,
// built from the same code: one net/http server that serves its own OpenAPI
// spec, for tests, `rampart lab` and `rampart demo`. Each family's routes live
// in their own file with their own spec fragment and manifest of planted flaws,
// joined by the one list in modules(). The lab never resolves host names and
// never dials anything.
package lab

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// Mode selects the twin.
type Mode string

// The twins.
const (
	Vulnerable Mode = "vulnerable"
	Hardened   Mode = "hardened"
)

// ParseMode accepts vulnerable or hardened.
func ParseMode(s string) (Mode, error) {
	switch Mode(s) {
	case Vulnerable, Hardened:
		return Mode(s), nil
	}
	return "", fmt.Errorf("lab mode %q: want vulnerable or hardened", s)
}

// Flaw is one planted flaw: the finding a scan of the vulnerable twin must produce.
type Flaw struct {
	Rule   string `json:"rule"`
	Method string `json:"method"` // "*" for a shared component
	Path   string `json:"path"`   // "*" for a shared component
	// Active is true when proving it needs --active; Deep when it needs --depth deep too.
	Active bool   `json:"active,omitempty"`
	Deep   bool   `json:"deep,omitempty"`
	Note   string `json:"note"`
}

// module is one family's part of the lab.
type module struct {
	name     string
	routes   func(l *Lab, mux *http.ServeMux)
	paths    string // spec YAML under "paths:", indented two spaces
	schemas  string // spec YAML under "components: schemas:", indented four spaces
	manifest []Flaw
}

// modules is the one explicit list of the lab's parts.
func modules() []module {
	return []module{seedModule(), authnModule(), bolaModule(), propertyModule(), bflaModule(), jwtModule(), inputModule(), exposureModule(), ssrfModule(), ratelimitModule(), llmModule()}
}

// Lab is one lab instance.
type Lab struct {
	Mode Mode
	mux  *http.ServeMux
	spec string

	mu       sync.Mutex
	notes    []note
	counter  int
	profiles map[string]*profile
	projects map[int]*project
	logins   *limiter
}

// New builds a lab in the given mode.
func New(mode Mode) *Lab {
	l := &Lab{Mode: mode, mux: http.NewServeMux(), profiles: map[string]*profile{}, projects: map[int]*project{}, logins: newLimiter(12, time.Minute)}
	for _, u := range users {
		l.profiles[u.Name] = &profile{Username: u.Name, Tenant: u.Tenant, Role: u.Role, DisplayName: u.Name, Locale: "en-GB"}
	}
	mods := modules()
	for _, m := range mods {
		m.routes(l, l.mux)
	}
	l.spec = buildSpec(mods)
	l.mux.HandleFunc("GET /openapi.yaml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		l.headers(w, false)
		fmt.Fprint(w, l.spec)
	})
	l.mux.HandleFunc("/", l.landing)
	return l
}

// Manifest lists the planted flaws of the vulnerable twin; the hardened twin has none.
func Manifest() []Flaw {
	var out []Flaw
	for _, m := range modules() {
		out = append(out, m.manifest...)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Rule < out[j].Rule })
	return out
}

// Spec is the lab's OpenAPI document.
func (l *Lab) Spec() string { return l.spec }

// ServeHTTP serves the lab. OPTIONS answers with the methods the path's
// routes register, as web frameworks do.
func (l *Lab) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.cors(w, r)
	l.banners(w)
	if l.trace(w, r) {
		return
	}
	if r.Method == http.MethodOptions {
		var allow []string
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pattern := l.mux.Handler(probe); pattern != "" && pattern != "/" {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			l.headers(w, false)
			w.Header().Set("Allow", strings.Join(append(allow, http.MethodOptions), ", "))
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	l.mux.ServeHTTP(w, r)
}

func (l *Lab) vulnerable() bool { return l.Mode == Vulnerable }

// headers sets the hardened twin's security headers (the vulnerable twin omits them).
func (l *Lab) headers(w http.ResponseWriter, authenticated bool) {
	if l.vulnerable() {
		return
	}
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	if authenticated {
		h.Set("Cache-Control", "no-store")
	}
}

func (l *Lab) writeJSON(w http.ResponseWriter, status int, authenticated bool, v any) {
	l.headers(w, authenticated)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v) //nolint:errcheck
}

func (l *Lab) fail(w http.ResponseWriter, status int, msg string) {
	l.writeJSON(w, status, false, map[string]string{"error": msg})
}

// landing answers / with an HTML page and every unknown path with a JSON 404.
func (l *Lab) landing(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		l.fail(w, http.StatusNotFound, "not found")
		return
	}
	l.headers(w, false)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, "<!doctype html><html><head><title>Rampart lab (%s)</title></head><body><h1>Rampart lab</h1><p>Mode: %s. The API is described at <a href=\"/openapi.yaml\">/openapi.yaml</a>.</p></body></html>\n", l.Mode, l.Mode)
}

func buildSpec(mods []module) string {
	var b strings.Builder
	b.WriteString(`openapi: 3.0.3
info:
  title: Rampart lab
  version: "1.0"
  description: A deliberately vulnerable multi-tenant API (vulnerable twin) and its fixed twin (hardened), built from the same code.
servers:
  - url: /
security:
  - ApiKey: []
  - BearerJWT: []
paths:
`)
	for _, m := range mods {
		b.WriteString(m.paths)
	}
	b.WriteString(`components:
  securitySchemes:
    ApiKey:
      type: http
      scheme: bearer
      description: 'A tenant API key sent as "Authorization: Bearer <key>".'
    BearerJWT:
      type: http
      scheme: bearer
      bearerFormat: JWT
  schemas:
`)
	for _, m := range mods {
		b.WriteString(m.schemas)
	}
	return b.String()
}
