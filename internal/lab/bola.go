package lab

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// The object-level authorization routes: notes are per tenant, but the
// vulnerable twin changes and deletes any note by its (sequential) ID.

func bolaModule() module {
	return module{
		name:   "bola",
		routes: bolaRoutes,
		paths: `  /notes/{note_id}:
    parameters:
      - {name: note_id, in: path, required: true, schema: {type: integer, example: 5001}}
    get:
      tags: [notes]
      operationId: getNote
      summary: Read one of the tenant's notes
      security: [{ApiKey: []}]
      responses:
        "200":
          description: The note
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Note"}
        "404": {description: No such note}
    patch:
      tags: [notes]
      operationId: updateNote
      summary: Change one of the tenant's notes
      security: [{ApiKey: []}]
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              properties:
                text: {type: string, maxLength: 200, example: call the bank again}
      responses:
        "200":
          description: The changed note
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Note"}
        "404": {description: No such note}
    delete:
      tags: [notes]
      operationId: deleteNote
      summary: Delete one of the tenant's notes
      security: [{ApiKey: []}]
      responses:
        "204": {description: Deleted}
        "404": {description: No such note}
`,
		manifest: []Flaw{
			{Rule: "bola.object-access", Method: "GET", Path: "/statements/{statement_id}", Note: "no credentials are needed at all, so tenant_b reads tenant_a's statements"},
			{Rule: "bola.object-write", Method: "PATCH", Path: "/notes/{note_id}", Active: true, Note: "any key changes any tenant's note"},
			{Rule: "bola.object-write", Method: "DELETE", Path: "/notes/{note_id}", Active: true, Note: "any key deletes any tenant's note"},
			{Rule: "bola.predictable-ids", Method: "GET", Path: "/resources/{resource_id}", Note: "resource IDs are sequential (1001, 1002)"},
		},
	}
}

// findNote returns the index of a note the caller may touch (any note in the vulnerable twin).
func (l *Lab) findNote(r *http.Request, tenant string) int {
	id, err := strconv.Atoi(r.PathValue("note_id"))
	if err != nil {
		return -1
	}
	for i, n := range l.notes {
		if n.ID == id && (l.vulnerable() || n.Tenant == tenant) {
			return i
		}
	}
	return -1
}

func bolaRoutes(l *Lab, mux *http.ServeMux) {
	mux.HandleFunc("GET /notes/{note_id}", func(w http.ResponseWriter, r *http.Request) {
		key, ok := keyAuth(r)
		if !ok {
			l.fail(w, http.StatusUnauthorized, "Invalid API key")
			return
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		// Reads check the tenant in both twins; the vulnerable twin forgets it on writes.
		i := -1
		if id, err := strconv.Atoi(r.PathValue("note_id")); err == nil {
			for j, n := range l.notes {
				if n.ID == id && n.Tenant == key.Tenant {
					i = j
				}
			}
		}
		if i < 0 {
			l.fail(w, http.StatusNotFound, "no such note")
			return
		}
		l.writeJSON(w, http.StatusOK, true, l.notes[i])
	})
	mux.HandleFunc("PATCH /notes/{note_id}", func(w http.ResponseWriter, r *http.Request) {
		key, ok := keyAuth(r)
		if !ok {
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
		l.mu.Lock()
		defer l.mu.Unlock()
		i := l.findNote(r, key.Tenant)
		if i < 0 {
			l.fail(w, http.StatusNotFound, "no such note")
			return
		}
		l.notes[i].Text = body.Text
		l.writeJSON(w, http.StatusOK, true, l.notes[i])
	})
	mux.HandleFunc("DELETE /notes/{note_id}", func(w http.ResponseWriter, r *http.Request) {
		key, ok := keyAuth(r)
		if !ok {
			l.fail(w, http.StatusUnauthorized, "Invalid API key")
			return
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		i := l.findNote(r, key.Tenant)
		if i < 0 {
			l.fail(w, http.StatusNotFound, "no such note")
			return
		}
		l.notes = append(l.notes[:i], l.notes[i+1:]...)
		l.headers(w, true)
		w.WriteHeader(http.StatusNoContent)
	})
}
