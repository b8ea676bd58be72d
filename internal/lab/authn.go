package lab

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// The authentication family's routes: an operation that never asks for
// credentials, one that accepts any credential at all, and a path whose write
// method forgets the check its read method makes.

type statement struct {
	ID      string `json:"id"`
	Tenant  string `json:"tenant"`
	Period  string `json:"period"`
	Balance int    `json:"balance"`
	IBAN    string `json:"iban"`
}

var statements = map[string]statement{
	"stm_a1": {ID: "stm_a1", Tenant: "tenant_a", Period: "2026-10", Balance: 125400, IBAN: "DE89370400440532013000"},
	"stm_a2": {ID: "stm_a2", Tenant: "tenant_a", Period: "2026-09", Balance: 118200, IBAN: "DE89370400440532013000"},
	"stm_b1": {ID: "stm_b1", Tenant: "tenant_b", Period: "2026-10", Balance: 9800000, IBAN: "GB29NWBK60161331926819"},
}

type note struct {
	ID     int    `json:"id"`
	Tenant string `json:"tenant"`
	Text   string `json:"text"`
}

func authnModule() module {
	return module{
		name:   "authn",
		routes: authnRoutes,
		paths: `  /statements:
    get:
      tags: [statements]
      operationId: listStatements
      summary: List the caller's account statements
      security: [{ApiKey: []}]
      responses:
        "200":
          description: Statements
          content:
            application/json:
              schema: {type: array, items: {$ref: "#/components/schemas/Statement"}}
  /statements/{statement_id}:
    get:
      tags: [statements]
      operationId: getStatement
      summary: Read one account statement
      security: [{ApiKey: []}]
      parameters:
        - {name: statement_id, in: path, required: true, schema: {type: string, example: stm_a1}}
      responses:
        "200":
          description: The statement
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Statement"}
        "401": {description: No or bad credentials}
  /reports:
    get:
      tags: [reports]
      operationId: listReports
      summary: The tenant's usage reports
      security: [{ApiKey: []}]
      responses:
        "200":
          description: Reports
          content:
            application/json:
              schema: {type: array, items: {type: object}}
        "401": {description: No or bad credentials}
  /notes:
    get:
      tags: [notes]
      operationId: listNotes
      summary: List the tenant's notes
      security: [{ApiKey: []}]
      responses:
        "200":
          description: Notes
          content:
            application/json:
              schema: {type: array, items: {$ref: "#/components/schemas/Note"}}
    post:
      tags: [notes]
      operationId: createNote
      summary: Add a note to the tenant's notebook
      security: [{ApiKey: []}]
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [text]
              properties:
                text: {type: string, maxLength: 200, example: call the bank}
      responses:
        "201":
          description: Created
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Note"}
        "401": {description: No or bad credentials}
`,
		schemas: `    Statement:
      type: object
      properties:
        id: {type: string}
        tenant: {type: string}
        period: {type: string}
        balance: {type: integer}
        iban: {type: string}
    Note:
      type: object
      properties:
        id: {type: integer}
        tenant: {type: string}
        text: {type: string}
`,
		manifest: []Flaw{
			{Rule: "authn.missing", Method: "GET", Path: "/statements/{statement_id}", Note: "documented as ApiKey-secured, but answers anonymous callers with the statement"},
			{Rule: "authn.invalid-credentials-accepted", Method: "GET", Path: "/reports", Note: "any bearer value is accepted: the key is checked for presence only"},
			{Rule: "authn.method-bypass", Method: "POST", Path: "/notes", Active: true, Note: "GET /notes checks the key, POST /notes does not"},
			{Rule: "authn.security-headers", Method: "*", Path: "*", Note: "no X-Content-Type-Options, X-Frame-Options/CSP or Cache-Control: no-store anywhere"},
		},
	}
}

func authnRoutes(l *Lab, mux *http.ServeMux) {
	mux.HandleFunc("GET /statements", func(w http.ResponseWriter, r *http.Request) {
		key, ok := keyAuth(r)
		if !ok {
			l.fail(w, http.StatusUnauthorized, "Invalid API key")
			return
		}
		out := []statement{}
		for _, id := range []string{"stm_a1", "stm_a2", "stm_b1"} {
			if statements[id].Tenant == key.Tenant {
				out = append(out, statements[id])
			}
		}
		l.writeJSON(w, http.StatusOK, true, out)
	})
	mux.HandleFunc("GET /statements/{statement_id}", func(w http.ResponseWriter, r *http.Request) {
		s, found := statements[r.PathValue("statement_id")]
		if !l.vulnerable() {
			key, ok := keyAuth(r)
			if !ok {
				l.fail(w, http.StatusUnauthorized, "Invalid API key")
				return
			}
			if found && s.Tenant != key.Tenant {
				found = false // not yours: indistinguishable from absent
			}
		}
		if !found {
			l.fail(w, http.StatusNotFound, "no such statement")
			return
		}
		l.writeJSON(w, http.StatusOK, true, s)
	})
	mux.HandleFunc("GET /reports", func(w http.ResponseWriter, r *http.Request) {
		key, ok := keyAuth(r)
		if l.vulnerable() && bearer(r) != "" {
			ok = true // presence is all the vulnerable twin checks
			if key.Tenant == "" {
				key.Tenant = "tenant_a"
			}
		}
		if !ok {
			l.fail(w, http.StatusUnauthorized, "Invalid API key")
			return
		}
		l.writeJSON(w, http.StatusOK, true, []map[string]any{
			{"tenant": key.Tenant, "month": "2026-10", "api_calls": 48210, "errors": 12},
			{"tenant": key.Tenant, "month": "2026-09", "api_calls": 45102, "errors": 30},
		})
	})
	mux.HandleFunc("GET /notes", func(w http.ResponseWriter, r *http.Request) {
		key, ok := keyAuth(r)
		if !ok {
			l.fail(w, http.StatusUnauthorized, "Invalid API key")
			return
		}
		l.mu.Lock()
		out := []note{}
		for _, n := range l.notes {
			if n.Tenant == key.Tenant {
				out = append(out, n)
			}
		}
		l.mu.Unlock()
		l.writeJSON(w, http.StatusOK, true, out)
	})
	mux.HandleFunc("POST /notes", func(w http.ResponseWriter, r *http.Request) {
		key, ok := keyAuth(r)
		if !ok && !l.vulnerable() {
			l.fail(w, http.StatusUnauthorized, "Invalid API key")
			return
		}
		var body struct {
			Text string `json:"text"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<12)).Decode(&body); err != nil || body.Text == "" || len(body.Text) > 200 {
			l.fail(w, http.StatusBadRequest, "text is required (at most 200 characters)")
			return
		}
		tenant := key.Tenant
		if tenant == "" {
			tenant = "tenant_a" // the vulnerable twin files anonymous notes under the default tenant
		}
		l.mu.Lock()
		l.counter++
		n := note{ID: 5000 + l.counter, Tenant: tenant, Text: body.Text}
		if len(l.notes) < 1000 {
			l.notes = append(l.notes, n)
		}
		l.mu.Unlock()
		w.Header().Set("Location", fmt.Sprintf("/notes/%d", n.ID))
		l.writeJSON(w, http.StatusCreated, ok, n)
	})
}
