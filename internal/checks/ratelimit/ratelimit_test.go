package ratelimit

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/rampart-scan/rampart/internal/check"
	"github.com/rampart-scan/rampart/internal/checks/checktest"
	"github.com/rampart-scan/rampart/internal/identity"
)

func TestSuperLinear(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		var out []time.Duration
		for _, x := range v {
			out = append(out, time.Duration(x)*time.Millisecond)
		}
		return out
	}
	sizes := []int{14, 20, 26}
	cases := []struct {
		med  []time.Duration
		want bool
	}{
		{ms(1, 20, 900), true},     // exponential
		{ms(5, 8, 10), false},      // linear, small
		{ms(100, 150, 190), false}, // linear, slow server
		{ms(30, 60, 260), false},   // grows, but less than 8× faster than the length
		{ms(0, 1, 250), true},      // unmeasurably fast at first
	}
	for i, c := range cases {
		if got := SuperLinear(sizes, c.med); got != c.want {
			t.Errorf("case %d %v: got %v", i, c.med, got)
		}
	}
}

const pagesSpec = `openapi: 3.0.3
info: {title: Pages, version: "1"}
security: [{key: []}]
paths:
  /events:
    get:
      parameters: [{name: limit, in: query, schema: {type: integer, maximum: 25}}]
      responses: {"200": {description: ok}}
  /auth/login:
    post:
      security: []
      requestBody:
        content:
          application/json:
            schema: {type: object, properties: {email: {type: string}, password: {type: string}}}
      responses: {"200": {description: ok}}
components:
  securitySchemes:
    key: {type: apiKey, in: header, name: X-Key}
`

type pagesAPI struct {
	clamp, throttle bool
	mu              sync.Mutex
	logins          int
}

func (a *pagesAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Path == "/auth/login" {
		a.mu.Lock()
		a.logins++
		n := a.logins
		a.mu.Unlock()
		if a.throttle && n > 5 {
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(429)
			fmt.Fprint(w, `{"error":"slow down"}`)
			return
		}
		fmt.Fprint(w, `{"access_token":"t-1"}`)
		return
	}
	if r.Header.Get("X-Key") != "k1" && r.Header.Get("Authorization") != "Bearer t-1" {
		w.WriteHeader(401)
		return
	}
	n, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	if n <= 0 {
		n = 10
	}
	if a.clamp && n > 25 {
		n = 25
	}
	fmt.Fprint(w, `{"data":[`)
	for i := 0; i < n && i < 1000; i++ {
		if i > 0 {
			fmt.Fprint(w, ",")
		}
		fmt.Fprintf(w, `{"n":%d}`, i)
	}
	fmt.Fprint(w, `]}`)
}

func scanPages(t *testing.T, api *pagesAPI, active bool) map[string]check.Finding {
	ids := []*identity.Identity{checktest.Key("u", "X-Key", "k1"),
		{IDName: "v", Role: "user", Login: &identity.Login{URL: "/auth/login", JSON: map[string]any{"email": "v@x.example", "password": "pw"}}}}
	out := map[string]check.Finding{}
	for _, f := range checktest.Scan(t, checktest.Target{Handler: api, Spec: pagesSpec, Active: active, Identities: ids}, New()).Findings {
		out[f.Rule] = f
	}
	return out
}

func TestPaginationAndBursts(t *testing.T) {
	got := scanPages(t, &pagesAPI{}, true)
	if _, ok := got[RulePagination]; !ok {
		t.Error("unclamped limit not reported")
	}
	if f, ok := got[RuleMissing]; !ok || f.Severity != check.High || f.Path != "/auth/login" {
		t.Errorf("login burst: %+v", f)
	}
	if got := scanPages(t, &pagesAPI{}, false); got[RuleMissing].Rule != "" {
		t.Error("the login must not be burst without --active, nor anything in its place")
	}
	for k, f := range scanPages(t, &pagesAPI{clamp: true, throttle: true}, true) {
		if f.Severity > check.Low {
			t.Errorf("fixed API: %s", k)
		}
	}
}
