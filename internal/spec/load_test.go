package spec

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func load(t *testing.T, name string) *Spec {
	t.Helper()
	s, err := Load(context.Background(), filepath.Join("testdata", name), Options{})
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return s
}

func op(t *testing.T, s *Spec, method, path string) *Operation {
	t.Helper()
	for _, o := range s.Operations {
		if o.Method == method && o.Path == path {
			return o
		}
	}
	t.Fatalf("no operation %s %s", method, path)
	return nil
}

func TestOpenAPI30(t *testing.T) {
	s := load(t, "openapi30.yaml")
	if s.Version != "3.0.3" || s.Title != "Shop" || len(s.Servers) != 1 || s.Servers[0] != "https://api.shop.example/v1" {
		t.Fatalf("header: %+v", s)
	}
	if len(s.Operations) != 3 {
		t.Fatalf("want 3 operations, got %d", len(s.Operations))
	}
	get := op(t, s, "GET", "/orders/{order_id}")
	if get.OperationID != "getOrder" || !get.Secured() || get.Location.Line == 0 {
		t.Errorf("get: id=%q secured=%v line=%d", get.OperationID, get.Secured(), get.Location.Line)
	}
	if p := get.Param("path", "order_id"); p == nil || !p.Required || p.Schema.Example != "ord_1001" {
		t.Errorf("path-level parameter not inherited: %+v", p)
	}
	if p := get.Param("header", "X-Trace"); p == nil || !p.Required || len(p.Schema.Enum) != 2 {
		t.Errorf("operation parameter must override the path-level one: %+v", p)
	}
	if len(get.Parameters) != 2 {
		t.Errorf("want 2 parameters, got %d", len(get.Parameters))
	}
	resp := get.Responses["200"]
	sch := JSONMediaType(resp.Content).Schema
	if !sch.Declares("total") || !sch.Properties["id"].ReadOnly || sch.Properties["owner"].Format != "email" {
		t.Errorf("response schema: %+v", sch)
	}
	del := op(t, s, "DELETE", "/orders/{order_id}")
	if !del.Deprecated {
		t.Error("deprecated flag lost")
	}
	if op(t, s, "GET", "/health").Secured() {
		t.Error("security: [] must make the operation public")
	}
	if sc := s.SecuritySchemes["key"]; sc == nil || sc.In != "header" || sc.Param != "X-API-Key" {
		t.Errorf("security scheme: %+v", sc)
	}
	if s.SHA256 == "" {
		t.Error("no digest")
	}
}

func TestOpenAPI31NullableType(t *testing.T) {
	s := load(t, "openapi31.yaml")
	post := op(t, s, "POST", "/notes")
	sch := JSONMediaType(post.RequestBody.Content).Schema
	title := sch.Properties["title"]
	if !title.Is("string") || !title.Is("null") || !title.Nullable || title.PrimaryType() != "string" {
		t.Errorf("type [string, null]: %+v", title)
	}
	if title.MaxLength == nil || *title.MaxLength != 5 {
		t.Errorf("maxLength lost")
	}
}

func TestSwagger2(t *testing.T) {
	s := load(t, "swagger2.json")
	if len(s.Servers) == 0 || !strings.HasSuffix(s.Servers[0], "/api/v2") {
		t.Fatalf("basePath not carried into servers: %v", s.Servers)
	}
	get := op(t, s, "GET", "/users/{id}")
	if p := get.Param("path", "id"); p == nil || !p.Schema.Is("integer") {
		t.Errorf("path param: %+v", p)
	}
	if !get.Secured() {
		t.Error("global security lost")
	}
	post := op(t, s, "POST", "/users")
	if post.RequestBody == nil || JSONMediaType(post.RequestBody.Content) == nil {
		t.Fatal("body parameter not converted to a request body")
	}
}

func TestCircularSchema(t *testing.T) {
	s := load(t, "circular.yaml")
	sch := JSONMediaType(op(t, s, "GET", "/nodes").Responses["200"].Content).Schema
	if sch.Properties["children"].Items != sch || sch.Properties["parent"] != sch {
		t.Error("cycle must be kept as a shared pointer")
	}
}

func TestExternalSiblingRef(t *testing.T) {
	s := load(t, "external/root.yaml")
	sch := JSONMediaType(op(t, s, "GET", "/pets").Responses["200"].Content).Schema
	if !sch.Declares("name") {
		t.Errorf("sibling $ref not resolved: %+v", sch)
	}
}

func TestRefScope(t *testing.T) {
	for _, name := range []string{"external/escape.yaml", "external/remote.yaml"} {
		_, err := Load(context.Background(), filepath.Join("testdata", name), Options{})
		var se *Error
		if !errors.As(err, &se) {
			t.Errorf("%s: want a spec error, got %v", name, err)
		}
	}
}

func TestNoServersAndOddExamples(t *testing.T) {
	if s := load(t, "noservers.yaml"); len(s.Servers) != 0 {
		t.Errorf("servers: %v", s.Servers)
	}
	s := load(t, "odd-examples.yaml")
	p := op(t, s, "GET", "/things/{code}").Param("path", "code")
	if !p.HasExample {
		t.Error("integer example for a string lost")
	}
	if free := JSONMediaType(op(t, s, "POST", "/things").RequestBody.Content).Schema.Properties["free"]; !free.Is("object") || len(free.Properties) != 0 {
		t.Errorf("object without properties: %+v", free)
	}
}

func TestBadSpecsGiveOneLineErrors(t *testing.T) {
	cases := map[string]string{
		"tab.yaml":        "tab",
		"malformed.yaml":  "line",
		"notopenapi.json": "not an OpenAPI",
		"v4.yaml":         "unsupported",
		"does-not-exist":  "no such file",
		"external/../":    "",
	}
	for name, want := range cases {
		_, err := Load(context.Background(), filepath.Join("testdata", name), Options{})
		var se *Error
		if !errors.As(err, &se) {
			t.Errorf("%s: want *Error, got %v", name, err)
			continue
		}
		msg := err.Error()
		if strings.Contains(msg, "\n") || !strings.Contains(msg, "spec ") || !strings.Contains(strings.ToLower(msg), strings.ToLower(want)) {
			t.Errorf("%s: message %q (want one line mentioning %q)", name, msg, want)
		}
	}
}

func TestHostileInputsNeverPanic(t *testing.T) {
	inputs := []string{"", "{", "[]", "null", "openapi: 3.0.0", "swagger: '2.0'\npaths: 5", "openapi: 3.1.0\npaths:\n  /a: 7",
		"openapi: 3.0.0\ninfo: {title: a, version: '1'}\npaths:\n  /a:\n    get:\n      parameters: [{$ref: '#/nope'}]\n      responses: {}",
		strings.Repeat("[", 10000)}
	for _, in := range inputs {
		_, err := Parse(context.Background(), []byte(in), "hostile.yaml")
		if err == nil {
			t.Errorf("%q: want an error", in[:min(len(in), 40)])
		}
	}
}

func TestLoadFromURLWithSiblingRef(t *testing.T) {
	root, _ := os.ReadFile("testdata/external/root.yaml")
	schemas, _ := os.ReadFile("testdata/external/schemas.yaml")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/specs/root.yaml":
			w.Write(root)
		case "/specs/schemas.yaml":
			w.Write(schemas)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	s, err := Load(context.Background(), srv.URL+"/specs/root.yaml", Options{HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	if !JSONMediaType(op(t, s, "GET", "/pets").Responses["200"].Content).Schema.Declares("name") {
		t.Error("sibling ref over HTTP not resolved")
	}
	if _, err := Load(context.Background(), srv.URL+"/specs/missing.yaml", Options{HTTPClient: srv.Client()}); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("missing URL: %v", err)
	}
}

// TestThousandOperations loads a generated spec with 1,000 operations.
func TestThousandOperations(t *testing.T) {
	var b strings.Builder
	b.WriteString("openapi: 3.0.3\ninfo: {title: Big, version: '1'}\npaths:\n")
	for i := 0; i < 250; i++ {
		fmt.Fprintf(&b, "  /r%d/{id}:\n", i)
		for _, m := range []string{"get", "put", "patch", "delete"} {
			fmt.Fprintf(&b, "    %s:\n      parameters: [{name: id, in: path, required: true, schema: {type: integer}}]\n      responses: {'200': {description: ok}}\n", m)
		}
	}
	s, err := Parse(context.Background(), []byte(b.String()), "big.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Operations) != 1000 {
		t.Fatalf("got %d operations", len(s.Operations))
	}
	for i := 1; i < len(s.Operations); i++ {
		if s.Operations[i-1].Path > s.Operations[i].Path {
			t.Fatal("operations not sorted by path")
		}
	}
}
