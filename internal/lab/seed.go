package lab

import (
	"encoding/json"
	"net/http"
	"path"
	"strconv"
	"strings"
)

// The seeds' scenarios (../shared/seeds): API keys that map to tenants, tenant
// routes without the tenant check, a tenant taken from X-Tenant-ID, a file
// route open to traversal, and JWT routes that trust unverified tokens and
// skip the owner check. The hardened twin is the seeds' fixed shape.

type tenantRecord struct {
	Tenant string `json:"tenant"`
	Data   string `json:"data"`
}

var tenantResources = map[string]tenantRecord{
	"tenant_a": {Tenant: "tenant_a", Data: "Acme quarterly forecast: revenue 4.2M, churn 1.9%"},
	"tenant_b": {Tenant: "tenant_b", Data: "Globex merger memo: acquire Initech in Q3"},
}

var tenantRows = map[string][]map[string]any{
	"tenant_a": {{"id": "rec_a1", "tenant": "tenant_a", "customer": "Wile E. Coyote", "balance": 1200}},
	"tenant_b": {{"id": "rec_b1", "tenant": "tenant_b", "customer": "Hank Scorpio", "balance": 98000}},
}

// files is the lab's virtual file system; paths outside /data are canned.
var files = map[string]string{
	"/data/tenant_a/report.txt":  "tenant_a report: pipeline 12 deals\n",
	"/data/tenant_b/report.txt":  "tenant_b report: Initech acquisition, due diligence in progress\n",
	"/data/tenant_b/payroll.csv": "name,salary\nHank Scorpio,250000\n",
	"/etc/passwd":                "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n",
}

type resource struct {
	ID    int    `json:"id"`
	Owner string `json:"owner_id"`
	Name  string `json:"name"`
	Notes string `json:"notes"`
}

var resources = map[int]resource{
	1001: {ID: 1001, Owner: "alice", Name: "alice-roadmap", Notes: "launch the rocket skates in May"},
	1002: {ID: 1002, Owner: "alice", Name: "alice-budget", Notes: "anvils: 40 units"},
	2001: {ID: 2001, Owner: "bob", Name: "bob-blueprint", Notes: "crane tower B, 14 floors"},
}

func seedModule() module {
	return module{
		name:   "seed",
		routes: seedRoutes,
		paths: `  /auth/login:
    post:
      tags: [auth]
      operationId: login
      summary: Log in with a username and password for an access token
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
        "200":
          description: An access token
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Token"}
        "401": {description: Bad credentials}
  /tenant/{tenant_id}/resource:
    parameters:
      - {name: tenant_id, in: path, required: true, schema: {type: string, example: tenant_a}}
    get:
      tags: [tenants]
      operationId: readTenantResource
      summary: Read the tenant's resource
      security: [{ApiKey: []}]
      responses:
        "200":
          description: The resource
          content:
            application/json:
              schema: {$ref: "#/components/schemas/TenantRecord"}
        "403": {description: Tenant mismatch}
    post:
      tags: [tenants]
      operationId: writeTenantResource
      summary: Write the tenant's resource
      security: [{ApiKey: []}]
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              properties:
                data: {type: string, example: updated forecast}
      responses:
        "200": {description: Stored}
        "403": {description: Tenant mismatch}
  /tenant-data:
    get:
      tags: [tenants]
      operationId: readTenantData
      summary: Read the caller's tenant records (tenant chosen by X-Tenant-ID)
      security: [{ApiKey: []}]
      parameters:
        - {name: X-Tenant-ID, in: header, required: true, schema: {type: string, example: tenant_a}}
      responses:
        "200":
          description: Records
          content:
            application/json:
              schema: {type: array, items: {type: object}}
  /data/{tenant_id}/{file}:
    get:
      tags: [files]
      operationId: readTenantFile
      summary: Read a file from the tenant's folder
      security: [{ApiKey: []}]
      parameters:
        - {name: tenant_id, in: path, required: true, schema: {type: string, example: tenant_a}}
        - {name: file, in: path, required: true, schema: {type: string, example: report.txt}}
      responses:
        "200":
          description: The file
          content:
            text/plain:
              schema: {type: string}
  /secure-data:
    get:
      tags: [secure]
      operationId: readSecureData
      summary: Sensitive data for holders of the admin:read:data scope
      security: [{BearerJWT: []}]
      responses:
        "200":
          description: Sensitive data
          content:
            application/json:
              schema: {type: object, properties: {data: {type: string}}}
        "403": {description: Insufficient scope}
  /resources:
    get:
      tags: [resources]
      operationId: listResources
      summary: List the caller's resources
      security: [{BearerJWT: []}]
      responses:
        "200":
          description: The caller's resources
          content:
            application/json:
              schema: {type: array, items: {$ref: "#/components/schemas/Resource"}}
  /resources/{resource_id}:
    get:
      tags: [resources]
      operationId: getResource
      summary: Read one resource
      security: [{BearerJWT: []}]
      parameters:
        - {name: resource_id, in: path, required: true, schema: {type: integer, example: 1001}}
      responses:
        "200":
          description: The resource
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Resource"}
        "403": {description: Not the owner}
        "404": {description: No such resource}
`,
		schemas: `    Token:
      type: object
      properties:
        access_token: {type: string}
        token_type: {type: string}
        expires_in: {type: integer}
    TenantRecord:
      type: object
      properties:
        tenant: {type: string}
        data: {type: string}
    Resource:
      type: object
      properties:
        id: {type: integer}
        owner_id: {type: string}
        name: {type: string}
        notes: {type: string}
`,
		manifest: []Flaw{
			{Rule: "bola.cross-tenant", Method: "GET", Path: "/tenant/{tenant_id}/resource", Note: "tenant_a_key reads tenant_b's resource: the path's tenant is never compared with the key's"},
			{Rule: "bola.cross-tenant-write", Method: "POST", Path: "/tenant/{tenant_id}/resource", Active: true, Note: "tenant_a_key writes tenant_b's resource"},
			{Rule: "bola.cross-tenant", Method: "GET", Path: "/tenant-data", Note: "the tenant comes from X-Tenant-ID and is not checked against the key"},
			{Rule: "bola.cross-tenant", Method: "GET", Path: "/data/{tenant_id}/{file}", Note: "another tenant's folder is readable with one's own key"},
			{Rule: "input.path-traversal", Method: "GET", Path: "/data/{tenant_id}/{file}", Note: "the file name is joined without cleaning: ../ escapes the tenant folder"},
			{Rule: "jwt.signature-not-verified", Method: "*", Path: "*", Note: "decode_token trusts the payload without checking the signature"},
			{Rule: "jwt.expired-accepted", Method: "*", Path: "*", Note: "exp is not checked"},
			{Rule: "jwt.audience-not-validated", Method: "*", Path: "*", Note: "aud is not checked"},
			{Rule: "jwt.issuer-not-validated", Method: "*", Path: "*", Note: "iss is not checked"},
			{Rule: "jwt.claim-escalation", Method: "GET", Path: "/secure-data", Note: "a token whose scope claim is raised to admin:read:data unlocks the sensitive data"},
			{Rule: "bola.object-access", Method: "GET", Path: "/resources/{resource_id}", Note: "bob reads alice's resource: the owner is never checked"},
		},
	}
}

func seedRoutes(l *Lab, mux *http.ServeMux) {
	mux.HandleFunc("POST /auth/login", l.login)

	// enforceTenant is the seed's enforce_tenant_path_param; the vulnerable twin skips it.
	enforceTenant := func(w http.ResponseWriter, r *http.Request, tenant string) (apiKey, bool) {
		key, ok := keyAuth(r)
		if !ok {
			l.fail(w, http.StatusUnauthorized, "Invalid API key")
			return key, false
		}
		if !l.vulnerable() && tenant != key.Tenant {
			l.fail(w, http.StatusForbidden, "Tenant mismatch")
			return key, false
		}
		return key, true
	}

	mux.HandleFunc("GET /tenant/{tenant_id}/resource", func(w http.ResponseWriter, r *http.Request) {
		tenant := r.PathValue("tenant_id")
		if _, ok := enforceTenant(w, r, tenant); !ok {
			return
		}
		rec, ok := tenantResources[tenant]
		if !ok {
			l.fail(w, http.StatusNotFound, "no such tenant")
			return
		}
		l.writeJSON(w, http.StatusOK, true, rec)
	})
	mux.HandleFunc("POST /tenant/{tenant_id}/resource", func(w http.ResponseWriter, r *http.Request) {
		tenant := r.PathValue("tenant_id")
		key, ok := enforceTenant(w, r, tenant)
		if !ok {
			return
		}
		if !contains(key.Scopes, "write:own") {
			l.fail(w, http.StatusForbidden, "Insufficient scope")
			return
		}
		var body map[string]any
		if json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&body) != nil {
			l.fail(w, http.StatusBadRequest, "invalid JSON body")
			return
		}
		l.writeJSON(w, http.StatusOK, true, map[string]string{"tenant": tenant, "status": "ok"})
	})
	mux.HandleFunc("GET /tenant-data", func(w http.ResponseWriter, r *http.Request) {
		key, ok := keyAuth(r)
		if !ok {
			l.fail(w, http.StatusUnauthorized, "Invalid API key")
			return
		}
		tenant := key.Tenant
		if h := r.Header.Get("X-Tenant-ID"); h != "" {
			if l.vulnerable() {
				tenant = h // trusted as given
			} else if h != key.Tenant {
				l.fail(w, http.StatusForbidden, "Tenant mismatch")
				return
			}
		}
		rows := tenantRows[tenant]
		if rows == nil {
			rows = []map[string]any{}
		}
		l.writeJSON(w, http.StatusOK, true, rows)
	})
	mux.HandleFunc("GET /data/{tenant_id}/{file...}", func(w http.ResponseWriter, r *http.Request) {
		tenant, name := r.PathValue("tenant_id"), r.PathValue("file")
		if _, ok := enforceTenant(w, r, tenant); !ok {
			return
		}
		var p string
		if l.vulnerable() {
			p = path.Join("/data", tenant, name) // f"/data/{tenant_id}/{user_file}", unchecked
		} else {
			if strings.Contains(name, "/") || strings.Contains(name, `\`) || strings.Contains(name, "..") {
				l.fail(w, http.StatusBadRequest, "invalid file name")
				return
			}
			p = "/data/" + tenant + "/" + name
		}
		content, ok := files[p]
		if !ok {
			l.fail(w, http.StatusNotFound, "no such file")
			return
		}
		l.headers(w, true)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte(content)) //nolint:errcheck
	})
	mux.HandleFunc("GET /secure-data", func(w http.ResponseWriter, r *http.Request) {
		u, claims, ok := l.tokenUser(r)
		if !ok {
			l.fail(w, http.StatusUnauthorized, "Invalid authentication credentials")
			return
		}
		allowed := u.Role == "admin" // hardened: server-side role
		if l.vulnerable() {
			allowed = str(claims["scope"]) == "admin:read:data" // trusted claim
		}
		if !allowed {
			l.fail(w, http.StatusForbidden, "Insufficient scope")
			return
		}
		l.writeJSON(w, http.StatusOK, true, map[string]string{"data": "sensitive information: all tenants' billing export at s3://lab-exports/2026-11"})
	})
	mux.HandleFunc("GET /resources", func(w http.ResponseWriter, r *http.Request) {
		u, _, ok := l.tokenUser(r)
		if !ok {
			l.fail(w, http.StatusUnauthorized, "Invalid authentication credentials")
			return
		}
		out := []resource{}
		for _, id := range []int{1001, 1002, 2001} {
			if resources[id].Owner == u.Name {
				out = append(out, resources[id])
			}
		}
		l.writeJSON(w, http.StatusOK, true, out)
	})
	mux.HandleFunc("GET /resources/{resource_id}", func(w http.ResponseWriter, r *http.Request) {
		u, _, ok := l.tokenUser(r)
		if !ok {
			l.fail(w, http.StatusUnauthorized, "Invalid authentication credentials")
			return
		}
		id, err := strconv.Atoi(r.PathValue("resource_id"))
		res, found := resources[id]
		if err != nil || !found {
			l.fail(w, http.StatusNotFound, "Resource not found")
			return
		}
		if !l.vulnerable() && res.Owner != u.Name {
			l.fail(w, http.StatusForbidden, "Forbidden: resource ownership mismatch")
			return
		}
		l.writeJSON(w, http.StatusOK, true, res)
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
