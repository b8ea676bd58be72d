package lab

import (
	"fmt"
	"strings"
)

// Config is the lab's Rampart config file: its identities (tenant keys, users
// with logins, an admin) and its token signing key. target may be empty.
func Config(target string) string {
	var b strings.Builder
	b.WriteString("# Rampart config for the Rampart lab (rampart lab --print-config).\n")
	if target != "" {
		fmt.Fprintf(&b, "target: %s\nspec: %s/openapi.yaml\n", target, strings.TrimSuffix(target, "/"))
	}
	b.WriteString(`identities:
  - name: tenant_a
    role: user
    tenant: [tenant_a]
    headers: {Authorization: "Bearer tenant_a_key"}
  - name: tenant_b
    role: user
    tenant: [tenant_b]
    headers: {Authorization: "Bearer tenant_b_key"}
`)
	for _, name := range []string{"alice", "bob", "admin", "carol", "dave"} {
		u := users[name]
		tenant := "[" + u.Tenant + "]"
		if u.Role == "admin" {
			tenant = "[]"
		}
		fmt.Fprintf(&b, `  - name: %s
    role: %s
    tenant: %s
    login:
      method: POST
      url: /auth/login
      json: {username: %s, password: %s}
      token: /access_token
      header: "Authorization: Bearer {token}"
`, u.Name, u.Role, tenant, u.Name, u.Password)
	}
	fmt.Fprintf(&b, "jwt:\n  secret: %q\n  private_key: |\n", SigningKey)
	for _, line := range strings.Split(strings.TrimSpace(string(labRSAPEM)), "\n") {
		fmt.Fprintf(&b, "    %s\n", line)
	}
	b.WriteString("options: {rate: 0}\n")
	return b.String()
}

// UserPassword is a lab user's password (for replay instructions).
func UserPassword(name string) string { return users[name].Password }
