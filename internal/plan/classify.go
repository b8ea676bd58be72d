// Package plan turns a spec (or discovered endpoints) into the operations a
// scan tests: it classifies each operation for the safety table (CONTRACTS §7),
// builds concrete sample requests, and harvests object IDs from responses.
package plan

import (
	"regexp"
	"strings"
	"unicode"

	"github.com/rampart-scan/rampart/internal/spec"
)

// Class is a set of classifier verdicts about one operation.
type Class uint32

// Classes the safety table and the families care about.
const (
	Login Class = 1 << iota
	OTPCheck
	PasswordReset
	ServiceAction
	SensitiveFlow
	// LLMSpec: an LLM endpoint known from the spec or an exact chat route (POST always allowed).
	LLMSpec
	// LLMPath: only looks like an LLM endpoint by its path (POST needs --active).
	LLMPath
	// Create: a POST that creates an object.
	Create
)

// Has reports whether every bit of x is set.
func (c Class) Has(x Class) bool { return c&x == x }

// String lists the class names.
func (c Class) String() string {
	names := []string{"login", "otp", "password-reset", "service-action", "sensitive-flow", "llm", "llm-by-path", "create"}
	var out []string
	for i, n := range names {
		if c&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return strings.Join(out, ",")
}

var camel = regexp.MustCompile(`([a-z0-9])([A-Z])`)

// words splits identifiers and prose into lower-case tokens ("createDB" → create, db).
func words(texts ...string) map[string]bool {
	out := map[string]bool{}
	for _, t := range texts {
		t = camel.ReplaceAllString(t, "$1 $2")
		for _, w := range strings.FieldsFunc(strings.ToLower(t), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			out[w] = true
			if len(w) > 3 && strings.HasSuffix(w, "s") {
				out[strings.TrimSuffix(w, "s")] = true
			}
		}
	}
	return out
}

func anyWord(ws map[string]bool, list ...string) bool {
	for _, w := range list {
		if ws[w] {
			return true
		}
	}
	return false
}

// staticPath is the path without its {parameters}.
func staticPath(p string) string {
	var parts []string
	for _, s := range strings.Split(p, "/") {
		if !strings.HasPrefix(s, "{") {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "/")
}

func hasPathParam(p string) bool { return strings.Contains(p, "{") }

var (
	loginWords   = []string{"login", "signin", "logon", "authenticate", "authentication", "token", "session"}
	otpWords     = []string{"otp", "mfa", "totp", "2fa", "pin", "passcode"}
	resetWords   = []string{"forgot", "recover", "recovery"}
	serviceWords = []string{"reset", "drop", "dropdb", "createdb", "seed", "init", "initialize", "shutdown", "logout", "signout", "purge", "truncate", "wipe", "flush", "restart", "reboot", "destroy", "migrate", "teardown", "nuke"}
	flowWords    = []string{"purchase", "checkout", "order", "payment", "pay", "transfer", "redeem", "coupon", "signup", "register", "registration", "invite", "invitation", "vote", "booking", "book", "reservation", "reserve", "ticket", "comment", "post", "review", "message"}
	// technicalWords mark integration plumbing, never a business flow ("register a webhook").
	technicalWords = []string{"webhook", "hook", "callback", "subscription", "device", "token", "key", "client", "integration", "app", "setting", "config"}
	llmHintWords   = []string{"chat", "chatbot", "assistant", "ask", "completion", "completions", "agent", "llm", "copilot", "gpt", "ai", "bot", "prompt", "inference"}
	llmPathWords   = []string{"chat", "ask", "assistant", "agent", "llm", "generate"}
	promptFields   = []string{"prompt", "input", "question", "query", "message"}
	exactLLMPaths  = []string{"/v1/chat/completions", "/v1/completions", "/v1/messages", "/chat/completions"}
)

// bodySchema is the operation's JSON (or form) request schema, if any.
func bodySchema(op *spec.Operation) *spec.Schema {
	if op.RequestBody == nil {
		return nil
	}
	if m := spec.JSONMediaType(op.RequestBody.Content); m != nil {
		return m.Schema
	}
	for _, ct := range []string{"application/x-www-form-urlencoded", "multipart/form-data"} {
		if m := op.RequestBody.Content[ct]; m != nil {
			return m.Schema
		}
	}
	return nil
}

// fieldNames lists property names of an object schema, one level deep (allOf included).
func fieldNames(s *spec.Schema) map[string]*spec.Schema {
	out := map[string]*spec.Schema{}
	var walk func(*spec.Schema, int)
	walk = func(s *spec.Schema, d int) {
		if s == nil || d > 8 {
			return
		}
		for k, v := range s.Properties {
			out[strings.ToLower(k)] = v
		}
		for _, sub := range s.AllOf {
			walk(sub, d+1)
		}
	}
	walk(s, 0)
	return out
}

func hasField(fields map[string]*spec.Schema, pred func(string) bool) bool {
	for k := range fields {
		if pred(k) {
			return true
		}
	}
	return false
}

// Classify decides an operation's classes from path, operationId, tags, summary and schema together.
func Classify(op *spec.Operation) Class {
	var c Class
	method := strings.ToUpper(op.Method)
	pathW := words(staticPath(op.Path))
	textW := words(op.OperationID, op.Summary)
	tagW := words(op.Tags...)
	fields := fieldNames(bodySchema(op))
	hasPassword := hasField(fields, func(k string) bool { return strings.Contains(k, "password") || k == "passwd" || k == "pass" })
	hasUser := hasField(fields, func(k string) bool {
		return k == "username" || k == "user" || k == "email" || k == "login" || k == "user_name" || k == "phone" || k == "grant_type" || k == "client_id"
	})
	hasCode := hasField(fields, func(k string) bool {
		return k == "code" || k == "otp" || k == "pin" || k == "token" || strings.HasSuffix(k, "_code")
	})
	isPost := method == "POST"

	resetSignal := (pathW["password"] || textW["password"]) && (anyWord(pathW, "reset") || anyWord(textW, "reset")) ||
		anyWord(pathW, resetWords...) || anyWord(textW, resetWords...)
	switch {
	case resetSignal && method != "GET":
		c |= PasswordReset
	case isPost && signals(anyWord(pathW, otpWords...) || pathW["verify"] && pathW["code"], anyWord(textW, otpWords...), hasCode && !hasPassword) >= 2:
		c |= OTPCheck
	case isPost && signals(anyWord(pathW, loginWords...) || pathW["auth"] && !hasPathParam(op.Path), anyWord(textW, loginWords...) || textW["log"] && textW["in"], hasPassword && hasUser, tagW["auth"] && hasPassword) >= 2:
		c |= Login
	}
	if !hasPathParam(op.Path) && c&(PasswordReset|Login|OTPCheck) == 0 {
		last := lastStatic(op.Path)
		if anyWord(words(last), serviceWords...) || (anyWord(textW, serviceWords...) && method != "GET") {
			c |= ServiceAction
		}
	}
	if isPost && !hasPathParam(lastSegment(op.Path)) && c&(Login|OTPCheck|PasswordReset) == 0 {
		c |= Create
		if (anyWord(pathW, flowWords...) || anyWord(textW, flowWords...)) && !anyWord(pathW, technicalWords...) {
			c |= SensitiveFlow
		}
	}
	if isLLMSpec(op, pathW, textW, tagW, fields) {
		c |= LLMSpec
	} else if anyWord(pathW, llmPathWords...) {
		c |= LLMPath
	}
	if c.Has(LLMSpec) || c.Has(LLMPath) {
		c &^= SensitiveFlow | Create
	}
	return c
}

func signals(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

func lastSegment(p string) string {
	p = strings.TrimSuffix(p, "/")
	return p[strings.LastIndex(p, "/")+1:]
}

func lastStatic(p string) string {
	segs := strings.Split(strings.Trim(p, "/"), "/")
	for i := len(segs) - 1; i >= 0; i-- {
		if !strings.HasPrefix(segs[i], "{") {
			return segs[i]
		}
	}
	return ""
}

func isLLMSpec(op *spec.Operation, pathW, textW, tagW map[string]bool, fields map[string]*spec.Schema) bool {
	p := strings.TrimSuffix(op.Path, "/")
	for _, e := range exactLLMPaths {
		if strings.HasSuffix(p, e) {
			return true
		}
	}
	if strings.ToUpper(op.Method) != "POST" {
		return false
	}
	prompt := false
	if m, ok := fields["messages"]; ok && m != nil && m.Items != nil {
		item := fieldNames(m.Items)
		if _, ok := item["content"]; ok {
			prompt = true
		}
	}
	for _, f := range promptFields {
		if s, ok := fields[f]; ok && (s == nil || s.PrimaryType() == "" || s.PrimaryType() == "string") {
			prompt = true
		}
	}
	if !prompt {
		return false
	}
	return anyWord(pathW, llmHintWords...) || anyWord(textW, llmHintWords...) || anyWord(tagW, llmHintWords...)
}
