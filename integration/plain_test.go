package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rampart-scan/rampart/internal/check"
	"github.com/rampart-scan/rampart/internal/checks"
	"github.com/rampart-scan/rampart/internal/identity"
	"github.com/rampart-scan/rampart/internal/scanner"
)

// plainAPI is a polite, correct API: every route checks its caller, unknown
// paths answer 200 {"status":"not_found"} (a catch-all), users see their own
// e-mail in their profile, logins fail identically, writes are validated.
type plainAPI struct {
	mu     sync.Mutex
	orders map[string]map[string]any
	next   int
}

var plainSpec = `openapi: 3.0.3
info: {title: Plain, version: "1"}
security: [{key: []}]
paths:
  /login:
    post:
      security: []
      summary: Log in
      requestBody:
        content:
          application/json:
            schema: {type: object, properties: {email: {type: string}, password: {type: string}}}
      responses: {"200": {description: ok}}
  /me:
    get:
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {type: object, properties: {email: {type: string}, name: {type: string}, team: {type: string}}}
    patch:
      requestBody:
        content:
          application/json:
            schema: {type: object, additionalProperties: false, properties: {name: {type: string, example: Ann}}}
      responses: {"200": {description: ok}}
  /team/{team_id}/orders:
    get:
      parameters:
        - {name: team_id, in: path, required: true, schema: {type: string, example: t-red}}
        - {name: status, in: query, schema: {type: string, enum: [open, paid]}}
      responses: {"200": {description: ok}}
    post:
      parameters: [{name: team_id, in: path, required: true, schema: {type: string, example: t-red}}]
      requestBody:
        content:
          application/json:
            schema: {type: object, required: [item], properties: {item: {type: string, example: pens}}}
      responses: {"201": {description: ok}}
  /team/{team_id}/orders/{order_id}:
    get:
      parameters:
        - {name: team_id, in: path, required: true, schema: {type: string}}
        - {name: order_id, in: path, required: true, schema: {type: string}}
      responses: {"200": {description: ok}}
components:
  securitySchemes:
    key: {type: apiKey, in: header, name: X-Key}
`

var plainUsers = map[string][2]string{"k-red-5521": {"ann@plain.example", "t-red"}, "k-blue-7713": {"bo@plain.example", "t-blue"}}

func (a *plainAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Set("X-RateLimit-Limit", "600") // a gateway limits every client
	if o := r.Header.Get("Origin"); o == "https://app.plain.example" {
		h.Set("Access-Control-Allow-Origin", o)
	}
	write := func(code int, v any) {
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(v)
	}
	notFound := func() { write(200, map[string]string{"status": "not_found"}) } // the catch-all
	if r.URL.Path == "/login" && r.Method == "POST" {
		write(401, map[string]string{"error": "invalid credentials"})
		return
	}
	u, ok := plainUsers[r.Header.Get("X-Key")]
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.Method != "GET" && r.Method != "POST" && r.Method != "PATCH" && r.Method != "OPTIONS":
		notFound()
	case r.URL.Path == "/me" && ok && r.Method == "GET":
		write(200, map[string]string{"email": u[0], "name": strings.Split(u[0], "@")[0], "team": u[1]})
	case r.URL.Path == "/me" && ok && r.Method == "PATCH":
		var b map[string]any
		if json.NewDecoder(r.Body).Decode(&b) != nil {
			write(400, map[string]string{"error": "invalid body"})
			return
		}
		for k := range b {
			if k != "name" {
				write(422, map[string]string{"error": k + " cannot be changed"})
				return
			}
		}
		write(200, map[string]string{"email": u[0], "team": u[1]})
	case len(segs) >= 3 && segs[0] == "team" && segs[2] == "orders":
		if !ok {
			write(401, map[string]string{"error": "unauthorized"})
			return
		}
		if segs[1] != u[1] {
			write(403, map[string]string{"error": "not your team"})
			return
		}
		if len(segs) == 3 && r.Method == "GET" {
			st := r.URL.Query().Get("status")
			if st != "" && st != "open" && st != "paid" {
				write(400, map[string]string{"error": "bad status"})
				return
			}
			var out []map[string]any
			for _, o := range a.orders {
				if o["team"] == u[1] {
					out = append(out, o)
				}
			}
			if out == nil {
				out = []map[string]any{}
			}
			write(200, out)
			return
		}
		if len(segs) == 3 && r.Method == "POST" {
			var b struct{ Item string }
			if r.Header.Get("Content-Type") != "application/json" || json.NewDecoder(r.Body).Decode(&b) != nil || b.Item == "" {
				write(400, map[string]string{"error": "item is required"})
				return
			}
			a.next++
			id := fmt.Sprintf("o-%d", a.next*7919%100000)
			a.orders[id] = map[string]any{"id": id, "team": u[1], "item": b.Item}
			write(201, a.orders[id])
			return
		}
		if len(segs) == 4 && r.Method == "GET" {
			o, found := a.orders[segs[3]]
			if !found || o["team"] != u[1] {
				write(404, map[string]string{"error": "not found"})
				return
			}
			write(200, o)
			return
		}
		notFound()
	default:
		notFound()
	}
}

// TestPlainAPIIsQuiet scans a correct API with every family, --active, and two
// identities of different tenants: nothing above low may come back.
func TestPlainAPIIsQuiet(t *testing.T) {
	api := &plainAPI{orders: map[string]map[string]any{
		"o-11": {"id": "o-11", "team": "t-red", "item": "paper"},
		"o-12": {"id": "o-12", "team": "t-blue", "item": "ink"},
	}}
	srv := httptest.NewServer(api)
	defer srv.Close()
	p := filepath.Join(t.TempDir(), "plain.yaml")
	os.WriteFile(p, []byte(plainSpec), 0o600)
	fams := checks.All()
	cat, err := checks.Catalogue(fams)
	if err != nil {
		t.Fatal(err)
	}
	ids := []*identity.Identity{
		{IDName: "ann", Role: "user", Tenants: []string{"t-red"}, Headers: http.Header{"X-Key": {"k-red-5521"}}},
		{IDName: "bo", Role: "user", Tenants: []string{"t-blue"}, Headers: http.Header{"X-Key": {"k-blue-7713"}}},
	}
	out, err := scanner.Run(context.Background(), scanner.Config{Target: srv.URL, SpecSource: p, Identities: ids, Active: true, Depth: check.Standard,
		MaxDuration: 2 * 60e9, Timeout: 5e9, ConnectTimeout: 2e9, Concurrency: 8, MaxRequests: 5000, Burst: 20, Seed: 3, Version: "test", Checks: fams, Catalogue: cat})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range out.Report.Findings {
		if f.Severity > check.Low {
			t.Errorf("false positive on a correct API: %s %s %s %s %s", f.Severity, f.Rule, f.Method, f.Path, f.Detail)
		}
	}
	t.Logf("%d findings (low or info), %d requests", len(out.Report.Findings), out.Report.Stats.Requests)
}
