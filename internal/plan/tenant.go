package plan

import (
	"regexp"
	"strings"

	"github.com/rampart-scan/rampart/internal/identity"
	"github.com/rampart-scan/rampart/internal/spec"
)

// tenantName matches parameter names that select a tenant: tenant, org,
// organization, account, workspace, company, customer, client, team, with an
// optional id/slug/key/ref suffix, as a path, query or header name (X-Tenant-ID).
var tenantName = regexp.MustCompile(`(?i)^(x-)?(tenant|org|orga|organi[sz]ation|account|workspace|company|customer|client|team)([-_]?(id|slug|key|ref|uuid|name|handle))?$`)

// TenantParam reports whether a parameter name selects a tenant.
func TenantParam(name string) bool { return tenantName.MatchString(name) }

// TenantHeaderCandidates are undocumented tenant-selector headers worth trying.
var TenantHeaderCandidates = []string{"X-Tenant-ID", "X-Org-Id", "X-Organization-Id", "X-Account-Id", "X-Workspace-Id", "X-Company-Id", "X-Customer-Id", "X-Client-Id", "X-Team-Id"}

// TenantValue picks which of an identity's tenant aliases fits a parameter:
// one matching the schema's pattern, else one shaped like the example, else the first.
func TenantValue(id *identity.Identity, p *spec.Parameter) (string, bool) {
	if id == nil || len(id.Tenants) == 0 {
		return "", false
	}
	return PickAlias(id.Tenants, p), true
}

// PickAlias chooses among a tenant's aliases (ID, slug, ...) for a parameter.
func PickAlias(aliases []string, p *spec.Parameter) string {
	if p == nil || len(aliases) == 1 {
		return aliases[0]
	}
	if p.Schema != nil && p.Schema.Pattern != "" {
		if re, err := regexp.Compile(p.Schema.Pattern); err == nil {
			for _, a := range aliases {
				if re.MatchString(a) {
					return a
				}
			}
		}
	}
	example := ""
	if p.HasExample {
		example, _ = scalarString(p.Example)
	} else if p.Schema != nil && p.Schema.HasExample {
		example, _ = scalarString(p.Schema.Example)
	}
	if example != "" {
		best, bestScore := aliases[0], -1
		for _, a := range aliases {
			if sc := shapeScore(a, example); sc > bestScore {
				best, bestScore = a, sc
			}
		}
		return best
	}
	return aliases[0]
}

// shapeScore rates how alike two identifiers look: same prefix before "_" or "-",
// same use of digits, similar length.
func shapeScore(a, b string) int {
	score := 0
	pa, _, okA := strings.Cut(a, "_")
	pb, _, okB := strings.Cut(b, "_")
	if okA == okB {
		score += 2
		if okA && pa == pb {
			score += 3
		}
	}
	if hasDigit(a) == hasDigit(b) {
		score += 2
	}
	if d := len(a) - len(b); d > -4 && d < 4 {
		score++
	}
	return score
}

func hasDigit(s string) bool {
	for _, r := range s {
		if r >= '0' && r <= '9' {
			return true
		}
	}
	return false
}
