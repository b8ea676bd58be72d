package lab

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
)

// The input validation routes: a product search whose category is pasted into
// SQL, an HTML search page that echoes its query, a feedback form that takes
// any body encoding, and a token endpoint that hands operator objects to its
// query. The middleware reflects any Origin and answers TRACE in the vulnerable twin.

type product struct {
	ID       int    `json:"id"`
	Name     string `json:"name"`
	Category string `json:"category"`
	Price    int    `json:"price"`
}

var products = []product{
	{1, "Rocket skates", "sports", 4999}, {2, "Giant magnet", "tools", 1999},
	{3, "Anvil", "tools", 2999}, {4, "Tennis racket", "sports", 8999}, {5, "Bird seed", "garden", 499},
}

func inputModule() module {
	return module{
		name:   "input",
		routes: inputRoutes,
		paths: `  /products:
    get:
      tags: [shop]
      operationId: listProducts
      summary: Products of a category
      security: [{ApiKey: []}]
      parameters:
        - {name: category, in: query, required: false, schema: {type: string, example: tools}}
        - {name: limit, in: query, required: false, schema: {type: integer, minimum: 1, maximum: 50, example: 10}}
      responses:
        "200":
          description: Products
          content:
            application/json:
              schema: {type: array, items: {$ref: "#/components/schemas/Product"}}
  /search:
    get:
      tags: [shop]
      operationId: searchPage
      summary: The shop's search page
      security: []
      parameters:
        - {name: q, in: query, required: false, schema: {type: string, example: anvil}}
      responses:
        "200":
          description: HTML results
          content:
            text/html:
              schema: {type: string}
  /feedback:
    post:
      tags: [shop]
      operationId: sendFeedback
      summary: Send feedback to the shop
      security: [{ApiKey: []}]
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [message]
              properties:
                message: {type: string, maxLength: 500, example: great anvils}
      responses:
        "201": {description: Thanks}
        "400": {description: Bad body}
  /auth/token:
    post:
      tags: [auth]
      operationId: legacyToken
      summary: Log in to the legacy token service with a username and password
      security: []
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [username, password]
              properties:
                username: {type: string, example: alice}
                password: {type: string, format: password}
      responses:
        "200": {description: A token}
        "401": {description: Bad credentials}
`,
		schemas: `    Product:
      type: object
      properties:
        id: {type: integer}
        name: {type: string}
        category: {type: string}
        price: {type: integer}
`,
		manifest: []Flaw{
			{Rule: "input.sql-injection", Method: "GET", Path: "/products", Note: "category is concatenated into SQL: a quote is a syntax error, ' OR '1'='1 lists everything"},
			{Rule: "input.reflected-markup", Method: "GET", Path: "/search", Note: "q is echoed unescaped in HTML"},
			{Rule: "input.schema-not-enforced", Method: "GET", Path: "/products", Note: "limit above the documented maximum of 50 is accepted"},
			{Rule: "input.content-type-confusion", Method: "POST", Path: "/feedback", Active: true, Note: "form and XML bodies are accepted too"},
			{Rule: "input.nosql-injection", Method: "POST", Path: "/auth/token", Active: true, Note: "password {\"$ne\": ...} matches any password"},
			{Rule: "input.path-traversal", Method: "GET", Path: "/data/{tenant_id}/{file}", Note: "../ in the file name leaves the tenant folder"},
			{Rule: "input.cors-reflection", Method: "*", Path: "*", Note: "every Origin is reflected with credentials"},
			{Rule: "input.dangerous-methods", Method: "*", Path: "*", Note: "TRACE echoes the request"},
			{Rule: "exposure.stack-trace", Method: "POST", Path: "/feedback", Active: true, Note: "a malformed body panics and the stack is returned"},
		},
	}
}

// cors is the lab's CORS middleware: any origin (and null) with credentials in
// the vulnerable twin, an allow-list in the hardened one.
func (l *Lab) cors(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return
	}
	w.Header().Add("Vary", "Origin")
	if l.vulnerable() || origin == "https://app.lab.rampart.local" {
		w.Header().Set("Access-Control-Allow-Origin", origin)
		w.Header().Set("Access-Control-Allow-Credentials", "true")
	}
}

// trace echoes TRACE requests in the vulnerable twin.
func (l *Lab) trace(w http.ResponseWriter, r *http.Request) bool {
	if (r.Method != "TRACE" && r.Method != "TRACK") || !l.vulnerable() {
		return false
	}
	w.Header().Set("Content-Type", "message/http")
	fmt.Fprintf(w, "%s %s %s\r\n", r.Method, r.URL.RequestURI(), r.Proto)
	r.Header.Write(w) //nolint:errcheck
	return true
}

// sqlWhere evaluates the vulnerable twin's "WHERE category = '<input>'" with a
// toy parser: quotes must balance, and AND/OR of 'a'='b' terms are honoured.
func sqlWhere(input string) (func(product) bool, error) {
	q := "category = '" + input + "'"
	if i := strings.Index(q, "--"); i >= 0 {
		q = q[:i]
	}
	if strings.Count(q, "'")%2 != 0 {
		return nil, fmt.Errorf(`SQLite error: unrecognized token: "'%s"`, strings.TrimPrefix(q[strings.LastIndex(q, "'"):], "'"))
	}
	var terms []string
	var ops []string
	rest := q
	for {
		iAnd, iOr := indexWord(rest, " AND "), indexWord(rest, " OR ")
		i, op := iAnd, "AND"
		if iOr >= 0 && (iAnd < 0 || iOr < iAnd) {
			i, op = iOr, "OR"
		}
		if i < 0 {
			terms = append(terms, strings.TrimSpace(rest))
			break
		}
		terms = append(terms, strings.TrimSpace(rest[:i]))
		ops = append(ops, op)
		rest = rest[i+len(op)+2:]
	}
	eval := func(term string, p product) (bool, error) {
		l, r, ok := strings.Cut(term, "=")
		if !ok {
			return false, fmt.Errorf("SQLite error: near %q: syntax error", term)
		}
		val := func(x string) (string, error) {
			x = strings.TrimSpace(x)
			if x == "category" {
				return p.Category, nil
			}
			if len(x) >= 2 && x[0] == '\'' && x[len(x)-1] == '\'' {
				return x[1 : len(x)-1], nil
			}
			if _, err := strconv.Atoi(x); err == nil {
				return x, nil
			}
			return "", fmt.Errorf("SQLite error: no such column: %s", x)
		}
		a, err := val(l)
		if err != nil {
			return false, err
		}
		b, err := val(r)
		return a == b, err
	}
	for _, t := range terms {
		if _, err := eval(t, products[0]); err != nil {
			return nil, err
		}
	}
	return func(p product) bool {
		res, _ := eval(terms[0], p)
		for i, op := range ops {
			v, _ := eval(terms[i+1], p)
			if op == "AND" {
				res = res && v
			} else {
				res = res || v
			}
		}
		return res
	}, nil
}

func indexWord(s, w string) int {
	inQuote := false
	for i := 0; i+len(w) <= len(s); i++ {
		if s[i] == '\'' {
			inQuote = !inQuote
		}
		if !inQuote && strings.EqualFold(s[i:i+len(w)], w) {
			return i
		}
	}
	return -1
}

func inputRoutes(l *Lab, mux *http.ServeMux) {
	mux.HandleFunc("GET /products", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := keyAuth(r); !ok {
			l.fail(w, http.StatusUnauthorized, "Invalid API key")
			return
		}
		limit := 10
		if v := r.URL.Query().Get("limit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || (!l.vulnerable() && n > 50) {
				l.fail(w, http.StatusBadRequest, "limit must be an integer from 1 to 50")
				return
			}
			limit = n
		}
		cat := r.URL.Query().Get("category")
		match := func(p product) bool { return cat == "" || p.Category == cat }
		if l.vulnerable() && cat != "" {
			m, err := sqlWhere(cat)
			if err != nil {
				l.fail(w, http.StatusInternalServerError, err.Error())
				return
			}
			match = m
		}
		out := []product{}
		for _, p := range products {
			if match(p) && len(out) < limit {
				out = append(out, p)
			}
		}
		l.writeJSON(w, http.StatusOK, true, out)
	})
	mux.HandleFunc("GET /search", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query().Get("q")
		shown := html.EscapeString(q)
		if l.vulnerable() {
			shown = q
		}
		l.headers(w, false)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!doctype html><html><body><h1>Results for %s</h1><ul><li>Anvil</li></ul></body></html>\n", shown)
	})
	mux.HandleFunc("POST /feedback", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := keyAuth(r); !ok {
			l.fail(w, http.StatusUnauthorized, "Invalid API key")
			return
		}
		if l.vulnerable() {
			defer func() {
				if v := recover(); v != nil {
					w.Header().Set("Content-Type", "text/plain; charset=utf-8")
					w.WriteHeader(http.StatusInternalServerError)
					fmt.Fprintf(w, "panic: %v\n\n%s", v, debug.Stack())
				}
			}()
		}
		body, _ := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<12))
		var msg string
		ct := r.Header.Get("Content-Type")
		switch {
		case strings.HasPrefix(ct, "application/json"):
			var in *struct {
				Message string `json:"message"`
			}
			if err := json.Unmarshal(body, &in); err != nil && !l.vulnerable() {
				l.fail(w, http.StatusBadRequest, "invalid JSON body")
				return
			}
			if in == nil && !l.vulnerable() {
				l.fail(w, http.StatusBadRequest, "invalid JSON body")
				return
			}
			msg = in.Message // a nil pointer on malformed input in the vulnerable twin
		case l.vulnerable() && strings.HasPrefix(ct, "application/x-www-form-urlencoded"):
			v, _ := url.ParseQuery(string(body))
			msg = v.Get("message")
		case l.vulnerable() && strings.Contains(ct, "xml"):
			var x struct {
				Message string `xml:"message"`
			}
			_ = xml.Unmarshal(body, &x)
			msg = x.Message
		default:
			l.fail(w, http.StatusUnsupportedMediaType, "send application/json")
			return
		}
		if msg == "" || len(msg) > 500 {
			l.fail(w, http.StatusBadRequest, "message is required (at most 500 characters)")
			return
		}
		l.writeJSON(w, http.StatusCreated, true, map[string]string{"status": "thanks", "message": msg})
	})
	mux.HandleFunc("POST /auth/token", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Username string `json:"username"`
			Password any    `json:"password"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<12)).Decode(&body); err != nil {
			l.fail(w, http.StatusBadRequest, "invalid JSON body")
			return
		}
		u, known := users[body.Username]
		ok := false
		switch p := body.Password.(type) {
		case string:
			ok = known && p == u.Password
		case map[string]any:
			if l.vulnerable() && known { // the body goes straight into a document-store filter
				if ne, has := p["$ne"]; has {
					ok = ne != u.Password
				}
				if _, has := p["$gt"]; has {
					ok = true
				}
			}
		}
		if !ok {
			l.fail(w, http.StatusUnauthorized, "invalid username or password")
			return
		}
		l.writeJSON(w, http.StatusOK, true, map[string]any{"access_token": "lgc_" + body.Username + "_" + strconv.Itoa(len(body.Username)*7919), "token_type": "Bearer"})
	})
}
