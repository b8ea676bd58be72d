package bola

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/rampart-scan/rampart/internal/check"
	"github.com/rampart-scan/rampart/internal/checks/checktest"
	"github.com/rampart-scan/rampart/internal/identity"
)

// A project tracker written for these tests: workspaces own documents; the
// workspace is chosen by the X-Workspace-Id header or by the path.
const docsSpec = `openapi: 3.0.3
info: {title: Docs, version: "1"}
security: [{token: []}]
paths:
  /docs:
    get:
      parameters: [{name: X-Workspace-Id, in: header, schema: {type: string, example: ws-red}}]
      responses: {"200": {description: ok}}
    post:
      requestBody:
        content:
          application/json:
            schema: {type: object, properties: {title: {type: string, example: draft}}}
      responses: {"201": {description: created}}
  /docs/{doc_id}:
    get:
      parameters: [{name: doc_id, in: path, required: true, schema: {type: integer, example: 1}}]
      responses: {"200": {description: ok}}
    patch:
      parameters: [{name: doc_id, in: path, required: true, schema: {type: integer}}]
      requestBody:
        content:
          application/json:
            schema: {type: object, properties: {title: {type: string, example: renamed}}}
      responses: {"200": {description: ok}}
    delete:
      parameters: [{name: doc_id, in: path, required: true, schema: {type: integer}}]
      responses: {"204": {description: gone}}
  /workspaces/{workspace}/summary:
    get:
      parameters: [{name: workspace, in: path, required: true, schema: {type: string, example: ws-red}}]
      responses: {"200": {description: ok}}
  /catalog/{item_id}:
    get:
      parameters: [{name: item_id, in: path, required: true, schema: {type: integer, example: 1}}]
      responses: {"200": {description: ok}}
  /catalog:
    get:
      responses: {"200": {description: ok}}
components:
  securitySchemes:
    token: {type: http, scheme: bearer}
`

type doc struct {
	ID    int    `json:"id"`
	WS    string `json:"workspace"`
	Title string `json:"title"`
	Body  string `json:"body"`
}

type docsAPI struct {
	trustHeader  bool // X-Workspace-Id is used as given
	trustPath    bool // /workspaces/{workspace} is not checked
	noOwnerCheck bool // /docs/{id} reads any workspace's doc
	writeAnyDoc  bool // PATCH/DELETE any doc
	errorsAs200  bool // every refusal is 200 {"error": ...}
	mu           sync.Mutex
	docs         map[int]*doc
	next         int
}

func newDocsAPI() *docsAPI {
	return &docsAPI{next: 100, docs: map[int]*doc{
		11: {11, "ws-red", "Red roadmap", "ship the red feature"},
		13: {13, "ws-red", "Red budget", "4 engineers"},
		12: {12, "ws-blue", "Blue roadmap", "ship the blue feature"},
		14: {14, "ws-blue", "Blue hiring", "two designers"},
	}}
}

var tokens = map[string]string{"t-red-1": "ws-red", "t-blue-2": "ws-blue"}

func (a *docsAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	refuse := func(code int, msg string) {
		if a.errorsAs200 {
			code = 200
		}
		w.WriteHeader(code)
		fmt.Fprintf(w, `{"error":%q}`, msg)
	}
	own := tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if segs[0] == "catalog" { // public to every signed-in user by design
		if own == "" {
			refuse(401, "unauthorized")
			return
		}
		if len(segs) == 1 {
			fmt.Fprint(w, `[{"id":1,"name":"Template A"},{"id":2,"name":"Template B"}]`)
		} else if segs[1] == "1" || segs[1] == "2" {
			fmt.Fprintf(w, `{"id":%s,"name":"Template %s","public":true}`, segs[1], map[string]string{"1": "A", "2": "B"}[segs[1]])
		} else {
			refuse(404, "not found")
		}
		return
	}
	if own == "" {
		refuse(401, "unauthorized")
		return
	}
	switch {
	case r.URL.Path == "/docs" && r.Method == "GET":
		ws := own
		if h := r.Header.Get("X-Workspace-Id"); h != "" && h != own {
			if !a.trustHeader {
				refuse(403, "workspace mismatch")
				return
			}
			ws = h
		}
		out := []*doc{}
		for _, id := range []int{11, 12, 13, 14, 100, 101, 102, 103} {
			if d, ok := a.docs[id]; ok && d.WS == ws {
				out = append(out, d)
			}
		}
		json.NewEncoder(w).Encode(out)
	case r.URL.Path == "/docs" && r.Method == "POST":
		var in struct{ Title string }
		json.NewDecoder(r.Body).Decode(&in)
		a.next++
		d := &doc{a.next, own, in.Title, ""}
		a.docs[d.ID] = d
		w.WriteHeader(201)
		json.NewEncoder(w).Encode(d)
	case segs[0] == "docs" && len(segs) == 2:
		id, _ := strconv.Atoi(segs[1])
		d, ok := a.docs[id]
		if !ok || (d.WS != own && !(r.Method == "GET" && a.noOwnerCheck) && !(r.Method != "GET" && a.writeAnyDoc)) {
			refuse(404, "not found")
			return
		}
		switch r.Method {
		case "GET":
			json.NewEncoder(w).Encode(d)
		case "PATCH":
			var in struct{ Title string }
			json.NewDecoder(r.Body).Decode(&in)
			d.Title = in.Title
			json.NewEncoder(w).Encode(d)
		case "DELETE":
			delete(a.docs, id)
			w.WriteHeader(204)
		}
	case segs[0] == "workspaces" && len(segs) == 3:
		ws := segs[1]
		if ws != own && !a.trustPath {
			refuse(403, "workspace mismatch")
			return
		}
		n := 0
		for _, d := range a.docs {
			if d.WS == ws {
				n++
			}
		}
		fmt.Fprintf(w, `{"workspace":%q,"documents":%d,"owner":"%s-admin@example.com"}`, ws, n, ws)
	default:
		refuse(404, "not found")
	}
}

func users() []*identity.Identity {
	red := checktest.Key("red", "Authorization", "Bearer t-red-1")
	red.Tenants = []string{"ws-red"}
	blue := checktest.Key("blue", "Authorization", "Bearer t-blue-2")
	blue.Tenants = []string{"ws-blue"}
	return []*identity.Identity{red, blue}
}

func run(t *testing.T, api http.Handler, ids []*identity.Identity, active bool) []check.Finding {
	t.Helper()
	return checktest.Scan(t, checktest.Target{Handler: api, Spec: docsSpec, Identities: ids, Active: active}, New()).Findings
}

func rulesAt(fs []check.Finding) map[string]check.Finding {
	out := map[string]check.Finding{}
	for _, f := range fs {
		out[f.Rule+" "+f.Method+" "+f.Path] = f
	}
	return out
}

func TestVulnerableDocs(t *testing.T) {
	api := newDocsAPI()
	api.trustHeader, api.trustPath, api.noOwnerCheck, api.writeAnyDoc = true, true, true, true
	got := rulesAt(run(t, api, users(), true))
	for _, want := range []string{
		"bola.cross-tenant GET /docs", "bola.cross-tenant GET /workspaces/{workspace}/summary",
		"bola.object-access GET /docs/{doc_id}", "bola.object-write PATCH /docs/{doc_id}", "bola.object-write DELETE /docs/{doc_id}",
	} {
		f, ok := got[want]
		if !ok {
			t.Errorf("missing %s (got %v)", want, keys(got))
			continue
		}
		if f.Confidence != check.Confirmed {
			t.Errorf("%s: %s", want, f.Confidence)
		}
	}
	if f := got["bola.cross-tenant GET /docs"]; f.Parameter == nil || f.Parameter.Name != "X-Workspace-Id" || !strings.Contains(f.Curl, "X-Workspace-Id: ws-") {
		t.Errorf("cross-tenant parameter and curl: %+v", f)
	}
	if _, ok := got["bola.object-access GET /catalog/{item_id}"]; ok {
		t.Error("the catalog is shared by design")
	}
}

func TestFixedDocsSilent(t *testing.T) {
	for name, api := range map[string]*docsAPI{"fixed": newDocsAPI(), "errors as 200": func() *docsAPI { a := newDocsAPI(); a.errorsAs200 = true; return a }()} {
		t.Run(name, func(t *testing.T) {
			for _, f := range run(t, api, users(), true) {
				if f.Severity > check.Low {
					t.Errorf("false positive: %s %s %s %s", f.Rule, f.Method, f.Path, f.Detail)
				}
			}
		})
	}
}

func TestWritesNeedActive(t *testing.T) {
	api := newDocsAPI()
	api.writeAnyDoc = true
	for _, f := range run(t, api, users(), false) {
		if f.Rule == RuleObjectWrite || f.Rule == RuleCrossTenantWrite {
			t.Fatalf("write rule without --active: %+v", f)
		}
	}
}

func TestOneIdentityAdjacentIDs(t *testing.T) {
	api := newDocsAPI()
	api.noOwnerCheck = true
	got := rulesAt(run(t, api, users()[:1], false))
	f, ok := got["bola.object-access GET /docs/{doc_id}"]
	if !ok || f.Confidence != check.Likely {
		t.Fatalf("adjacent probing with one identity must give likely, got %v", keys(got))
	}
	if _, ok := got["bola.predictable-ids GET /docs/{doc_id}"]; !ok {
		t.Error("sequential IDs 11, 13 not reported")
	}
	fixed := rulesAt(run(t, newDocsAPI(), users()[:1], false))
	if _, ok := fixed["bola.object-access GET /docs/{doc_id}"]; ok {
		t.Error("adjacent probing on a fixed API")
	}
}

func TestSequential(t *testing.T) {
	for ids, want := range map[string]bool{"1,2,3": true, "inv_1001,inv_1002": true, "a1,b2": false, "5,90": false, "x": false, "3f2a,9b1c": false} {
		if sequential(strings.Split(ids, ",")) != want {
			t.Errorf("%s: want %v", ids, want)
		}
	}
}

func keys(m map[string]check.Finding) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
