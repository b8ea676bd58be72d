package check

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"github.com/rampart-scan/rampart/internal/baseline"
	"github.com/rampart-scan/rampart/internal/identity"
	"github.com/rampart-scan/rampart/internal/oob"
	"github.com/rampart-scan/rampart/internal/plan"
	"github.com/rampart-scan/rampart/internal/probe"
	"github.com/rampart-scan/rampart/internal/spec"
)

// Depth is how thorough a scan is.
type Depth string

// Depths.
const (
	Quick    Depth = "quick"
	Standard Depth = "standard"
	Deep     Depth = "deep"
)

// ParseDepth accepts quick, standard or deep.
func ParseDepth(s string) (Depth, bool) {
	switch Depth(s) {
	case Quick, Standard, Deep:
		return Depth(s), true
	}
	return "", false
}

// Options are the scan settings families read.
type Options struct {
	Active bool
	Depth  Depth
	Seed   uint64
	// JWT is key material the tester supplied (--jwt-secret, --jwt-private-key,
	// --jwt-public-key): for single-claim audits only, never for claim escalation.
	JWT JWTKeys
	// LLM paces and selects the LLM probes.
	LLM LLMOptions
}

// LLMOptions are the LLM family's settings (--llm-*).
type LLMOptions struct {
	// Tier is quick, standard or deep; empty follows Depth.
	Tier string
	// Delay separates two requests to one AI endpoint; MaxDuration bounds the family.
	Delay, MaxDuration time.Duration
	// ProbesDir holds extra corpus files (--llm-probes).
	ProbesDir string
}

// JWTKeys is token key material and settings given by the tester.
type JWTKeys struct {
	Secret        string
	PrivateKeyPEM []byte
	PublicKeyPEM  []byte
	// Wordlist is extra HMAC secrets to try (--jwt-wordlist), one per line.
	Wordlist []byte
	// ForeignToken is a token issued by another service (--jwt-foreign-token).
	ForeignToken string
	// CrackTimeout bounds the offline secret search (default 20s).
	CrackTimeout time.Duration
	// LongLifetime is the threshold of jwt.long-lifetime (default 24h).
	LongLifetime time.Duration
}

// CanaryFact publishes the out-of-band canary (absent when none runs).
var CanaryFact = NewKey[oob.Listener]("canary")

// Scan is the context a family runs in. Each family gets its own copy whose
// Client counts against that family's budget share; everything else is shared.
type Scan struct {
	ID         string
	Target     *url.URL
	Spec       *spec.Spec // nil without a spec
	Plan       *plan.Plan
	Identities *identity.Set
	Options    Options
	Client     *probe.Client
	Facts      *Facts
	Baselines  *baseline.Store
	Canary     oob.Listener // nil when no canary runs
	Catalogue  *Catalogue
	Filter     RuleFilter
	Logger     *slog.Logger

	family string
	sink   *Sink
}

// Sink receives findings from every family.
type Sink struct {
	mu       sync.Mutex
	findings []Finding
	warnings []string
	onReport func(Finding)
}

// Warnings returns what families warned about (a failed restore, say).
func (k *Sink) Warnings() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.warnings...)
}

// NewSink makes a sink; onReport (may be nil) is called for each finding as it arrives.
func NewSink(onReport func(Finding)) *Sink { return &Sink{onReport: onReport} }

// Findings returns every finding reported so far.
func (k *Sink) Findings() []Finding {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]Finding(nil), k.findings...)
}

func (k *Sink) add(f Finding) {
	k.mu.Lock()
	k.findings = append(k.findings, f)
	cb := k.onReport
	k.mu.Unlock()
	if cb != nil {
		cb(f)
	}
}

// ForFamily returns the family's copy of the scan.
func (s *Scan) ForFamily(family string, sink *Sink) *Scan {
	c := *s
	c.family = family
	c.sink = sink
	if s.Client != nil {
		c.Client = s.Client.ForFamily(family)
	}
	return &c
}

// Family is the name of the family this copy belongs to.
func (s *Scan) Family() string { return s.family }

// Enabled reports whether a rule is in the catalogue and selected by --only/--skip.
func (s *Scan) Enabled(rule string) bool {
	r, ok := s.Catalogue.Lookup(rule)
	return ok && s.Filter.Allows(r)
}

// Report hands a finding to the engine. Findings of rules that are disabled are dropped.
func (s *Scan) Report(f Finding) {
	if !s.Enabled(f.Rule) || s.sink == nil {
		return
	}
	f.Family = s.family
	s.sink.add(f)
}

// Warn adds a line to the report's warnings (e.g. a write this scan could not undo).
func (s *Scan) Warn(msg string) {
	if s.sink == nil {
		return
	}
	s.sink.mu.Lock()
	s.sink.warnings = append(s.sink.warnings, s.family+": "+msg)
	s.sink.mu.Unlock()
}

// Evidence turns an exchange into redacted evidence.
func (s *Scan) Evidence(ex *probe.Exchange, note string) Evidence {
	r := s.Client.Redactor()
	return Evidence{Kind: EvidenceHTTP, Identity: ex.Identity, Request: r.FormatRequest(ex), Response: r.FormatResponse(ex), Note: note}
}

// Curl renders the exchange as a curl line.
func (s *Scan) Curl(ex *probe.Exchange) string { return s.Client.Redactor().Curl(ex) }

// RelPath is the exchange's path relative to the plan's base.
func (s *Scan) RelPath(ex *probe.Exchange) string {
	u, err := url.Parse(ex.URL)
	if err != nil {
		return "/"
	}
	rel, _ := s.Plan.RelPath(u)
	return rel
}

// IsCatchAll reports whether the response is the target's "nothing here" answer.
func (s *Scan) IsCatchAll(ex *probe.Exchange) bool {
	return s.Baselines.IsCatchAll(s.RelPath(ex), ex)
}

// SpecLocation is where an operation is declared, or nil for undocumented ones.
func SpecLocation(o *plan.Operation) *Location {
	if o == nil || o.Spec == nil || o.Spec.Location.Line == 0 {
		return nil
	}
	return &Location{File: o.Spec.Location.File, Line: o.Spec.Location.Line}
}

// Inconclusive reports whether a status makes a differential inconclusive (CONTRACTS §9).
func Inconclusive(status int) bool { return status == 429 || status == 503 }

// OK reports whether a status is 2xx.
func OK(status int) bool { return status >= 200 && status < 300 }

// EnsureBaseline takes the catch-all baseline for a path's prefix if none was taken yet
// (checks that probe paths outside the spec need it before judging them).
func (s *Scan) EnsureBaseline(ctx context.Context, relPath string) error {
	if s.Baselines.Has(relPath) && s.Baselines.HasExact(baseline.Prefix(relPath)) {
		return nil
	}
	urlFor := func(rel string) string { return s.Plan.URL(rel, nil) }
	return s.Baselines.Take(ctx, s.Client, urlFor, baseline.Prefix(relPath), nil)
}

// Writer finds the identity whose sample request to a write operation is
// accepted (2xx): users first, then admins, then anonymous. It sends the
// operation's own sample request, so call it only in the write phase.
func (s *Scan) Writer(ctx context.Context, o *plan.Operation) (*identity.Identity, *probe.Exchange, error) {
	ids := s.Identities.Users()
	for _, id := range s.Identities.Authenticated() {
		if id.IsAdmin() {
			ids = append(ids, id)
		}
	}
	ids = append(ids, nil)
	for _, id := range ids {
		req := s.Plan.Request(o, id)
		req.NoRetry = true
		ex, err := s.Client.Do(ctx, req)
		if err != nil {
			if errors.Is(err, probe.ErrBudgetExhausted) || ctx.Err() != nil {
				return nil, nil, err
			}
			continue
		}
		if OK(ex.Status) && !s.IsCatchAll(ex) {
			return id, ex, nil
		}
	}
	return nil, nil, nil
}
