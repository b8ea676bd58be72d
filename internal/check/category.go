// Package check defines what a check family is and what it reports: categories,
// severities, confidences, rules, findings, facts and the scan context every
// family runs in.
package check

import (
	"fmt"
	"strings"
)

// Category is one of the twelve assessment areas of a scan (CONTRACTS §3).
type Category string

// The categories, in report order.
const (
	Authentication        Category = "authentication"
	BOLA                  Category = "bola"
	BFLA                  Category = "bfla"
	PropertyAuthorization Category = "property_authorization"
	InputValidation       Category = "input_validation"
	RateLimiting          Category = "rate_limiting"
	DataExposure          Category = "data_exposure"
	Encryption            Category = "encryption"
	SSRF                  Category = "ssrf"
	Inventory             Category = "inventory"
	UnsafeConsumption     Category = "unsafe_consumption"
	LLM                   Category = "llm"
)

// Categories lists every category in the order reports use.
var Categories = []Category{
	Authentication, BOLA, BFLA, PropertyAuthorization, InputValidation, RateLimiting,
	DataExposure, Encryption, SSRF, Inventory, UnsafeConsumption, LLM,
}

// rulePrefixes maps a rule ID prefix to its category.
var rulePrefixes = map[string]Category{
	"authn": Authentication, "jwt": Authentication, "bola": BOLA, "bfla": BFLA,
	"property": PropertyAuthorization, "input": InputValidation, "ratelimit": RateLimiting,
	"exposure": DataExposure, "tls": Encryption, "ssrf": SSRF, "inventory": Inventory,
	"consumption": UnsafeConsumption, "llm": LLM,
}

// CategoryOfRule returns the category a rule ID belongs to by its prefix.
func CategoryOfRule(id string) (Category, bool) {
	prefix, _, ok := strings.Cut(id, ".")
	if !ok {
		return "", false
	}
	c, ok := rulePrefixes[prefix]
	return c, ok
}

// ParseCategory accepts a category ID.
func ParseCategory(s string) (Category, bool) {
	for _, c := range Categories {
		if string(c) == s {
			return c, true
		}
	}
	return "", false
}

// Severity ranks how bad a finding is; higher is worse.
type Severity int

// Severities from least to most severe.
const (
	Info Severity = iota
	Low
	Medium
	High
	Critical
)

var severityNames = []string{"info", "low", "medium", "high", "critical"}

func (s Severity) String() string {
	if s < Info || s > Critical {
		return fmt.Sprintf("severity(%d)", int(s))
	}
	return severityNames[s]
}

// ParseSeverity accepts info, low, medium, high or critical.
func ParseSeverity(s string) (Severity, error) {
	for i, n := range severityNames {
		if strings.EqualFold(s, n) {
			return Severity(i), nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q (want info, low, medium, high or critical)", s)
}

// MarshalText renders the severity name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText parses a severity name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	*s = v
	return err
}

// Confidence says how strongly the evidence proves a finding.
type Confidence int

// Confidences from weakest to strongest.
const (
	Possible Confidence = iota
	Likely
	Confirmed
)

var confidenceNames = []string{"possible", "likely", "confirmed"}

func (c Confidence) String() string {
	if c < Possible || c > Confirmed {
		return fmt.Sprintf("confidence(%d)", int(c))
	}
	return confidenceNames[c]
}

// ParseConfidence accepts confirmed, likely or possible.
func ParseConfidence(s string) (Confidence, error) {
	for i, n := range confidenceNames {
		if strings.EqualFold(s, n) {
			return Confidence(i), nil
		}
	}
	return 0, fmt.Errorf("unknown confidence %q (want confirmed, likely or possible)", s)
}

// MarshalText renders the confidence name.
func (c Confidence) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText parses a confidence name.
func (c *Confidence) UnmarshalText(b []byte) error {
	v, err := ParseConfidence(string(b))
	*c = v
	return err
}
