package identity

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/rampart-scan/rampart/internal/probe"
)

func loginServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/login":
			var body map[string]string
			json.NewDecoder(r.Body).Decode(&body)
			if body["password"] != "pw" {
				w.WriteHeader(401)
				return
			}
			w.Header().Set("X-Auth", "hdr-token")
			http.SetCookie(w, &http.Cookie{Name: "session", Value: "cookie-token"})
			json.NewEncoder(w).Encode(map[string]any{"data": map[string]string{"token": "body-token"}})
		case "/form":
			r.ParseForm()
			if r.PostForm.Get("user") != "u" {
				w.WriteHeader(400)
				return
			}
			json.NewEncoder(w).Encode(map[string]string{"access_token": "form-token"})
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func client(t *testing.T, srv *httptest.Server, ids *Set) *probe.Client {
	u, _ := url.Parse(srv.URL)
	pol := &probe.Policy{}
	c, err := probe.New(probe.Config{Target: u, Policy: pol})
	if err != nil {
		t.Fatal(err)
	}
	if err := ids.RegisterLogins(pol, c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestLoginFlows(t *testing.T) {
	srv := loginServer(t)
	cases := []struct {
		login *Login
		want  [2]string
	}{
		{&Login{URL: "/login", JSON: map[string]any{"password": "pw"}, Token: "/data/token"}, [2]string{"Authorization", "Bearer body-token"}},
		{&Login{URL: "/login", JSON: map[string]any{"password": "pw"}, TokenHeader: "X-Auth", Header: "X-Auth: {token}"}, [2]string{"X-Auth", "hdr-token"}},
		{&Login{URL: "/login", JSON: map[string]any{"password": "pw"}, TokenCookie: "session"}, [2]string{"Cookie", "session=cookie-token"}},
		{&Login{URL: srv.URL + "/form", Form: map[string]string{"user": "u"}}, [2]string{"Authorization", "Bearer form-token"}},
	}
	for i, c := range cases {
		id := &Identity{IDName: "u", Login: c.login}
		ids, err := NewSet([]*Identity{id})
		if err != nil {
			t.Fatal(err)
		}
		cl := client(t, srv, ids)
		if err := ids.LoginAll(context.Background(), cl); err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		h := http.Header{}
		u, _ := url.Parse(srv.URL)
		names := id.Apply(h, u)
		if h.Get(c.want[0]) != c.want[1] || len(names) != 1 {
			t.Errorf("case %d: %s=%q (names %v)", i, c.want[0], h.Get(c.want[0]), names)
		}
	}
	bad := &Identity{IDName: "bad", Login: &Login{URL: "/login", JSON: map[string]any{"password": "wrong"}}}
	ids, _ := NewSet([]*Identity{bad})
	if err := ids.LoginAll(context.Background(), client(t, srv, ids)); err == nil {
		t.Fatal("failed login must be an error")
	}
}

func TestSetRules(t *testing.T) {
	ids, err := NewSet([]*Identity{{IDName: "bob"}, {IDName: "admin", Role: RoleAdmin}, {IDName: "alice"}})
	if err != nil {
		t.Fatal(err)
	}
	if ids.All()[0].Name() != Anonymous || len(ids.Authenticated()) != 3 || len(ids.Users()) != 2 {
		t.Fatal("set order or users")
	}
	for _, bad := range [][]*Identity{{{IDName: "anonymous"}}, {{IDName: "a"}, {IDName: "a"}}, {{IDName: "a", Role: "root"}}, {{IDName: ""}}} {
		if _, err := NewSet(bad); err == nil {
			t.Errorf("accepted %+v", bad[0])
		}
	}
}

func TestApplyQueryAndCookies(t *testing.T) {
	id := &Identity{IDName: "k", Query: url.Values{"api_key": {"q1"}}, Cookies: map[string]string{"sid": "c1"}}
	u, _ := url.Parse("http://127.0.0.1/x?a=1")
	h := http.Header{}
	id.Apply(h, u)
	if u.Query().Get("api_key") != "q1" || u.Query().Get("a") != "1" || h.Get("Cookie") != "sid=c1" {
		t.Fatalf("apply: %s %v", u, h)
	}
	if id.IsAnonymous() {
		t.Fatal("identity with credentials is not anonymous")
	}
}

func TestExpandEnvAndHeaders(t *testing.T) {
	t.Setenv("RAMPART_TEST_KEY", "s3cret")
	if v, err := ExpandEnv("ApiKey ${RAMPART_TEST_KEY} $NOT_EXPANDED"); err != nil || v != "ApiKey s3cret $NOT_EXPANDED" {
		t.Fatalf("expand: %q %v", v, err)
	}
	if _, err := ExpandEnv("${RAMPART_SURELY_UNSET_VAR}"); err == nil {
		t.Fatal("unset variable must be an error")
	}
	if n, v, err := ParseHeader("authorization:  Bearer x "); err != nil || n != "Authorization" || v != "Bearer x" {
		t.Fatalf("parse: %q %q %v", n, v, err)
	}
	for _, bad := range []string{"no colon", ": empty", "two words: x"} {
		if _, _, err := ParseHeader(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	p := filepath.Join(t.TempDir(), "h.txt")
	os.WriteFile(p, []byte("# comment\nAuthorization: Bearer t\n\nX-Org: 1\n"), 0o600)
	lines, err := HeaderLines(p)
	if err != nil || len(lines) != 2 {
		t.Fatalf("header file: %v %v", lines, err)
	}
}
