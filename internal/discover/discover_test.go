package discover

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/rampart-scan/rampart/internal/baseline"
	"github.com/rampart-scan/rampart/internal/probe"
)

func TestFindSpecAtWellKnownPath(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v3/api-docs" {
			fmt.Fprint(w, `{"openapi":"3.0.0","info":{"title":"t","version":"1"},"paths":{"/x":{"get":{"responses":{"200":{"description":"ok"}}}}}}`)
			return
		}
		w.WriteHeader(200) // catch-all 200 must not be mistaken for a spec
		fmt.Fprint(w, `{"status":"not_found"}`)
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	c, _ := probe.New(probe.Config{Target: u})
	s, src, err := FindSpec(context.Background(), c, func(p string) string { return srv.URL + p })
	if err != nil || s == nil || src != srv.URL+"/v3/api-docs" || len(s.Operations) != 1 {
		t.Fatalf("spec %v src %s err %v", s, src, err)
	}
}

func TestEndpointsAgainstCatchAll(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/users":
			fmt.Fprint(w, `[{"id":1,"name":"a"}]`)
		case "/health":
			fmt.Fprint(w, `{"up":true}`)
		case "/admin":
			w.WriteHeader(404)
		default:
			fmt.Fprintf(w, `{"status":"not_found","path":%q}`, r.URL.Path)
		}
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	c, _ := probe.New(probe.Config{Target: u})
	eps, err := Endpoints(context.Background(), c, func(p string) string { return srv.URL + p }, baseline.NewStore(1), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, e := range eps {
		got[e.Path] = true
	}
	if !got["/users"] || !got["/health"] || got["/admin"] || got["/orders"] || len(got) != 2 {
		t.Fatalf("endpoints: %v", got)
	}
}
