package probe

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type fakeID struct {
	name    string
	header  string
	value   string
	logins  atomic.Int32
	relogin func()
}

func (f *fakeID) Name() string { return f.name }
func (f *fakeID) Apply(h http.Header, _ *url.URL) []string {
	h.Set(f.header, f.value)
	return []string{f.header}
}
func (f *fakeID) Relogin(context.Context, *Client) (bool, error) {
	f.logins.Add(1)
	if f.relogin != nil {
		f.relogin()
	}
	return f.relogin != nil, nil
}

func newClient(t *testing.T, target string, mod func(*Config)) *Client {
	t.Helper()
	u, _ := url.Parse(target)
	cfg := Config{Target: u, Timeout: 2 * time.Second, Sleep: func(<-chan struct{}, time.Duration) bool { return true }}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestScopeGuard(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" || r.Header.Get("X-Api-Key") != "" {
			t.Error("credentials sent to an allowed origin")
		}
	}))
	defer other.Close()
	c := newClient(t, srv.URL, nil)
	_, err := c.Do(context.Background(), &Request{Method: "GET", URL: other.URL + "/x"})
	var oos *ErrOutOfScope
	if !errors.As(err, &oos) {
		t.Fatalf("want out of scope, got %v", err)
	}
	ou, _ := url.Parse(other.URL)
	c = newClient(t, srv.URL, func(cfg *Config) { cfg.AllowOrigins = []*url.URL{ou} })
	id := &fakeID{name: "alice", header: "X-Api-Key", value: "k"}
	ex, err := c.Do(context.Background(), &Request{Method: "GET", URL: other.URL + "/x", Identity: id, Header: http.Header{"Authorization": {"Bearer forged"}}})
	if err != nil || ex.Status != 200 {
		t.Fatalf("allowed origin: %v", err)
	}
}

func TestMethodGuard(t *testing.T) {
	var writes atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != "GET" {
			writes.Add(1)
		}
	}))
	defer srv.Close()
	cases := []struct {
		name   string
		active bool
		phase  Phase
		perm   Permission
		method string
		ok     bool
	}{
		{"get always", false, PhaseRead, PermitDefault, "GET", true},
		{"post without active", false, PhaseRead, PermitDefault, "POST", false},
		{"post active but read phase", true, PhaseRead, PermitDefault, "POST", false},
		{"post active write phase", true, PhaseWrite, PermitDefault, "DELETE", true},
		{"llm from spec", false, PhaseRead, PermitAlways, "POST", true},
		{"llm by path needs active", false, PhaseRead, PermitActive, "POST", false},
		{"llm by path with active", true, PhaseRead, PermitActive, "POST", true},
		{"service action never, even GET", true, PhaseWrite, PermitNever, "GET", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pol := &Policy{Active: tc.active, Classifier: staticPerm(tc.perm)}
			pol.SetPhase(tc.phase)
			c := newClient(t, srv.URL, func(cfg *Config) { cfg.Policy = pol })
			before := writes.Load()
			_, err := c.Do(context.Background(), &Request{Method: tc.method, URL: srv.URL + "/x"})
			var fb *ErrForbidden
			if tc.ok != (err == nil) || (!tc.ok && !errors.As(err, &fb)) {
				t.Fatalf("ok=%v err=%v", tc.ok, err)
			}
			if !tc.ok && writes.Load() != before {
				t.Fatal("a refused request reached the server")
			}
		})
	}
	// Configured logins are always allowed.
	pol := &Policy{}
	pol.SetPhase(PhasePrepare)
	lu, _ := url.Parse(srv.URL + "/login")
	pol.AllowLogin("POST", lu)
	c := newClient(t, srv.URL, func(cfg *Config) { cfg.Policy = pol })
	if _, err := c.Do(context.Background(), &Request{Method: "POST", URL: srv.URL + "/login"}); err != nil {
		t.Fatalf("login: %v", err)
	}
	if _, err := c.Do(context.Background(), &Request{Method: "POST", URL: srv.URL + "/other"}); err == nil {
		t.Fatal("a non-login POST passed")
	}
}

type staticPerm Permission

func (s staticPerm) Permission(string, *url.URL) Permission { return Permission(s) }

func TestBudget(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	c := newClient(t, srv.URL, func(cfg *Config) { cfg.MaxRequests = 5 })
	c.Budget().Reserve("a", 3)
	c.Budget().Reserve("b", 2)
	b := c.ForFamily("b")
	a := c.ForFamily("a")
	for i := 0; i < 2; i++ {
		if _, err := b.Do(context.Background(), &Request{URL: srv.URL}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Do(context.Background(), &Request{URL: srv.URL}); !errors.Is(err, ErrBudgetExhausted) {
		t.Fatalf("b beyond its share while a's is reserved: %v", err)
	}
	if _, err := a.Do(context.Background(), &Request{URL: srv.URL}); err != nil {
		t.Fatal(err)
	}
	c.Budget().Release("a") // a finished: its 2 unused return to the pool
	for i := 0; i < 2; i++ {
		if _, err := b.Do(context.Background(), &Request{URL: srv.URL}); err != nil {
			t.Fatalf("released share not usable: %v", err)
		}
	}
	if _, err := b.Do(context.Background(), &Request{URL: srv.URL}); !errors.Is(err, ErrBudgetExhausted) {
		t.Fatalf("total budget exceeded: %v", err)
	}
	if c.Stats().Requests != 5 {
		t.Fatalf("sent %d", c.Stats().Requests)
	}
}

func TestRateLimit(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	c := newClient(t, srv.URL, func(cfg *Config) { cfg.Rate = 20 })
	start := time.Now()
	for i := 0; i < 30; i++ {
		if _, err := c.Do(context.Background(), &Request{URL: srv.URL}); err != nil {
			t.Fatal(err)
		}
	}
	// 20 in the initial burst, then 10 more at 20/s: at least ~0.5 s. Wide margin on the low side only.
	if el := time.Since(start); el < 400*time.Millisecond {
		t.Fatalf("30 requests at 20/s took %v", el)
	}
}

func TestInFlightCap(t *testing.T) {
	var cur, peak atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		n := cur.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
		cur.Add(-1)
	}))
	defer srv.Close()
	c := newClient(t, srv.URL, func(cfg *Config) { cfg.Concurrency = 3 })
	var wg sync.WaitGroup
	for i := 0; i < 12; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.Do(context.Background(), &Request{URL: srv.URL})
		}()
	}
	wg.Wait()
	if peak.Load() > 3 || peak.Load() < 2 {
		t.Fatalf("peak in flight %d, cap 3", peak.Load())
	}
}

func TestBodyCapAndGzipBomb(t *testing.T) {
	var bomb bytes.Buffer
	zw := gzip.NewWriter(&bomb)
	zeros := make([]byte, 1<<20)
	for i := 0; i < 64; i++ { // 64 MiB of zeros, ~64 KiB compressed
		zw.Write(zeros)
	}
	zw.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big":
			w.Write(bytes.Repeat([]byte("a"), 3000))
		case "/bomb":
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(bomb.Bytes())
		}
	}))
	defer srv.Close()
	c := newClient(t, srv.URL, func(cfg *Config) { cfg.MaxBody = 1000 })
	ex, err := c.Do(context.Background(), &Request{URL: srv.URL + "/big"})
	if err != nil || len(ex.Body) != 1000 || !ex.Truncated {
		t.Fatalf("cap: len=%d truncated=%v err=%v", len(ex.Body), ex.Truncated, err)
	}
	c = newClient(t, srv.URL, func(cfg *Config) { cfg.MaxBody = 4 << 20 })
	ex, err = c.Do(context.Background(), &Request{URL: srv.URL + "/bomb"})
	if err != nil || len(ex.Body) != 4<<20 || !ex.Truncated {
		t.Fatalf("bomb: len=%d truncated=%v err=%v", len(ex.Body), ex.Truncated, err)
	}
}

func TestRedirectAcrossOriginDropsCredentials(t *testing.T) {
	var leaked atomic.Bool
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k := range r.Header {
			if IsCredentialHeader(k) {
				leaked.Store(true)
			}
		}
		fmt.Fprint(w, "other")
	}))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/landing", http.StatusFound)
	}))
	defer srv.Close()
	ou, _ := url.Parse(other.URL)
	c := newClient(t, srv.URL, func(cfg *Config) { cfg.AllowOrigins = []*url.URL{ou} })
	id := &fakeID{name: "alice", header: "Authorization", value: "Bearer secret"}
	ex, err := c.Do(context.Background(), &Request{URL: srv.URL + "/start", Identity: id, Header: http.Header{"X-Api-Key": {"k"}, "Cookie": {"s=1"}}})
	if err != nil {
		t.Fatal(err)
	}
	if string(ex.Body) != "other" || len(ex.Redirects) != 1 {
		t.Fatalf("redirect not followed: %q %v", ex.Body, ex.Redirects)
	}
	if leaked.Load() {
		t.Fatal("credentials followed the redirect to another origin")
	}
	// Out of scope: the redirect itself comes back, nothing is sent there.
	c = newClient(t, srv.URL, nil)
	ex, err = c.Do(context.Background(), &Request{URL: srv.URL + "/start", Identity: id})
	if err != nil || ex.Status != http.StatusFound {
		t.Fatalf("out-of-scope redirect: %v %v", ex, err)
	}
}

func TestRedirectLoop(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path == "/a" {
			http.Redirect(w, r, "/b", http.StatusFound)
		} else if r.URL.Path == "/b" {
			http.Redirect(w, r, "/a", http.StatusFound)
		} else {
			n := len(r.URL.Path)
			http.Redirect(w, r, r.URL.Path+fmt.Sprint(n), http.StatusFound)
		}
	}))
	defer srv.Close()
	c := newClient(t, srv.URL, nil)
	ex, err := c.Do(context.Background(), &Request{URL: srv.URL + "/a"})
	if err != nil || ex.Status != http.StatusFound || hits.Load() != 2 {
		t.Fatalf("loop: status=%v hits=%d err=%v", ex, hits.Load(), err)
	}
	hits.Store(0)
	ex, err = c.Do(context.Background(), &Request{URL: srv.URL + "/x"})
	if err != nil || ex.Status != http.StatusFound || hits.Load() != DefaultMaxRedirects+1 {
		t.Fatalf("chain: hits=%d err=%v", hits.Load(), err)
	}
}

func TestSlowResponseTimesOut(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		w.WriteHeader(200)
		w.Write([]byte("start"))
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	c := newClient(t, srv.URL, func(cfg *Config) { cfg.Timeout = 200 * time.Millisecond })
	start := time.Now()
	ex, err := c.Do(context.Background(), &Request{URL: srv.URL})
	if time.Since(start) > 2*time.Second {
		t.Fatal("a stalled body hung the client")
	}
	if err == nil && !ex.Truncated {
		t.Fatal("a stalled body must end truncated or in an error")
	}
}

func TestRetryAfter429(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) < 3 {
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		fmt.Fprint(w, "ok")
	}))
	defer srv.Close()
	var waits []time.Duration
	c := newClient(t, srv.URL, func(cfg *Config) {
		cfg.Sleep = func(_ <-chan struct{}, d time.Duration) bool { waits = append(waits, d); return true }
	})
	ex, err := c.Do(context.Background(), &Request{URL: srv.URL})
	if err != nil || ex.Status != 200 || len(waits) != 2 || waits[0] != 2*time.Second {
		t.Fatalf("status=%v waits=%v err=%v", ex, waits, err)
	}
	n.Store(0)
	ex, _ = c.Do(context.Background(), &Request{URL: srv.URL, NoRetry: true})
	if ex.Status != 429 {
		t.Fatalf("NoRetry must return the 429, got %d", ex.Status)
	}
	n.Store(0)
	ex, _ = c.Do(context.Background(), &Request{Method: "HEAD", URL: srv.URL})
	// Retry-After beyond the cap: hand back the 429.
	srv2 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv2.Close()
	c2 := newClient(t, srv2.URL, nil)
	ex, err = c2.Do(context.Background(), &Request{URL: srv2.URL})
	if err != nil || ex.Status != 503 {
		t.Fatalf("long Retry-After: %v %v", ex, err)
	}
}

func TestReloginAfter401(t *testing.T) {
	var valid atomic.Value
	valid.Store("Bearer one")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != valid.Load().(string) {
			w.WriteHeader(401)
			return
		}
		fmt.Fprint(w, "data")
	}))
	defer srv.Close()
	c := newClient(t, srv.URL, nil)
	id := &fakeID{name: "maya", header: "Authorization", value: "Bearer one"}
	id.relogin = func() { id.value = "Bearer two" }
	if ex, _ := c.Do(context.Background(), &Request{URL: srv.URL, Identity: id}); ex.Status != 200 {
		t.Fatal("first request failed")
	}
	valid.Store("Bearer two") // the token expired server-side
	ex, err := c.Do(context.Background(), &Request{URL: srv.URL, Identity: id})
	if err != nil || ex.Status != 200 || id.logins.Load() != 1 {
		t.Fatalf("re-login: status=%d logins=%d err=%v", ex.Status, id.logins.Load(), err)
	}
	// A 401 without an earlier 2xx does not trigger a login.
	fresh := &fakeID{name: "li", header: "Authorization", value: "Bearer nope", relogin: func() {}}
	c.Do(context.Background(), &Request{URL: srv.URL, Identity: fresh})
	if fresh.logins.Load() != 0 {
		t.Fatal("re-login without an earlier 2xx")
	}
}

func TestHeadersAndEvidence(t *testing.T) {
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"name":"x","api_key":"sk_live_abcdefgh12345678","nested":{"password":"hunter22"}}`)
	}))
	defer srv.Close()
	c := newClient(t, srv.URL, func(cfg *Config) {
		cfg.UserAgent, cfg.ScanID = "rampart/test", "scan-1"
		cfg.ExtraHeaders = http.Header{"X-Env": {"ci"}}
	})
	id := &fakeID{name: "alice", header: "Authorization", value: "ApiKey supersecretvalue"}
	c.Redactor().AddSecret("supersecretvalue")
	ex, err := c.Do(context.Background(), &Request{URL: srv.URL + "/v1/items?q=1", Identity: id, Header: http.Header{"X-Forged": {"eyJforged"}}, ShowHeaders: []string{"X-Forged"}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Get("User-Agent") != "rampart/test" || got.Get("X-Rampart-Scan-Id") != "scan-1" || got.Get("X-Env") != "ci" {
		t.Fatalf("headers: %v", got)
	}
	r := c.Redactor()
	req, resp, curl := r.FormatRequest(ex), r.FormatResponse(ex), r.Curl(ex)
	for _, s := range []string{req, resp, curl} {
		if strings.Contains(s, "supersecretvalue") || strings.Contains(s, "sk_live_abcdefgh12345678") || strings.Contains(s, "hunter22") {
			t.Errorf("secret leaked into evidence:\n%s", s)
		}
	}
	if !strings.Contains(req, "X-Forged: eyJforged") || !strings.Contains(curl, "$RAMPART_ID_ALICE") || !strings.Contains(curl, "X-Forged: eyJforged") {
		t.Errorf("evidence:\n%s\n%s", req, curl)
	}
	if !strings.Contains(resp, `"name":"x"`) {
		t.Errorf("response lost content: %s", resp)
	}
}

func TestBurst(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.WriteHeader(429)
	}))
	defer srv.Close()
	pol := &Policy{}
	pol.SetPhase(PhaseRead)
	c := newClient(t, srv.URL, func(cfg *Config) { cfg.Policy = pol; cfg.Burst = 10; cfg.Rate = 1 })
	if _, err := c.Burst(context.Background(), &Request{URL: srv.URL}, 5); err == nil {
		t.Fatal("burst outside the burst phase")
	}
	pol.SetPhase(PhaseBurst)
	start := time.Now()
	exs, err := c.Burst(context.Background(), &Request{URL: srv.URL}, 50)
	if err != nil || len(exs) != 10 || n.Load() != 10 {
		t.Fatalf("burst: %d exchanges, %d sent, err %v", len(exs), n.Load(), err)
	}
	if time.Since(start) > 3*time.Second {
		t.Fatal("a burst must not be paced by --rate")
	}
}

func TestHAR(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "hi") }))
	defer srv.Close()
	c := newClient(t, srv.URL, nil)
	h := c.EnableHAR()
	c.Do(context.Background(), &Request{URL: srv.URL, Identity: &fakeID{name: "a", header: "Authorization", value: "Bearer topsecret"}})
	var b bytes.Buffer
	if err := h.Write(&b, "test"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"entries"`) || strings.Contains(b.String(), "topsecret") {
		t.Fatalf("har: %s", b.String())
	}
}
