package report

import (
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/rampart-scan/rampart/internal/check"
)

// Formats are the report formats, in the order help texts list them.
var Formats = []string{"text", "json", "sarif", "html", "markdown", "junit", "github"}

// RenderOptions are what some formats need besides the report.
type RenderOptions struct {
	// Color turns on ANSI colours (text).
	Color bool
	// Rules is the catalogue (sarif lists every rule, junit has a testcase per rule).
	Rules []check.Rule
	// SARIFLocation is the repository file SARIF results point at when the
	// finding has no spec line (default rampart.yaml).
	SARIFLocation string
	// FailOn is the severity gate; junit fails a rule at or above it (high without one).
	FailOn *check.Severity
}

// Render writes the report in one of Formats.
func Render(w io.Writer, format string, r *Report, o RenderOptions) error {
	switch format {
	case "json":
		return WriteJSON(w, r)
	case "text":
		return WriteText(w, r, TextOptions{Color: o.Color})
	case "sarif":
		return WriteSARIF(w, r, o)
	case "html":
		return WriteHTML(w, r)
	case "markdown":
		return WriteMarkdown(w, r)
	case "junit":
		return WriteJUnit(w, r, o)
	case "github":
		return WriteGitHub(w, r)
	}
	return fmt.Errorf("unknown format %q (want %s)", format, strings.Join(Formats, ", "))
}

// KnownFormat reports whether Render accepts the format.
func KnownFormat(f string) bool {
	for _, x := range Formats {
		if x == f {
			return true
		}
	}
	return false
}

var jwtRe = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*`)

// shortTokens truncates tokens (forged ones appear in full only in json and
// html) and caps the text.
func shortTokens(s string, max int) string {
	s = jwtRe.ReplaceAllStringFunc(s, func(t string) string { return t[:16] + "…" })
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8Start(s[cut]) {
			cut--
		}
		s = s[:cut] + fmt.Sprintf("… (%d bytes)", len(s))
	}
	return s
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// active reports whether a finding still stands (not suppressed, not fixed).
func active(f check.Finding) bool {
	return f.Suppressed == nil && !(f.Baseline != nil && *f.Baseline == "fixed")
}

func where(f check.Finding) string {
	s := f.Method + " " + f.Path
	if f.Method == "*" {
		s = fmt.Sprintf("%d operations", len(f.Affected))
		if len(f.Affected) == 0 {
			s = "the whole API"
		}
	}
	if f.Parameter != nil {
		s += fmt.Sprintf(" (%s %s)", f.Parameter.In, f.Parameter.Name)
	}
	return s
}

func mappings(f check.Finding) string {
	return strings.Join(append(append([]string{}, f.OWASP...), f.CWE...), ", ")
}

func counts(r *Report) map[check.Severity]int {
	out := map[check.Severity]int{}
	for _, f := range r.Findings {
		if active(f) {
			out[f.Severity]++
		}
	}
	return out
}

var severities = []check.Severity{check.Critical, check.High, check.Medium, check.Low, check.Info}

func scoreText(r *Report) string {
	if r.Score == nil || r.Grade == nil {
		return "not scored"
	}
	return fmt.Sprintf("%d/100 (grade %s)", *r.Score, *r.Grade)
}
