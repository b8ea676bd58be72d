package score

import (
	"testing"

	"github.com/rampart-scan/rampart/internal/check"
)

func f(sev check.Severity, conf check.Confidence) check.Finding {
	return check.Finding{Severity: sev, Confidence: conf}
}

func TestCategory(t *testing.T) {
	supp := "accepted risk"
	fixed := "fixed"
	cases := []struct {
		name string
		in   []check.Finding
		want int
	}{
		{"clean", nil, 100},
		{"one confirmed high", []check.Finding{f(check.High, check.Confirmed)}, 75},
		{"likely medium", []check.Finding{f(check.Medium, check.Likely)}, 93},         // 100 - 7.5 rounds to 93 (banker-free round half away: 92.5 → 93)
		{"possible critical", []check.Finding{f(check.Critical, check.Possible)}, 84}, // 100 - 16
		{"floor", []check.Finding{f(check.Critical, check.Confirmed), f(check.Critical, check.Confirmed), f(check.Critical, check.Confirmed)}, 0},
		{"info is free", []check.Finding{f(check.Info, check.Confirmed)}, 100},
		{"suppressed is free", []check.Finding{{Severity: check.Critical, Confidence: check.Confirmed, Suppressed: &supp}}, 100},
		{"fixed is free", []check.Finding{{Severity: check.High, Confidence: check.Confirmed, Baseline: &fixed}}, 100},
	}
	for _, c := range cases {
		if got := Category(c.in); got != c.want {
			t.Errorf("%s: got %d want %d", c.name, got, c.want)
		}
	}
}

func TestOverallAndCaps(t *testing.T) {
	if _, ok := Overall(map[check.Category]int{}, nil); ok {
		t.Fatal("no assessed category must give no score")
	}
	// Weighted mean: authentication (15) at 60, bola (15) at 100 → 80.
	s, _ := Overall(map[check.Category]int{check.Authentication: 60, check.BOLA: 100}, nil)
	if s != 80 {
		t.Fatalf("mean: %d", s)
	}
	s, _ = Overall(map[check.Category]int{check.Authentication: 100}, []check.Finding{f(check.Critical, check.Confirmed)})
	if s != CapConfirmedCritical {
		t.Fatalf("critical cap: %d", s)
	}
	s, _ = Overall(map[check.Category]int{check.Authentication: 100}, []check.Finding{f(check.High, check.Confirmed)})
	if s != CapConfirmedHigh {
		t.Fatalf("high cap: %d", s)
	}
	s, _ = Overall(map[check.Category]int{check.Authentication: 100}, []check.Finding{f(check.Critical, check.Likely)})
	if s != 100 {
		t.Fatalf("caps apply only to confirmed findings: %d", s)
	}
	total := 0.0
	for _, w := range Weights {
		total += w
	}
	if total != 100 || len(Weights) != len(check.Categories) {
		t.Fatalf("weights must cover all 12 categories and sum to 100 (%v)", total)
	}
}

func TestGrade(t *testing.T) {
	for s, g := range map[int]string{100: "A", 90: "A", 89: "B", 80: "B", 79: "C", 70: "C", 69: "D", 60: "D", 59: "F", 0: "F"} {
		if Grade(s) != g {
			t.Errorf("%d: %s", s, Grade(s))
		}
	}
}
