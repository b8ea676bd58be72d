package report

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/rampart-scan/rampart/internal/check"
)

// TextOptions control the text renderer.
type TextOptions struct {
	Color bool
	// Verbose adds evidence excerpts.
	Verbose bool
}

const (
	reset  = "\x1b[0m"
	bold   = "\x1b[1m"
	dim    = "\x1b[2m"
	red    = "\x1b[31m"
	yellow = "\x1b[33m"
	blue   = "\x1b[34m"
	green  = "\x1b[32m"
	mag    = "\x1b[35m"
)

type painter bool

func (p painter) paint(code, s string) string {
	if !p {
		return s
	}
	return code + s + reset
}

func severityColor(s check.Severity) string {
	switch s {
	case check.Critical:
		return mag
	case check.High:
		return red
	case check.Medium:
		return yellow
	case check.Low:
		return blue
	}
	return dim
}

func gradeColor(g string) string {
	switch g {
	case "A", "B":
		return green
	case "C":
		return yellow
	}
	return red
}

// WriteText renders a human-readable summary.
func WriteText(w io.Writer, r *Report, o TextOptions) error {
	p := painter(o.Color)
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", p.paint(bold, "Rampart scan of"), r.Target)
	if r.Spec != nil {
		fmt.Fprintf(&b, "spec %s · ", r.Spec.Source)
	}
	fmt.Fprintf(&b, "%d requests · %.1fs · active=%t · depth=%s\n\n", r.Stats.Requests, float64(r.Stats.DurationMS)/1000, r.Options.Active, r.Options.Depth)
	if r.Score != nil {
		fmt.Fprintf(&b, "Score %s  Grade %s\n\n", p.paint(bold, fmt.Sprintf("%d/100", *r.Score)), p.paint(bold+gradeColor(*r.Grade), *r.Grade))
	} else {
		b.WriteString("Score n/a (no category assessed)\n\n")
	}
	for _, c := range r.Categories {
		bar := strings.Repeat(" ", 20)
		val := "   -"
		if c.Score != nil {
			n := *c.Score / 5
			bar = strings.Repeat("█", n) + strings.Repeat("·", 20-n)
			val = fmt.Sprintf("%4d", *c.Score)
		}
		status := c.Status
		if c.Findings > 0 {
			status = fmt.Sprintf("%s, %d finding(s)", status, c.Findings)
		}
		fmt.Fprintf(&b, "  %-23s %s %s  %s\n", c.ID, bar, val, p.paint(dim, status))
	}
	b.WriteString("\n")
	counts := map[check.Severity]int{}
	for _, f := range r.Findings {
		counts[f.Severity]++
	}
	if len(r.Findings) == 0 {
		b.WriteString(p.paint(green, "No findings.") + "\n")
	} else {
		var parts []string
		for s := check.Critical; s >= check.Info; s-- {
			if counts[s] > 0 {
				parts = append(parts, p.paint(severityColor(s), fmt.Sprintf("%d %s", counts[s], s)))
			}
		}
		fmt.Fprintf(&b, "Findings: %s\n\n", strings.Join(parts, ", "))
	}
	for i, f := range r.Findings {
		tag := strings.ToUpper(f.Severity.String())
		fmt.Fprintf(&b, "%d. %s %s %s %s\n", i+1, p.paint(bold+severityColor(f.Severity), "["+tag+"]"), p.paint(bold, f.Rule), f.Method, f.Path)
		fmt.Fprintf(&b, "   %s (%s", f.Title, f.Confidence)
		if f.Identity != "" {
			fmt.Fprintf(&b, ", as %s", f.Identity)
		}
		if f.Parameter != nil {
			fmt.Fprintf(&b, ", %s %s", f.Parameter.In, f.Parameter.Name)
		}
		b.WriteString(")\n")
		if f.Detail != "" {
			fmt.Fprintf(&b, "   %s\n", f.Detail)
		}
		if len(f.Affected) > 0 {
			var ops []string
			for _, a := range f.Affected {
				ops = append(ops, a.Method+" "+a.Path)
			}
			fmt.Fprintf(&b, "   affects: %s\n", strings.Join(ops, ", "))
		}
		if f.Curl != "" {
			fmt.Fprintf(&b, "   %s %s\n", p.paint(dim, "reproduce:"), f.Curl)
		}
		if f.Remediation != "" {
			fmt.Fprintf(&b, "   %s %s\n", p.paint(dim, "fix:"), f.Remediation)
		}
		if m := mappings(f); m != "" {
			fmt.Fprintf(&b, "   %s %s\n", p.paint(dim, "maps to:"), m)
		}
		if f.Suppressed != nil {
			fmt.Fprintf(&b, "   suppressed: %s\n", *f.Suppressed)
		}
		if o.Verbose {
			for _, e := range f.Evidence {
				if e.Request != "" {
					fmt.Fprintf(&b, "   > %s\n", strings.ReplaceAll(strings.TrimSpace(e.Request), "\n", "\n   > "))
				}
				if e.Response != "" {
					fmt.Fprintf(&b, "   < %s\n", strings.ReplaceAll(strings.TrimSpace(e.Response), "\n", "\n   < "))
				}
				if e.Note != "" {
					fmt.Fprintf(&b, "   note: %s\n", e.Note)
				}
			}
		}
		b.WriteString("\n")
	}
	if len(r.CurlVariables) > 0 {
		b.WriteString("curl lines read credentials from these environment variables:\n")
		keys := make([]string, 0, len(r.CurlVariables))
		for k := range r.CurlVariables {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "  %s  %s\n", k, r.CurlVariables[k])
		}
		b.WriteString("\n")
	}
	var notes []string
	for _, f := range r.Families {
		if f.Status != "ok" {
			notes = append(notes, fmt.Sprintf("%s %s: %s", f.ID, f.Status, f.Reason))
		}
	}
	notes = append(notes, r.Warnings...)
	if len(r.SkippedOperations) > 0 {
		notes = append(notes, fmt.Sprintf("%d operation(s) skipped (see skipped_operations in the JSON report)", len(r.SkippedOperations)))
	}
	for _, n := range notes {
		fmt.Fprintf(&b, "%s %s\n", p.paint(dim, "note:"), n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
