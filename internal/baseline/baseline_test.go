package baseline

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/rampart-scan/rampart/internal/probe"
)

func TestCatchAll(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/users/1":
			fmt.Fprint(w, `{"status":"ok","id":1,"name":"Ann"}`)
		case "/api/health":
			fmt.Fprint(w, `{"status":"ok"}`)
		default:
			if len(r.URL.Path) > 4 && r.URL.Path[:4] == "/app" {
				w.Header().Set("Content-Type", "text/html")
				fmt.Fprintf(w, "<html><body>Page %s not here</body></html>", r.URL.Path)
				return
			}
			fmt.Fprintf(w, `{"status":"not_found","path":%q}`, r.URL.Path)
		}
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	c, _ := probe.New(probe.Config{Target: u})
	s := NewStore(1)
	urlFor := func(p string) string { return srv.URL + p }
	for _, p := range []string{"/", "/api", "/app"} {
		if err := s.Take(context.Background(), c, urlFor, p, nil); err != nil {
			t.Fatal(err)
		}
	}
	get := func(p string) *probe.Exchange {
		ex, err := c.Do(context.Background(), &probe.Request{URL: srv.URL + p})
		if err != nil {
			t.Fatal(err)
		}
		return ex
	}
	cases := map[string]bool{
		"/api/users/1":        false,
		"/api/health":         false, // same status and type, but different content
		"/api/unknown/thing":  true,
		"/nothing":            true,
		"/app/some/deep/page": true,
	}
	for p, want := range cases {
		if got := s.IsCatchAll(p, get(p)); got != want {
			t.Errorf("%s: catch-all=%v want %v", p, got, want)
		}
	}
	if Prefix("/v2/orgs/{org}/invoices") != "/v2/orgs" || Prefix("/{id}") != "/" {
		t.Error("prefix")
	}
}
