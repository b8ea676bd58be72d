// Package jwt parses JSON Web Tokens without verifying them, analyses their
// claims, forges variants (unsigned, corrupted, re-signed with a won or given
// key) and cracks weak HMAC secrets offline. It uses only the standard library
// so that malformed tokens can be built byte by byte.
package jwt

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Token is a parsed (unverified) JWS compact token.
type Token struct {
	Raw       string
	Header    map[string]any
	Claims    map[string]any
	Signature []byte
	// SigningInput is "header.payload" as it appeared in Raw.
	SigningInput string
}

// MaxTokenBytes bounds what Parse accepts.
const MaxTokenBytes = 16 << 10

var b64 = base64.RawURLEncoding

// decodeSegment accepts unpadded (and tolerates padded) base64url.
func decodeSegment(s string) ([]byte, error) {
	return b64.DecodeString(strings.TrimRight(s, "="))
}

// Pattern finds JWT-looking strings in text.
var Pattern = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*`)

// Parse decodes a compact JWS without verifying it. It never panics on input.
func Parse(raw string) (*Token, error) {
	raw = strings.TrimSpace(raw)
	if len(raw) > MaxTokenBytes {
		return nil, errors.New("token too long")
	}
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("want 3 segments, got %d", len(parts))
	}
	hb, err := decodeSegment(parts[0])
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	cb, err := decodeSegment(parts[1])
	if err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	sig, err := decodeSegment(parts[2])
	if err != nil {
		return nil, fmt.Errorf("signature: %w", err)
	}
	t := &Token{Raw: raw, SigningInput: parts[0] + "." + parts[1], Signature: sig}
	if err := decodeObject(hb, &t.Header); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	if err := decodeObject(cb, &t.Claims); err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	return t, nil
}

func decodeObject(b []byte, v *map[string]any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return err
	}
	if *v == nil {
		return errors.New("not a JSON object")
	}
	return nil
}

// Alg is the header's alg.
func (t *Token) Alg() string { s, _ := t.Header["alg"].(string); return s }

// Kid is the header's kid.
func (t *Token) Kid() string { s, _ := t.Header["kid"].(string); return s }

// Time reads a NumericDate claim (exp, nbf, iat).
func (t *Token) Time(claim string) (time.Time, bool) {
	switch v := t.Claims[claim].(type) {
	case json.Number:
		if f, err := v.Float64(); err == nil {
			return time.Unix(int64(f), 0), true
		}
	case float64:
		return time.Unix(int64(v), 0), true
	}
	return time.Time{}, false
}

// String claim.
func (t *Token) String(claim string) string { s, _ := t.Claims[claim].(string); return s }

// Has reports whether a claim is present.
func (t *Token) Has(claim string) bool { _, ok := t.Claims[claim]; return ok }

// Clone copies header and claims for forging.
func (t *Token) Clone() (map[string]any, map[string]any) {
	return cloneMap(t.Header), cloneMap(t.Claims)
}

func cloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Encode builds header.payload from maps (keys sorted by encoding/json).
func Encode(header, claims map[string]any) (string, error) {
	hb, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	cb, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	return b64.EncodeToString(hb) + "." + b64.EncodeToString(cb), nil
}
