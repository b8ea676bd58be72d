package scanner

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/rampart-scan/rampart/internal/identity"
	"github.com/rampart-scan/rampart/internal/plan"
	"github.com/rampart-scan/rampart/internal/probe"
)

// tenantKey names claims and profile fields that hold the identity's own tenant.
var tenantKey = regexp.MustCompile(`(?i)^(tenant|tenant_?id|org|org_?id|org_?slug|organi[sz]ation|organi[sz]ation_?id|workspace|workspace_?id|account_?id|company_?id|team_?id)$`)

// profilePath matches "who am I" operations.
var profilePath = regexp.MustCompile(`(?i)/(me|whoami|self|profile|account|users/me|user)$`)

// inferTenants fills the tenants of identities given none: from the claims of
// their bearer token, then from their own profile (a /me-like operation).
// Inferred tenants are reported in the report's options like configured ones.
func inferTenants(ctx context.Context, c *probe.Client, p *plan.Plan, ids *identity.Set) []string {
	var notes []string
	for _, id := range ids.Authenticated() {
		if len(id.Tenants) > 0 {
			continue
		}
		found := claimTenants(id.Token())
		src := "token claims"
		if len(found) == 0 {
			found, src = profileTenants(ctx, c, p, id), "its profile"
		}
		if len(found) > 0 {
			id.Tenants = found
			notes = append(notes, fmt.Sprintf("identity %s: tenant %s inferred from %s", id.Name(), strings.Join(found, ","), src))
		}
	}
	return notes
}

func claimTenants(token string) []string {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil
	}
	var claims map[string]any
	if json.Unmarshal(raw, &claims) != nil {
		return nil
	}
	return tenantValues(claims)
}

func tenantValues(m map[string]any) []string {
	var out []string
	seen := map[string]bool{}
	for k, v := range m {
		s, ok := v.(string)
		if !ok || s == "" || len(s) > 100 || !tenantKey.MatchString(k) || seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	// IDs before slugs: deterministic order by value.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func profileTenants(ctx context.Context, c *probe.Client, p *plan.Plan, id *identity.Identity) []string {
	for _, o := range p.Operations {
		if o.Method != http.MethodGet || !profilePath.MatchString(o.Path) {
			continue
		}
		ex, err := c.Do(ctx, p.Request(o, id))
		if err != nil || ex.Status != http.StatusOK {
			continue
		}
		var m map[string]any
		if json.Unmarshal(ex.Body, &m) != nil {
			continue
		}
		if v := tenantValues(m); len(v) > 0 {
			return v
		}
	}
	return nil
}
