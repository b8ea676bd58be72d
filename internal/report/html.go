package report

import (
	"fmt"
	"html/template"
	"io"
	"sort"
	"strings"

	"github.com/rampart-scan/rampart/internal/check"
)

// The HTML report is one self-contained file: inline CSS, no script, no
// external asset, so it opens from disk, from a CI artifact or from mail.

type htmlCategory struct {
	Name, Status, Reason string
	Score                int
	Scored               bool
	Findings             int
	Color                string
}

type htmlFinding struct {
	check.Finding
	Sev, Conf, Where, State string
	Ev                      []htmlEvidence
}

type htmlEvidence struct {
	Kind, Identity, Note, Text string
}

type htmlView struct {
	R          *Report
	Score      string
	Grade      string
	GradeColor string
	Counts     []htmlCount
	Categories []htmlCategory
	Findings   []htmlFinding
	Vars       [][2]string
}

type htmlCount struct {
	Sev   string
	N     int
	Color string
}

var sevColors = map[check.Severity]string{check.Critical: "#7b1fa2", check.High: "#c62828", check.Medium: "#ef6c00", check.Low: "#1565c0", check.Info: "#607d8b"}

func scoreColor(n int) string {
	switch {
	case n >= 90:
		return "#2e7d32"
	case n >= 70:
		return "#9e9d24"
	case n >= 50:
		return "#ef6c00"
	}
	return "#c62828"
}

// WriteHTML renders the report as one self-contained HTML page.
func WriteHTML(w io.Writer, r *Report) error {
	v := htmlView{R: r, Score: "–", Grade: "–", GradeColor: "#607d8b"}
	if r.Score != nil && r.Grade != nil {
		v.Score, v.Grade, v.GradeColor = fmt.Sprint(*r.Score), *r.Grade, scoreColor(*r.Score)
	}
	c := counts(r)
	for _, s := range severities {
		v.Counts = append(v.Counts, htmlCount{Sev: s.String(), N: c[s], Color: sevColors[s]})
	}
	for _, cat := range r.Categories {
		hc := htmlCategory{Name: string(cat.ID), Status: cat.Status, Reason: cat.Reason, Findings: cat.Findings, Color: "#b0bec5"}
		if cat.Score != nil {
			hc.Score, hc.Scored, hc.Color = *cat.Score, true, scoreColor(*cat.Score)
		}
		v.Categories = append(v.Categories, hc)
	}
	for _, f := range r.Findings {
		hf := htmlFinding{Finding: f, Sev: f.Severity.String(), Conf: f.Confidence.String(), Where: where(f)}
		if f.Suppressed != nil {
			hf.State = "suppressed: " + *f.Suppressed
		} else if f.Baseline != nil {
			hf.State = *f.Baseline
		}
		for _, e := range f.Evidence {
			text := e.Note
			if e.Kind == check.EvidenceHTTP {
				text = strings.TrimSpace(e.Request) + "\n\n" + strings.TrimSpace(e.Response)
			}
			if len(text) > 6000 {
				text = text[:6000] + "…"
			}
			hf.Ev = append(hf.Ev, htmlEvidence{Kind: e.Kind, Identity: e.Identity, Text: text})
		}
		v.Findings = append(v.Findings, hf)
	}
	for k, d := range r.CurlVariables {
		v.Vars = append(v.Vars, [2]string{k, d})
	}
	sort.Slice(v.Vars, func(i, j int) bool { return v.Vars[i][0] < v.Vars[j][0] })
	return htmlTmpl.Execute(w, v)
}

var htmlTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"sevColor": func(s check.Severity) string { return sevColors[s] },
	"join":     strings.Join,
}).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Rampart report: {{.R.Target}}</title>
<style>
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f5f6f8;color:#1d2330}
header{background:#1d2330;color:#fff;padding:24px 32px;display:flex;gap:32px;align-items:center;flex-wrap:wrap}
header h1{margin:0;font-size:22px}
.sub{color:#b8c0cc;font-size:13px}
#grade{width:86px;height:86px;border-radius:50%;display:flex;flex-direction:column;align-items:center;justify-content:center;font-weight:700;color:#fff}
#grade b{font-size:34px;line-height:1}
main{max-width:1100px;margin:0 auto;padding:24px 32px}
section{background:#fff;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.08);padding:18px 22px;margin-bottom:20px}
h2{font-size:17px;margin:0 0 12px}
.counts{display:flex;gap:12px;flex-wrap:wrap}
.count{border-radius:6px;color:#fff;padding:6px 12px;font-weight:600}
.bar{display:grid;grid-template-columns:190px 1fr 110px;gap:10px;align-items:center;margin:6px 0;font-size:14px}
.track{background:#eceff1;border-radius:4px;height:14px;overflow:hidden}
.fill{height:100%}
details.finding{border-left:5px solid;padding:8px 12px;margin:10px 0;background:#fafbfc;border-radius:4px}
details.finding summary{cursor:pointer;font-weight:600}
.sev{display:inline-block;color:#fff;border-radius:4px;padding:0 6px;font-size:12px;text-transform:uppercase;margin-right:6px}
pre{background:#1d2330;color:#e8eaed;padding:10px;border-radius:6px;overflow:auto;white-space:pre-wrap;word-break:break-all;font-size:12.5px}
table{border-collapse:collapse;width:100%;font-size:14px}
td,th{text-align:left;padding:4px 8px;border-bottom:1px solid #eceff1;vertical-align:top}
.muted{color:#607d8b}
code{font-size:13px}
</style>
</head>
<body>
<header>
<div id="grade" style="background:{{.GradeColor}}"><b>{{.Grade}}</b><span>{{.Score}}/100</span></div>
<div><h1>Rampart report</h1>
<div class="sub">{{.R.Target}} · scan {{.R.ScanID}} · {{.R.StartedAt.Format "2006-01-02 15:04 UTC"}} · Rampart {{.R.Tool.Version}}</div></div>
</header>
<main>
<section id="summary"><h2>Findings by severity</h2>
<div class="counts">{{range .Counts}}<span class="count" style="background:{{.Color}}">{{.N}} {{.Sev}}</span>{{end}}</div>
</section>
<section id="categories"><h2>Categories</h2>
{{range .Categories}}<div class="bar"><span>{{.Name}}</span><div class="track"><div class="fill" style="width:{{if .Scored}}{{.Score}}{{else}}0{{end}}%;background:{{.Color}}"></div></div><span>{{if .Scored}}{{.Score}}/100{{else}}<span class="muted">{{.Status}}</span>{{end}}</span></div>
{{end}}</section>
<section id="findings"><h2>Findings ({{len .Findings}})</h2>
{{if not .Findings}}<p>No findings.</p>{{end}}
{{range .Findings}}<details class="finding" style="border-color:{{sevColor .Severity}}">
<summary><span class="sev" style="background:{{sevColor .Severity}}">{{.Sev}}</span><code>{{.Rule}}</code> {{.Where}}{{if .State}} <span class="muted">({{.State}})</span>{{end}}</summary>
<p><b>{{.Title}}</b> ({{.Conf}}{{if .Identity}}, as {{.Identity}}{{end}}). {{.Detail}}</p>
{{if .Affected}}<p class="muted">Affects {{len .Affected}} operations: {{range $i, $a := .Affected}}{{if $i}}, {{end}}{{$a.Method}} {{$a.Path}}{{end}}</p>{{end}}
{{if .Curl}}<p>Reproduce:</p><pre>{{.Curl}}</pre>{{end}}
{{range .Ev}}<p class="muted">Evidence ({{.Kind}}{{if .Identity}}, {{.Identity}}{{end}})</p><pre>{{.Text}}</pre>{{end}}
<p><b>Fix:</b> {{.Remediation}}</p>
<p class="muted">OWASP {{join .OWASP ", "}} · {{join .CWE ", "}} · fingerprint <code>{{.Fingerprint}}</code></p>
</details>
{{end}}</section>
{{if .Vars}}<section id="variables"><h2>curl variables</h2><table>{{range .Vars}}<tr><td><code>{{index . 0}}</code></td><td>{{index . 1}}</td></tr>{{end}}</table></section>{{end}}
<section id="settings"><h2>Scan settings</h2><table>
<tr><th>active</th><td>{{.R.Options.Active}}</td></tr>
<tr><th>depth</th><td>{{.R.Options.Depth}}</td></tr>
<tr><th>rate / concurrency</th><td>{{.R.Options.Rate}}/s · {{.R.Options.Concurrency}}</td></tr>
<tr><th>requests</th><td>{{.R.Stats.Requests}} of at most {{.R.Options.MaxRequests}} ({{.R.Stats.Errors}} errors, {{.R.Stats.DurationMS}} ms)</td></tr>
<tr><th>identities</th><td>{{range $i, $id := .R.Options.Identities}}{{if $i}}, {{end}}{{$id.Name}} ({{$id.Role}}){{end}}</td></tr>
{{if .R.Spec}}<tr><th>spec</th><td>{{.R.Spec.Source}}</td></tr>{{end}}
</table>
{{if .R.Warnings}}<h2>Warnings</h2><ul>{{range .R.Warnings}}<li>{{.}}</li>{{end}}</ul>{{end}}
<h2>Families</h2><table>{{range .R.Families}}<tr><td>{{.ID}}</td><td>{{.Status}}</td><td>{{.Requests}} requests</td><td class="muted">{{.Reason}}</td></tr>{{end}}</table>
</section>
</main>
</body>
</html>
`))
