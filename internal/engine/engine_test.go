package engine

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"github.com/rampart-scan/rampart/internal/baseline"
	"github.com/rampart-scan/rampart/internal/check"
	"github.com/rampart-scan/rampart/internal/identity"
	"github.com/rampart-scan/rampart/internal/plan"
	"github.com/rampart-scan/rampart/internal/probe"
)

func rule(id string, sev check.Severity, mod ...func(*check.Rule)) check.Rule {
	r := check.Rule{ID: id, Title: id + " title", Severity: sev, SeverityRule: "default", Remediation: "fix " + id, OWASP: []string{"API1:2023"}, CWE: []string{"CWE-1"}}
	for _, m := range mod {
		m(&r)
	}
	return r
}

// fakeFamily is a configurable family for engine tests.
type fakeFamily struct {
	id       string
	cat      check.Category
	rules    []check.Rule
	needs    []string
	provides []string
	run      func(ctx context.Context, s *check.Scan) error
	writes   func(ctx context.Context, s *check.Scan) error
	bursts   func(ctx context.Context, s *check.Scan) error
	log      *[]string
	mu       *sync.Mutex
}

func (f *fakeFamily) Meta() check.Family {
	return check.Family{ID: f.id, Category: f.cat, Rules: f.rules}
}
func (f *fakeFamily) record(s string) {
	f.mu.Lock()
	*f.log = append(*f.log, s)
	f.mu.Unlock()
}
func (f *fakeFamily) Run(ctx context.Context, s *check.Scan) error {
	f.record("read:" + f.id)
	if f.run != nil {
		return f.run(ctx, s)
	}
	return nil
}
func (f *fakeFamily) Needs() []string    { return f.needs }
func (f *fakeFamily) Provides() []string { return f.provides }

type writerFamily struct{ *fakeFamily }

func (w writerFamily) RunWrites(ctx context.Context, s *check.Scan) error {
	w.record("write:" + w.id)
	if w.writes != nil {
		return w.writes(ctx, s)
	}
	return nil
}
func (w writerFamily) RunBursts(ctx context.Context, s *check.Scan) error {
	w.record("burst:" + w.id)
	if w.bursts != nil {
		return w.bursts(ctx, s)
	}
	return nil
}

func newScan(t *testing.T, checks []check.Check, active bool) *check.Scan {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	pol := &probe.Policy{Active: active}
	c, err := probe.New(probe.Config{Target: u, Policy: pol, MaxRequests: 100})
	if err != nil {
		t.Fatal(err)
	}
	var rules []check.Rule
	for _, ch := range checks {
		rules = append(rules, ch.Meta().Rules...)
	}
	cat, err := check.NewCatalogue(rules)
	if err != nil {
		t.Fatal(err)
	}
	ids, _ := identity.NewSet(nil)
	p, _ := plan.FromEndpoints(nil, plan.Options{Base: u})
	return &check.Scan{Target: u, Plan: p, Identities: ids, Client: c, Facts: check.NewFacts(), Baselines: baseline.NewStore(1), Catalogue: cat, Options: check.Options{Active: active}}
}

var tenants = check.NewKey[[]string]("tenants")

func TestPhasesAndFactOrder(t *testing.T) {
	var log []string
	var mu sync.Mutex
	consumer := &fakeFamily{id: "consumer", cat: check.BOLA, rules: []check.Rule{rule("bola.x", check.High)}, needs: []string{tenants.Name()}, log: &log, mu: &mu}
	producer := &fakeFamily{id: "producer", cat: check.Authentication, rules: []check.Rule{rule("authn.x", check.High)}, provides: []string{tenants.Name()}, log: &log, mu: &mu}
	var seen []string
	consumer.run = func(ctx context.Context, s *check.Scan) error {
		v, ok := check.Get(s.Facts, tenants)
		if !ok {
			t.Error("consumer ran before the producer published its fact")
		}
		seen = v
		return nil
	}
	producer.run = func(ctx context.Context, s *check.Scan) error {
		check.Put(s.Facts, tenants, []string{"t1"})
		return nil
	}
	w := writerFamily{&fakeFamily{id: "writer", cat: check.InputValidation, rules: []check.Rule{rule("input.x", check.Low)}, log: &log, mu: &mu}}
	w.writes = func(ctx context.Context, s *check.Scan) error {
		if s.Client.Policy().Phase() != probe.PhaseWrite {
			t.Error("writes outside the write phase")
		}
		return nil
	}
	checks := []check.Check{consumer, producer, w}
	for _, active := range []bool{false, true} {
		log = nil
		res, err := (&Engine{Checks: checks}).Run(context.Background(), newScan(t, checks, active))
		if err != nil {
			t.Fatal(err)
		}
		if len(seen) != 1 || res.Incomplete {
			t.Fatalf("fact not passed or incomplete: %v %+v", seen, res)
		}
		idx := map[string]int{}
		for i, l := range log {
			idx[l] = i
		}
		if idx["read:producer"] > idx["read:consumer"] {
			t.Errorf("order: %v", log)
		}
		_, wrote := idx["write:writer"]
		if wrote != active {
			t.Errorf("active=%v but write phase ran=%v", active, wrote)
		}
		if idx["burst:writer"] < idx["read:consumer"] || (active && idx["burst:writer"] < idx["write:writer"]) {
			t.Errorf("burst phase not last: %v", log)
		}
	}
}

func TestFactCycleIsAnError(t *testing.T) {
	var log []string
	var mu sync.Mutex
	a := &fakeFamily{id: "a", cat: check.BOLA, rules: []check.Rule{rule("bola.a", check.Low)}, needs: []string{"x"}, provides: []string{"y"}, log: &log, mu: &mu}
	b := &fakeFamily{id: "b", cat: check.BFLA, rules: []check.Rule{rule("bfla.b", check.Low)}, needs: []string{"y"}, provides: []string{"x"}, log: &log, mu: &mu}
	checks := []check.Check{a, b}
	if _, err := (&Engine{Checks: checks}).Run(context.Background(), newScan(t, checks, false)); err == nil {
		t.Fatal("cycle not detected")
	}
}

func TestFamilyStatuses(t *testing.T) {
	var log []string
	var mu sync.Mutex
	mk := func(id, r string, run func(ctx context.Context, s *check.Scan) error) *fakeFamily {
		return &fakeFamily{id: id, cat: check.Inventory, rules: []check.Rule{rule(r, check.Low)}, run: run, log: &log, mu: &mu}
	}
	panicky := mk("panicky", "inventory.a", func(context.Context, *check.Scan) error { panic("boom") })
	broke := mk("broke", "inventory.b", func(ctx context.Context, s *check.Scan) error {
		for {
			if _, err := s.Client.Do(ctx, &probe.Request{URL: s.Target.String()}); err != nil {
				return err
			}
		}
	})
	skip := mk("skipper", "inventory.c", func(context.Context, *check.Scan) error { return &check.Skip{Reason: "no spec"} })
	fine := mk("fine", "inventory.d", nil)
	checks := []check.Check{panicky, broke, skip, fine}
	res, err := (&Engine{Checks: checks}).Run(context.Background(), newScan(t, checks, false))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"panicky": StatusError, "broke": StatusBudgetExhausted, "skipper": StatusSkipped, "fine": StatusOK}
	for _, f := range res.Families {
		if want[f.ID] != f.Status {
			t.Errorf("%s: status %s (%s), want %s", f.ID, f.Status, f.Reason, want[f.ID])
		}
	}
	if !res.Incomplete {
		t.Error("errors must make the scan incomplete")
	}
}

func TestOnlySkipFilter(t *testing.T) {
	var log []string
	var mu sync.Mutex
	a := &fakeFamily{id: "a", cat: check.BOLA, rules: []check.Rule{rule("bola.a", check.Low)}, log: &log, mu: &mu}
	b := &fakeFamily{id: "b", cat: check.BFLA, rules: []check.Rule{rule("bfla.b", check.Low)}, log: &log, mu: &mu}
	a.run = func(ctx context.Context, s *check.Scan) error {
		s.Report(check.Finding{Rule: "bola.a", Method: "GET", Path: "/x"})
		return nil
	}
	checks := []check.Check{a, b}
	s := newScan(t, checks, false)
	s.Filter = check.RuleFilter{Only: []check.Selector{"bfla"}}
	res, _ := (&Engine{Checks: checks}).Run(context.Background(), s)
	if len(res.Findings) != 0 || len(log) != 1 || log[0] != "read:b" {
		t.Fatalf("filter: findings=%v log=%v", res.Findings, log)
	}
}

func cat(t *testing.T, rules ...check.Rule) *check.Catalogue {
	c, err := check.NewCatalogue(rules)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestFinalizeDedupSupersedesFold(t *testing.T) {
	c := cat(t,
		rule("authn.missing", check.High),
		rule("llm.unauthenticated-endpoint", check.Critical, func(r *check.Rule) { r.Supersedes = []string{"authn.missing"} }),
		rule("input.cors-reflection", check.High, func(r *check.Rule) { r.Shared = true }),
		rule("bola.object-access", check.High),
	)
	ev := func(n string) []check.Evidence { return []check.Evidence{{Kind: "note", Note: n}} }
	in := []check.Finding{
		{Rule: "authn.missing", Severity: check.High, Confidence: check.Confirmed, Method: "POST", Path: "/ask", Evidence: ev("authn")},
		{Rule: "llm.unauthenticated-endpoint", Severity: check.Critical, Confidence: check.Confirmed, Method: "POST", Path: "/ask", Evidence: ev("llm")},
		{Rule: "authn.missing", Severity: check.High, Confidence: check.Likely, Method: "GET", Path: "/users/42"},
		{Rule: "authn.missing", Severity: check.High, Confidence: check.Confirmed, Method: "GET", Path: "/users/7", Evidence: ev("dup")},
		{Rule: "input.cors-reflection", Severity: check.High, Confidence: check.Confirmed, Method: "GET", Path: "/a"},
		{Rule: "input.cors-reflection", Severity: check.High, Confidence: check.Confirmed, Method: "GET", Path: "/b"},
		{Rule: "bola.object-access", Severity: check.High, Confidence: check.Confirmed, Method: "GET", Path: "/a"},
		{Rule: "nosuch.rule", Severity: check.High, Method: "GET", Path: "/a"},
	}
	out := Finalize(in, c)
	got := map[string]check.Finding{}
	for _, f := range out {
		got[f.Rule+" "+f.Method+" "+f.Path] = f
		if f.Fingerprint != check.Fingerprint(f.Rule, f.Method, f.Path, f.Parameter) || f.Remediation == "" || len(f.OWASP) == 0 {
			t.Errorf("catalogue fields or fingerprint missing: %+v", f)
		}
	}
	if len(out) != 4 {
		t.Fatalf("want 4 findings, got %d: %v", len(out), got)
	}
	if _, ok := got["authn.missing POST /ask"]; ok {
		t.Error("superseded finding kept")
	}
	llm := got["llm.unauthenticated-endpoint POST /ask"]
	if len(llm.Evidence) < 3 {
		t.Errorf("superseded evidence not folded: %+v", llm.Evidence)
	}
	users := got["authn.missing GET /users/{}"]
	if users.Confidence != check.Confirmed || len(users.Evidence) != 1 {
		t.Errorf("duplicates on one templated path not merged to the strongest: %+v", users)
	}
	cors := got["input.cors-reflection * *"]
	if len(cors.Affected) != 2 {
		t.Errorf("shared flaw not folded: %+v", cors)
	}
	if out[0].Rule != "llm.unauthenticated-endpoint" {
		t.Errorf("not sorted by severity: %s first", out[0].Rule)
	}
	// Deterministic.
	again := Finalize(in, c)
	for i := range out {
		if out[i].Fingerprint != again[i].Fingerprint {
			t.Fatal("order not deterministic")
		}
	}
}

func TestInterruptStopsScan(t *testing.T) {
	var log []string
	var mu sync.Mutex
	ctx, cancel := context.WithCancel(context.Background())
	slow := &fakeFamily{id: "slow", cat: check.BOLA, rules: []check.Rule{rule("bola.a", check.Low)}, log: &log, mu: &mu}
	slow.run = func(ctx context.Context, s *check.Scan) error {
		s.Report(check.Finding{Rule: "bola.a", Severity: check.Low, Method: "GET", Path: "/x"})
		cancel()
		<-ctx.Done()
		return ctx.Err()
	}
	checks := []check.Check{slow}
	res, err := (&Engine{Checks: checks}).Run(ctx, newScan(t, checks, true))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Interrupted || len(res.Findings) != 1 || !errors.Is(ctx.Err(), context.Canceled) {
		t.Fatalf("partial result: %+v", res)
	}
}
