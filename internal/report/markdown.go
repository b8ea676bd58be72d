package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/rampart-scan/rampart/internal/check"
)

// mdTopFindings is how many findings the markdown report shows in full.
const mdTopFindings = 10

// mdEscape neutralises text that may come from the target (a path, a model's
// answer) for a markdown table or paragraph: no raw HTML, no links or images.
func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "<", "&lt;", ">", "&gt;", "[", `\[`, "]", `\]`, "!", `\!`).Replace(s)
}

// WriteMarkdown renders a pull-request comment: a summary table, the top
// findings, and every finding's details collapsed.
func WriteMarkdown(w io.Writer, r *Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "## Rampart: %s\n\n", scoreText(r))
	fmt.Fprintf(&b, "Target `%s` · %d requests · %s depth", r.Target, r.Stats.Requests, r.Options.Depth)
	if r.Options.Active {
		b.WriteString(" · `--active`")
	}
	b.WriteString("\n\n| severity | findings |\n|---|---|\n")
	c := counts(r)
	for _, s := range severities {
		fmt.Fprintf(&b, "| %s | %d |\n", s, c[s])
	}
	b.WriteString("\n| category | score | status |\n|---|---|---|\n")
	for _, cat := range r.Categories {
		sc := "–"
		if cat.Score != nil {
			sc = fmt.Sprint(*cat.Score)
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", cat.ID, sc, cat.Status)
	}
	var live, other []check.Finding
	for _, f := range r.Findings {
		if active(f) {
			live = append(live, f)
		} else {
			other = append(other, f)
		}
	}
	if len(live) > 0 {
		b.WriteString("\n### Top findings\n\n| | rule | where | confidence | OWASP / CWE |\n|---|---|---|---|---|\n")
		for i, f := range live {
			if i == mdTopFindings {
				fmt.Fprintf(&b, "\n…and %d more below.\n", len(live)-mdTopFindings)
				break
			}
			fmt.Fprintf(&b, "| **%s** | `%s` | %s | %s | %s |\n", strings.ToUpper(f.Severity.String()), f.Rule, mdEscape(where(f)), f.Confidence, mappings(f))
		}
		b.WriteString("\n### Details\n\n")
		for _, f := range live {
			mdDetails(&b, f)
		}
	} else {
		b.WriteString("\nNo findings.\n")
	}
	if len(other) > 0 {
		b.WriteString("\n### Suppressed and fixed\n\n| rule | where | state |\n|---|---|---|\n")
		for _, f := range other {
			state := "fixed since the baseline"
			if f.Suppressed != nil {
				state = "suppressed: " + *f.Suppressed
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s |\n", f.Rule, mdEscape(where(f)), mdEscape(state))
		}
	}
	if len(r.CurlVariables) > 0 {
		b.WriteString("\ncurl lines read credentials from: ")
		var names []string
		for k := range r.CurlVariables {
			names = append(names, "`"+k+"`")
		}
		sort.Strings(names)
		b.WriteString(strings.Join(names, ", ") + ".\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func mdDetails(b *strings.Builder, f check.Finding) {
	tag := ""
	if f.Baseline != nil && *f.Baseline == "new" {
		tag = " 🆕"
	}
	fmt.Fprintf(b, "<details><summary><b>%s</b> <code>%s</code> %s%s</summary>\n\n", strings.ToUpper(f.Severity.String()), f.Rule, mdEscape(where(f)), tag)
	fmt.Fprintf(b, "%s (%s). %s\n\n", f.Title, f.Confidence, mdEscape(f.Detail)) // the detail may quote the target
	if f.Curl != "" {
		fmt.Fprintf(b, "```sh\n%s\n```\n\n", shortTokens(f.Curl, 1500))
	}
	for _, e := range f.Evidence {
		text := e.Note
		if e.Kind == check.EvidenceHTTP {
			text = e.Request + "\n\n" + e.Response
		}
		if strings.TrimSpace(text) == "" {
			continue
		}
		fmt.Fprintf(b, "Evidence (%s):\n\n```\n%s\n```\n\n", e.Kind, strings.ReplaceAll(shortTokens(text, 1200), "```", "'''"))
		break
	}
	fmt.Fprintf(b, "Fix: %s\n\nOWASP %s · %s · fingerprint `%s`\n\n</details>\n\n", f.Remediation, strings.Join(f.OWASP, ", "), strings.Join(f.CWE, ", "), f.Fingerprint)
}

// JUnit: one testsuite per category, one testcase per rule; a rule fails when
// it has a live finding at or above the gate (high without one).

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Name    string       `xml:"name,attr"`
	Tests   int          `xml:"tests,attr"`
	Fails   int          `xml:"failures,attr"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name  string      `xml:"name,attr"`
	Tests int         `xml:"tests,attr"`
	Fails int         `xml:"failures,attr"`
	Cases []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit renders the report as JUnit XML.
func WriteJUnit(w io.Writer, r *Report, o RenderOptions) error {
	threshold := check.High
	if o.FailOn != nil {
		threshold = *o.FailOn
	}
	byRule := map[string][]check.Finding{}
	for _, f := range r.Findings {
		byRule[f.Rule] = append(byRule[f.Rule], f)
	}
	rules := append([]check.Rule(nil), o.Rules...)
	known := map[string]bool{}
	for _, ru := range rules {
		known[ru.ID] = true
	}
	for _, f := range r.Findings {
		if !known[f.Rule] {
			known[f.Rule] = true
			rules = append(rules, check.Rule{ID: f.Rule, Title: f.Title, Category: f.Category})
		}
	}
	out := junitSuites{Name: "rampart " + r.Target}
	for _, cat := range check.Categories {
		s := junitSuite{Name: string(cat)}
		for _, ru := range rules {
			if ru.Category != cat {
				continue
			}
			c := junitCase{Name: ru.ID + ": " + ru.Title, ClassName: "rampart." + string(cat)}
			var failing, others []string
			for _, f := range byRule[ru.ID] {
				line := fmt.Sprintf("%s %s (%s, %s; %s)", strings.ToUpper(f.Severity.String()), where(f), f.Confidence, f.Fingerprint, mappings(f))
				if active(f) && f.Severity >= threshold {
					failing = append(failing, line)
				} else {
					state := "below the gate"
					if f.Suppressed != nil {
						state = "suppressed: " + *f.Suppressed
					} else if !active(f) {
						state = "fixed"
					}
					others = append(others, line+" "+state)
				}
			}
			if len(failing) > 0 {
				c.Failure = &junitFailure{Message: fmt.Sprintf("%d finding(s) at or above %s", len(failing), threshold), Type: ru.ID, Text: strings.Join(failing, "\n")}
				s.Fails++
			}
			if len(others) > 0 {
				c.SystemOut = strings.Join(others, "\n")
			}
			s.Cases = append(s.Cases, c)
			s.Tests++
		}
		if s.Tests > 0 {
			out.Suites = append(out.Suites, s)
			out.Tests += s.Tests
			out.Fails += s.Fails
		}
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// WriteGitHub renders GitHub Actions workflow annotations, one per live finding.
func WriteGitHub(w io.Writer, r *Report) error {
	esc := strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	escProp := strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
	spec := localSpec(r)
	var b strings.Builder
	for _, f := range r.Findings {
		if !active(f) {
			continue
		}
		level := map[string]string{"error": "error", "warning": "warning", "note": "notice"}[sarifLevel(f.Severity)]
		props := "title=" + escProp.Replace(fmt.Sprintf("%s %s", f.Rule, where(f)))
		if f.SpecLocation != nil && spec != "" {
			props = fmt.Sprintf("file=%s,line=%d,", escProp.Replace(spec), f.SpecLocation.Line) + props
		}
		msg := fmt.Sprintf("%s (%s, %s): %s\nFix: %s\nOWASP %s · %s", f.Title, f.Severity, f.Confidence, f.Detail, f.Remediation, strings.Join(f.OWASP, ", "), strings.Join(f.CWE, ", "))
		if f.Curl != "" {
			msg += "\n" + shortTokens(f.Curl, 800)
		}
		fmt.Fprintf(&b, "::%s %s::%s\n", level, props, esc.Replace(msg))
	}
	fmt.Fprintf(&b, "::notice title=Rampart score::%s\n", esc.Replace(fmt.Sprintf("%s for %s, %d findings", scoreText(r), r.Target, len(r.Findings))))
	_, err := io.WriteString(w, b.String())
	return err
}
