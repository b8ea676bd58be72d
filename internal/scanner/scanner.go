// Package scanner runs one scan end to end: phase 1 (spec, discovery, plan,
// logins, baselines, canary, ID harvest), then the engine's phases, then the report.
package scanner

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/rampart-scan/rampart/internal/baseline"
	"github.com/rampart-scan/rampart/internal/check"
	"github.com/rampart-scan/rampart/internal/discover"
	"github.com/rampart-scan/rampart/internal/engine"
	"github.com/rampart-scan/rampart/internal/identity"
	"github.com/rampart-scan/rampart/internal/oob"
	"github.com/rampart-scan/rampart/internal/plan"
	"github.com/rampart-scan/rampart/internal/probe"
	"github.com/rampart-scan/rampart/internal/report"
	"github.com/rampart-scan/rampart/internal/spec"
)

// Config is everything a scan needs, already parsed.
type Config struct {
	Target     string
	SpecSource string
	Identities []*identity.Identity
	// ExtraHeaders are non-credential headers every request carries (--header).
	ExtraHeaders http.Header

	Active         bool
	Depth          check.Depth
	Rate           float64
	Concurrency    int
	MaxRequests    int
	MaxDuration    time.Duration
	ConnectTimeout time.Duration
	Timeout        time.Duration
	Burst          int

	AllowOrigins     []string
	Include, Exclude []string
	Only, Skip       []string

	JWT check.JWTKeys
	// LLM selects and paces the LLM probes.
	LLM check.LLMOptions
	// OOBURL is a public canary (rampart oob) and OOBToken its API token.
	OOBURL     string
	OOBToken   string
	Proxy      string
	CACert     string
	Insecure   bool
	ClientCert string
	ClientKey  string
	DryRun     bool
	HAR        bool
	Version    string
	Seed       uint64
	Checks     []check.Check
	Catalogue  *check.Catalogue
	Logger     *slog.Logger
	Progress   func(engine.Event)
	// Transport replaces the network transport (tests).
	Transport http.RoundTripper
}

// UsageError is a configuration problem (exit 2).
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// TargetError is an unreachable or unusable target (exit 3).
type TargetError struct{ Err error }

func (e *TargetError) Error() string { return e.Err.Error() }
func (e *TargetError) Unwrap() error { return e.Err }

// Outcome is what a scan produced.
type Outcome struct {
	Report *report.Report
	HAR    *probe.HAR
	Plan   *plan.Plan
	// DryRun is the plan summary for --dry-run.
	DryRun *DryRun
	// Incomplete is true when a family errored, the budget ran out or --max-duration passed.
	Incomplete bool
}

// DryRun describes what a scan would do.
type DryRun struct {
	Target     string                `json:"target"`
	Operations []DryRunOperation     `json:"operations"`
	Skipped    []plan.Skipped        `json:"skipped_operations"`
	Families   []string              `json:"families"`
	Estimate   int                   `json:"request_estimate"`
	Discovery  string                `json:"discovery,omitempty"`
	Identities []report.IdentityInfo `json:"identities"`
}

// DryRunOperation is one planned operation.
type DryRunOperation struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	Class  string `json:"class,omitempty"`
}

// ScanID makes a sortable unique scan ID.
func ScanID(now time.Time) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%012x", now.UTC().Format("20060102T150405Z"), b)
}

func parseTarget(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("target %q is not an http(s) URL", raw)
	}
	if u.User != nil {
		return nil, fmt.Errorf("target %q: put credentials in -H or --identity, not in the URL", u.Redacted())
	}
	return u, nil
}

// baseURL applies CONTRACTS §1: the target's own path wins, else the spec's first server path.
func baseURL(target *url.URL, s *spec.Spec) *url.URL {
	b := &url.URL{Scheme: target.Scheme, Host: target.Host, Path: strings.TrimSuffix(target.Path, "/")}
	if b.Path != "" || s == nil || len(s.Servers) == 0 {
		return b
	}
	if su, err := url.Parse(s.Servers[0]); err == nil {
		b.Path = strings.TrimSuffix(su.Path, "/")
	}
	return b
}

// Run performs the scan. On interruption (ctx cancelled) it still returns the partial report.
func Run(ctx context.Context, cfg Config) (*Outcome, error) {
	started := time.Now()
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	target, err := parseTarget(cfg.Target)
	if err != nil {
		return nil, &UsageError{err}
	}
	depth := cfg.Depth
	if depth == "" {
		depth = check.Standard
	}
	origin := &url.URL{Scheme: target.Scheme, Host: target.Host}
	var allow []*url.URL
	for _, a := range cfg.AllowOrigins {
		u, err := parseTarget(a)
		if err != nil {
			return nil, &UsageError{fmt.Errorf("--allow-origin: %w", err)}
		}
		allow = append(allow, u)
	}
	var proxy *url.URL
	if cfg.Proxy != "" {
		if proxy, err = url.Parse(cfg.Proxy); err != nil || proxy.Host == "" {
			return nil, &UsageError{fmt.Errorf("--proxy %q is not a URL", cfg.Proxy)}
		}
	}
	ids, err := identity.NewSet(cfg.Identities)
	if err != nil {
		return nil, &UsageError{err}
	}
	filter := check.RuleFilter{}
	for _, s := range cfg.Only {
		filter.Only = append(filter.Only, check.Selector(s))
	}
	for _, s := range cfg.Skip {
		filter.Skip = append(filter.Skip, check.Selector(s))
	}
	seed := cfg.Seed
	if seed == 0 {
		var b [8]byte
		_, _ = rand.Read(b[:])
		seed = binary.LittleEndian.Uint64(b[:])
	}
	scanID := ScanID(started)
	policy := &probe.Policy{Active: cfg.Active, Deep: depth == check.Deep}
	policy.SetPhase(probe.PhasePrepare)
	pcfg := probe.Config{
		Target: origin, AllowOrigins: allow, Rate: cfg.Rate, Concurrency: cfg.Concurrency,
		MaxRequests: cfg.MaxRequests, Burst: cfg.Burst, ConnectTimeout: cfg.ConnectTimeout, Timeout: cfg.Timeout,
		Proxy: proxy, CACertFile: cfg.CACert, Insecure: cfg.Insecure, ClientCertFile: cfg.ClientCert, ClientKeyFile: cfg.ClientKey,
		UserAgent: "rampart/" + cfg.Version, ScanID: scanID, Policy: policy, Transport: cfg.Transport, Logger: logger,
		ExtraHeaders: cfg.ExtraHeaders,
	}
	client, err := probe.New(pcfg)
	if err != nil {
		return nil, &UsageError{err}
	}
	var har *probe.HAR
	if cfg.HAR {
		har = client.EnableHAR()
	}
	client.KeepForReplay()

	if cfg.MaxDuration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.MaxDuration)
		defer cancel()
	}

	// fail ends phase 1; an interruption still yields a (partial, empty) report.
	var warnings []string
	fail := func(err error) (*Outcome, error) {
		if !errors.Is(ctx.Err(), context.Canceled) {
			return nil, err
		}
		warnings = append(warnings, "interrupted during preparation, before the checks ran")
		rep := report.Build(report.Input{
			Version: cfg.Version, ScanID: scanID, Target: target.String(), StartedAt: started, Duration: time.Since(started),
			Options: report.Options{Active: cfg.Active, Depth: string(depth), Rate: cfg.Rate, Concurrency: client.Concurrency(), MaxRequests: cfg.MaxRequests, Identities: identityInfo(ids)},
			Result:  &engine.Result{Interrupted: true}, Stats: client.Stats(), Warnings: warnings,
		})
		return &Outcome{Report: rep, HAR: har, Incomplete: true}, nil
	}

	// Phase 1: spec.
	var sp *spec.Spec
	if cfg.SpecSource != "" {
		tr := cfg.Transport
		if tr == nil {
			t, err := probe.NewTransport(pcfg)
			if err != nil {
				return fail(&UsageError{err})
			}
			tr = t
		}
		sp, err = spec.Load(ctx, cfg.SpecSource, spec.Options{HTTPClient: &http.Client{Transport: tr, Timeout: 30 * time.Second}})
		if err != nil {
			return fail(&TargetError{err})
		}
	}
	prep := client.ForFamily("prepare")
	base := baseURL(target, sp)
	urlFor := func(rel string) string {
		u := *base
		u.Path = base.Path + rel
		return u.String()
	}

	if cfg.DryRun {
		return dryRun(cfg, sp, base, ids, filter, client)
	}

	// Reachability: one GET of the base URL.
	if _, err := prep.Do(ctx, &probe.Request{Method: http.MethodGet, URL: base.String() + "/"}); err != nil {
		var forbidden *probe.ErrForbidden
		if !errors.As(err, &forbidden) {
			return fail(&TargetError{fmt.Errorf("target %s unreachable: %w", base.Redacted(), rootCause(err))})
		}
	}
	bl := baseline.NewStore(seed)
	var p *plan.Plan
	popts := plan.Options{Base: base, Include: cfg.Include, Exclude: cfg.Exclude, Seed: seed}
	if sp == nil {
		found, src, err := discover.FindSpec(ctx, prep, urlFor)
		if err != nil {
			return fail(&TargetError{err})
		}
		if found != nil {
			sp = found
			warnings = append(warnings, "no --spec given; using the spec found at "+src)
			base = baseURL(target, sp)
			popts.Base = base
		}
	}
	if sp != nil {
		p, err = plan.Build(sp, popts)
	} else {
		eps, derr := discover.Endpoints(ctx, prep, urlFor, bl, nil)
		if derr != nil && ctx.Err() == nil {
			return fail(&TargetError{derr})
		}
		warnings = append(warnings, fmt.Sprintf("no spec found; discovered %d endpoint(s) from the built-in path list", len(eps)))
		p, err = plan.FromEndpoints(eps, popts)
	}
	if err != nil {
		return fail(&UsageError{err})
	}
	policy.Classifier = p

	// Identities.
	if err := ids.RegisterLogins(policy, client); err != nil {
		return fail(&UsageError{err})
	}
	if err := ids.LoginAll(ctx, prep); err != nil {
		if isNetwork(err) {
			return fail(&TargetError{err})
		}
		return fail(&UsageError{err})
	}
	for _, id := range ids.All() {
		for _, s := range id.Secrets() {
			client.Redactor().AddSecret(s)
		}
	}

	// Canary: a public one (--oob-url) or a loopback listener.
	var canary oob.Listener
	if cfg.OOBURL != "" {
		tr := cfg.Transport
		if tr == nil {
			t, _ := probe.NewTransport(pcfg)
			tr = t
		}
		remote, err := oob.Dial(ctx, cfg.OOBURL, cfg.OOBToken, &http.Client{Transport: tr, Timeout: 10 * time.Second})
		if err != nil {
			return fail(&TargetError{err})
		}
		canary = remote
	} else if local, err := oob.Start("127.0.0.1"); err != nil {
		warnings = append(warnings, "out-of-band canary not started: "+err.Error())
	} else {
		defer local.Close()
		canary = local
	}

	// Baselines per path prefix, then IDs from list responses.
	prefixes := map[string]bool{"/": true}
	for _, o := range p.Operations {
		prefixes[baseline.Prefix(o.Path)] = true
	}
	keys := make([]string, 0, len(prefixes))
	for k := range prefixes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := bl.Take(ctx, prep, urlFor, k, nil); err != nil && fatalErr(err) {
			break
		}
	}
	warnings = append(warnings, inferTenants(ctx, prep, p, ids)...)
	lists := 0
	for _, o := range p.Operations {
		if o.Method == http.MethodGet && !strings.HasSuffix(o.Path, "}") {
			lists++
		}
	}
	harvestCap := min(600, 2*lists*len(ids.Authenticated()))
	if err := p.Harvest(ctx, prep, ids.Authenticated(), harvestCap); err != nil && !fatalErr(err) {
		warnings = append(warnings, "object ID harvest: "+err.Error())
	}

	scan := &check.Scan{
		ID: scanID, Target: base, Spec: sp, Plan: p, Identities: ids,
		Options: check.Options{Active: cfg.Active, Depth: depth, Seed: seed, JWT: cfg.JWT, LLM: cfg.LLM},
		Client:  client, Facts: check.NewFacts(), Baselines: bl, Catalogue: cfg.Catalogue, Filter: filter, Logger: logger,
	}
	if canary != nil {
		scan.Canary = canary
		check.Put(scan.Facts, check.CanaryFact, canary)
	}
	eng := &engine.Engine{Checks: cfg.Checks, Progress: cfg.Progress}
	res, err := eng.Run(ctx, scan)
	if err != nil {
		return nil, &UsageError{err}
	}
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		warnings = append(warnings, "scan stopped at --max-duration "+cfg.MaxDuration.String())
	case errors.Is(ctx.Err(), context.Canceled):
		warnings = append(warnings, "interrupted: this report is partial")
	}
	warnings = append(warnings, res.Warnings...)
	if n := client.Budget().Refused(); n > 0 {
		warnings = append(warnings, fmt.Sprintf("request budget exhausted: %d request(s) not sent (raise --max-requests)", n))
	}
	rep := report.Build(report.Input{
		Version: cfg.Version, ScanID: scanID, Target: base.String(), Spec: specInfo(sp, cfg.SpecSource),
		StartedAt: started, Duration: time.Since(started),
		Options: report.Options{Active: cfg.Active, Depth: string(depth), Rate: cfg.Rate, Concurrency: client.Concurrency(), MaxRequests: cfg.MaxRequests, Identities: identityInfo(ids)},
		Result:  res, Skipped: p.Skipped, Stats: client.Stats(), Warnings: warnings,
	})
	incomplete := res.Incomplete || client.Budget().Refused() > 0 || errors.Is(ctx.Err(), context.DeadlineExceeded)
	return &Outcome{Report: rep, HAR: har, Plan: p, Incomplete: incomplete}, nil
}

func specInfo(s *spec.Spec, source string) *report.SpecInfo {
	if s == nil {
		return nil
	}
	src := source
	if src == "" {
		src = s.Source
	}
	return &report.SpecInfo{Source: src, SHA256: s.SHA256}
}

func identityInfo(ids *identity.Set) []report.IdentityInfo {
	var out []report.IdentityInfo
	for _, id := range ids.Authenticated() {
		t := id.Tenants
		if t == nil {
			t = []string{}
		}
		out = append(out, report.IdentityInfo{Name: id.Name(), Role: id.Role, Tenant: t})
	}
	if out == nil {
		out = []report.IdentityInfo{}
	}
	return out
}

func fatalErr(err error) bool {
	return errors.Is(err, probe.ErrBudgetExhausted) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

func isNetwork(err error) bool {
	var forbidden *probe.ErrForbidden
	if errors.As(err, &forbidden) {
		return false
	}
	return strings.Contains(err.Error(), "dial") || strings.Contains(err.Error(), "connection") || errors.Is(err, context.DeadlineExceeded)
}

// rootCause drops the wrapping so the one-line error names the actual problem.
func rootCause(err error) error {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		if _, ok := u.(interface{ Timeout() bool }); ok {
			return u
		}
		err = u
	}
}

func dryRun(cfg Config, sp *spec.Spec, base *url.URL, ids *identity.Set, filter check.RuleFilter, client *probe.Client) (*Outcome, error) {
	d := &DryRun{Target: base.String(), Identities: identityInfo(ids), Skipped: []plan.Skipped{}}
	var p *plan.Plan
	var err error
	if sp != nil {
		p, err = plan.Build(sp, plan.Options{Base: base, Include: cfg.Include, Exclude: cfg.Exclude, Seed: cfg.Seed})
		if err != nil {
			return nil, &UsageError{err}
		}
		for _, o := range p.Operations {
			d.Operations = append(d.Operations, DryRunOperation{Method: o.Method, Path: o.Path, Class: o.Class.String()})
		}
		d.Skipped = p.Skipped
	} else {
		d.Discovery = fmt.Sprintf("no spec given: would look for one at %d well-known paths, else probe %d built-in paths", len(discover.SpecPaths), len(discover.EndpointPaths))
	}
	if d.Operations == nil {
		d.Operations = []DryRunOperation{}
	}
	n := len(d.Operations)
	est := 2 + 2*len(d.Operations) // reachability, baselines
	scan := &check.Scan{Target: base, Spec: sp, Plan: p, Identities: ids, Options: check.Options{Active: cfg.Active, Depth: cfg.Depth}, Catalogue: cfg.Catalogue, Filter: filter, Client: client}
	for _, c := range cfg.Checks {
		m := c.Meta()
		on := false
		for _, r := range m.Rules {
			if filter.Allows(r) {
				on = true
			}
		}
		if !on {
			continue
		}
		d.Families = append(d.Families, m.ID)
		if e, ok := c.(check.Estimator); ok && p != nil {
			est += e.Estimate(scan)
		} else {
			est += 10 * max(1, n)
		}
	}
	if d.Families == nil {
		d.Families = []string{}
	}
	if cfg.MaxRequests > 0 && est > cfg.MaxRequests {
		est = cfg.MaxRequests
	}
	d.Estimate = est
	return &Outcome{DryRun: d, Plan: p}, nil
}
