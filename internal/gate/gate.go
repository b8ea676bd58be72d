// Package gate decides whether a scan fails a CI build: --fail-on a severity,
// --fail-under a score, counting only findings at or above --min-confidence
// that are not suppressed. No gate applies unless one is given.
package gate

import (
	"fmt"

	"github.com/rampart-scan/rampart/internal/check"
	"github.com/rampart-scan/rampart/internal/report"
)

// Gate is the configured set of gates.
type Gate struct {
	// FailOn fails the build on a finding of this severity or worse (nil: no severity gate).
	FailOn *check.Severity
	// FailUnder fails the build when the score is below this (nil: no score gate).
	FailUnder *int
	// MinConfidence is the weakest confidence that gates (default likely).
	MinConfidence check.Confidence
	// FailOnNew fails the build on findings new since the baseline; with
	// FailOn only new ones at or above it count, and old ones never fail the build.
	FailOnNew bool
}

// Evaluate returns the reasons the gate fails; none means it passes.
func (g Gate) Evaluate(r *report.Report) []string {
	var out []string
	if g.FailOn != nil || g.FailOnNew {
		n := 0
		for _, f := range r.Findings {
			if f.Suppressed != nil || (f.Baseline != nil && *f.Baseline == "fixed") || f.Confidence < g.MinConfidence {
				continue
			}
			if g.FailOnNew && (f.Baseline == nil || *f.Baseline != "new") {
				continue
			}
			if g.FailOn == nil || f.Severity >= *g.FailOn {
				n++
			}
		}
		if n > 0 {
			what := fmt.Sprintf("at or above %s", g.FailOn)
			switch {
			case g.FailOnNew && g.FailOn != nil:
				what = fmt.Sprintf("new since the baseline at or above %s", g.FailOn)
			case g.FailOnNew:
				what = "new since the baseline"
			}
			out = append(out, fmt.Sprintf("%d finding(s) %s (confidence ≥ %s)", n, what, g.MinConfidence))
		}
	}
	if g.FailUnder != nil && r.Score != nil && *r.Score < *g.FailUnder {
		out = append(out, fmt.Sprintf("score %d is below %d", *r.Score, *g.FailUnder))
	}
	return out
}
