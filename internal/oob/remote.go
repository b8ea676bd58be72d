package oob

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Listener is what checks use: a canary running here (Canary) or a public
// one reached over its API (Remote).
type Listener interface {
	NewToken() string
	// URL is an HTTP URL carrying the token; TLSURL an HTTPS one (self-signed).
	URL(token string) string
	TLSURL(token string) string
	// Host is the listener's host (for alternative spellings of its address).
	Host() string
	Respond(token string, r Response)
	Hits(token string) []Hit
	Wait(ctx context.Context, token string, timeout time.Duration) (Hit, bool)
}

// Host is the HTTP listener's host:port.
func (c *Canary) Host() string { return strings.TrimPrefix(c.httpBase, "http://") }

// apiPrefix is where a standalone canary serves its hits; it needs the bearer token.
const apiPrefix = "/_rampart/"

// info is what the API reports about the listener.
type info struct {
	HTTP  string `json:"http"`
	HTTPS string `json:"https"`
}

// Serve runs a standalone canary (rampart oob): HTTP and HTTPS listeners whose
// hits are served to scanners at /_rampart/ with a bearer token. publicHTTP and
// publicHTTPS are the base URLs targets should use (a DNS name, a proxy), and
// default to the listeners' own addresses.
func Serve(httpAddr, httpsAddr, token, publicHTTP, publicHTTPS string) (*Canary, error) {
	if len(token) < 16 {
		return nil, errors.New("the API token must have at least 16 characters")
	}
	c, err := listen(httpAddr, httpsAddr)
	if err != nil {
		return nil, err
	}
	if publicHTTP != "" {
		c.httpBase = strings.TrimSuffix(publicHTTP, "/")
	}
	if publicHTTPS != "" {
		c.httpsBase = strings.TrimSuffix(publicHTTPS, "/")
	}
	c.apiToken = token
	return c, nil
}

// api answers /_rampart/info, /_rampart/hits?token=, POST /_rampart/respond.
func (c *Canary) api(w http.ResponseWriter, r *http.Request) {
	auth := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if c.apiToken == "" || subtle.ConstantTimeCompare([]byte(auth), []byte(c.apiToken)) != 1 {
		http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch strings.TrimPrefix(r.URL.Path, apiPrefix) {
	case "info":
		json.NewEncoder(w).Encode(info{HTTP: c.httpBase, HTTPS: c.httpsBase}) //nolint:errcheck
	case "hits":
		json.NewEncoder(w).Encode(c.Hits(r.URL.Query().Get("token"))) //nolint:errcheck
	case "respond":
		var body struct {
			Token    string   `json:"token"`
			Response Response `json:"response"`
		}
		if r.Method != http.MethodPost || json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body) != nil || !tokenRe.MatchString(body.Token) {
			http.Error(w, `{"error":"bad request"}`, http.StatusBadRequest)
			return
		}
		c.Respond(body.Token, body.Response)
		w.WriteHeader(http.StatusNoContent)
	default:
		http.NotFound(w, r)
	}
}

// Remote is a public canary reached through its API (--oob-url).
type Remote struct {
	base, token string
	info        info
	client      *http.Client
}

// Dial connects to a standalone canary's API and reads its public URLs.
func Dial(ctx context.Context, base, token string, client *http.Client) (*Remote, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--oob-url %q is not an http(s) URL", base)
	}
	r := &Remote{base: strings.TrimSuffix(base, "/"), token: token, client: client}
	if err := r.call(ctx, http.MethodGet, "info", nil, &r.info); err != nil {
		return nil, fmt.Errorf("canary %s: %w", base, err)
	}
	return r, nil
}

func (r *Remote) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, r.base+apiPrefix+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+r.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := r.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(out)
}

// NewToken returns a fresh probe token.
func (r *Remote) NewToken() string { return newToken() }

// URL is an HTTP canary URL for the token.
func (r *Remote) URL(token string) string { return r.info.HTTP + "/t/" + token }

// TLSURL is an HTTPS canary URL for the token.
func (r *Remote) TLSURL(token string) string { return r.info.HTTPS + "/t/" + token }

// Host is the public HTTP host.
func (r *Remote) Host() string {
	u, _ := url.Parse(r.info.HTTP)
	if u == nil {
		return ""
	}
	return u.Host
}

// Respond sets what the canary serves for a token.
func (r *Remote) Respond(token string, resp Response) {
	_ = r.call(context.Background(), http.MethodPost, "respond", map[string]any{"token": token, "response": resp}, nil)
}

// Hits asks the canary for a token's hits.
func (r *Remote) Hits(token string) []Hit {
	var hits []Hit
	_ = r.call(context.Background(), http.MethodGet, "hits?token="+url.QueryEscape(token), nil, &hits)
	return hits
}

// Wait polls until the token is hit or the timeout passes.
func (r *Remote) Wait(ctx context.Context, token string, timeout time.Duration) (Hit, bool) {
	deadline := time.Now().Add(timeout)
	for {
		if hs := r.Hits(token); len(hs) > 0 {
			return hs[0], true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return Hit{}, false
		}
		select {
		case <-time.After(200 * time.Millisecond):
		case <-ctx.Done():
			return Hit{}, false
		}
	}
}

var (
	_ Listener = (*Canary)(nil)
	_ Listener = (*Remote)(nil)
)
