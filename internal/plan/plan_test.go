package plan

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/rampart-scan/rampart/internal/identity"
	"github.com/rampart-scan/rampart/internal/probe"
	"github.com/rampart-scan/rampart/internal/spec"
)

func loadPlan(t *testing.T, opts Options) *Plan {
	t.Helper()
	s, err := spec.Load(context.Background(), "testdata/realistic.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if opts.Base == nil {
		opts.Base, _ = url.Parse("http://127.0.0.1:9/api")
	}
	p, err := Build(s, opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestClassifier(t *testing.T) {
	p := loadPlan(t, Options{})
	cases := []struct {
		method, path string
		has          []Class
		not          []Class
	}{
		{"POST", "/v2/auth/login", []Class{Login}, []Class{Create, ServiceAction}},
		{"POST", "/oauth/token", []Class{Login}, nil},
		{"PUT", "/users/me/password", nil, []Class{Login, PasswordReset, ServiceAction}},
		{"POST", "/mfa/verify", []Class{OTPCheck}, []Class{Login}},
		{"POST", "/auth/forgot-password", []Class{PasswordReset}, []Class{ServiceAction, Login}},
		{"POST", "/admin/reset", []Class{ServiceAction}, nil},
		{"GET", "/logout", []Class{ServiceAction}, nil},
		{"POST", "/users/{id}/reset-avatar", nil, []Class{ServiceAction}}, // has an object identifier
		{"POST", "/orders", []Class{Create, SensitiveFlow}, nil},
		{"POST", "/notes", []Class{Create}, []Class{SensitiveFlow}},
		{"POST", "/v1/chat/completions", []Class{LLMSpec}, nil},
		{"POST", "/assistant/ask", []Class{LLMSpec}, []Class{Create}},
		{"POST", "/search", nil, []Class{LLMSpec, LLMPath}}, // a lone "query" field is not enough
		{"POST", "/agent/run", []Class{LLMPath}, []Class{LLMSpec}},
	}
	for _, c := range cases {
		o := p.Find(c.method, c.path)
		if o == nil {
			t.Fatalf("%s %s not in plan", c.method, c.path)
		}
		for _, h := range c.has {
			if !o.Class.Has(h) {
				t.Errorf("%s %s: want %s, got %s", c.method, c.path, h, o.Class)
			}
		}
		for _, n := range c.not {
			if o.Class&n != 0 {
				t.Errorf("%s %s: must not be %s (got %s)", c.method, c.path, n, o.Class)
			}
		}
	}
}

func TestSkippedAndPermission(t *testing.T) {
	p := loadPlan(t, Options{})
	skipped := map[string]bool{}
	for _, s := range p.Skipped {
		skipped[s.Method+" "+s.Path] = true
	}
	if !skipped["POST /admin/reset"] || !skipped["GET /logout"] {
		t.Fatalf("service-wide actions not skipped: %v", p.Skipped)
	}
	u := func(path string) *url.URL { x, _ := url.Parse("http://127.0.0.1:9/api" + path); return x }
	if p.Permission("GET", u("/logout")) != probe.PermitNever {
		t.Error("GET /logout must never be sent")
	}
	if p.Permission("POST", u("/debug/shutdown")) != probe.PermitNever {
		t.Error("an undocumented /shutdown must never be sent")
	}
	if p.Permission("POST", u("/assistant/ask")) != probe.PermitAlways {
		t.Error("LLM endpoint from the spec")
	}
	if p.Permission("POST", u("/agent/run")) != probe.PermitActive {
		t.Error("LLM by path")
	}
	if p.Permission("POST", u("/orders")) != probe.PermitDefault {
		t.Error("ordinary write")
	}
	// --include names a service-wide action: now allowed by the classifier.
	p = loadPlan(t, Options{Include: []string{"/admin/**", "/orders"}})
	if p.Permission("POST", u("/admin/reset")) != probe.PermitDefault {
		t.Error("--include must allow a named service action")
	}
	if len(p.Operations) != 2 {
		t.Errorf("include: %d operations", len(p.Operations))
	}
	p = loadPlan(t, Options{Exclude: []string{"tag:auth", "op:createNote"}})
	if p.Find("POST", "/v2/auth/login") == nil {
		t.Error("Find must see excluded operations too")
	}
	for _, o := range p.Operations {
		if o.Path == "/v2/auth/login" || o.Path == "/notes" {
			t.Errorf("excluded %s still planned", o.Path)
		}
	}
}

func TestSampleRequestDeterministic(t *testing.T) {
	p1 := loadPlan(t, Options{Seed: 7})
	p2 := loadPlan(t, Options{Seed: 7})
	for _, o := range p1.Operations {
		a := p1.Request(o, nil)
		b := p2.Request(p2.Find(o.Method, o.Path), nil)
		if a.URL != b.URL || string(a.Body) != string(b.Body) {
			t.Fatalf("%s: not deterministic: %s %s / %s %s", o.Key(), a.URL, a.Body, b.URL, b.Body)
		}
	}
	r := p1.Request(p1.Find("GET", "/users/{id}"), nil)
	if r.URL != "http://127.0.0.1:9/api/users/7?fields=basic" {
		t.Errorf("example and enum not used: %s", r.URL)
	}
	r = p1.Request(p1.Find("POST", "/orders"), nil)
	var body map[string]any
	if err := json.Unmarshal(r.Body, &body); err != nil || body["sku"] == nil {
		t.Fatalf("body: %s", r.Body)
	}
	if q, _ := body["qty"].(float64); q < 1 || q > 5 {
		t.Errorf("qty out of schema range: %v", body["qty"])
	}
}

func TestOddExamplesAreCoerced(t *testing.T) {
	s := NewSampler(1)
	str := &spec.Schema{Types: []string{"string"}, Example: 42, HasExample: true}
	if v := s.Value(str, "code"); v != "42" {
		t.Errorf("integer example for a string: %#v", v)
	}
	obj := &spec.Schema{Types: []string{"object"}}
	if v, ok := s.Value(obj, "meta").(map[string]any); !ok || len(v) != 0 {
		t.Errorf("object without properties: %#v", v)
	}
	n := &spec.Schema{Types: []string{"integer"}, Example: "oops", HasExample: true}
	if _, ok := s.Value(n, "n").(int64); !ok {
		t.Errorf("unusable example must fall back to the type")
	}
}

func TestHarvestFillsPathParams(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/projects":
			if r.Header.Get("Authorization") == "Bearer a" {
				fmt.Fprint(w, `{"data":[{"id":"prj_1","owner":"a"},{"id":"prj_2","owner":"a"}]}`)
			} else {
				fmt.Fprint(w, `[{"id":"prj_9","owner":"b"}]`)
			}
		default:
			w.WriteHeader(404)
		}
	}))
	defer srv.Close()
	spc, err := spec.Parse(context.Background(), []byte(`openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /projects:
    get: {responses: {"200": {description: ok}}}
  /projects/{project_id}:
    get:
      parameters: [{name: project_id, in: path, required: true, schema: {type: string}}]
      responses: {"200": {description: ok}}
`), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse(srv.URL)
	p, _ := Build(spc, Options{Base: base})
	c, _ := probe.New(probe.Config{Target: base})
	a := &identity.Identity{IDName: "a", Headers: http.Header{"Authorization": {"Bearer a"}}}
	b := &identity.Identity{IDName: "b", Headers: http.Header{"Authorization": {"Bearer b"}}}
	if err := p.Harvest(context.Background(), c, []*identity.Identity{a, b}, 10); err != nil {
		t.Fatal(err)
	}
	detail := p.Find("GET", "/projects/{project_id}")
	if u := p.Request(detail, a).URL; !strings.HasSuffix(u, "/projects/prj_1") {
		t.Errorf("a's project: %s", u)
	}
	if u := p.Request(detail, b).URL; !strings.HasSuffix(u, "/projects/prj_9") {
		t.Errorf("b's project: %s", u)
	}
	if got := p.IDs.Collection(a, "/projects"); len(got) != 2 {
		t.Errorf("collection: %v", got)
	}
}
