// Package score turns findings into per-category scores, an overall 0-100
// score and an A-F grade (CONTRACTS §10, docs/scoring.md). It is deterministic.
package score

import (
	"math"

	"github.com/rampart-scan/rampart/internal/check"
)

// Deduction is what one finding of a severity takes off its category's 100, at confirmed confidence.
var Deduction = map[check.Severity]float64{
	check.Critical: 40,
	check.High:     25,
	check.Medium:   10,
	check.Low:      3,
	check.Info:     0,
}

// ConfidenceFactor scales a deduction by how well the finding is proven.
var ConfidenceFactor = map[check.Confidence]float64{
	check.Confirmed: 1.0,
	check.Likely:    0.75,
	check.Possible:  0.4,
}

// Weights of the categories in the overall score; they sum to 100.
var Weights = map[check.Category]float64{
	check.Authentication:        15,
	check.BOLA:                  15,
	check.BFLA:                  10,
	check.PropertyAuthorization: 10,
	check.InputValidation:       10,
	check.DataExposure:          8,
	check.SSRF:                  8,
	check.RateLimiting:          6,
	check.Encryption:            6,
	check.Inventory:             4,
	check.UnsafeConsumption:     4,
	check.LLM:                   4,
}

// Caps on the overall score.
const (
	CapConfirmedCritical = 69
	CapConfirmedHigh     = 79
)

// Counts reports whether a finding counts towards the score: not suppressed and not fixed.
func Counts(f check.Finding) bool {
	if f.Suppressed != nil {
		return false
	}
	return f.Baseline == nil || *f.Baseline != "fixed"
}

// Category scores one category from its findings: 100 minus the deductions, floored at 0.
func Category(findings []check.Finding) int {
	d := 0.0
	for _, f := range findings {
		if Counts(f) {
			d += Deduction[f.Severity] * ConfidenceFactor[f.Confidence]
		}
	}
	return int(math.Max(0, math.Round(100-d)))
}

// Overall is the weighted mean of the assessed categories' scores, capped by
// confirmed critical and high findings; ok is false when none was assessed.
func Overall(categoryScores map[check.Category]int, findings []check.Finding) (score int, ok bool) {
	var sum, weights float64
	for _, c := range check.Categories {
		s, assessed := categoryScores[c]
		if !assessed {
			continue
		}
		sum += float64(s) * Weights[c]
		weights += Weights[c]
	}
	if weights == 0 {
		return 0, false
	}
	score = int(math.Round(sum / weights))
	for _, f := range findings {
		if !Counts(f) || f.Confidence != check.Confirmed {
			continue
		}
		switch f.Severity {
		case check.Critical:
			score = min(score, CapConfirmedCritical)
		case check.High:
			score = min(score, CapConfirmedHigh)
		}
	}
	return score, true
}

// Grade maps a score to A-F.
func Grade(score int) string {
	switch {
	case score >= 90:
		return "A"
	case score >= 80:
		return "B"
	case score >= 70:
		return "C"
	case score >= 60:
		return "D"
	}
	return "F"
}
