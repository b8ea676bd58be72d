package lab

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// The function-level routes: an admin listing open to every signed-in caller,
// a delete reserved to admins that a method override slips past, and an
// undocumented PUT the vulnerable twin still serves.

type project struct {
	ID     int    `json:"id"`
	Tenant string `json:"tenant"`
	Name   string `json:"name"`
}

func bflaModule() module {
	return module{
		name:   "bfla",
		routes: bflaRoutes,
		paths: `  /admin/users:
    get:
      tags: [admin]
      operationId: adminListUsers
      summary: Every user on the platform (administrators only)
      security: [{BearerJWT: []}]
      responses:
        "200":
          description: Users
          content:
            application/json:
              schema: {type: array, items: {$ref: "#/components/schemas/Profile"}}
        "403": {description: Not an administrator}
  /projects:
    post:
      tags: [projects]
      operationId: createProject
      summary: Start a project in your tenant
      security: [{ApiKey: []}]
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [name]
              properties:
                name: {type: string, maxLength: 80, example: Q3 launch}
      responses:
        "201":
          description: Created
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Project"}
  /projects/{project_id}:
    parameters:
      - {name: project_id, in: path, required: true, schema: {type: integer, example: 7001}}
    get:
      tags: [projects]
      operationId: getProject
      summary: Read one of your tenant's projects
      security: [{ApiKey: []}]
      responses:
        "200":
          description: The project
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Project"}
        "404": {description: No such project}
    delete:
      tags: [projects, admin]
      operationId: deleteProject
      summary: Delete a project (administrators only)
      security: [{BearerJWT: []}]
      responses:
        "204": {description: Deleted}
        "403": {description: Not an administrator}
`,
		schemas: `    Project:
      type: object
      properties:
        id: {type: integer}
        tenant: {type: string}
        name: {type: string}
`,
		manifest: []Flaw{
			{Rule: "bfla.admin-function", Method: "GET", Path: "/admin/users", Note: "any signed-in user gets the platform's user list"},
			{Rule: "bfla.method-override", Method: "DELETE", Path: "/projects/{project_id}", Active: true, Note: "DELETE is admin-only, but POST with X-HTTP-Method-Override: DELETE is honoured after the role check"},
			{Rule: "bfla.undocumented-method", Method: "PUT", Path: "/notes/{note_id}", Active: true, Note: "an undocumented PUT replaces a note"},
		},
	}
}

// callerRole is the caller's server-side role: admin only for an admin's verified token.
func (l *Lab) callerRole(r *http.Request) (tenant, role string, ok bool) {
	if key, ok := keyAuth(r); ok {
		return key.Tenant, "user", true
	}
	u, _, ok := l.tokenUser(r)
	if !ok {
		return "", "", false
	}
	if p := l.profiles[u.Name]; p != nil && !l.vulnerable() {
		return p.Tenant, p.Role, true
	}
	return u.Tenant, u.Role, true
}

func bflaRoutes(l *Lab, mux *http.ServeMux) {
	mux.HandleFunc("GET /admin/users", func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		defer l.mu.Unlock()
		_, role, ok := l.callerRole(r)
		if !ok {
			l.fail(w, http.StatusUnauthorized, "Invalid authentication credentials")
			return
		}
		if role != "admin" && !l.vulnerable() {
			l.fail(w, http.StatusForbidden, "administrators only")
			return
		}
		out := []profile{}
		for _, n := range []string{"admin", "alice", "bob"} {
			out = append(out, *l.profiles[n])
		}
		l.writeJSON(w, http.StatusOK, true, out)
	})
	mux.HandleFunc("POST /projects", func(w http.ResponseWriter, r *http.Request) {
		key, ok := keyAuth(r)
		if !ok {
			l.fail(w, http.StatusUnauthorized, "Invalid API key")
			return
		}
		var body struct {
			Name string `json:"name"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<12)).Decode(&body); err != nil || body.Name == "" || len(body.Name) > 80 {
			l.fail(w, http.StatusBadRequest, "name is required (at most 80 characters)")
			return
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		l.counter++
		p := project{ID: 7000 + l.counter, Tenant: key.Tenant, Name: body.Name}
		if len(l.projects) < 1000 {
			l.projects[p.ID] = &p
		}
		w.Header().Set("Location", fmt.Sprintf("/projects/%d", p.ID))
		l.writeJSON(w, http.StatusCreated, true, p)
	})
	item := func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		defer l.mu.Unlock()
		tenant, role, ok := l.callerRole(r)
		if !ok {
			l.fail(w, http.StatusUnauthorized, "Invalid authentication credentials")
			return
		}
		method := r.Method
		if method == http.MethodDelete && role != "admin" { // the gateway's method rule
			l.fail(w, http.StatusForbidden, "administrators only")
			return
		}
		if o := r.Header.Get("X-HTTP-Method-Override"); method == http.MethodPost && o != "" && l.vulnerable() {
			method = strings.ToUpper(o) // resolved after the role check: the flaw
		}
		id, _ := strconv.Atoi(r.PathValue("project_id"))
		p, found := l.projects[id]
		if !found || (p.Tenant != tenant && role != "admin") {
			l.fail(w, http.StatusNotFound, "no such project")
			return
		}
		switch method {
		case http.MethodGet:
			l.writeJSON(w, http.StatusOK, true, p)
		case http.MethodDelete:
			delete(l.projects, id)
			l.headers(w, true)
			w.WriteHeader(http.StatusNoContent)
		default:
			l.fail(w, http.StatusMethodNotAllowed, "method not allowed")
		}
	}
	mux.HandleFunc("GET /projects/{project_id}", item)
	mux.HandleFunc("DELETE /projects/{project_id}", item)
	if l.vulnerable() {
		mux.HandleFunc("POST /projects/{project_id}", item)
		// A forgotten handler: PUT replaces a note, with no tenant check.
		mux.HandleFunc("PUT /notes/{note_id}", func(w http.ResponseWriter, r *http.Request) {
			if _, ok := keyAuth(r); !ok {
				l.fail(w, http.StatusUnauthorized, "Invalid API key")
				return
			}
			var body struct {
				Text string `json:"text"`
			}
			if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<12)).Decode(&body); err != nil || body.Text == "" {
				l.fail(w, http.StatusBadRequest, "text is required")
				return
			}
			l.mu.Lock()
			defer l.mu.Unlock()
			i := l.findNote(r, "")
			if i < 0 {
				l.fail(w, http.StatusNotFound, "no such note")
				return
			}
			l.notes[i].Text = body.Text
			l.writeJSON(w, http.StatusOK, true, l.notes[i])
		})
	}
}
