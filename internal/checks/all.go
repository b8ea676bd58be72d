// Package checks lists Rampart's check families: the one explicit list the engine runs.
package checks

import (
	"github.com/rampart-scan/rampart/internal/check"
	"github.com/rampart-scan/rampart/internal/checks/authn"
	"github.com/rampart-scan/rampart/internal/checks/bfla"
	"github.com/rampart-scan/rampart/internal/checks/bola"
	"github.com/rampart-scan/rampart/internal/checks/consumption"
	"github.com/rampart-scan/rampart/internal/checks/encryption"
	"github.com/rampart-scan/rampart/internal/checks/exposure"
	"github.com/rampart-scan/rampart/internal/checks/input"
	"github.com/rampart-scan/rampart/internal/checks/inventory"
	"github.com/rampart-scan/rampart/internal/checks/llm"
	"github.com/rampart-scan/rampart/internal/checks/property"
	"github.com/rampart-scan/rampart/internal/checks/ratelimit"
	"github.com/rampart-scan/rampart/internal/checks/ssrf"
)

// All returns a fresh instance of every check family, in report order.
// Families arrive with their issues; each lives in its own package under internal/checks.
func All() []check.Check {
	return []check.Check{
		authn.New(),
		authn.NewJWT(),
		bola.New(),
		bfla.New(),
		property.New(),
		input.New(),
		exposure.New(),
		inventory.New(),
		ssrf.New(),
		consumption.New(),
		ratelimit.New(),
		encryption.New(),
		llm.New(),
	}
}

// Catalogue builds the rule catalogue from the families' rules.
func Catalogue(fams []check.Check) (*check.Catalogue, error) {
	var rules []check.Rule
	for _, f := range fams {
		m := f.Meta()
		for _, r := range m.Rules {
			if r.Category == "" {
				r.Category = m.Category
			}
			rules = append(rules, r)
		}
	}
	return check.NewCatalogue(rules)
}
