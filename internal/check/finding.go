package check

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
)

// Param names the parameter a finding is about.
type Param struct {
	In   string `json:"in"`
	Name string `json:"name"`
}

// Evidence kinds (CONTRACTS §5).
const (
	EvidenceHTTP       = "http"
	EvidenceOOB        = "oob"
	EvidenceTranscript = "transcript"
	EvidenceNote       = "note"
)

// Evidence is one piece of proof: an exchange, a canary hit, a transcript or a note.
// Request and response texts are already redacted and capped.
type Evidence struct {
	Kind     string `json:"kind"`
	Identity string `json:"identity,omitempty"`
	Request  string `json:"request,omitempty"`
	Response string `json:"response,omitempty"`
	Note     string `json:"note,omitempty"`
}

// Endpoint is one operation a shared flaw affects.
type Endpoint struct {
	Method string `json:"method"`
	Path   string `json:"path"`
}

// Location is a place in the spec.
type Location struct {
	File string `json:"file"`
	Line int    `json:"line"`
}

// Finding is one proven (or suspected, per Confidence) flaw.
// Families fill Rule, Severity, Confidence, the endpoint, evidence and curl;
// the engine fills the catalogue fields and the fingerprint.
type Finding struct {
	Rule         string     `json:"rule"`
	Category     Category   `json:"category"`
	Severity     Severity   `json:"severity"`
	Confidence   Confidence `json:"confidence"`
	Method       string     `json:"method"`
	Path         string     `json:"path"`
	Parameter    *Param     `json:"parameter"`
	Identity     string     `json:"identity"`
	Title        string     `json:"title"`
	Detail       string     `json:"detail"`
	Remediation  string     `json:"remediation"`
	OWASP        []string   `json:"owasp"`
	CWE          []string   `json:"cwe"`
	SpecLocation *Location  `json:"spec_location"`
	Affected     []Endpoint `json:"affected"`
	Evidence     []Evidence `json:"evidence"`
	Curl         string     `json:"curl"`
	Fingerprint  string     `json:"fingerprint"`
	Baseline     *string    `json:"baseline"`
	Suppressed   *string    `json:"suppressed"`
	// Family is the family that reported the finding (not part of the JSON contract).
	Family string `json:"-"`
}

var (
	uuidSegment    = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	digitSegment   = regexp.MustCompile(`^[0-9]+$`)
	prefixedID     = regexp.MustCompile(`^[A-Za-z]{1,12}[_-][0-9][0-9A-Za-z]*$`)
	longHexSegment = regexp.MustCompile(`^[0-9a-fA-F]{16,}$`)
)

// TemplatePath turns ID-like segments of a concrete path (digits, UUIDs,
// prefix_123, long hex) into "{}" so undocumented paths fingerprint stably.
// Segments already in braces are left alone.
func TemplatePath(p string) string {
	if p == "*" {
		return p
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if s == "" || strings.HasPrefix(s, "{") {
			continue
		}
		if digitSegment.MatchString(s) || uuidSegment.MatchString(s) || prefixedID.MatchString(s) || longHexSegment.MatchString(s) {
			segs[i] = "{}"
		}
	}
	return strings.Join(segs, "/")
}

// Fingerprint computes the stable identity of a finding (CONTRACTS §4).
func Fingerprint(rule, method, pathTemplate string, p *Param) string {
	var in, name string
	if p != nil {
		in, name = p.In, p.Name
	}
	sum := sha256.Sum256([]byte(rule + "\n" + strings.ToUpper(method) + "\n" + pathTemplate + "\n" + in + ":" + name))
	return hex.EncodeToString(sum[:])[:16]
}
