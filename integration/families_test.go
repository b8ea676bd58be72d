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
	"testing"

	"github.com/rampart-scan/rampart/internal/check"
	"github.com/rampart-scan/rampart/internal/checks"
	"github.com/rampart-scan/rampart/internal/identity"
	"github.com/rampart-scan/rampart/internal/report"
	"github.com/rampart-scan/rampart/internal/scanner"
)

// booksAPI is written for the input, exposure and inventory families: each
// flag plants one mistake; with no flag it is correct.
type booksAPI struct {
	sqlConcat, corsReflect, traceOn, panics, debugVars, legacyV1, leakKey, banner bool
}

const booksSpec = `openapi: 3.0.3
info: {title: Books, version: "2"}
servers: [{url: /api}]
security: [{key: []}]
paths:
  /v2/books:
    get:
      parameters: [{name: author, in: query, schema: {type: string, example: tolstoy}}]
      responses: {"200": {description: ok}}
    post:
      requestBody:
        content:
          application/json:
            schema: {type: object, required: [title], properties: {title: {type: string, example: Dune}}}
      responses: {"201": {description: ok}}
  /v2/books/{isbn}:
    get:
      parameters: [{name: isbn, in: path, required: true, schema: {type: string, example: "978-0"}}]
      responses: {"200": {description: ok}}
  /v2/settings:
    get:
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {type: object}
components:
  securitySchemes:
    key: {type: apiKey, in: header, name: X-Key}
`

var books = []map[string]string{{"isbn": "978-0", "title": "War and Peace", "author": "tolstoy"}, {"isbn": "978-1", "title": "Anna Karenina", "author": "tolstoy"}, {"isbn": "978-2", "title": "Dune", "author": "herbert"}}

func (a *booksAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Set("RateLimit-Policy", "100;w=60") // a gateway limits every client
	if a.banner {
		h.Set("Server", "nginx/1.18.0")
	}
	if o := r.Header.Get("Origin"); o != "" && a.corsReflect {
		h.Set("Access-Control-Allow-Origin", o)
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	if r.Method == "TRACE" {
		if a.traceOn {
			h.Set("Content-Type", "message/http")
			fmt.Fprintf(w, "TRACE %s HTTP/1.1\r\n", r.URL.Path)
			r.Header.Write(w)
			return
		}
		w.WriteHeader(405)
		return
	}
	p := strings.TrimPrefix(r.URL.Path, "/api")
	if a.debugVars && p == "/debug/vars" {
		fmt.Fprint(w, `{"cmdline":["/srv/books"],"memstats":{"alloc":1},"env":{"DATABASE_URL":"mysql://books:Sup3rSecret!@db.books.internal/books"}}`)
		return
	}
	if a.legacyV1 && strings.HasPrefix(p, "/v1/books/") {
		isbn := strings.TrimPrefix(p, "/v1/books/")
		for _, b := range books {
			if b["isbn"] == isbn {
				json.NewEncoder(w).Encode(b)
				return
			}
		}
	}
	if r.Header.Get("X-Key") != "k-reader-31" {
		w.WriteHeader(401)
		fmt.Fprint(w, `{"error":"unauthorized"}`)
		return
	}
	switch {
	case p == "/v2/books" && r.Method == "GET":
		author := r.URL.Query().Get("author")
		if a.sqlConcat && strings.Count(author, "'")%2 == 1 {
			w.WriteHeader(500)
			fmt.Fprint(w, `{"error":"You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version"}`)
			return
		}
		var out []map[string]string
		for _, b := range books {
			match := author == "" || b["author"] == author
			if a.sqlConcat && strings.Contains(author, "' AND '") {
				base, cond, _ := strings.Cut(author, "' AND '")
				l, rr, _ := strings.Cut(strings.TrimSuffix(cond, "'"), "'='")
				match = (b["author"] == base) && l == rr
			}
			if match {
				out = append(out, b)
			}
		}
		if out == nil {
			out = []map[string]string{}
		}
		json.NewEncoder(w).Encode(out)
	case p == "/v2/books" && r.Method == "POST":
		var in struct{ Title string }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Title == "" {
			if a.panics {
				w.WriteHeader(500)
				fmt.Fprint(w, "Traceback (most recent call last):\n  File \"/srv/books/app.py\", line 88, in create\n    title = body['title']\nKeyError: 'title'\n")
				return
			}
			w.WriteHeader(400)
			fmt.Fprint(w, `{"error":"title is required"}`)
			return
		}
		w.WriteHeader(201)
		fmt.Fprintf(w, `{"isbn":"978-9","title":%q}`, in.Title)
	case strings.HasPrefix(p, "/v2/books/"):
		isbn := strings.TrimPrefix(p, "/v2/books/")
		for _, b := range books {
			if b["isbn"] == isbn {
				json.NewEncoder(w).Encode(b)
				return
			}
		}
		w.WriteHeader(404)
		fmt.Fprint(w, `{"error":"not found"}`)
	case p == "/v2/settings":
		key := "rk_live_…"
		if a.leakKey {
			key = "rk_live_51BooksQq8Vd0WzK2mN4pT7xY"
		}
		fmt.Fprintf(w, `{"payments":{"restricted_key":%q},"currency":"EUR"}`, key)
	default:
		w.WriteHeader(404)
		fmt.Fprint(w, `{"error":"not found"}`)
	}
}

func scanBooks(t *testing.T, api *booksAPI) *report.Report {
	t.Helper()
	srv := httptest.NewServer(api)
	defer srv.Close()
	p := filepath.Join(t.TempDir(), "books.yaml")
	os.WriteFile(p, []byte(booksSpec), 0o600)
	fams := checks.All()
	cat, _ := checks.Catalogue(fams)
	ids := []*identity.Identity{{IDName: "reader", Role: "user", Headers: http.Header{"X-Key": {"k-reader-31"}}}}
	out, err := scanner.Run(context.Background(), scanner.Config{Target: srv.URL, SpecSource: p, Identities: ids, Active: true, Depth: check.Standard,
		MaxDuration: 2 * 60e9, Timeout: 5e9, ConnectTimeout: 2e9, Concurrency: 8, MaxRequests: 5000, Burst: 20, Seed: 5, Version: "test", Checks: fams, Catalogue: cat})
	if err != nil {
		t.Fatal(err)
	}
	return out.Report
}

func TestBooksFamilies(t *testing.T) {
	cases := []struct {
		name string
		api  *booksAPI
		want string
	}{
		{"sql", &booksAPI{sqlConcat: true}, "input.sql-injection"},
		{"cors", &booksAPI{corsReflect: true}, "input.cors-reflection"},
		{"trace", &booksAPI{traceOn: true}, "input.dangerous-methods"},
		{"python trace", &booksAPI{panics: true}, "exposure.stack-trace"},
		{"debug vars", &booksAPI{debugVars: true}, "inventory.debug-endpoint"},
		{"v1", &booksAPI{legacyV1: true}, "inventory.legacy-version"},
		{"key", &booksAPI{leakKey: true}, "exposure.secret"},
		{"banner", &booksAPI{banner: true}, "exposure.version-banner"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := scanBooks(t, c.api)
			found := false
			for _, f := range r.Findings {
				if f.Rule == c.want {
					found = true
				} else if f.Severity > check.Low {
					t.Errorf("extra finding: %s %s %s", f.Rule, f.Method, f.Path)
				}
			}
			if !found {
				t.Errorf("%s not found", c.want)
			}
		})
	}
	for _, f := range scanBooks(t, &booksAPI{}).Findings {
		if f.Severity > check.Low {
			t.Errorf("correct API: %s %s %s %s", f.Rule, f.Method, f.Path, f.Detail)
		}
	}
}
