package property

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/rampart-scan/rampart/internal/check"
	"github.com/rampart-scan/rampart/internal/checks/checktest"
	"github.com/rampart-scan/rampart/internal/identity"
)

const shopSpec = `openapi: 3.0.3
info: {title: Shop, version: "1"}
security: [{key: []}]
paths:
  /staff:
    get:
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                type: array
                items:
                  type: object
                  properties: {name: {type: string}, email: {type: string}}
  /profile:
    get:
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                type: object
                properties:
                  name: {type: string}
                  is_admin: {type: boolean, readOnly: true}
                  credits: {type: integer, readOnly: true}
                  settings: {type: object}
    patch:
      requestBody:
        content:
          application/json:
            schema:
              type: object
              properties: {name: {type: string, example: Ann}}
      responses: {"200": {description: ok}}
  /coupons:
    post:
      requestBody:
        content:
          application/json:
            schema:
              type: object
              properties: {code: {type: string}, discount: {type: integer}, owner_id: {type: string}}
      responses: {"201": {description: ok}}
components:
  securitySchemes:
    key: {type: apiKey, in: header, name: X-Key}
`

type shopAPI struct {
	leakHashes bool // /staff serialises storage rows
	bindAll    bool // PATCH /profile binds every field
	strict     bool // PATCH /profile answers 422 to unknown fields
	mu         sync.Mutex
	admin      bool
	credits    float64
	name       string
}

func (a *shopAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if r.Header.Get("X-Key") != "key-ann-7781" {
		w.WriteHeader(401)
		fmt.Fprint(w, `{"error":"unauthorized"}`)
		return
	}
	switch {
	case r.URL.Path == "/staff":
		rows := []map[string]any{{"name": "Ann", "email": "ann@shop.example"}, {"name": "Ben", "email": "ben@shop.example"}}
		if a.leakHashes {
			rows[1]["password_hash"] = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"
		}
		json.NewEncoder(w).Encode(rows)
	case r.URL.Path == "/profile" && r.Method == "GET":
		if a.name == "" {
			a.name = "Ann"
		}
		// The caller's own key and a free-form settings object are not leaks.
		json.NewEncoder(w).Encode(map[string]any{"name": a.name, "is_admin": a.admin, "credits": a.credits, "api_key": "key-ann-7781", "settings": map[string]any{"secret_theme": "dark"}})
	case r.URL.Path == "/profile" && r.Method == "PATCH":
		var body map[string]any
		json.NewDecoder(r.Body).Decode(&body)
		for k, v := range body {
			switch {
			case k == "name":
				a.name, _ = v.(string)
			case a.strict:
				w.WriteHeader(422)
				fmt.Fprintf(w, `{"error":"%s is read-only"}`, k)
				return
			case a.bindAll && k == "is_admin":
				a.admin, _ = v.(bool)
			case a.bindAll && k == "credits":
				a.credits, _ = v.(float64)
			}
		}
		json.NewEncoder(w).Encode(map[string]any{"name": a.name, "is_admin": a.admin, "credits": a.credits})
	default:
		w.WriteHeader(404)
		fmt.Fprint(w, `{"error":"not found"}`)
	}
}

func scanShop(t *testing.T, api *shopAPI) []check.Finding {
	ann := checktest.Key("ann", "X-Key", "key-ann-7781")
	return checktest.Scan(t, checktest.Target{Handler: api, Spec: shopSpec, Active: true, Identities: []*identity.Identity{ann}}, New()).Findings
}

func TestVulnerableShop(t *testing.T) {
	api := &shopAPI{leakHashes: true, bindAll: true}
	got := map[string]check.Finding{}
	for _, f := range scanShop(t, api) {
		got[f.Rule+" "+f.Method+" "+f.Path] = f
	}
	ex, ok := got["property.excessive-exposure GET /staff"]
	if !ok || ex.Severity != check.High || ex.Parameter.Name != "[].password_hash" {
		t.Fatalf("excessive exposure: %+v", got)
	}
	if _, ok := got["property.excessive-exposure GET /profile"]; ok {
		t.Error("the caller's own key and a free-form object were reported")
	}
	ma, ok := got["property.mass-assignment PATCH /profile"]
	if !ok || ma.Severity != check.Critical || ma.Parameter.Name != "is_admin" || ma.Confidence != check.Confirmed {
		t.Fatalf("mass assignment: %+v", ma)
	}
	if api.admin || api.credits != 0 {
		t.Errorf("the scan did not restore the object: admin=%v credits=%v", api.admin, api.credits)
	}
	if _, ok := got["property.mass-assignment-surface POST /coupons"]; !ok {
		t.Error("writable owner_id/discount in a request schema not reported")
	}
}

func TestFixedShopsSilent(t *testing.T) {
	for name, api := range map[string]*shopAPI{"ignores unknown fields": {}, "rejects unknown fields": {strict: true}} {
		t.Run(name, func(t *testing.T) {
			for _, f := range scanShop(t, api) {
				if f.Severity > check.Low {
					t.Errorf("false positive: %s %s %s: %s", f.Rule, f.Method, f.Path, f.Detail)
				}
			}
		})
	}
}
