package report

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/rampart-scan/rampart/internal/check"
)

// SARIF 2.1.0 for code scanning. Results point at the operation's line in the
// spec when a local spec was scanned, otherwise at line 1 of the file the user
// names (--sarif-location), because code scanning rejects results without a
// file location. partialFingerprints carry Rampart's fingerprint, so a
// finding keeps its alert across runs.

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool        sarifTool         `json:"tool"`
	Invocations []sarifInvocation `json:"invocations"`
	Results     []sarifResult     `json:"results"`
	Properties  map[string]any    `json:"properties,omitempty"`
}

type sarifInvocation struct {
	ExecutionSuccessful bool   `json:"executionSuccessful"`
	StartTimeUTC        string `json:"startTimeUtc,omitempty"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifRule struct {
	ID                   string         `json:"id"`
	Name                 string         `json:"name"`
	ShortDescription     sarifText      `json:"shortDescription"`
	FullDescription      sarifText      `json:"fullDescription"`
	Help                 sarifText      `json:"help"`
	DefaultConfiguration map[string]any `json:"defaultConfiguration"`
	Properties           map[string]any `json:"properties"`
}

type sarifResult struct {
	RuleID              string             `json:"ruleId"`
	RuleIndex           int                `json:"ruleIndex"`
	Level               string             `json:"level"`
	Message             sarifText          `json:"message"`
	Locations           []sarifLocation    `json:"locations"`
	PartialFingerprints map[string]string  `json:"partialFingerprints"`
	BaselineState       string             `json:"baselineState,omitempty"`
	Suppressions        []sarifSuppression `json:"suppressions,omitempty"`
	Properties          map[string]any     `json:"properties"`
}

type sarifSuppression struct {
	Kind          string `json:"kind"`
	Justification string `json:"justification"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical     `json:"physicalLocation"`
	LogicalLocations []sarifLogicalLoc `json:"logicalLocations,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation struct {
		URI string `json:"uri"`
	} `json:"artifactLocation"`
	Region struct {
		StartLine int `json:"startLine"`
	} `json:"region"`
}

type sarifLogicalLoc struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
}

// securitySeverity is GitHub's 0-10 scale (≥ 9 critical, ≥ 7 high, ≥ 4 medium).
func securitySeverity(s check.Severity) string {
	return map[check.Severity]string{check.Critical: "9.5", check.High: "8.0", check.Medium: "5.5", check.Low: "3.0", check.Info: "0.0"}[s]
}

func sarifLevel(s check.Severity) string {
	switch s {
	case check.Critical, check.High:
		return "error"
	case check.Medium:
		return "warning"
	}
	return "note"
}

// localSpec is the spec's path when it is a local file, "" otherwise.
func localSpec(r *Report) string {
	if r.Spec == nil || r.Spec.Source == "" {
		return ""
	}
	if u, err := url.Parse(r.Spec.Source); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		return ""
	}
	return filepath.ToSlash(r.Spec.Source)
}

// WriteSARIF renders the report as SARIF 2.1.0.
func WriteSARIF(w io.Writer, r *Report, o RenderOptions) error {
	loc := o.SARIFLocation
	if loc == "" {
		loc = "rampart.yaml"
	}
	rules := o.Rules
	index := map[string]int{}
	var srules []sarifRule
	add := func(rule check.Rule) {
		index[rule.ID] = len(srules)
		tags := []string{"security", string(rule.Category)}
		for _, x := range rule.OWASP {
			tags = append(tags, "OWASP "+x)
		}
		tags = append(tags, rule.CWE...)
		help := fmt.Sprintf("%s\n\nSeverity: %s. %s\n\nRemediation: %s\n\nOWASP: %s. CWE: %s.", rule.Title, rule.Severity, rule.SeverityRule,
			rule.Remediation, strings.Join(rule.OWASP, ", "), strings.Join(rule.CWE, ", "))
		srules = append(srules, sarifRule{
			ID: rule.ID, Name: rule.ID, ShortDescription: sarifText{Text: rule.Title}, FullDescription: sarifText{Text: rule.Title + ". " + rule.SeverityRule},
			Help:                 sarifText{Text: help, Markdown: strings.ReplaceAll(help, "\n\n", "\n\n")},
			DefaultConfiguration: map[string]any{"level": sarifLevel(rule.Severity)},
			Properties:           map[string]any{"tags": tags, "security-severity": securitySeverity(rule.Severity), "precision": "high", "owasp": rule.OWASP, "cwe": rule.CWE},
		})
	}
	for _, rule := range rules {
		add(rule)
	}
	spec := localSpec(r)
	results := []sarifResult{}
	for _, f := range r.Findings {
		if _, ok := index[f.Rule]; !ok {
			add(check.Rule{ID: f.Rule, Title: f.Title, Category: f.Category, Severity: f.Severity, OWASP: f.OWASP, CWE: f.CWE, Remediation: f.Remediation})
		}
		res := sarifResult{RuleID: f.Rule, RuleIndex: index[f.Rule], Level: sarifLevel(f.Severity),
			PartialFingerprints: map[string]string{"rampart/v1": f.Fingerprint}}
		msg := fmt.Sprintf("%s: %s on %s. %s", strings.ToUpper(f.Severity.String()), f.Title, where(f), f.Detail)
		if f.Curl != "" {
			msg += "\nReproduce: " + shortTokens(f.Curl, 2000)
		}
		res.Message = sarifText{Text: msg}
		var l sarifLocation
		if f.SpecLocation != nil && spec != "" {
			l.PhysicalLocation.ArtifactLocation.URI = spec
			l.PhysicalLocation.Region.StartLine = max(f.SpecLocation.Line, 1)
		} else {
			l.PhysicalLocation.ArtifactLocation.URI = filepath.ToSlash(loc)
			l.PhysicalLocation.Region.StartLine = 1
		}
		l.LogicalLocations = []sarifLogicalLoc{{Name: f.Method + " " + f.Path, Kind: "function"}}
		res.Locations = []sarifLocation{l}
		if f.Baseline != nil {
			res.BaselineState = map[string]string{"new": "new", "unchanged": "unchanged", "fixed": "absent"}[*f.Baseline]
		}
		if f.Suppressed != nil {
			res.Suppressions = []sarifSuppression{{Kind: "external", Justification: *f.Suppressed}}
		}
		var ev []map[string]string
		for _, e := range f.Evidence {
			ev = append(ev, map[string]string{"kind": e.Kind, "identity": e.Identity, "note": shortTokens(e.Note, 1500),
				"request": shortTokens(e.Request, 1500), "response": shortTokens(e.Response, 1500)})
		}
		res.Properties = map[string]any{"severity": f.Severity.String(), "confidence": f.Confidence.String(), "method": f.Method, "path": f.Path,
			"identity": f.Identity, "owasp": f.OWASP, "cwe": f.CWE, "remediation": f.Remediation, "curl": shortTokens(f.Curl, 2000), "evidence": ev,
			"security-severity": securitySeverity(f.Severity)}
		results = append(results, res)
	}
	if srules == nil {
		srules = []sarifRule{}
	}
	log := sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []sarifRun{{
		Tool:        sarifTool{Driver: sarifDriver{Name: "Rampart", Version: r.Tool.Version, InformationURI: "https://github.com/rampart-scan/rampart", Rules: srules}},
		Invocations: []sarifInvocation{{ExecutionSuccessful: true, StartTimeUTC: r.StartedAt.UTC().Format("2006-01-02T15:04:05.000Z")}},
		Results:     results,
		Properties:  map[string]any{"target": r.Target, "score": r.Score, "grade": r.Grade, "scan_id": r.ScanID},
	}}}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(log)
}
