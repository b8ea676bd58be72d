package check

import (
	"context"

	"github.com/rampart-scan/rampart/internal/probe"
)

// Family describes a check family: its ID (the package name under
// internal/checks), its category and the rules it can report.
type Family struct {
	ID       string
	Category Category
	Rules    []Rule
}

// Check is a check family. Run is its read-only phase (phase 2); it reports
// findings through s.Report as it finds them.
type Check interface {
	Meta() Family
	Run(ctx context.Context, s *Scan) error
}

// Writer is a family with work for the exclusive write phase (phase 3, --active only).
type Writer interface {
	RunWrites(ctx context.Context, s *Scan) error
}

// Burster is a family with work for the exclusive burst and timing phase (phase 4).
type Burster interface {
	RunBursts(ctx context.Context, s *Scan) error
}

// FactUser declares the facts a family needs and provides (fact key names);
// the engine starts a consumer only after every provider of what it needs has finished phase 2.
type FactUser interface {
	Needs() []string
	Provides() []string
}

// Estimator predicts how many requests a family will send, to split the budget.
type Estimator interface {
	Estimate(s *Scan) int
}

// Applicable says whether a family applies to this scan, and why not.
type Applicable interface {
	Applies(s *Scan) (ok bool, reason string)
}

// Observer sees every exchange of the scan, all phases, for passive analysis.
// It must return quickly; it may report findings through s.
type Observer interface {
	Observe(s *Scan, ex *probe.Exchange)
}

// Skip is an error a family returns to say it could not assess anything, with the reason.
type Skip struct{ Reason string }

func (e *Skip) Error() string { return e.Reason }
