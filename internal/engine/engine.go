// Package engine runs the check families over one scan: the phases of
// CONTRACTS §6, fact ordering, the split budget, per-family status, and the
// findings (deduplicated, superseded, folded, fingerprinted, sorted).
package engine

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sort"
	"sync"

	"github.com/rampart-scan/rampart/internal/check"
	"github.com/rampart-scan/rampart/internal/probe"
)

// Family statuses (CONTRACTS §5).
const (
	StatusOK              = "ok"
	StatusSkipped         = "skipped"
	StatusError           = "error"
	StatusBudgetExhausted = "budget_exhausted"
)

// FamilyResult is how one family's run ended.
type FamilyResult struct {
	ID       string
	Category check.Category
	Status   string
	Reason   string
	Requests int
}

// Event is progress for the user.
type Event struct {
	Kind    string // family-start, family-done, finding, phase
	Family  string
	Phase   probe.Phase
	Finding *check.Finding
	Result  *FamilyResult
}

// Result is a finished (or interrupted) scan's outcome.
type Result struct {
	Findings []check.Finding
	Families []FamilyResult
	// Incomplete is true when a family errored, the budget ran out or the duration was exceeded.
	Incomplete bool
	// Interrupted is true when the scan's context was cancelled from outside.
	Interrupted bool
	// Warnings are the families' warnings (writes that could not be undone, ...).
	Warnings []string
}

// Engine runs families.
type Engine struct {
	Checks []check.Check
	// Progress receives events one at a time (never concurrently).
	Progress func(Event)
	// DefaultEstimate is the request estimate for families that give none.
	DefaultEstimate int

	emitMu sync.Mutex
}

func (e *Engine) emit(ev Event) {
	if e.Progress != nil {
		e.emitMu.Lock()
		defer e.emitMu.Unlock()
		e.Progress(ev)
	}
}

type famState struct {
	chk    check.Check
	meta   check.Family
	scan   *check.Scan
	result FamilyResult
	skip   bool
	done   chan struct{}
	mu     sync.Mutex
}

func (f *famState) fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err == nil || f.result.Status == StatusBudgetExhausted || f.result.Status == StatusError {
		return
	}
	var skip *check.Skip
	switch {
	case errors.As(err, &skip):
		if f.result.Status == StatusOK || f.result.Status == "" {
			f.result.Status, f.result.Reason = StatusSkipped, skip.Reason
		}
	case errors.Is(err, probe.ErrBudgetExhausted):
		f.result.Status, f.result.Reason = StatusBudgetExhausted, "request budget exhausted (--max-requests)"
	case errors.Is(err, context.DeadlineExceeded):
		f.result.Status, f.result.Reason = StatusError, "scan duration exceeded (--max-duration)"
	case errors.Is(err, context.Canceled):
		f.result.Status, f.result.Reason = StatusError, "interrupted"
	default:
		f.result.Status, f.result.Reason = StatusError, err.Error()
	}
}

// Run executes phases 2-4 (phase 1 is the caller's: spec, plan, logins,
// baselines, canary) over base, a scan context without a family.
func (e *Engine) Run(ctx context.Context, base *check.Scan) (*Result, error) {
	sink := check.NewSink(func(f check.Finding) {
		e.emit(Event{Kind: "finding", Family: f.Family, Finding: &f})
	})
	fams, err := e.prepare(base, sink)
	if err != nil {
		return nil, err
	}
	if err := order(fams); err != nil {
		return nil, err
	}
	e.splitBudget(base, fams)

	// Observers see every exchange from here on.
	for _, f := range fams {
		if obs, ok := f.chk.(check.Observer); ok && !f.skip {
			fs := f.scan
			base.Client.Observe(func(ex *probe.Exchange) { obs.Observe(fs, ex) })
		}
	}

	base.Client.Replay() // phase 1's exchanges (logins, baselines, harvest) reach the observers too

	policy := base.Client.Policy()
	policy.SetPhase(probe.PhaseRead)
	e.emit(Event{Kind: "phase", Phase: probe.PhaseRead})
	e.runRead(ctx, fams)

	if base.Options.Active && ctx.Err() == nil {
		policy.SetPhase(probe.PhaseWrite)
		e.emit(Event{Kind: "phase", Phase: probe.PhaseWrite})
		for _, f := range fams {
			if w, ok := f.chk.(check.Writer); ok && !f.skip && ctx.Err() == nil {
				f.fail(safely(func() error { return w.RunWrites(ctx, f.scan) }))
			}
		}
	}
	if ctx.Err() == nil {
		policy.SetPhase(probe.PhaseBurst)
		e.emit(Event{Kind: "phase", Phase: probe.PhaseBurst})
		for _, f := range fams {
			if b, ok := f.chk.(check.Burster); ok && !f.skip && ctx.Err() == nil {
				f.fail(safely(func() error { return b.RunBursts(ctx, f.scan) }))
			}
		}
	}

	res := &Result{Interrupted: errors.Is(ctx.Err(), context.Canceled)}
	for _, f := range fams {
		f.result.Requests = base.Client.Budget().SpentBy(f.meta.ID)
		if ctx.Err() != nil && f.result.Status == StatusOK {
			f.fail(ctx.Err())
		}
		switch f.result.Status {
		case StatusError, StatusBudgetExhausted:
			res.Incomplete = true
		}
		res.Families = append(res.Families, f.result)
		e.emit(Event{Kind: "family-done", Family: f.meta.ID, Result: &f.result})
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		res.Incomplete = true
	}
	res.Findings = Finalize(sink.Findings(), base.Catalogue)
	res.Warnings = sink.Warnings()
	return res, nil
}

// safely runs a family function, turning a panic into an error so one broken family cannot end the scan.
func safely(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error: %v\n%s", r, firstLines(string(debug.Stack()), 12))
		}
	}()
	return fn()
}

func firstLines(s string, n int) string {
	count := 0
	for i, c := range s {
		if c == '\n' {
			count++
			if count == n {
				return s[:i]
			}
		}
	}
	return s
}

func (e *Engine) prepare(base *check.Scan, sink *check.Sink) ([]*famState, error) {
	var fams []*famState
	seen := map[string]bool{}
	for _, c := range e.Checks {
		m := c.Meta()
		if seen[m.ID] {
			return nil, fmt.Errorf("family %q listed twice", m.ID)
		}
		seen[m.ID] = true
		f := &famState{chk: c, meta: m, done: make(chan struct{}), result: FamilyResult{ID: m.ID, Category: m.Category, Status: StatusOK}}
		f.scan = base.ForFamily(m.ID, sink)
		enabled := false
		for _, r := range m.Rules {
			if base.Filter.Allows(r) {
				enabled = true
			}
		}
		if !enabled {
			f.skip = true
			f.result.Status, f.result.Reason = StatusSkipped, "no rule selected by --only/--skip"
		} else if a, ok := c.(check.Applicable); ok {
			if ok, why := a.Applies(f.scan); !ok {
				f.skip = true
				f.result.Status, f.result.Reason = StatusSkipped, why
			}
		}
		fams = append(fams, f)
	}
	return fams, nil
}

// order checks that fact dependencies have no cycle.
func order(fams []*famState) error {
	providers := map[string][]*famState{}
	for _, f := range fams {
		if fu, ok := f.chk.(check.FactUser); ok {
			for _, k := range fu.Provides() {
				providers[k] = append(providers[k], f)
			}
		}
	}
	state := map[*famState]int{}
	var visit func(*famState) error
	visit = func(f *famState) error {
		switch state[f] {
		case 1:
			return fmt.Errorf("fact dependency cycle through family %q", f.meta.ID)
		case 2:
			return nil
		}
		state[f] = 1
		if fu, ok := f.chk.(check.FactUser); ok {
			for _, k := range fu.Needs() {
				for _, p := range providers[k] {
					if p != f {
						if err := visit(p); err != nil {
							return err
						}
					}
				}
			}
		}
		state[f] = 2
		return nil
	}
	for _, f := range fams {
		if err := visit(f); err != nil {
			return err
		}
	}
	return nil
}

func (e *Engine) splitBudget(base *check.Scan, fams []*famState) {
	def := e.DefaultEstimate
	if def <= 0 {
		def = 100
	}
	type est struct {
		f *famState
		n int
	}
	var ests []est
	sum := 0
	for _, f := range fams {
		if f.skip {
			continue
		}
		n := def
		if es, ok := f.chk.(check.Estimator); ok {
			n = max(1, es.Estimate(f.scan))
		}
		ests = append(ests, est{f, n})
		sum += n
	}
	b := base.Client.Budget()
	left := b.Left()
	for _, x := range ests {
		n := x.n
		if left >= 0 && sum > left {
			n = left * x.n / sum // scale the estimates down to what is left
		}
		b.Reserve(x.f.meta.ID, n)
	}
}

// runRead runs phase 2: every family concurrently, each after the providers of the facts it needs.
func (e *Engine) runRead(ctx context.Context, fams []*famState) {
	providers := map[string][]*famState{}
	for _, f := range fams {
		if fu, ok := f.chk.(check.FactUser); ok {
			for _, k := range fu.Provides() {
				providers[k] = append(providers[k], f)
			}
		}
	}
	var wg sync.WaitGroup
	for _, f := range fams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(f.done)
			if fu, ok := f.chk.(check.FactUser); ok {
				for _, k := range fu.Needs() {
					for _, p := range providers[k] {
						if p == f {
							continue
						}
						select {
						case <-p.done:
						case <-ctx.Done():
							return
						}
					}
				}
			}
			if f.skip || ctx.Err() != nil {
				return
			}
			e.emit(Event{Kind: "family-start", Family: f.meta.ID})
			f.fail(safely(func() error { return f.chk.Run(ctx, f.scan) }))
			if _, w := f.chk.(check.Writer); !w {
				if _, b := f.chk.(check.Burster); !b {
					f.scan.Client.Budget().Release(f.meta.ID)
				}
			}
		}()
	}
	wg.Wait()
}

// Finalize fills catalogue fields, merges duplicates, applies supersedes, folds
// shared flaws, fingerprints and sorts. Findings of unknown rules are dropped.
func Finalize(in []check.Finding, cat *check.Catalogue) []check.Finding {
	var fs []check.Finding
	for _, f := range in {
		r, ok := cat.Lookup(f.Rule)
		if !ok {
			continue
		}
		f.Rule = r.ID
		f.Category = r.Category
		if f.Title == "" {
			f.Title = r.Title
		}
		if f.Remediation == "" {
			f.Remediation = r.Remediation
		}
		f.OWASP = append([]string(nil), r.OWASP...)
		f.CWE = append([]string(nil), r.CWE...)
		if f.Path != "*" {
			f.Path = check.TemplatePath(f.Path)
		}
		fs = append(fs, f)
	}
	fs = foldShared(fs, cat)
	fs = mergeDuplicates(fs)
	fs = applySupersedes(fs, cat)
	for i := range fs {
		if fs[i].Affected == nil {
			fs[i].Affected = []check.Endpoint{}
		}
		if fs[i].Evidence == nil {
			fs[i].Evidence = []check.Evidence{}
		}
		if fs[i].OWASP == nil {
			fs[i].OWASP = []string{}
		}
		if fs[i].CWE == nil {
			fs[i].CWE = []string{}
		}
	}
	SortFindings(fs)
	return fs
}

func key(f check.Finding) string {
	return check.Fingerprint(f.Rule, f.Method, f.Path, f.Parameter)
}

const maxEvidence = 6

// maxAffected bounds the operations listed on one shared finding.
const maxAffected = 50

// mergeDuplicates keeps one finding per fingerprint: the most severe and
// confident, with the others' evidence appended (bounded) and affected unioned.
func mergeDuplicates(fs []check.Finding) []check.Finding {
	idx := map[string]int{}
	var out []check.Finding
	for _, f := range fs {
		f.Fingerprint = key(f)
		i, ok := idx[f.Fingerprint]
		if !ok {
			idx[f.Fingerprint] = len(out)
			out = append(out, f)
			continue
		}
		cur := &out[i]
		if f.Severity > cur.Severity || (f.Severity == cur.Severity && f.Confidence > cur.Confidence) {
			f.Evidence = append(f.Evidence, cur.Evidence...)
			f.Affected = unionEndpoints(f.Affected, cur.Affected)
			*cur = f
		} else {
			cur.Evidence = append(cur.Evidence, f.Evidence...)
			cur.Affected = unionEndpoints(cur.Affected, f.Affected)
		}
		if len(cur.Evidence) > maxEvidence {
			cur.Evidence = cur.Evidence[:maxEvidence]
		}
	}
	return out
}

func unionEndpoints(a, b []check.Endpoint) []check.Endpoint {
	seen := map[check.Endpoint]bool{}
	var out []check.Endpoint
	for _, e := range append(append([]check.Endpoint(nil), a...), b...) {
		if !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Method < out[j].Method
	})
	return out
}

// foldShared turns findings of a shared-component rule on several operations into one "*" finding.
func foldShared(fs []check.Finding, cat *check.Catalogue) []check.Finding {
	groups := map[string][]int{}
	for i, f := range fs {
		if r, _ := cat.Lookup(f.Rule); r.Shared {
			k := f.Rule
			if f.Parameter != nil {
				k += "\x00" + f.Parameter.In + ":" + f.Parameter.Name
			}
			groups[k] = append(groups[k], i)
		}
	}
	drop := map[int]bool{}
	var extra []check.Finding
	rules := make([]string, 0, len(groups))
	for r := range groups {
		rules = append(rules, r)
	}
	sort.Strings(rules)
	for _, gk := range rules {
		idxs := groups[gk]
		ops := map[check.Endpoint]bool{}
		for _, i := range idxs {
			if fs[i].Method != "*" {
				ops[check.Endpoint{Method: fs[i].Method, Path: fs[i].Path}] = true
			}
			for _, a := range fs[i].Affected {
				ops[a] = true
			}
		}
		if len(ops) < 2 {
			continue
		}
		best := idxs[0]
		var ev []check.Evidence
		var affected []check.Endpoint
		for _, i := range idxs {
			drop[i] = true
			f := fs[i]
			if f.Severity > fs[best].Severity || (f.Severity == fs[best].Severity && f.Confidence > fs[best].Confidence) {
				best = i
			}
			if len(ev) < maxEvidence {
				ev = append(ev, f.Evidence...)
			}
		}
		for op := range ops {
			affected = append(affected, op)
		}
		merged := fs[best]
		merged.Method, merged.Path = "*", "*"
		merged.Affected = unionEndpoints(affected, nil)
		if n := len(merged.Affected); n > maxAffected {
			merged.Affected = merged.Affected[:maxAffected]
			merged.Detail += fmt.Sprintf(" (%d operations affected; the first %d are listed)", n, maxAffected)
		}
		if len(ev) > maxEvidence {
			ev = ev[:maxEvidence]
		}
		merged.Evidence = ev
		extra = append(extra, merged)
	}
	var out []check.Finding
	for i, f := range fs {
		if !drop[i] {
			out = append(out, f)
		}
	}
	return append(out, extra...)
}

// applySupersedes drops a finding when a more specific rule fired on the same
// operation (or on every operation, "*"), folding its evidence into the winner.
func applySupersedes(fs []check.Finding, cat *check.Catalogue) []check.Finding {
	drop := map[int]bool{}
	for i := range fs {
		r, _ := cat.Lookup(fs[i].Rule)
		for _, loser := range r.Supersedes {
			for j := range fs {
				if i == j || drop[j] || drop[i] || fs[j].Rule != loser {
					continue
				}
				if !sameOperation(fs[i], fs[j]) {
					continue
				}
				drop[j] = true
				note := check.Evidence{Kind: check.EvidenceNote, Note: fmt.Sprintf("also matched %s (%s): %s", fs[j].Rule, fs[j].Title, fs[j].Detail)}
				fs[i].Evidence = append(fs[i].Evidence, note)
				for _, e := range fs[j].Evidence {
					if len(fs[i].Evidence) < maxEvidence+2 {
						fs[i].Evidence = append(fs[i].Evidence, e)
					}
				}
			}
		}
	}
	var out []check.Finding
	for i, f := range fs {
		if !drop[i] {
			out = append(out, f)
		}
	}
	return out
}

func sameOperation(a, b check.Finding) bool {
	if a.Method == b.Method && a.Path == b.Path {
		return true
	}
	if a.Path == "*" {
		for _, e := range a.Affected {
			if e.Method == b.Method && e.Path == b.Path {
				return true
			}
		}
	}
	return false
}

// SortFindings orders findings deterministically: severity, confidence, rule, path, method, fingerprint.
func SortFindings(fs []check.Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.Severity != b.Severity {
			return a.Severity > b.Severity
		}
		if a.Confidence != b.Confidence {
			return a.Confidence > b.Confidence
		}
		if a.Rule != b.Rule {
			return a.Rule < b.Rule
		}
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		if a.Method != b.Method {
			return a.Method < b.Method
		}
		return a.Fingerprint < b.Fingerprint
	})
}
