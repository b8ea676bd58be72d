package llm

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strings"

	"github.com/rampart-scan/rampart/internal/identity"
	"github.com/rampart-scan/rampart/internal/plan"
	"github.com/rampart-scan/rampart/internal/probe"
	"github.com/rampart-scan/rampart/internal/spec"
)

// shape is how an endpoint takes a conversation.
type shape int

const (
	// shapeField: {"<field>": "text", …} (an app-level endpoint).
	shapeField shape = iota
	// shapeMessages: the OpenAI chat and Anthropic messages shape,
	// {"model", "messages": [{"role", "content"}], "max_tokens"}.
	shapeMessages
	// shapePrompt: the OpenAI completions shape, {"model", "prompt", "max_tokens"}.
	shapePrompt
)

// Routes of the OpenAI and Anthropic protocols; their model and usage fields
// are part of the protocol, not a disclosure.
var protocolRoutes = map[string]shape{
	"/v1/chat/completions": shapeMessages,
	"/chat/completions":    shapeMessages,
	"/v1/messages":         shapeMessages,
	"/v1/completions":      shapePrompt,
}

// promptFieldOrder is the preference among prompt-like body fields.
var promptFieldOrder = []string{"messages", "prompt", "question", "message", "input", "query", "text", "content"}

var tokensFieldRe = regexp.MustCompile(`(?i)^(max_?(new_|output_|completion_)?tokens|max_?length|num_?predict)$`)

// endpoint is one AI endpoint and how to talk to it.
type endpoint struct {
	op          *plan.Operation
	shape       shape
	field       string // the body field that carries the text (shapeField), as the spec spells it
	tokensField string // the body field that bounds the answer, if any
	model       string // sent with the messages and prompt shapes
	protocol    bool   // an OpenAI/Anthropic-compatible route
	id          *identity.Identity
	benign      string          // answer to the benign prompt
	benignEx    *probe.Exchange // the exchange that answered it
}

// protocolShape reports whether a path ends with a protocol route.
func protocolShape(path string) (shape, bool) {
	p := strings.TrimSuffix(path, "/")
	for r, sh := range protocolRoutes {
		if strings.HasSuffix(p, r) {
			return sh, true
		}
	}
	return 0, false
}

// bodyProps are the top-level properties of the operation's JSON body, lower-cased name → spelling.
func bodyProps(o *plan.Operation) map[string]string {
	out := map[string]string{}
	if o.Spec == nil || o.Spec.RequestBody == nil {
		return out
	}
	mt := spec.JSONMediaType(o.Spec.RequestBody.Content)
	if mt == nil || mt.Schema == nil {
		return out
	}
	var walk func(*spec.Schema, int)
	walk = func(sc *spec.Schema, d int) {
		if sc == nil || d > 6 {
			return
		}
		for k := range sc.Properties {
			out[strings.ToLower(k)] = k
		}
		for _, sub := range sc.AllOf {
			walk(sub, d+1)
		}
	}
	walk(mt.Schema, 0)
	return out
}

// shapesFor lists the ways to talk to an operation, best first: the spec's
// own fields when documented, every common shape otherwise.
func shapesFor(o *plan.Operation) []endpoint {
	if sh, ok := protocolShape(o.Path); ok {
		return []endpoint{{op: o, shape: sh, tokensField: "max_tokens", protocol: true}}
	}
	props := bodyProps(o)
	tokens := ""
	var names []string
	for k := range props {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if tokensFieldRe.MatchString(k) {
			tokens = props[k]
			break
		}
	}
	for _, f := range promptFieldOrder {
		spelled, ok := props[f]
		if !ok {
			continue
		}
		if f == "messages" {
			return []endpoint{{op: o, shape: shapeMessages, field: spelled, tokensField: tokens}}
		}
		return []endpoint{{op: o, shape: shapeField, field: spelled, tokensField: tokens}}
	}
	if len(props) > 0 {
		return nil // documented, and no field takes a prompt
	}
	out := []endpoint{{op: o, shape: shapeMessages, field: "messages", tokensField: "max_tokens"}}
	for _, f := range []string{"prompt", "message", "question", "input", "query"} {
		out = append(out, endpoint{op: o, shape: shapeField, field: f})
	}
	return out
}

// request builds the call carrying a conversation: turns are the user's
// messages, answers the model's replies to all but the last.
func (e *endpoint) request(p *plan.Plan, turns, answers []string, maxTokens int) *probe.Request {
	req := p.Request(e.op, e.id)
	body := map[string]any{}
	if len(req.Body) > 0 {
		_ = json.Unmarshal(req.Body, &body)
		if body == nil {
			body = map[string]any{}
		}
	}
	switch e.shape {
	case shapeMessages:
		var msgs []any
		for i, t := range turns {
			msgs = append(msgs, map[string]any{"role": "user", "content": t})
			if i < len(answers) && i < len(turns)-1 {
				msgs = append(msgs, map[string]any{"role": "assistant", "content": answers[i]})
			}
		}
		field := e.field
		if field == "" {
			field = "messages"
		}
		body[field] = msgs
	case shapePrompt:
		body["prompt"] = transcriptPrompt(turns, answers)
	default:
		body[e.field] = turns[len(turns)-1]
	}
	if e.model != "" {
		body["model"] = e.model
	}
	if e.tokensField != "" && maxTokens > 0 {
		body[e.tokensField] = maxTokens
	}
	if _, ok := body["stream"]; ok {
		body["stream"] = false
	}
	b, _ := json.Marshal(body)
	req.Body = b
	if req.Header == nil {
		req.Header = http.Header{}
	}
	req.Header.Set("Content-Type", "application/json")
	req.NoRetry = true
	return req
}

// transcriptPrompt flattens a conversation for the completions shape.
func transcriptPrompt(turns, answers []string) string {
	if len(turns) == 1 {
		return turns[0]
	}
	var b strings.Builder
	for i, t := range turns {
		b.WriteString("User: " + t + "\n")
		if i < len(answers) && i < len(turns)-1 {
			b.WriteString("Assistant: " + answers[i] + "\n")
		}
	}
	b.WriteString("Assistant:")
	return b.String()
}

// meta is what an answer says about the model behind it.
type meta struct {
	model     string
	usage     map[string]any
	choices   bool
	streaming bool
}

// answerKeys are the fields app-level endpoints put the model's text in.
var answerKeys = []string{"answer", "reply", "response", "completion", "output", "output_text", "generated_text", "text", "result", "message", "content"}

// answerOf extracts the model's text from a response: the OpenAI and
// Anthropic shapes (plain or streamed), an answer-like field of a JSON object,
// or a plain-text body.
func answerOf(ex *probe.Exchange) (string, meta) {
	var m meta
	if ex == nil || ex.Status < 200 || ex.Status >= 300 {
		return "", m
	}
	body := bytes.TrimSpace(ex.Body)
	ct := strings.ToLower(ex.Header.Get("Content-Type"))
	if strings.Contains(ct, "text/event-stream") || bytes.HasPrefix(body, []byte("data:")) || bytes.HasPrefix(body, []byte("event:")) {
		m.streaming = true
		return streamed(body, &m), m
	}
	var v any
	if json.Unmarshal(body, &v) != nil {
		if strings.Contains(ct, "json") {
			return "", m
		}
		return string(body), m
	}
	obj, ok := v.(map[string]any)
	if !ok {
		if s, ok := v.(string); ok {
			return s, m
		}
		return "", m
	}
	return fromObject(obj, &m, 0), m
}

func fromObject(obj map[string]any, m *meta, depth int) string {
	if s, ok := obj["model"].(string); ok && m.model == "" {
		m.model = s
	}
	if u, ok := obj["usage"].(map[string]any); ok && m.usage == nil {
		m.usage = u
	}
	if ch, ok := obj["choices"].([]any); ok && len(ch) > 0 {
		m.choices = true
		if c, ok := ch[0].(map[string]any); ok {
			if msg, ok := c["message"].(map[string]any); ok {
				if s, ok := msg["content"].(string); ok {
					return s
				}
			}
			if s, ok := c["text"].(string); ok {
				return s
			}
		}
	}
	if msgs, ok := obj["messages"].([]any); ok { // a conversation: the last assistant turn
		for i := len(msgs) - 1; i >= 0; i-- {
			if mm, ok := msgs[i].(map[string]any); ok && mm["role"] == "assistant" {
				if s, ok := mm["content"].(string); ok {
					return s
				}
			}
		}
	}
	if parts, ok := obj["content"].([]any); ok { // Anthropic
		var b strings.Builder
		for _, p := range parts {
			if pm, ok := p.(map[string]any); ok {
				if s, ok := pm["text"].(string); ok {
					b.WriteString(s)
				}
			}
		}
		if b.Len() > 0 {
			return b.String()
		}
	}
	for _, k := range answerKeys {
		switch x := obj[k].(type) {
		case string:
			return x
		case map[string]any:
			if s, ok := x["content"].(string); ok {
				return s
			}
		}
	}
	if depth < 2 {
		for _, k := range []string{"data", "result", "output", "response"} {
			if sub, ok := obj[k].(map[string]any); ok {
				if s := fromObject(sub, m, depth+1); s != "" {
					return s
				}
			}
		}
	}
	return ""
}

// streamed joins the text deltas of a server-sent event stream.
func streamed(body []byte, m *meta) string {
	var b strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 64*1024), len(body)+1)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		data, ok := strings.CutPrefix(line, "data:")
		if !ok {
			continue
		}
		data = strings.TrimSpace(data)
		if data == "[DONE]" {
			break
		}
		var obj map[string]any
		if json.Unmarshal([]byte(data), &obj) != nil {
			b.WriteString(data)
			continue
		}
		if s, ok := obj["model"].(string); ok && m.model == "" {
			m.model = s
		}
		if u, ok := obj["usage"].(map[string]any); ok {
			m.usage = u
		}
		if ch, ok := obj["choices"].([]any); ok && len(ch) > 0 {
			m.choices = true
			if c, ok := ch[0].(map[string]any); ok {
				if d, ok := c["delta"].(map[string]any); ok {
					if s, ok := d["content"].(string); ok {
						b.WriteString(s)
					}
				}
				if s, ok := c["text"].(string); ok {
					b.WriteString(s)
				}
			}
		}
		if d, ok := obj["delta"].(map[string]any); ok { // Anthropic content_block_delta
			if s, ok := d["text"].(string); ok {
				b.WriteString(s)
			}
		}
		for _, k := range []string{"token", "text", "content", "answer"} {
			if s, ok := obj[k].(string); ok {
				b.WriteString(s)
				break
			}
		}
	}
	return b.String()
}

// looksLikeModel reports whether a response has the shape of a model's
// answer: choices, usage or model metadata, a stream, or an answer field.
func looksLikeModel(ex *probe.Exchange, text string, m meta) bool {
	if text == "" {
		return false
	}
	if m.choices || m.usage != nil || m.model != "" || m.streaming {
		return true
	}
	var obj map[string]any
	if json.Unmarshal(ex.Body, &obj) == nil {
		for _, k := range []string{"answer", "reply", "completion", "generated_text", "output_text"} {
			if _, ok := obj[k].(string); ok {
				return true
			}
		}
	}
	return false
}

// usageKeys name token counts and costs in usage metadata.
var usageKeyRe = regexp.MustCompile(`(?i)(tokens?|cost|price|billing|credits)`)

// usageFields lists what a response says about tokens or cost.
func usageFields(ex *probe.Exchange, m meta) []string {
	var out []string
	for k := range m.usage {
		if usageKeyRe.MatchString(k) {
			out = append(out, "usage."+k)
		}
	}
	var obj map[string]any
	if json.Unmarshal(ex.Body, &obj) == nil {
		for k, v := range obj {
			if k == "usage" {
				continue
			}
			if _, isNum := v.(float64); isNum && usageKeyRe.MatchString(k) {
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}
