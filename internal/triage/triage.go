// Package triage compares a report with an earlier one (baselines, rampart
// diff) and applies the ignore file. Suppressed findings stay in the report,
// marked with their reason; they are never dropped silently and never gate.
package triage

import (
	"bytes"
	"fmt"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v4"

	"github.com/rampart-scan/rampart/internal/check"
	"github.com/rampart-scan/rampart/internal/report"
)

// Baseline states.
const (
	New       = "new"
	Unchanged = "unchanged"
	Fixed     = "fixed"
)

func str(s string) *string { return &s }

// ApplyBaseline marks every finding of r new or unchanged against old (by
// fingerprint) and appends old's findings that vanished, marked fixed. Old
// findings that were themselves fixed are not carried over.
func ApplyBaseline(r, old *report.Report) {
	before := map[string]bool{}
	for _, f := range old.Findings {
		if f.Baseline == nil || *f.Baseline != Fixed {
			before[f.Fingerprint] = true
		}
	}
	now := map[string]bool{}
	for i := range r.Findings {
		f := &r.Findings[i]
		now[f.Fingerprint] = true
		if before[f.Fingerprint] {
			f.Baseline = str(Unchanged)
		} else {
			f.Baseline = str(New)
		}
	}
	for _, f := range old.Findings {
		if !before[f.Fingerprint] || now[f.Fingerprint] {
			continue
		}
		f.Baseline = str(Fixed)
		f.Suppressed = nil
		r.Findings = append(r.Findings, f)
		now[f.Fingerprint] = true
	}
	r.Rescore(nil)
}

// Entry is one line of the ignore file: a fingerprint, or a rule with an
// optional path glob; a reason is mandatory, an expiry optional.
type Entry struct {
	Fingerprint string `yaml:"fingerprint"`
	Rule        string `yaml:"rule"`
	Path        string `yaml:"path"`
	Reason      string `yaml:"reason"`
	// Expires (YYYY-MM-DD) is the last day the entry applies.
	Expires string `yaml:"expires"`
	expires time.Time
}

// Ignore is a parsed ignore file.
type Ignore struct {
	Entries []Entry `yaml:"ignore"`
	file    string
}

// LoadIgnore reads an ignore file (strict YAML). Errors are one line and name the file.
func LoadIgnore(file string) (*Ignore, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("ignore file %s: %w", file, unwrap(err))
	}
	var ig Ignore
	if len(bytes.TrimSpace(data)) > 0 {
		if err := yaml.Load(data, &ig, yaml.WithKnownFields()); err != nil {
			return nil, fmt.Errorf("ignore file %s: %s", file, strings.Split(err.Error(), "\n")[0])
		}
	}
	ig.file = file
	for i := range ig.Entries {
		e := &ig.Entries[i]
		where := fmt.Sprintf("ignore file %s: entry %d", file, i+1)
		if strings.TrimSpace(e.Reason) == "" {
			return nil, fmt.Errorf("%s: a reason is mandatory", where)
		}
		if (e.Fingerprint == "") == (e.Rule == "") {
			return nil, fmt.Errorf("%s: give a fingerprint or a rule (with an optional path glob), not both", where)
		}
		if e.Fingerprint != "" && e.Path != "" {
			return nil, fmt.Errorf("%s: a path glob goes with a rule, not a fingerprint", where)
		}
		if e.Path != "" {
			if _, err := path.Match(e.Path, "/"); err != nil {
				return nil, fmt.Errorf("%s: path glob %q: %v", where, e.Path, err)
			}
		}
		if e.Expires != "" {
			t, err := time.Parse("2006-01-02", e.Expires)
			if err != nil {
				return nil, fmt.Errorf("%s: expires %q: want YYYY-MM-DD", where, e.Expires)
			}
			e.expires = t.AddDate(0, 0, 1) // the whole last day applies
		}
	}
	return &ig, nil
}

func unwrap(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

func (e Entry) matches(f check.Finding) bool {
	if e.Fingerprint != "" {
		return e.Fingerprint == f.Fingerprint
	}
	if e.Rule != f.Rule && !strings.HasPrefix(f.Rule, strings.TrimSuffix(e.Rule, "*")) {
		return false
	}
	if e.Rule != f.Rule && !strings.HasSuffix(e.Rule, "*") {
		return false
	}
	if e.Path == "" {
		return true
	}
	if ok, _ := path.Match(e.Path, f.Path); ok {
		return true
	}
	for _, a := range f.Affected {
		if ok, _ := path.Match(e.Path, a.Path); ok {
			return true
		}
	}
	return strings.HasSuffix(e.Path, "/**") && strings.HasPrefix(f.Path, strings.TrimSuffix(e.Path, "**"))
}

// Apply marks matching findings suppressed with the entry's reason and
// returns a warning for each expired entry (it no longer applies) and each
// entry that matched nothing.
func (ig *Ignore) Apply(r *report.Report, now time.Time) []string {
	var warnings []string
	for _, e := range ig.Entries {
		label := e.Fingerprint
		if label == "" {
			label = strings.TrimSpace(e.Rule + " " + e.Path)
		}
		if !e.expires.IsZero() && !now.Before(e.expires) {
			warnings = append(warnings, fmt.Sprintf("ignore file %s: %s expired on %s and no longer applies", ig.file, label, e.Expires))
			continue
		}
		hit := false
		for i := range r.Findings {
			f := &r.Findings[i]
			if f.Suppressed == nil && (f.Baseline == nil || *f.Baseline != Fixed) && e.matches(*f) {
				reason := e.Reason
				if e.Expires != "" {
					reason += " (until " + e.Expires + ")"
				}
				f.Suppressed = str(reason)
				hit = true
			}
		}
		if !hit {
			warnings = append(warnings, fmt.Sprintf("ignore file %s: %s matches no finding", ig.file, label))
		}
	}
	sort.Strings(warnings)
	r.Rescore(nil)
	return warnings
}
