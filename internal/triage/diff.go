package triage

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/rampart-scan/rampart/internal/check"
	"github.com/rampart-scan/rampart/internal/report"
)

// Diff is what changed between two reports of the same target.
type Diff struct {
	OldScore  *int            `json:"old_score"`
	NewScore  *int            `json:"new_score"`
	New       []check.Finding `json:"new"`
	Fixed     []check.Finding `json:"fixed"`
	Unchanged []check.Finding `json:"unchanged"`
}

// Compare diffs two reports by fingerprint. Suppressed and fixed findings of
// the new report do not count as new.
func Compare(old, cur *report.Report) Diff {
	d := Diff{OldScore: old.Score, NewScore: cur.Score, New: []check.Finding{}, Fixed: []check.Finding{}, Unchanged: []check.Finding{}}
	live := func(f check.Finding) bool { return f.Baseline == nil || *f.Baseline != Fixed }
	before, after := map[string]bool{}, map[string]bool{}
	for _, f := range old.Findings {
		if live(f) {
			before[f.Fingerprint] = true
		}
	}
	for _, f := range cur.Findings {
		if !live(f) {
			continue
		}
		after[f.Fingerprint] = true
		switch {
		case before[f.Fingerprint]:
			d.Unchanged = append(d.Unchanged, f)
		case f.Suppressed == nil:
			d.New = append(d.New, f)
		}
	}
	for _, f := range old.Findings {
		if live(f) && !after[f.Fingerprint] {
			d.Fixed = append(d.Fixed, f)
		}
	}
	return d
}

func scoreChange(d Diff) string {
	if d.OldScore == nil || d.NewScore == nil {
		return "score: not comparable"
	}
	return fmt.Sprintf("score: %d → %d (%+d)", *d.OldScore, *d.NewScore, *d.NewScore-*d.OldScore)
}

// WriteDiff renders a diff as text, markdown or json.
func WriteDiff(w io.Writer, d Diff, format string) error {
	var b strings.Builder
	line := func(f check.Finding) string {
		where := f.Method + " " + f.Path
		if f.Parameter != nil {
			where += fmt.Sprintf(" (%s %s)", f.Parameter.In, f.Parameter.Name)
		}
		return fmt.Sprintf("%s %s %s", strings.ToUpper(f.Severity.String()), f.Rule, where)
	}
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(d)
	case "markdown":
		fmt.Fprintf(&b, "## Rampart diff\n\n%s · %d new · %d fixed · %d unchanged\n\n", scoreChange(d), len(d.New), len(d.Fixed), len(d.Unchanged))
		for _, sec := range []struct {
			title string
			list  []check.Finding
		}{{"New", d.New}, {"Fixed", d.Fixed}} {
			if len(sec.list) == 0 {
				continue
			}
			fmt.Fprintf(&b, "### %s\n\n", sec.title)
			for _, f := range sec.list {
				fmt.Fprintf(&b, "- `%s`\n", line(f))
			}
			b.WriteString("\n")
		}
	case "text":
		fmt.Fprintf(&b, "%s\n%d new, %d fixed, %d unchanged\n", scoreChange(d), len(d.New), len(d.Fixed), len(d.Unchanged))
		for _, f := range d.New {
			fmt.Fprintf(&b, "+ %s\n", line(f))
		}
		for _, f := range d.Fixed {
			fmt.Fprintf(&b, "- %s\n", line(f))
		}
	default:
		return fmt.Errorf("--format %q: want text, markdown or json", format)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
