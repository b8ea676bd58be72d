// Package report builds the scan report (rampart.report/v1, CONTRACTS §5) and
// renders it. Every format is rendered from the same in-memory Report.
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/rampart-scan/rampart/internal/check"
	"github.com/rampart-scan/rampart/internal/engine"
	"github.com/rampart-scan/rampart/internal/plan"
	"github.com/rampart-scan/rampart/internal/probe"
	"github.com/rampart-scan/rampart/internal/score"
)

// SchemaID is the report format's version.
const SchemaID = "rampart.report/v1"

// Category statuses.
const (
	Assessed      = "assessed"
	Partial       = "partial"
	NotAssessed   = "not_assessed"
	NotApplicable = "not_applicable"
	Error         = "error"
)

// Report is the scan report.
type Report struct {
	Schema            string           `json:"schema"`
	Tool              Tool             `json:"tool"`
	ScanID            string           `json:"scan_id"`
	Target            string           `json:"target"`
	Spec              *SpecInfo        `json:"spec"`
	StartedAt         time.Time        `json:"started_at"`
	Options           Options          `json:"options"`
	Score             *int             `json:"score"`
	Grade             *string          `json:"grade"`
	Categories        []CategoryResult `json:"categories"`
	Families          []FamilyResult   `json:"families"`
	SkippedOperations []plan.Skipped   `json:"skipped_operations"`
	Findings          []check.Finding  `json:"findings"`
	// CurlVariables names the environment variables curl lines use, and what each holds.
	CurlVariables map[string]string `json:"curl_variables"`
	Warnings      []string          `json:"warnings"`
	Stats         Stats             `json:"stats"`
}

// Tool names the scanner.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// SpecInfo identifies the spec used.
type SpecInfo struct {
	Source string `json:"source"`
	SHA256 string `json:"sha256"`
}

// Options are the scan's settings.
type Options struct {
	Active      bool           `json:"active"`
	Depth       string         `json:"depth"`
	Rate        float64        `json:"rate"`
	Concurrency int            `json:"concurrency"`
	MaxRequests int            `json:"max_requests"`
	Identities  []IdentityInfo `json:"identities"`
}

// IdentityInfo describes an identity without its credentials.
type IdentityInfo struct {
	Name   string   `json:"name"`
	Role   string   `json:"role"`
	Tenant []string `json:"tenant"`
}

// CategoryResult is one category's score and status.
type CategoryResult struct {
	ID       check.Category `json:"id"`
	Score    *int           `json:"score"`
	Status   string         `json:"status"`
	Reason   string         `json:"reason"`
	Findings int            `json:"findings"`
}

// FamilyResult is how one family ran.
type FamilyResult struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Reason   string `json:"reason"`
	Requests int    `json:"requests"`
}

// Stats counts the scan's traffic.
type Stats struct {
	Requests   int   `json:"requests"`
	Errors     int   `json:"errors"`
	DurationMS int64 `json:"duration_ms"`
}

// Input is what Build needs.
type Input struct {
	Version    string
	ScanID     string
	Target     string
	Spec       *SpecInfo
	StartedAt  time.Time
	Duration   time.Duration
	Options    Options
	Result     *engine.Result
	Skipped    []plan.Skipped
	Stats      probe.Stats
	Warnings   []string
	Categories map[check.Category]bool // categories some family covers
}

// Build assembles the report and computes scores.
func Build(in Input) *Report {
	r := &Report{
		Schema:            SchemaID,
		Tool:              Tool{Name: "rampart", Version: in.Version},
		ScanID:            in.ScanID,
		Target:            in.Target,
		Spec:              in.Spec,
		StartedAt:         in.StartedAt.UTC().Truncate(time.Millisecond),
		Options:           in.Options,
		SkippedOperations: in.Skipped,
		Findings:          []check.Finding{},
		CurlVariables:     map[string]string{},
		Warnings:          in.Warnings,
		Stats:             Stats{Requests: in.Stats.Requests, Errors: in.Stats.Errors, DurationMS: in.Duration.Milliseconds()},
	}
	if r.SkippedOperations == nil {
		r.SkippedOperations = []plan.Skipped{}
	}
	if r.Warnings == nil {
		r.Warnings = []string{}
	}
	if r.Options.Identities == nil {
		r.Options.Identities = []IdentityInfo{}
	}
	var fams []engine.FamilyResult
	if in.Result != nil {
		r.Findings = append(r.Findings, in.Result.Findings...)
		fams = in.Result.Families
	}
	for _, f := range fams {
		r.Families = append(r.Families, FamilyResult{ID: f.ID, Status: f.Status, Reason: f.Reason, Requests: f.Requests})
	}
	if r.Families == nil {
		r.Families = []FamilyResult{}
	}
	r.Rescore(fams)
	r.collectVariables()
	return r
}

// Rescore recomputes category and overall scores from the findings (after
// suppressions or baselines change them). fams may be nil to keep statuses.
func (r *Report) Rescore(fams []engine.FamilyResult) {
	if fams != nil || r.Categories == nil {
		r.Categories = categoryStatuses(fams)
	}
	byCat := map[check.Category][]check.Finding{}
	for _, f := range r.Findings {
		byCat[f.Category] = append(byCat[f.Category], f)
	}
	scores := map[check.Category]int{}
	for i := range r.Categories {
		c := &r.Categories[i]
		n := 0
		for _, f := range byCat[c.ID] {
			if score.Counts(f) {
				n++
			}
		}
		c.Findings = n
		c.Score = nil
		if c.Status == Assessed || c.Status == Partial {
			s := score.Category(byCat[c.ID])
			c.Score = &s
			scores[c.ID] = s
		}
	}
	r.Score, r.Grade = nil, nil
	if s, ok := score.Overall(scores, r.Findings); ok {
		g := score.Grade(s)
		r.Score, r.Grade = &s, &g
	}
}

func categoryStatuses(fams []engine.FamilyResult) []CategoryResult {
	var out []CategoryResult
	for _, c := range check.Categories {
		var ok, failed, skippedFilter, notApplicable int
		var reasons []string
		for _, f := range fams {
			if f.Category != c {
				continue
			}
			switch f.Status {
			case engine.StatusOK:
				ok++
			case engine.StatusSkipped:
				if strings.Contains(f.Reason, "--only/--skip") {
					skippedFilter++
				} else {
					notApplicable++
				}
				reasons = append(reasons, f.ID+": "+f.Reason)
			default:
				failed++
				reasons = append(reasons, f.ID+": "+f.Reason)
			}
		}
		cr := CategoryResult{ID: c}
		switch {
		case ok+failed+skippedFilter+notApplicable == 0:
			cr.Status, cr.Reason = NotAssessed, "no check family for this category yet"
		case ok > 0 && failed == 0:
			cr.Status = Assessed
			if notApplicable+skippedFilter > 0 {
				cr.Reason = strings.Join(reasons, "; ")
			}
		case ok > 0:
			cr.Status, cr.Reason = Partial, strings.Join(reasons, "; ")
		case failed > 0:
			cr.Status, cr.Reason = Error, strings.Join(reasons, "; ")
		case notApplicable > 0:
			cr.Status, cr.Reason = NotApplicable, strings.Join(reasons, "; ")
		default:
			cr.Status, cr.Reason = NotAssessed, strings.Join(reasons, "; ")
		}
		out = append(out, cr)
	}
	return out
}

func (r *Report) collectVariables() {
	for _, f := range r.Findings {
		for _, v := range curlVars(f.Curl) {
			if _, ok := r.CurlVariables[v]; !ok {
				r.CurlVariables[v] = "credential header of identity " + identityOfVar(v, r.Options.Identities)
			}
		}
	}
}

func identityOfVar(v string, ids []IdentityInfo) string {
	best := ""
	for _, id := range ids {
		prefix := probe.EnvVar(id.Name, "", true)
		if strings.HasPrefix(v, prefix) && len(id.Name) > len(best) {
			best = id.Name
		}
	}
	if best == "" {
		return strings.ToLower(strings.TrimPrefix(v, "RAMPART_ID_"))
	}
	return best
}

// curlVars lists the $RAMPART_ID_* references in a curl line.
func curlVars(s string) []string {
	var out []string
	for {
		i := strings.Index(s, "$RAMPART_ID_")
		if i < 0 {
			break
		}
		j := i + 1
		for j < len(s) && (s[j] == '_' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9') {
			j++
		}
		out = append(out, s[i+1:j])
		s = s[j:]
	}
	sort.Strings(out)
	return out
}

// WriteJSON writes the report as indented JSON.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// ReadJSON reads a report written by WriteJSON.
func ReadJSON(rd io.Reader) (*Report, error) {
	var r Report
	dec := json.NewDecoder(rd)
	if err := dec.Decode(&r); err != nil {
		return nil, err
	}
	if r.Schema != SchemaID {
		return nil, fmt.Errorf("schema %q, want %q", r.Schema, SchemaID)
	}
	return &r, nil
}
