package bfla

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

const filesSpec = `openapi: 3.0.3
info: {title: Files, version: "1"}
security: [{bearer: []}]
paths:
  /files:
    post:
      requestBody:
        content:
          application/json:
            schema: {type: object, properties: {name: {type: string, example: notes.txt}}}
      responses: {"201": {description: ok}}
  /files/{file_id}:
    get:
      parameters: [{name: file_id, in: path, required: true, schema: {type: integer}}]
      responses: {"200": {description: ok}}
    delete:
      summary: Delete a file (administrators only)
      parameters: [{name: file_id, in: path, required: true, schema: {type: integer}}]
      responses: {"204": {description: ok}}
components:
  securitySchemes:
    bearer: {type: http, scheme: bearer}
`

// filesAPI: users create files; only admins delete. Rails-style _method and a
// forgotten PATCH handler are the planted mistakes.
type filesAPI struct {
	honourMethodParam bool
	forgottenPatch    bool
	mu                sync.Mutex
	files             map[int]string
	next              int
}

func (a *filesAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	role := map[string]string{"Bearer u-1": "user", "Bearer a-9": "admin"}[r.Header.Get("Authorization")]
	if role == "" {
		w.WriteHeader(401)
		fmt.Fprint(w, `{"error":"unauthorized"}`)
		return
	}
	if a.files == nil {
		a.files = map[int]string{}
	}
	method := r.Method
	if r.URL.Path == "/files" && method == "POST" {
		var in struct{ Name string }
		json.NewDecoder(r.Body).Decode(&in)
		a.next++
		a.files[a.next] = in.Name
		w.WriteHeader(201)
		fmt.Fprintf(w, `{"id":%d,"name":%q}`, a.next, in.Name)
		return
	}
	id, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/files/"))
	name, ok := a.files[id]
	if err != nil || !ok {
		w.WriteHeader(404)
		fmt.Fprint(w, `{"error":"not found"}`)
		return
	}
	allow := "GET, DELETE, OPTIONS"
	if a.forgottenPatch {
		allow = "GET, PATCH, DELETE, OPTIONS"
	}
	if method == "OPTIONS" {
		w.Header().Set("Allow", allow)
		w.WriteHeader(204)
		return
	}
	if method == "DELETE" && role != "admin" {
		w.WriteHeader(403)
		fmt.Fprint(w, `{"error":"administrators only"}`)
		return
	}
	if method == "POST" && a.honourMethodParam && r.URL.Query().Get("_method") != "" {
		method = strings.ToUpper(r.URL.Query().Get("_method")) // after the role check
	}
	switch {
	case method == "GET":
		fmt.Fprintf(w, `{"id":%d,"name":%q}`, id, name)
	case method == "DELETE":
		delete(a.files, id)
		w.WriteHeader(204)
	case method == "PATCH" && a.forgottenPatch:
		var in struct{ Name string }
		json.NewDecoder(r.Body).Decode(&in)
		a.files[id] = in.Name
		fmt.Fprintf(w, `{"id":%d,"name":%q}`, id, in.Name)
	default:
		w.Header().Set("Allow", allow)
		w.WriteHeader(405)
		fmt.Fprint(w, `{"error":"method not allowed"}`)
	}
}

func scanFiles(t *testing.T, api http.Handler, active bool) map[string]check.Finding {
	got := map[string]check.Finding{}
	ids := []*identity.Identity{checktest.Key("user", "Authorization", "Bearer u-1")}
	for _, f := range checktest.Scan(t, checktest.Target{Handler: api, Spec: filesSpec, Identities: ids, Active: active}, New()).Findings {
		got[f.Rule+" "+f.Method+" "+f.Path] = f
	}
	return got
}

func TestOverrideAndUndocumentedMethod(t *testing.T) {
	got := scanFiles(t, &filesAPI{honourMethodParam: true, forgottenPatch: true}, true)
	if f, ok := got["bfla.method-override DELETE /files/{file_id}"]; !ok || f.Parameter == nil || f.Parameter.Name != "_method" {
		t.Errorf("method override via _method: %v", got)
	}
	if _, ok := got["bfla.undocumented-method PATCH /files/{file_id}"]; !ok {
		t.Errorf("undocumented PATCH: %v", got)
	}
	if got := scanFiles(t, &filesAPI{honourMethodParam: true, forgottenPatch: true}, false); len(got) != 0 {
		t.Errorf("writes without --active: %v", got)
	}
	for k, f := range scanFiles(t, &filesAPI{}, true) {
		if f.Severity > check.Low {
			t.Errorf("false positive on the fixed API: %s", k)
		}
	}
}
