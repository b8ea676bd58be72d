package probe

import (
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"sync"
	"time"
)

// HAR collects every exchange of a scan (redacted) for --har.
type HAR struct {
	mu       sync.Mutex
	redactor *Redactor
	entries  []harEntry
}

type harNV struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type harEntry struct {
	StartedDateTime string      `json:"startedDateTime"`
	Time            float64     `json:"time"`
	Request         harRequest  `json:"request"`
	Response        harResponse `json:"response"`
	Cache           struct{}    `json:"cache"`
	Timings         harTimings  `json:"timings"`
	Comment         string      `json:"comment,omitempty"`
}

type harRequest struct {
	Method      string       `json:"method"`
	URL         string       `json:"url"`
	HTTPVersion string       `json:"httpVersion"`
	Headers     []harNV      `json:"headers"`
	QueryString []harNV      `json:"queryString"`
	Cookies     []harNV      `json:"cookies"`
	PostData    *harPostData `json:"postData,omitempty"`
	HeadersSize int          `json:"headersSize"`
	BodySize    int          `json:"bodySize"`
}

type harPostData struct {
	MimeType string `json:"mimeType"`
	Text     string `json:"text"`
}

type harResponse struct {
	Status      int        `json:"status"`
	StatusText  string     `json:"statusText"`
	HTTPVersion string     `json:"httpVersion"`
	Headers     []harNV    `json:"headers"`
	Cookies     []harNV    `json:"cookies"`
	Content     harContent `json:"content"`
	RedirectURL string     `json:"redirectURL"`
	HeadersSize int        `json:"headersSize"`
	BodySize    int        `json:"bodySize"`
}

type harContent struct {
	Size     int    `json:"size"`
	MimeType string `json:"mimeType"`
	Text     string `json:"text"`
}

type harTimings struct {
	Send    float64 `json:"send"`
	Wait    float64 `json:"wait"`
	Receive float64 `json:"receive"`
}

func (h *HAR) headers(hd http.Header, show []string) []harNV {
	shown := map[string]bool{}
	for _, s := range show {
		shown[http.CanonicalHeaderKey(s)] = true
	}
	keys := make([]string, 0, len(hd))
	for k := range hd {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []harNV
	for _, k := range keys {
		for _, v := range hd[k] {
			out = append(out, harNV{Name: k, Value: h.redactor.Header(k, v, shown)})
		}
	}
	if out == nil {
		out = []harNV{}
	}
	return out
}

func (h *HAR) add(ex *Exchange, start time.Time) {
	e := harEntry{
		StartedDateTime: start.UTC().Format(time.RFC3339Nano),
		Time:            float64(ex.Duration.Microseconds()) / 1000,
		Request: harRequest{
			Method: ex.Method, URL: h.redactor.Text(ex.URL), HTTPVersion: "HTTP/1.1",
			Headers: h.headers(ex.RequestHead, ex.ShowHeaders), QueryString: []harNV{}, Cookies: []harNV{},
			HeadersSize: -1, BodySize: len(ex.RequestBody),
		},
		Response: harResponse{
			Status: ex.Status, StatusText: http.StatusText(ex.Status), HTTPVersion: ex.Proto,
			Headers: h.headers(ex.Header, nil), Cookies: []harNV{},
			Content:     harContent{Size: len(ex.Body), MimeType: ex.Header.Get("Content-Type"), Text: h.redactor.Body(ex.Body, ex.Header.Get("Content-Type"))},
			RedirectURL: ex.Header.Get("Location"), HeadersSize: -1, BodySize: len(ex.Body),
		},
		Timings: harTimings{Wait: float64(ex.Duration.Microseconds()) / 1000},
	}
	if ex.RequestBody != nil {
		e.Request.PostData = &harPostData{MimeType: ex.RequestHead.Get("Content-Type"), Text: h.redactor.Body(ex.RequestBody, ex.RequestHead.Get("Content-Type"))}
	}
	if ex.Family != "" {
		e.Comment = "family " + ex.Family
	}
	h.mu.Lock()
	h.entries = append(h.entries, e)
	h.mu.Unlock()
}

// Write writes the HAR 1.2 document.
func (h *HAR) Write(w io.Writer, version string) error {
	h.mu.Lock()
	entries := append([]harEntry(nil), h.entries...)
	h.mu.Unlock()
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].StartedDateTime < entries[j].StartedDateTime })
	if entries == nil {
		entries = []harEntry{}
	}
	doc := map[string]any{"log": map[string]any{
		"version": "1.2",
		"creator": map[string]string{"name": "rampart", "version": version},
		"pages":   []any{},
		"entries": entries,
	}}
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	return enc.Encode(doc)
}
