package probe

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Credentials is an identity as the client sees it: it decorates requests to the target's origin.
type Credentials interface {
	// Name is the identity's name.
	Name() string
	// Apply adds the identity's credentials to a request bound for the target's origin.
	// It returns the names of headers it set, so evidence can redact them and curl lines
	// can refer to them by environment variable.
	Apply(h http.Header, u *url.URL) []string
	// Relogin runs the identity's login flow again; ok is false when it has none.
	Relogin(ctx context.Context, c *Client) (ok bool, err error)
}

// Request is what a check asks the client to send.
type Request struct {
	Method string
	// URL is absolute.
	URL    string
	Header http.Header
	Body   []byte
	// Identity supplies credentials; nil is anonymous.
	Identity Credentials
	// NoRetry turns off retries on 429/503 (bursts, timing probes, differentials).
	NoRetry bool
	// NoFollow returns a redirect response instead of following it.
	NoFollow bool
	// ShowHeaders names headers shown unredacted in evidence (tokens Rampart forged).
	ShowHeaders []string
}

// IdentityName is the request's identity name, "anonymous" when there is none.
func (r *Request) IdentityName() string {
	if r.Identity == nil {
		return "anonymous"
	}
	return r.Identity.Name()
}

// Exchange is a completed request with its fully read, size-capped response.
type Exchange struct {
	Method string
	// URL is the final URL after redirects.
	URL         string
	RequestHead http.Header
	RequestBody []byte
	Identity    string
	// CredHeaders are the request headers the identity set.
	CredHeaders []string
	ShowHeaders []string

	Status    int
	Proto     string
	Header    http.Header
	Body      []byte
	Truncated bool
	Duration  time.Duration
	// Redirects lists the URLs followed before the final one.
	Redirects []string
	Family    string
	Phase     Phase
}

// Observer sees every exchange of the scan (for passive analysis). It must be fast and not block.
type Observer func(*Exchange)

// Stats counts what the client did.
type Stats struct {
	Requests int
	Errors   int
}

// Client sends requests within the scan's safety rules. A Client value is a view
// for one family (ForFamily); all views share the transport, limits and budget.
type Client struct {
	shared *shared
	family string
}

type shared struct {
	cfg       Config
	rt        http.RoundTripper // chain below the method and scope guards
	budget    *Budget
	limits    *hostLimits
	redactor  *Redactor
	har       *HAR
	observers atomic.Pointer[[]Observer]
	replayMu  sync.Mutex
	replay    []*Exchange // phase-1 exchanges kept for observers that arrive later
	buffering bool
	errors    atomic.Int64
	sent      atomic.Int64

	roots    *x509.CertPool
	loginMu  sync.Mutex
	seen2xx  sync.Map // identity name -> true
	relogins sync.Map // identity name -> *sync.Mutex
}

// New builds a client. The transport comes from cfg.Transport or NewTransport.
func New(cfg Config) (*Client, error) {
	cfg.withDefaults()
	if cfg.Target == nil {
		return nil, errors.New("probe: no target")
	}
	base := cfg.Transport
	if base == nil {
		t, err := NewTransport(cfg)
		if err != nil {
			return nil, err
		}
		base = t
	}
	s := &shared{
		roots:    rootsFor(cfg),
		cfg:      cfg,
		budget:   NewBudget(cfg.MaxRequests),
		limits:   newHostLimits(cfg.Rate, cfg.Concurrency),
		redactor: &Redactor{},
	}
	empty := []Observer{}
	s.observers.Store(&empty)
	rec := &recorder{next: base, s: s}
	lim := &limitTripper{next: rec, limits: s.limits}
	bud := &budgetTripper{next: lim, budget: s.budget}
	s.rt = &retryTripper{next: bud, max: cfg.Retries, maxWait: cfg.MaxRetryAfter, sleep: cfg.Sleep}
	return &Client{shared: s}, nil
}

// ForFamily returns a view whose requests are counted against family's budget share.
func (c *Client) ForFamily(family string) *Client { return &Client{shared: c.shared, family: family} }

// Family is the view's family name.
func (c *Client) Family() string { return c.family }

// Budget is the scan's budget.
func (c *Client) Budget() *Budget { return c.shared.budget }

// Redactor is the scan's redactor.
func (c *Client) Redactor() *Redactor { return c.shared.redactor }

// Policy is the scan's safety policy.
func (c *Client) Policy() *Policy { return c.shared.cfg.Policy }

// Target is the scan's origin.
func (c *Client) Target() *url.URL { return c.shared.cfg.Target }

// Roots is the certificate pool the client trusts: the system's plus --ca-cert (nil: the system's).
func (c *Client) Roots() *x509.CertPool { return c.shared.roots }

// Concurrency is the per-host in-flight cap.
func (c *Client) Concurrency() int { return c.shared.cfg.Concurrency }

// MaxBurst is the largest burst allowed.
func (c *Client) MaxBurst() int { return c.shared.cfg.Burst }

// EnableHAR starts recording every exchange for --har.
func (c *Client) EnableHAR() *HAR {
	c.shared.har = &HAR{redactor: c.shared.redactor}
	return c.shared.har
}

// maxReplay bounds the exchanges kept for late observers.
const maxReplay = 500

// KeepForReplay starts keeping exchanges (bounded) until Replay hands them to the observers.
func (c *Client) KeepForReplay() {
	c.shared.replayMu.Lock()
	c.shared.buffering = true
	c.shared.replayMu.Unlock()
}

// Replay feeds the kept exchanges to the current observers and stops keeping.
func (c *Client) Replay() {
	c.shared.replayMu.Lock()
	kept := c.shared.replay
	c.shared.replay, c.shared.buffering = nil, false
	c.shared.replayMu.Unlock()
	obs := *c.shared.observers.Load()
	for _, ex := range kept {
		for _, o := range obs {
			o(ex)
		}
	}
}

func (s *shared) keep(ex *Exchange) {
	s.replayMu.Lock()
	defer s.replayMu.Unlock()
	if s.buffering && len(s.replay) < maxReplay {
		s.replay = append(s.replay, ex)
	}
}

// Observe adds an observer of every later exchange.
func (c *Client) Observe(o Observer) {
	for {
		old := c.shared.observers.Load()
		next := append(append([]Observer(nil), *old...), o)
		if c.shared.observers.CompareAndSwap(old, &next) {
			return
		}
	}
}

// Stats reports requests sent and transport errors.
func (c *Client) Stats() Stats {
	return Stats{Requests: int(c.shared.sent.Load()), Errors: int(c.shared.errors.Load())}
}

// SameOrigin reports whether u has the target's scheme, host and port.
func (c *Client) SameOrigin(u *url.URL) bool { return sameOrigin(u, c.shared.cfg.Target) }

func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(hostPort(a), hostPort(b))
}

func hostPort(u *url.URL) string {
	h, p := u.Hostname(), u.Port()
	if p == "" {
		switch strings.ToLower(u.Scheme) {
		case "https":
			p = "443"
		default:
			p = "80"
		}
	}
	return strings.ToLower(h) + ":" + p
}

// ErrOutOfScope is returned for a URL outside the target and --allow-origin.
type ErrOutOfScope struct{ URL string }

func (e *ErrOutOfScope) Error() string { return fmt.Sprintf("out of scope: %s", e.URL) }

// inScope is the scope guard: the target's origin and --allow-origin origins only.
func (s *shared) inScope(u *url.URL) bool {
	if sameOrigin(u, s.cfg.Target) {
		return true
	}
	for _, o := range s.cfg.AllowOrigins {
		if sameOrigin(u, o) {
			return true
		}
	}
	return false
}

type ctxKey int

const (
	keyFamily ctxKey = iota
	keyNoRetry
	keyNoLimit
	keyMeta
)

// meta travels with an http.Request through the chain to the recorder.
type meta struct {
	identity    string
	credHeaders []string
	showHeaders []string
	body        []byte
	exchange    *Exchange // filled by the recorder
}

// Do sends a request (following redirects unless NoFollow) and returns the final exchange.
// Transport failures, policy refusals, scope refusals and budget exhaustion are errors.
func (c *Client) Do(ctx context.Context, r *Request) (*Exchange, error) {
	return c.do(ctx, r, false)
}

func (c *Client) do(ctx context.Context, r *Request, noLimit bool) (*Exchange, error) {
	ex, err := c.send(ctx, r, noLimit)
	if err != nil {
		return nil, err
	}
	// Re-login once when an identity that worked before now gets 401 (and,
	// when it can tell, its token may have expired).
	if ex.Status == http.StatusUnauthorized && r.Identity != nil {
		stale := true
		if st, ok := r.Identity.(interface{ Stale() bool }); ok {
			stale = st.Stale()
		}
		if _, worked := c.shared.seen2xx.Load(r.Identity.Name()); worked && stale {
			if ok, lerr := c.relogin(ctx, r.Identity); ok && lerr == nil {
				return c.send(ctx, r, noLimit)
			}
		}
	}
	if r.Identity != nil && ex.Status >= 200 && ex.Status < 300 {
		c.shared.seen2xx.Store(r.Identity.Name(), true)
	}
	return ex, nil
}

func (c *Client) relogin(ctx context.Context, id Credentials) (bool, error) {
	muAny, _ := c.shared.relogins.LoadOrStore(id.Name(), &sync.Mutex{})
	mu := muAny.(*sync.Mutex)
	mu.Lock()
	defer mu.Unlock()
	c.shared.seen2xx.Delete(id.Name())
	return id.Relogin(ctx, c)
}

func (c *Client) send(ctx context.Context, r *Request, noLimit bool) (*Exchange, error) {
	u, err := url.Parse(r.URL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("bad request URL %q", r.URL)
	}
	method := strings.ToUpper(r.Method)
	if method == "" {
		method = http.MethodGet
	}
	var redirects []string
	seen := map[string]bool{}
	body := r.Body
	for hop := 0; ; hop++ {
		if err := c.shared.cfg.Policy.Check(method, u); err != nil {
			return nil, err
		}
		if !c.shared.inScope(u) {
			return nil, &ErrOutOfScope{URL: u.Redacted()}
		}
		ex, err := c.roundTrip(ctx, method, u, r, body, noLimit)
		if err != nil {
			return nil, err
		}
		ex.Redirects = redirects
		loc := ex.Header.Get("Location")
		if r.NoFollow || !isRedirect(ex.Status) || loc == "" {
			return ex, nil
		}
		next, err := u.Parse(loc)
		if err != nil || (next.Scheme != "http" && next.Scheme != "https") {
			return ex, nil
		}
		seen[u.String()] = true
		if hop+1 > c.shared.cfg.MaxRedirects || seen[next.String()] || !c.shared.inScope(next) {
			// Too many hops, a loop, or a hop out of scope: hand back the redirect itself.
			return ex, nil
		}
		redirects = append(redirects, u.String())
		if ex.Status == http.StatusSeeOther || ((ex.Status == 301 || ex.Status == 302) && method == http.MethodPost) {
			method, body = http.MethodGet, nil
		}
		u = next
	}
}

func isRedirect(code int) bool {
	switch code {
	case 301, 302, 303, 307, 308:
		return true
	}
	return false
}

func (c *Client) roundTrip(ctx context.Context, method string, u *url.URL, r *Request, body []byte, noLimit bool) (*Exchange, error) {
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.ContentLength = int64(len(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	same := sameOrigin(u, c.shared.cfg.Target)
	for k, vs := range c.shared.cfg.ExtraHeaders {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	for k, vs := range r.Header {
		if !same && IsCredentialHeader(k) {
			continue // credentials never leave the target's origin
		}
		req.Header.Del(k)
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if r.Header.Get("Host") != "" {
		req.Host = r.Header.Get("Host")
	}
	req.Header.Set("User-Agent", c.shared.cfg.UserAgent)
	if c.shared.cfg.ScanID != "" {
		req.Header.Set("X-Rampart-Scan-Id", c.shared.cfg.ScanID)
	}
	var cred []string
	if same && r.Identity != nil {
		cred = r.Identity.Apply(req.Header, u)
		req.URL = u // Apply may add query credentials
	}
	m := &meta{identity: r.IdentityName(), credHeaders: cred, showHeaders: r.ShowHeaders, body: body}
	cctx := context.WithValue(ctx, keyMeta, m)
	cctx = context.WithValue(cctx, keyFamily, c.family)
	if r.NoRetry {
		cctx = context.WithValue(cctx, keyNoRetry, true)
	}
	if noLimit {
		cctx = context.WithValue(cctx, keyNoLimit, true)
	}
	req = req.WithContext(cctx)
	timeout, cancel := context.WithTimeout(cctx, c.shared.cfg.Timeout)
	defer cancel()
	req = req.WithContext(timeout)
	resp, err := c.shared.rt.RoundTrip(req)
	if err != nil {
		if !errors.Is(err, ErrBudgetExhausted) && ctx.Err() == nil {
			c.shared.errors.Add(1)
		}
		return nil, fmt.Errorf("%s %s: %w", method, u.Redacted(), err)
	}
	resp.Body.Close()
	if m.exchange == nil {
		return nil, fmt.Errorf("%s %s: no exchange recorded", method, u.Redacted())
	}
	return m.exchange, nil
}

// Burst sends n copies of a request concurrently (capped at --burst), without
// retries and outside the rate limiter. Only in the burst phase.
func (c *Client) Burst(ctx context.Context, r *Request, n int) ([]*Exchange, error) {
	if c.shared.cfg.Policy.Phase() != PhaseBurst {
		return nil, errors.New("bursts run only in the burst phase")
	}
	if n > c.shared.cfg.Burst {
		n = c.shared.cfg.Burst
	}
	rr := *r
	rr.NoRetry = true
	out := make([]*Exchange, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i], errs[i] = c.do(ctx, &rr, true)
		}()
	}
	wg.Wait()
	var got []*Exchange
	for i, ex := range out {
		if ex != nil {
			got = append(got, ex)
		} else if errors.Is(errs[i], ErrBudgetExhausted) {
			return got, errs[i]
		}
	}
	if len(got) == 0 && n > 0 {
		return nil, errs[0]
	}
	return got, nil
}
