package identity

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/rampart-scan/rampart/internal/probe"
)

// Set is the scan's identities; anonymous is always present.
type Set struct {
	list []*Identity
}

// NewSet builds a set from identities; it adds anonymous and checks names and roles.
func NewSet(ids []*Identity) (*Set, error) {
	s := &Set{}
	seen := map[string]bool{}
	for _, id := range ids {
		if id.IDName == "" {
			return nil, fmt.Errorf("identity without a name")
		}
		if id.IDName == Anonymous {
			return nil, fmt.Errorf("identity name %q is reserved", Anonymous)
		}
		if seen[id.IDName] {
			return nil, fmt.Errorf("identity %q given twice", id.IDName)
		}
		seen[id.IDName] = true
		if id.Role == "" {
			id.Role = RoleUser
		}
		if id.Role != RoleUser && id.Role != RoleAdmin {
			return nil, fmt.Errorf("identity %s: role %q (want user or admin)", id.IDName, id.Role)
		}
		if id.Login != nil && id.Login.URL == "" {
			return nil, fmt.Errorf("identity %s: login needs a url", id.IDName)
		}
		s.list = append(s.list, id)
	}
	sort.SliceStable(s.list, func(i, j int) bool { return s.list[i].IDName < s.list[j].IDName })
	s.list = append([]*Identity{{IDName: Anonymous, Role: RoleUser}}, s.list...)
	return s, nil
}

// All returns every identity, anonymous first, then by name.
func (s *Set) All() []*Identity { return append([]*Identity(nil), s.list...) }

// Authenticated returns every identity except anonymous.
func (s *Set) Authenticated() []*Identity { return append([]*Identity(nil), s.list[1:]...) }

// Anonymous is the identity without credentials.
func (s *Set) Anonymous() *Identity { return s.list[0] }

// Get finds an identity by name.
func (s *Set) Get(name string) *Identity {
	for _, id := range s.list {
		if id.IDName == name {
			return id
		}
	}
	return nil
}

// Users returns authenticated identities whose role is user (never admins):
// the candidates for "the other identity" in object-level access checks.
func (s *Set) Users() []*Identity {
	var out []*Identity
	for _, id := range s.Authenticated() {
		if !id.IsAdmin() {
			out = append(out, id)
		}
	}
	return out
}

// RegisterLogins tells the safety policy that configured logins may be sent.
func (s *Set) RegisterLogins(p *probe.Policy, c *probe.Client) error {
	for _, id := range s.list {
		if id.Login == nil {
			continue
		}
		u, err := id.LoginURL(c.Target())
		if err != nil {
			return err
		}
		m := strings.ToUpper(id.Login.Method)
		if m == "" {
			m = http.MethodPost
		}
		p.AllowLogin(m, u)
	}
	return nil
}

// LoginAll runs every login flow and registers every secret with the redactor.
func (s *Set) LoginAll(ctx context.Context, c *probe.Client) error {
	for _, id := range s.list {
		if id.Login != nil {
			if err := id.DoLogin(ctx, c); err != nil {
				return err
			}
		}
		for _, sec := range id.Secrets() {
			c.Redactor().AddSecret(sec)
		}
	}
	return nil
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// ExpandEnv replaces ${NAME} with the environment variable's value; an unset variable is an error.
func ExpandEnv(s string) (string, error) {
	var missing string
	out := envRef.ReplaceAllStringFunc(s, func(m string) string {
		name := m[2 : len(m)-1]
		v, ok := os.LookupEnv(name)
		if !ok && missing == "" {
			missing = name
		}
		return v
	})
	if missing != "" {
		return "", fmt.Errorf("environment variable %s is not set", missing)
	}
	return out, nil
}

// ParseHeader splits "Name: value".
func ParseHeader(s string) (string, string, error) {
	name, value, ok := strings.Cut(s, ":")
	name = strings.TrimSpace(name)
	if !ok || name == "" || strings.ContainsAny(name, " \t") {
		return "", "", fmt.Errorf("header %q is not 'Name: value'", s)
	}
	return http.CanonicalHeaderKey(name), strings.TrimSpace(value), nil
}

// HeaderLines reads "Name: value" lines from a file (for -H @file); blank lines and # comments are skipped.
func HeaderLines(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read header file: %w", err)
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, line)
	}
	return out, nil
}
