package lab

import (
	"encoding/json"
	"net/http"
)

// The property-level routes: a profile whose update accepts the server-owned
// role, and a team list that serialises storage rows, secrets included.

type profile struct {
	Username    string `json:"username"`
	Tenant      string `json:"tenant"`
	Role        string `json:"role"`
	DisplayName string `json:"display_name"`
	Locale      string `json:"locale"`
}

type member struct {
	Username     string `json:"username"`
	DisplayName  string `json:"display_name"`
	Role         string `json:"role"`
	PasswordHash string `json:"password_hash,omitempty"`
	APIKey       string `json:"api_key,omitempty"`
}

var teams = map[string][]member{
	"tenant_a": {
		{Username: "alice", DisplayName: "Alice Liddell", Role: "user", PasswordHash: "$2b$12$Qe7c9vJb1yHq7m5x1l0eUuE3yT9m4pQ8y7b2k1c0d9e8f7g6h5i4j", APIKey: "tenant_a_key"},
		{Username: "carol", DisplayName: "Carol Danvers", Role: "user", PasswordHash: "$2b$12$Zk1m8n7b6v5c4x3z2a1s0dQwErTyUiOpAsDfGhJkLzXcVbNm0987", APIKey: "lab_personal_carol_5e8d1c"},
	},
	"tenant_b": {
		{Username: "bob", DisplayName: "Bob Builder", Role: "user", PasswordHash: "$2b$12$Pl0okm9ijn8uhb7ygv6tfc5rdx4esz3waq2XSW1qaz0plmOKNijb", APIKey: "tenant_b_key"},
	},
}

func propertyModule() module {
	return module{
		name:   "property",
		routes: propertyRoutes,
		paths: `  /me:
    get:
      tags: [me]
      operationId: getMe
      summary: Your profile
      security: [{BearerJWT: []}]
      responses:
        "200":
          description: Profile
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Profile"}
    patch:
      tags: [me]
      operationId: updateMe
      summary: Update your display name or locale
      security: [{BearerJWT: []}]
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              additionalProperties: false
              properties:
                display_name: {type: string, maxLength: 80, example: Alice L.}
                locale: {type: string, example: en-GB}
      responses:
        "200":
          description: Profile
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Profile"}
  /team:
    get:
      tags: [me]
      operationId: listTeam
      summary: Members of your tenant
      security: [{ApiKey: []}]
      responses:
        "200":
          description: Members
          content:
            application/json:
              schema:
                type: object
                properties:
                  members:
                    type: array
                    items: {$ref: "#/components/schemas/Member"}
`,
		schemas: `    Profile:
      type: object
      properties:
        username: {type: string}
        tenant: {type: string, readOnly: true}
        role: {type: string, enum: [user, admin], readOnly: true}
        display_name: {type: string}
        locale: {type: string}
    Member:
      type: object
      properties:
        username: {type: string}
        display_name: {type: string}
        role: {type: string}
`,
		manifest: []Flaw{
			{Rule: "property.mass-assignment", Method: "PATCH", Path: "/me", Active: true, Note: "role (readOnly, not in the update schema) is accepted and stored"},
			{Rule: "property.excessive-exposure", Method: "GET", Path: "/team", Note: "members carry password_hash and api_key, which the Member schema does not declare"},
		},
	}
}

func propertyRoutes(l *Lab, mux *http.ServeMux) {
	me := func(w http.ResponseWriter, r *http.Request) (*profile, bool) {
		u, _, ok := l.tokenUser(r)
		if !ok {
			l.fail(w, http.StatusUnauthorized, "Invalid authentication credentials")
			return nil, false
		}
		p := l.profiles[u.Name]
		if p == nil {
			l.fail(w, http.StatusNotFound, "no such user")
			return nil, false
		}
		return p, true
	}
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		defer l.mu.Unlock()
		if p, ok := me(w, r); ok {
			l.writeJSON(w, http.StatusOK, true, p)
		}
	})
	mux.HandleFunc("PATCH /me", func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		defer l.mu.Unlock()
		p, ok := me(w, r)
		if !ok {
			return
		}
		var body map[string]any
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<12)).Decode(&body); err != nil {
			l.fail(w, http.StatusBadRequest, "invalid JSON body")
			return
		}
		next := *p
		for k, v := range body {
			s, isStr := v.(string)
			switch {
			case k == "display_name" && isStr && len(s) <= 80:
				next.DisplayName = s
			case k == "locale" && isStr && len(s) <= 10:
				next.Locale = s
			case k == "role" && isStr && l.vulnerable(): // the whole body is bound to the profile
				next.Role = s
			default:
				if !l.vulnerable() {
					l.fail(w, http.StatusUnprocessableEntity, "field "+k+" cannot be changed")
					return
				}
			}
		}
		*p = next
		l.writeJSON(w, http.StatusOK, true, p)
	})
	mux.HandleFunc("GET /team", func(w http.ResponseWriter, r *http.Request) {
		key, ok := keyAuth(r)
		if !ok {
			l.fail(w, http.StatusUnauthorized, "Invalid API key")
			return
		}
		out := []member{}
		for _, m := range teams[key.Tenant] {
			if !l.vulnerable() {
				m.PasswordHash, m.APIKey = "", ""
			}
			out = append(out, m)
		}
		l.writeJSON(w, http.StatusOK, true, map[string]any{"members": out})
	})
}
