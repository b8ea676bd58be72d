package gate

import (
	"testing"

	"github.com/rampart-scan/rampart/internal/check"
	"github.com/rampart-scan/rampart/internal/report"
)

func TestGates(t *testing.T) {
	high, medium := check.High, check.Medium
	seventy := 70
	score := 65
	supp := "risk accepted"
	r := &report.Report{Score: &score, Findings: []check.Finding{
		{Severity: check.Medium, Confidence: check.Confirmed},
		{Severity: check.Critical, Confidence: check.Possible},
		{Severity: check.Critical, Confidence: check.Confirmed, Suppressed: &supp},
	}}
	cases := []struct {
		name string
		g    Gate
		fail bool
	}{
		{"no gate", Gate{MinConfidence: check.Likely}, false},
		{"fail on high ignores possible and suppressed", Gate{FailOn: &high, MinConfidence: check.Likely}, false},
		{"fail on high counting possible", Gate{FailOn: &high, MinConfidence: check.Possible}, true},
		{"fail on medium", Gate{FailOn: &medium, MinConfidence: check.Likely}, true},
		{"fail under", Gate{FailUnder: &seventy}, true},
	}
	for _, c := range cases {
		if got := len(c.g.Evaluate(r)) > 0; got != c.fail {
			t.Errorf("%s: fail=%v", c.name, got)
		}
	}
	r.Score = nil
	if len((Gate{FailUnder: &seventy}).Evaluate(r)) != 0 {
		t.Error("no score (nothing assessed) cannot fail a score gate")
	}
}

func TestFailOnNew(t *testing.T) {
	newS, old := "new", "unchanged"
	high := check.High
	r := &report.Report{Findings: []check.Finding{
		{Severity: check.Critical, Confidence: check.Confirmed, Baseline: &old},
		{Severity: check.Medium, Confidence: check.Confirmed, Baseline: &newS},
	}}
	cases := []struct {
		name string
		g    Gate
		fail bool
	}{
		{"any new finding", Gate{FailOnNew: true, MinConfidence: check.Likely}, true},
		{"new at or above high", Gate{FailOnNew: true, FailOn: &high, MinConfidence: check.Likely}, false},
		{"all findings at or above high", Gate{FailOn: &high, MinConfidence: check.Likely}, true},
	}
	for _, c := range cases {
		if got := len(c.g.Evaluate(r)) > 0; got != c.fail {
			t.Errorf("%s: fail=%v", c.name, got)
		}
	}
}
