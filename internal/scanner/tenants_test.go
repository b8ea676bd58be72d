package scanner

import (
	"encoding/base64"
	"strings"
	"testing"
)

func TestClaimTenants(t *testing.T) {
	payload := base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"maya@acme.test","org":"acme","org_id":"org_7d41","role":"member","exp":1}`))
	got := claimTenants("eyJhbGciOiJIUzI1NiJ9." + payload + ".sig")
	if strings.Join(got, ",") != "acme,org_7d41" {
		t.Fatalf("claims: %v", got)
	}
	for _, tok := range []string{"", "opaque-api-key", "a.b", "a.!!!.c"} {
		if claimTenants(tok) != nil {
			t.Errorf("%q: tenants from a non-JWT", tok)
		}
	}
	if v := tenantValues(map[string]any{"organization": "globex", "name": "Li", "tenant": 7}); len(v) != 1 || v[0] != "globex" {
		t.Errorf("profile: %v", v)
	}
}
