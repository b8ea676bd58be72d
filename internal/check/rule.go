package check

import (
	"fmt"
	"sort"
	"strings"
)

// Rule is one catalogue entry: what a finding of this kind means and how to fix it.
// Rules ship with the family that proves them.
type Rule struct {
	ID       string   `json:"id"`
	Title    string   `json:"title"`
	Category Category `json:"category"`
	Severity Severity `json:"severity"`
	// SeverityRule says in one line when the default severity is raised or lowered.
	SeverityRule string   `json:"severity_rule"`
	OWASP        []string `json:"owasp"`
	CWE          []string `json:"cwe"`
	Remediation  string   `json:"remediation"`
	References   []string `json:"references,omitempty"`
	// Supersedes lists rules this one replaces on the same operation.
	Supersedes []string `json:"supersedes,omitempty"`
	// Aliases are former IDs of this rule.
	Aliases []string `json:"aliases,omitempty"`
	// Shared marks a flaw of a shared component (one verifier, one middleware):
	// the engine folds its findings on several operations into one with method
	// and path "*" and the operations in affected (CONTRACTS §4).
	Shared bool `json:"shared,omitempty"`
}

// Catalogue is the set of rules a scan knows, looked up by ID or alias.
type Catalogue struct {
	rules []Rule
	byID  map[string]int
}

// NewCatalogue checks the rules (unique IDs, known category, matching prefix) and indexes them.
func NewCatalogue(rules []Rule) (*Catalogue, error) {
	c := &Catalogue{byID: map[string]int{}}
	for _, r := range rules {
		cat, ok := CategoryOfRule(r.ID)
		if !ok {
			return nil, fmt.Errorf("rule %q: unknown rule prefix", r.ID)
		}
		if r.Category == "" {
			r.Category = cat
		}
		if r.Category != cat {
			return nil, fmt.Errorf("rule %q: category %q does not match its prefix (%q)", r.ID, r.Category, cat)
		}
		if r.Title == "" || r.Remediation == "" || r.SeverityRule == "" {
			return nil, fmt.Errorf("rule %q: title, remediation and severity_rule are required", r.ID)
		}
		for _, name := range append([]string{r.ID}, r.Aliases...) {
			if _, dup := c.byID[name]; dup {
				return nil, fmt.Errorf("rule %q: duplicate ID", name)
			}
			c.byID[name] = len(c.rules)
		}
		c.rules = append(c.rules, r)
	}
	sort.SliceStable(c.rules, func(i, j int) bool { return c.rules[i].ID < c.rules[j].ID })
	for i, r := range c.rules {
		for _, name := range append([]string{r.ID}, r.Aliases...) {
			c.byID[name] = i
		}
	}
	return c, nil
}

// Lookup finds a rule by ID or alias.
func (c *Catalogue) Lookup(id string) (Rule, bool) {
	if c == nil {
		return Rule{}, false
	}
	i, ok := c.byID[id]
	if !ok {
		return Rule{}, false
	}
	return c.rules[i], true
}

// Rules returns every rule sorted by ID.
func (c *Catalogue) Rules() []Rule {
	if c == nil {
		return nil
	}
	return append([]Rule(nil), c.rules...)
}

// Selector is an --only/--skip entry: a rule ID, a rule prefix ("jwt" or "jwt.") or a category.
type Selector string

// Matches reports whether a rule is selected.
func (s Selector) Matches(r Rule) bool {
	v := string(s)
	if v == r.ID || string(r.Category) == v {
		return true
	}
	for _, a := range r.Aliases {
		if a == v {
			return true
		}
	}
	prefix := strings.TrimSuffix(v, ".") + "."
	return strings.HasPrefix(r.ID, prefix)
}

// RuleFilter decides from --only and --skip whether a rule runs.
type RuleFilter struct {
	Only []Selector
	Skip []Selector
}

// Allows reports whether the rule is selected by the filter.
func (f RuleFilter) Allows(r Rule) bool {
	for _, s := range f.Skip {
		if s.Matches(r) {
			return false
		}
	}
	if len(f.Only) == 0 {
		return true
	}
	for _, s := range f.Only {
		if s.Matches(r) {
			return true
		}
	}
	return false
}
