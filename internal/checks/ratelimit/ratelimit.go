// Package ratelimit is the rate limiting family. Bursts and timing probes run
// in the exclusive last phase, bounded by --burst and the budget, without
// retries; pagination and response sizes are judged in the read phase.
package ratelimit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rampart-scan/rampart/internal/check"
	"github.com/rampart-scan/rampart/internal/compare"
	"github.com/rampart-scan/rampart/internal/identity"
	"github.com/rampart-scan/rampart/internal/plan"
	"github.com/rampart-scan/rampart/internal/probe"
)

// Clock measures durations; tests replace it.
type Clock interface{ Now() time.Time }

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// Family is the rate limiting family.
type Family struct {
	Clock Clock
	mu    sync.Mutex
	seen  map[string]bool
}

// New returns a fresh family.
func New() *Family { return &Family{Clock: realClock{}, seen: map[string]bool{}} }

// Meta describes the family.
func (f *Family) Meta() check.Family {
	return check.Family{ID: "ratelimit", Category: check.RateLimiting, Rules: rules}
}

// Estimate: a burst or two, pagination probes, deep probes.
func (f *Family) Estimate(s *check.Scan) int {
	return 3*s.Client.MaxBurst() + 20 + 2*len(s.Plan.Operations)
}

func fatal(err error) bool {
	return errors.Is(err, probe.ErrBudgetExhausted) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

var pageParam = regexp.MustCompile(`(?i)^(limit|size|per_?page|page_?size|pagesize|count|top|max|max_?results|take|first)$`)

// Run: pagination limits, and one read of each GET so Observe sees response sizes.
func (f *Family) Run(ctx context.Context, s *check.Scan) error {
	if s.Enabled(RuleOversized) {
		ids := s.Identities.Users()
		for _, o := range s.Plan.Operations {
			if o.Method != http.MethodGet {
				continue
			}
			for _, id := range append(ids, nil) {
				ex, err := s.Client.Do(ctx, s.Plan.Request(o, id))
				if err != nil {
					if fatal(err) {
						return err
					}
					break
				}
				if check.OK(ex.Status) {
					break
				}
			}
		}
	}
	if !s.Enabled(RulePagination) {
		return nil
	}
	for _, o := range s.Plan.Operations {
		if o.Method != http.MethodGet || o.Spec == nil {
			continue
		}
		for _, p := range o.Spec.Parameters {
			if p.In != "query" || !pageParam.MatchString(p.Name) || p.Schema == nil || p.Schema.Maximum == nil {
				continue
			}
			if err := f.pagination(ctx, s, o, p.Name, int(*p.Schema.Maximum)); err != nil {
				return err
			}
		}
	}
	return nil
}

func items(body []byte) int {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return -1
	}
	switch x := v.(type) {
	case []any:
		return len(x)
	case map[string]any:
		best := -1
		for _, val := range x {
			if a, ok := val.([]any); ok && len(a) > best {
				best = len(a)
			}
		}
		return best
	}
	return -1
}

func (f *Family) pagination(ctx context.Context, s *check.Scan, o *plan.Operation, name string, maximum int) error {
	var id *identity.Identity
	for _, u := range append(s.Identities.Users(), nil) {
		ex, err := s.Client.Do(ctx, s.Plan.Request(o, u))
		if err != nil {
			if fatal(err) {
				return err
			}
			continue
		}
		if check.OK(ex.Status) {
			id = u
			break
		}
	}
	ask := maximum * 20
	req := s.Plan.Request(o, id)
	u, _ := url.Parse(req.URL)
	q := u.Query()
	q.Set(name, strconv.Itoa(ask))
	u.RawQuery = q.Encode()
	req.URL = u.String()
	req.NoRetry = true
	ex, err := s.Client.Do(ctx, req)
	if err != nil {
		if fatal(err) {
			return err
		}
		return nil
	}
	n := items(ex.Body)
	if !check.OK(ex.Status) || n <= maximum {
		return nil
	}
	s.Report(check.Finding{Rule: RulePagination, Severity: check.Medium, Confidence: check.Confirmed, Method: o.Method, Path: o.Path,
		Parameter: &check.Param{In: "query", Name: name}, Identity: ex.Identity,
		Detail:   fmt.Sprintf("%s=%d (documented maximum %d) returns %d items.", name, ask, maximum, n),
		Evidence: []check.Evidence{s.Evidence(ex, fmt.Sprintf("%d items", n))}, Curl: s.Curl(ex), SpecLocation: check.SpecLocation(o)})
	return nil
}

// Observe flags large responses of operations without pagination parameters.
func (f *Family) Observe(s *check.Scan, ex *probe.Exchange) {
	if !s.Enabled(RuleOversized) || !check.OK(ex.Status) {
		return
	}
	o := s.Plan.Find(ex.Method, s.RelPath(ex))
	if o == nil || o.Spec == nil {
		return
	}
	for _, p := range o.Spec.Parameters {
		if pageParam.MatchString(p.Name) || strings.EqualFold(p.Name, "page") || strings.EqualFold(p.Name, "cursor") || strings.EqualFold(p.Name, "offset") {
			return
		}
	}
	n := items(ex.Body)
	size := len(ex.Body)
	if n < 1000 && size < 1<<20 && !ex.Truncated {
		return
	}
	f.mu.Lock()
	done := f.seen[o.Key()]
	f.seen[o.Key()] = true
	f.mu.Unlock()
	if done {
		return
	}
	sev := check.Low
	if n >= 10000 || size >= 10<<20 || ex.Truncated {
		sev = check.Medium
	}
	s.Report(check.Finding{Rule: RuleOversized, Severity: sev, Confidence: check.Confirmed, Method: o.Method, Path: o.Path, Identity: ex.Identity,
		Detail:   fmt.Sprintf("One answer carries %d items (%d bytes) and the operation has no pagination parameter.", n, size),
		Evidence: []check.Evidence{{Kind: check.EvidenceNote, Identity: ex.Identity, Note: fmt.Sprintf("%s %s: %d items, %d bytes", o.Method, o.Path, n, size)}}})
}

// limited reports whether a response shows rate limiting.
func limited(ex *probe.Exchange) bool {
	if ex.Status == http.StatusTooManyRequests {
		return true
	}
	for k := range ex.Header {
		lk := strings.ToLower(k)
		if lk == "retry-after" || strings.HasPrefix(lk, "x-ratelimit") || strings.HasPrefix(lk, "ratelimit") || strings.HasPrefix(lk, "x-rate-limit") {
			return true
		}
	}
	return false
}

// RunBursts (phase 4): one burst on a sensitive operation (--active) or a read-only one.
func (f *Family) RunBursts(ctx context.Context, s *check.Scan) error {
	if s.Enabled(RuleMissing) {
		if err := f.burstMissing(ctx, s); err != nil {
			return err
		}
	}
	if s.Options.Active && s.Enabled(RuleBusinessFlow) {
		if err := f.businessFlow(ctx, s); err != nil {
			return err
		}
	}
	if s.Options.Active && s.Options.Depth == check.Deep {
		if s.Enabled(RuleUploadLimit) {
			if err := f.upload(ctx, s); err != nil {
				return err
			}
		}
		if s.Enabled(RuleReDoS) {
			if err := f.redos(ctx, s); err != nil {
				return err
			}
		}
	}
	return nil
}

// sensitiveRequest finds a login/OTP/reset request to burst: a configured login (right
// credentials: no lockout risk), else the operation's sample with an unknown user.
func sensitiveRequest(s *check.Scan) (*plan.Operation, *probe.Request, string) {
	for _, id := range s.Identities.Authenticated() {
		if id.Login == nil {
			continue
		}
		u, err := id.LoginURL(s.Client.Target())
		if err != nil {
			continue
		}
		rel, _ := s.Plan.RelPath(u)
		o := s.Plan.Find(strings.ToUpper(firstNonEmpty(id.Login.Method, http.MethodPost)), rel)
		body, _ := json.Marshal(id.Login.JSON)
		req := &probe.Request{Method: strings.ToUpper(firstNonEmpty(id.Login.Method, http.MethodPost)), URL: u.String(), Body: body,
			Header: http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}}}
		if id.Login.JSON == nil {
			continue
		}
		path := rel
		if o != nil {
			path = o.Path
		}
		return o, req, path
	}
	for _, o := range s.Plan.Operations {
		if o.Class&(plan.Login|plan.OTPCheck|plan.PasswordReset) != 0 && o.Method == http.MethodPost {
			return o, s.Plan.Request(o, nil), o.Path
		}
	}
	return nil, nil, ""
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (f *Family) burstMissing(ctx context.Context, s *check.Scan) error {
	o, req, path := sensitiveRequest(s)
	sensitive := req != nil
	if sensitive && !s.Options.Active {
		s.Warn("ratelimit.missing: the sensitive operation " + path + " is burst only with --active; no other operation was burst in its place")
		return nil
	}
	if !sensitive {
		for _, op := range s.Plan.Operations {
			if op.Method != http.MethodGet || op.Class&plan.ServiceAction != 0 {
				continue
			}
			for _, id := range append(s.Identities.Users(), nil) {
				r := s.Plan.Request(op, id)
				ex, err := s.Client.Do(ctx, r)
				if err != nil {
					if fatal(err) {
						return err
					}
					continue
				}
				if check.OK(ex.Status) && !s.IsCatchAll(ex) {
					o, req, path = op, r, op.Path
					break
				}
			}
			if req != nil {
				break
			}
		}
	}
	if req == nil {
		return nil
	}
	// Sequential baseline for latency (supporting evidence only).
	var seq []time.Duration
	for i := 0; i < 3; i++ {
		ex, err := s.Client.Do(ctx, cloneReq(req))
		if err != nil {
			if fatal(err) {
				return err
			}
			return nil
		}
		if limited(ex) {
			return nil
		}
		seq = append(seq, ex.Duration)
	}
	n := s.Client.MaxBurst()
	exs, err := s.Client.Burst(ctx, cloneReq(req), n)
	if err != nil && len(exs) == 0 {
		if fatal(err) {
			return err
		}
		return nil
	}
	codes := map[int]int{}
	var lat []time.Duration
	for _, ex := range exs {
		if limited(ex) {
			return nil // limited: no finding
		}
		codes[ex.Status]++
		lat = append(lat, ex.Duration)
	}
	if len(exs) < n/2 {
		return nil // too many failures to judge
	}
	sev := check.Medium
	what := "read-only operation"
	if sensitive {
		sev, what = check.High, "sensitive operation"
	}
	var parts []string
	keys := make([]int, 0, len(codes))
	for k := range codes {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d×%d", codes[k], k))
	}
	detail := fmt.Sprintf("A burst of %d concurrent requests to the %s %s got %s: no 429, no RateLimit or Retry-After header. Median latency %s in the burst vs %s sequentially (supporting only).",
		len(exs), what, path, strings.Join(parts, ", "), median(lat).Round(time.Millisecond), median(seq).Round(time.Millisecond))
	fd := check.Finding{Rule: RuleMissing, Severity: sev, Confidence: check.Confirmed, Method: req.Method, Path: path,
		Identity: exs[0].Identity, Detail: detail, Evidence: []check.Evidence{s.Evidence(exs[len(exs)-1], "last request of the burst")}, Curl: s.Curl(exs[0])}
	if o != nil {
		fd.SpecLocation = check.SpecLocation(o)
	}
	s.Report(fd)
	return nil
}

func cloneReq(r *probe.Request) *probe.Request {
	c := *r
	c.Header = r.Header.Clone()
	return &c
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	c := append([]time.Duration(nil), d...)
	sort.Slice(c, func(i, j int) bool { return c[i] < c[j] })
	return c[len(c)/2]
}

// businessFlow bursts a create operation of a sensitive flow (--active), then deletes what it can.
func (f *Family) businessFlow(ctx context.Context, s *check.Scan) error {
	for _, o := range s.Plan.Operations {
		if o.Class&plan.SensitiveFlow == 0 || o.Method != http.MethodPost {
			continue
		}
		id, first, err := s.Writer(ctx, o)
		if err != nil {
			return err
		}
		if first == nil {
			continue
		}
		n := min(s.Client.MaxBurst(), 20)
		exs, err := s.Client.Burst(ctx, s.Plan.Request(o, id), n)
		if err != nil && len(exs) == 0 {
			if fatal(err) {
				return err
			}
			continue
		}
		ok := 0
		for _, ex := range exs {
			if limited(ex) {
				ok = -1
				break
			}
			if check.OK(ex.Status) && !compare.IsErrorBody(ex.Body) {
				ok++
			}
		}
		if ok < n*3/4 {
			continue
		}
		s.Report(check.Finding{Rule: RuleBusinessFlow, Severity: check.Medium, Confidence: check.Confirmed, Method: o.Method, Path: o.Path, Identity: exs[0].Identity,
			Detail:   fmt.Sprintf("%d concurrent creates on this flow all succeeded (%d of %d), with no 429, no rate-limit headers and no challenge.", n, ok, n),
			Evidence: []check.Evidence{s.Evidence(exs[len(exs)-1], "last create of the burst")}, Curl: s.Curl(exs[0]), SpecLocation: check.SpecLocation(o)})
	}
	return nil
}

var (
	_ check.Check    = (*Family)(nil)
	_ check.Burster  = (*Family)(nil)
	_ check.Observer = (*Family)(nil)
)
