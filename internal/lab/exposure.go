package lab

import (
	"io"
	"net/http"
)

// The data exposure and inventory routes: an integrations document that
// carries live-looking keys, a customer export nobody documented, an older
// catalog version that skips authentication, a deprecated search, a debug
// switch, an expvar-style dump, and banners and internal addresses in headers.

type item struct {
	ID    int    `json:"id"`
	Name  string `json:"name"`
	Stock int    `json:"stock"`
}

var catalog = map[string]item{"101": {101, "Anvil", 12}, "102": {102, "Rocket skates", 3}}

func exposureModule() module {
	return module{
		name:   "exposure",
		routes: exposureRoutes,
		paths: `  /integrations:
    get:
      tags: [settings]
      operationId: getIntegrations
      summary: The tenant's third-party integrations
      security: [{ApiKey: []}]
      responses:
        "200":
          description: Integration settings
          content:
            application/json:
              schema: {type: object}
  /render:
    get:
      tags: [settings]
      operationId: renderTemplate
      summary: Render one of the tenant's report templates
      security: [{ApiKey: []}]
      parameters:
        - {name: template, in: query, required: true, schema: {type: string, example: monthly}}
      responses:
        "200":
          description: The rendered report
          content:
            text/html:
              schema: {type: string}
  /v2/catalog/{item_id}:
    get:
      tags: [catalog]
      operationId: getCatalogItem
      summary: One catalog item
      security: [{ApiKey: []}]
      parameters:
        - {name: item_id, in: path, required: true, schema: {type: string, example: "101"}}
      responses:
        "200":
          description: The item
          content:
            application/json:
              schema:
                type: object
                properties:
                  id: {type: integer}
                  name: {type: string}
                  stock: {type: integer}
  /v2/catalog-search:
    get:
      tags: [catalog]
      operationId: legacyCatalogSearch
      summary: Search the catalog (use /products instead)
      deprecated: true
      security: [{ApiKey: []}]
      responses:
        "200": {description: Items}
`,
		manifest: []Flaw{
			{Rule: "exposure.secret", Method: "GET", Path: "/integrations", Note: "a Stripe live key and a Slack webhook URL are returned in full"},
			{Rule: "exposure.pii", Method: "GET", Path: "/products/export", Note: "an undocumented export lists customers with card numbers"},
			{Rule: "exposure.internal-address", Method: "*", Path: "*", Note: "X-Backend names a private address"},
			{Rule: "exposure.debug-mode", Method: "GET", Path: "/render", Note: "an unknown template shows the framework's interactive debugger"},
			{Rule: "exposure.version-banner", Method: "*", Path: "*", Note: "Server and X-Powered-By carry versions"},
			{Rule: "exposure.user-enumeration", Method: "POST", Path: "/auth/login", Active: true, Note: "unknown users and wrong passwords get different messages"},
			{Rule: "inventory.legacy-version", Method: "GET", Path: "/v1/catalog/{item_id}", Note: "the v1 catalog still answers, without authentication"},
			{Rule: "inventory.debug-endpoint", Method: "GET", Path: "/debug/vars", Note: "an expvar-style dump with a database password"},
			{Rule: "inventory.deprecated-alive", Method: "GET", Path: "/v2/catalog-search", Note: "deprecated, still answering"},
			{Rule: "inventory.hidden-parameter", Method: "GET", Path: "/v2/catalog/{item_id}", Note: "debug=true adds internal fields"},
			{Rule: "inventory.undocumented-endpoint", Method: "GET", Path: "/products/export", Note: "not in the spec"},
		},
	}
}

// banners adds the vulnerable twin's revealing headers.
func (l *Lab) banners(w http.ResponseWriter) {
	if l.vulnerable() {
		w.Header().Set("Server", "lab-httpd/2.4.58")
		w.Header().Set("X-Powered-By", "Go/1.26")
		w.Header().Set("X-Backend", "10.20.3.17:8080")
	}
}

func exposureRoutes(l *Lab, mux *http.ServeMux) {
	mux.HandleFunc("GET /integrations", func(w http.ResponseWriter, r *http.Request) {
		key, ok := keyAuth(r)
		if !ok {
			l.fail(w, http.StatusUnauthorized, "Invalid API key")
			return
		}
		stripe, hook := "sk_live_51LabRampartXq8Vd0WzK2mN4pT7", "https://hooks.slack.com/services/T0LAB0001/B0LAB0002/rampartLabHook0000000001"
		if !l.vulnerable() {
			stripe, hook = "sk_live_…(configured)", "https://hooks.slack.com/…(configured)"
		}
		l.writeJSON(w, http.StatusOK, true, map[string]any{"tenant": key.Tenant, "stripe": map[string]string{"key": stripe}, "slack": map[string]string{"webhook": hook}})
	})
	mux.HandleFunc("GET /render", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := keyAuth(r); !ok {
			l.fail(w, http.StatusUnauthorized, "Invalid API key")
			return
		}
		name := r.URL.Query().Get("template")
		if name != "monthly" {
			if l.vulnerable() {
				l.headers(w, true)
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				w.WriteHeader(http.StatusInternalServerError)
				io.WriteString(w, "<!doctype html><html><head><title>TemplateNotFound // Werkzeug Debugger</title></head><body><h1>TemplateNotFound</h1><p>The debugger caught an exception in your WSGI application. You can now look at the traceback which led to the error.</p></body></html>\n") //nolint:errcheck
				return
			}
			l.fail(w, http.StatusNotFound, "no such template")
			return
		}
		l.headers(w, true)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<!doctype html><html><body><h1>Monthly report</h1><p>48,210 calls.</p></body></html>\n") //nolint:errcheck
	})
	serveItem := func(w http.ResponseWriter, r *http.Request, debugOK bool) {
		it, ok := catalog[r.PathValue("item_id")]
		if !ok {
			l.fail(w, http.StatusNotFound, "no such item")
			return
		}
		out := map[string]any{"id": it.ID, "name": it.Name, "stock": it.Stock}
		if debugOK && l.vulnerable() && r.URL.Query().Get("debug") == "true" {
			out["warehouse_bin"], out["supplier_cost"], out["internal_notes"] = "B-17", 412, "margin 61%, do not discount"
		}
		l.writeJSON(w, http.StatusOK, true, out)
	}
	mux.HandleFunc("GET /v2/catalog/{item_id}", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := keyAuth(r); !ok {
			l.fail(w, http.StatusUnauthorized, "Invalid API key")
			return
		}
		serveItem(w, r, true)
	})
	mux.HandleFunc("GET /v2/catalog-search", func(w http.ResponseWriter, r *http.Request) {
		if !l.vulnerable() {
			l.fail(w, http.StatusGone, "retired: use /products")
			return
		}
		if _, ok := keyAuth(r); !ok {
			l.fail(w, http.StatusUnauthorized, "Invalid API key")
			return
		}
		l.writeJSON(w, http.StatusOK, true, []item{catalog["101"], catalog["102"]})
	})
	if !l.vulnerable() {
		return // the hardened twin serves none of the forgotten routes below
	}
	mux.HandleFunc("GET /v1/catalog/{item_id}", func(w http.ResponseWriter, r *http.Request) { serveItem(w, r, false) })
	mux.HandleFunc("GET /products/export", func(w http.ResponseWriter, r *http.Request) {
		l.writeJSON(w, http.StatusOK, false, []map[string]string{
			{"name": "Wile E. Coyote", "email": "wile@acme.example", "card": "4111 1111 1111 1111"},
			{"name": "Road Runner", "email": "beep@acme.example", "card": "5500 0000 0000 0004"},
			{"name": "Hank Scorpio", "email": "hank@globex.example", "card": "3782 822463 10005"},
		})
	})
	mux.HandleFunc("GET /debug/vars", func(w http.ResponseWriter, r *http.Request) {
		l.writeJSON(w, http.StatusOK, false, map[string]any{
			"cmdline":  []string{"/srv/lab", "-mode", "vulnerable"},
			"memstats": map[string]int{"alloc": 2311800, "num_gc": 3},
			"config":   map[string]string{"database_url": "postgres://lab_app:Pg-Lab-Secret-77@db.lab.internal:5432/lab", "env": "staging"},
		})
	})
}
