package probe

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// retryTripper retries idempotent requests on 429 and 503, honouring Retry-After up to maxWait.
type retryTripper struct {
	next    http.RoundTripper
	max     int
	maxWait time.Duration
	sleep   func(<-chan struct{}, time.Duration) bool
}

func idempotent(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	return false
}

func (t *retryTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	noRetry, _ := req.Context().Value(keyNoRetry).(bool)
	for attempt := 0; ; attempt++ {
		resp, err := t.next.RoundTrip(req)
		if err != nil || noRetry || !idempotent(req.Method) || attempt >= t.max ||
			(resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable) {
			return resp, err
		}
		wait, ok := retryAfter(resp.Header.Get("Retry-After"), time.Now())
		if !ok {
			wait = time.Duration(1<<attempt) * time.Second
		}
		if wait > t.maxWait {
			return resp, nil // the server asks for more patience than we offer
		}
		resp.Body.Close()
		if !t.sleep(req.Context().Done(), wait) {
			return nil, req.Context().Err()
		}
	}
}

// retryAfter parses delta-seconds or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

// budgetTripper spends one request of the family's budget per attempt.
type budgetTripper struct {
	next   http.RoundTripper
	budget *Budget
}

func (t *budgetTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	fam, _ := req.Context().Value(keyFamily).(string)
	if err := t.budget.Take(fam); err != nil {
		return nil, err
	}
	return t.next.RoundTrip(req)
}

// hostLimits holds one rate limiter and one in-flight semaphore per host.
type hostLimits struct {
	rate        float64
	concurrency int
	mu          sync.Mutex
	limiters    map[string]*rate.Limiter
	slots       map[string]chan struct{}
}

func newHostLimits(r float64, concurrency int) *hostLimits {
	return &hostLimits{rate: r, concurrency: concurrency, limiters: map[string]*rate.Limiter{}, slots: map[string]chan struct{}{}}
}

func (h *hostLimits) get(host string) (*rate.Limiter, chan struct{}) {
	h.mu.Lock()
	defer h.mu.Unlock()
	l, ok := h.limiters[host]
	if !ok {
		if h.rate > 0 {
			burst := int(h.rate)
			if burst < 1 {
				burst = 1
			}
			l = rate.NewLimiter(rate.Limit(h.rate), burst)
		} else {
			l = rate.NewLimiter(rate.Inf, 1)
		}
		h.limiters[host] = l
		h.slots[host] = make(chan struct{}, h.concurrency)
	}
	return l, h.slots[host]
}

// limitTripper paces requests per host and caps how many are in flight.
type limitTripper struct {
	next   http.RoundTripper
	limits *hostLimits
}

func (t *limitTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	lim, slots := t.limits.get(req.URL.Host)
	if noLimit, _ := ctx.Value(keyNoLimit).(bool); !noLimit {
		if err := lim.Wait(ctx); err != nil {
			return nil, err
		}
	}
	select {
	case slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-slots }()
	// The recorder below reads the whole body, so the slot covers the full exchange.
	return t.next.RoundTrip(req)
}

// recorder sends the request, reads the capped body, and records the exchange.
type recorder struct {
	next http.RoundTripper
	s    *shared
}

func (t *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	m, _ := req.Context().Value(keyMeta).(*meta)
	t.s.sent.Add(1)
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, truncated, rerr := readCapped(req.Context(), resp.Body, t.s.cfg.MaxBody)
	resp.Body.Close()
	if rerr != nil && len(body) == 0 && !truncated {
		return nil, fmt.Errorf("read body: %w", rerr)
	}
	fam, _ := req.Context().Value(keyFamily).(string)
	ex := &Exchange{
		Method:      req.Method,
		URL:         req.URL.String(),
		RequestHead: req.Header.Clone(),
		Status:      resp.StatusCode,
		Proto:       resp.Proto,
		Header:      resp.Header.Clone(),
		Body:        body,
		Truncated:   truncated || rerr != nil,
		Duration:    time.Since(start),
		Family:      fam,
		Phase:       t.s.cfg.Policy.Phase(),
	}
	if req.Host != "" && req.Host != req.URL.Host {
		ex.RequestHead.Set("Host", req.Host)
	}
	if m != nil {
		ex.Identity, ex.CredHeaders, ex.ShowHeaders, ex.RequestBody = m.identity, m.credHeaders, m.showHeaders, m.body
		m.exchange = ex
	}
	if t.s.har != nil {
		t.s.har.add(ex, start)
	}
	t.s.keep(ex)
	for _, o := range *t.s.observers.Load() {
		o(ex)
	}
	resp.Body = http.NoBody
	return resp, nil
}

// readCapped reads at most limit bytes (after transparent decompression) and
// reports whether more was available; a stalled body ends with the request's timeout.
func readCapped(ctx context.Context, r io.Reader, limit int64) ([]byte, bool, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if int64(len(data)) > limit {
		return data[:limit], true, nil
	}
	if err != nil && ctx.Err() != nil {
		return data, true, err
	}
	return data, false, err
}
