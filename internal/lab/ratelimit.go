package lab

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// The rate limiting routes: logs whose page size is not clamped, an audit
// trail returned in one piece, orders that can be placed by a script, an
// attachment upload without a size cap, and an e-mail check with a
// backtracking matcher. The hardened twin limits logins and orders (429 with
// Retry-After), clamps pages, paginates, caps uploads and matches in linear time.

// limiter counts attempts per key in a fixed window.
type limiter struct {
	mu     sync.Mutex
	limit  int
	window time.Duration
	hits   map[string][]time.Time
}

func newLimiter(limit int, window time.Duration) *limiter {
	return &limiter{limit: limit, window: window, hits: map[string][]time.Time{}}
}

// allow records an attempt and reports whether it is within the limit.
func (l *limiter) allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	var kept []time.Time
	for _, t := range l.hits[key] {
		if now.Sub(t) < l.window {
			kept = append(kept, t)
		}
	}
	if len(kept) >= l.limit {
		l.hits[key] = kept
		return false
	}
	l.hits[key] = append(kept, now)
	return true
}

func clientKey(r *http.Request) string {
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	return host
}

func (l *Lab) tooMany(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "60")
	l.fail(w, http.StatusTooManyRequests, "too many requests")
}

func ratelimitModule() module {
	return module{
		name:   "ratelimit",
		routes: ratelimitRoutes,
		paths: `  /logs:
    get:
      tags: [ops]
      operationId: listLogs
      summary: The tenant's request logs, a page at a time
      security: [{ApiKey: []}]
      parameters:
        - {name: per_page, in: query, schema: {type: integer, minimum: 1, maximum: 20, example: 10}}
        - {name: page, in: query, schema: {type: integer, minimum: 1, example: 1}}
      responses:
        "200": {description: Log lines}
  /audit:
    get:
      tags: [ops]
      operationId: auditTrail
      summary: The tenant's audit trail
      security: [{ApiKey: []}]
      responses:
        "200": {description: Audit events}
  /orders:
    post:
      tags: [shop]
      operationId: placeOrder
      summary: Place an order for a product
      security: [{ApiKey: []}]
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [product_id]
              properties:
                product_id: {type: integer, example: 3}
                quantity: {type: integer, minimum: 1, maximum: 5, example: 1}
      responses:
        "201": {description: Ordered}
  /attachments:
    post:
      tags: [files]
      operationId: uploadAttachment
      summary: Upload an attachment (at most 1 MiB)
      security: [{ApiKey: []}]
      requestBody:
        required: true
        content:
          application/octet-stream:
            schema: {type: string, format: binary}
      responses:
        "201": {description: Stored}
        "413": {description: Too large}
  /validate:
    get:
      tags: [tools]
      operationId: validateEmail
      summary: Check that an e-mail address is well formed
      security: []
      parameters:
        - {name: email, in: query, required: true, schema: {type: string, pattern: "^([a-z]+)+@[a-z]+\\.[a-z]+$", example: ann@example.com}}
      responses:
        "200": {description: Verdict}
`,
		manifest: []Flaw{
			{Rule: "ratelimit.missing", Method: "POST", Path: "/auth/login", Active: true, Note: "logins are not throttled"},
			{Rule: "ratelimit.unbounded-pagination", Method: "GET", Path: "/logs", Note: "per_page above the documented 20 is honoured"},
			{Rule: "ratelimit.oversized-response", Method: "GET", Path: "/audit", Note: "1,500 events in one answer, no pagination"},
			{Rule: "ratelimit.business-flow", Method: "POST", Path: "/orders", Active: true, Note: "orders can be placed by a script at any rate"},
			{Rule: "ratelimit.upload-limit", Method: "POST", Path: "/attachments", Active: true, Deep: true, Note: "uploads of any size are stored"},
			{Rule: "ratelimit.redos", Method: "GET", Path: "/validate", Active: true, Deep: true, Note: "the e-mail check backtracks exponentially"},
			{Rule: "tls.cookie-flags", Method: "*", Path: "*", Note: "the login's session cookie has neither HttpOnly nor SameSite"},
		},
	}
}

// backtrack matches ^(a+)+@ the way a backtracking engine does: exponential on a run of letters with no @.
func backtrack(s string, i int, steps *int) bool {
	*steps++
	if *steps > 1<<28 {
		return false // the lab's own safety bound
	}
	if i < len(s) && s[i] == '@' {
		return i > 0
	}
	for j := i + 1; j <= len(s); j++ {
		if s[j-1] < 'a' || s[j-1] > 'z' {
			return false
		}
		if backtrack(s, j, steps) {
			return true
		}
	}
	return false
}

func ratelimitRoutes(l *Lab, mux *http.ServeMux) {
	orders := newLimiter(5, time.Minute)
	mux.HandleFunc("GET /logs", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := keyAuth(r); !ok {
			l.fail(w, http.StatusUnauthorized, "Invalid API key")
			return
		}
		per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
		if per < 1 {
			per = 10
		}
		if per > 20 && !l.vulnerable() {
			per = 20
		}
		per = min(per, 500)
		out := make([]map[string]any, per)
		for i := range out {
			out[i] = map[string]any{"n": i + 1, "line": fmt.Sprintf("GET /products 200 %dms", 3+i%7)}
		}
		l.writeJSON(w, http.StatusOK, true, map[string]any{"data": out, "per_page": per})
	})
	mux.HandleFunc("GET /audit", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := keyAuth(r); !ok {
			l.fail(w, http.StatusUnauthorized, "Invalid API key")
			return
		}
		n := 1500
		if !l.vulnerable() {
			n = 100
		}
		out := make([]map[string]any, n)
		for i := range out {
			out[i] = map[string]any{"id": i + 1, "event": "login", "at": "2026-11-01T10:00:00Z"}
		}
		body := map[string]any{"events": out}
		if !l.vulnerable() {
			body["next"] = "/audit?cursor=100"
		}
		l.writeJSON(w, http.StatusOK, true, body)
	})
	mux.HandleFunc("POST /orders", func(w http.ResponseWriter, r *http.Request) {
		key, ok := keyAuth(r)
		if !ok {
			l.fail(w, http.StatusUnauthorized, "Invalid API key")
			return
		}
		if !l.vulnerable() {
			var body struct {
				ProductID int `json:"product_id"`
			}
			if r.Header.Get("Content-Type") != "application/json" || json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<12)).Decode(&body) != nil || body.ProductID < 1 {
				l.fail(w, http.StatusBadRequest, "a JSON body with product_id is required")
				return
			}
			if !orders.allow(key.Tenant) {
				l.tooMany(w)
				return
			}
		}
		l.mu.Lock()
		l.counter++
		id := 9000 + l.counter
		l.mu.Unlock()
		l.writeJSON(w, http.StatusCreated, true, map[string]any{"id": id, "status": "placed"})
	})
	mux.HandleFunc("POST /attachments", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := keyAuth(r); !ok {
			l.fail(w, http.StatusUnauthorized, "Invalid API key")
			return
		}
		limit := int64(1 << 20)
		if l.vulnerable() {
			limit = 64 << 20
		}
		n, err := io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, limit))
		if err != nil {
			l.fail(w, http.StatusRequestEntityTooLarge, "attachments are limited to 1 MiB")
			return
		}
		l.writeJSON(w, http.StatusCreated, true, map[string]any{"stored_bytes": n})
	})
	mux.HandleFunc("GET /validate", func(w http.ResponseWriter, r *http.Request) {
		email := r.URL.Query().Get("email")
		if len(email) > 64 {
			l.fail(w, http.StatusBadRequest, "too long")
			return
		}
		valid := false
		if l.vulnerable() {
			steps := 0
			valid = backtrack(email, 0, &steps)
		} else {
			at := -1
			for i, c := range email {
				if c == '@' {
					at = i
					break
				}
			}
			valid = at > 0
		}
		l.writeJSON(w, http.StatusOK, false, map[string]bool{"valid": valid})
	})
}
