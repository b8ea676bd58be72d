// Package compare judges responses by content: flattening JSON into leaves,
// measuring how much two bodies share, and telling data from error messages.
// Differential checks use it so that no verdict rests on a status code alone.
package compare

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// maxLeaves bounds how much of a body is flattened.
const maxLeaves = 2000

// Leaves flattens a JSON document into path=value pairs (array indexes become []),
// or returns nil when the body is not JSON.
func Leaves(body []byte) map[string]string {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return nil
	}
	out := map[string]string{}
	walk(v, "", out, 0)
	return out
}

// leafKey marks repeated paths so arrays keep every element.
func walk(v any, path string, out map[string]string, depth int) {
	if len(out) >= maxLeaves || depth > 32 {
		return
	}
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			walk(x[k], path+"."+k, out, depth+1)
		}
	case []any:
		for i, e := range x {
			walk(e, fmt.Sprintf("%s[%d]", path, i), out, depth+1)
		}
	case nil:
		out[path] = "null"
	default:
		out[path] = fmt.Sprint(x)
	}
}

// Values returns the set of scalar values in a JSON body (strings and numbers), for marker search.
func Values(body []byte) map[string]bool {
	out := map[string]bool{}
	for _, v := range Leaves(body) {
		if v != "null" && v != "true" && v != "false" && v != "" {
			out[v] = true
		}
	}
	return out
}

var word = regexp.MustCompile(`[A-Za-z0-9_@.\-]{2,}`)

// Similarity is how much two bodies share, from 0 to 1: for JSON the Jaccard
// index of their path=value leaves, otherwise of their word sets.
func Similarity(a, b []byte) float64 {
	if string(a) == string(b) {
		return 1
	}
	la, lb := Leaves(a), Leaves(b)
	if la != nil && lb != nil {
		if len(la) == 0 && len(lb) == 0 {
			return 1
		}
		inter := 0
		for k, v := range la {
			if lb[k] == v {
				inter++
			}
		}
		return float64(inter) / float64(len(la)+len(lb)-inter)
	}
	wa, wb := words(a), words(b)
	if len(wa) == 0 && len(wb) == 0 {
		return 1
	}
	inter := 0
	for w := range wa {
		if wb[w] {
			inter++
		}
	}
	return float64(inter) / float64(len(wa)+len(wb)-inter)
}

func words(b []byte) map[string]bool {
	out := map[string]bool{}
	for _, w := range word.FindAllString(string(b[:min(len(b), 256<<10)]), 5000) {
		out[strings.ToLower(w)] = true
	}
	return out
}

var errorWords = regexp.MustCompile(`(?i)\b(unauthori[sz]ed|unauthenticated|forbidden|denied|not[ _]?found|invalid|missing|required|expired|not allowed|login|sign in|error)\b`)

var errorKeys = map[string]bool{"error": true, "errors": true, "message": true, "msg": true, "detail": true, "details": true, "status": true, "code": true, "title": true, "type": true, "statuscode": true, "status_code": true, "success": true, "ok": true, "reason": true, "description": true, "error_description": true, "timestamp": true, "path": true, "instance": true, "trace_id": true, "request_id": true}

// IsErrorBody reports whether a body is only an error or status message: a JSON
// object whose keys are all error-envelope keys, or short text with an error word.
func IsErrorBody(body []byte) bool {
	var m map[string]any
	if json.Unmarshal(body, &m) == nil {
		if len(m) == 0 {
			return true
		}
		errorish := false
		for k, v := range m {
			lk := strings.ToLower(k)
			if !errorKeys[lk] {
				return false
			}
			switch x := v.(type) {
			case string:
				if lk == "error" || lk == "errors" || lk == "error_description" || errorWords.MatchString(x) {
					errorish = true
				}
			case float64:
				if (lk == "status" || lk == "code" || lk == "statuscode" || lk == "status_code") && x >= 400 {
					errorish = true
				}
			case bool:
				if (lk == "success" || lk == "ok") && !x {
					errorish = true
				}
			default:
				if lk == "error" || lk == "errors" {
					errorish = true
				}
			}
		}
		return errorish
	}
	t := strings.TrimSpace(string(body))
	return len(t) < 300 && (t == "" || errorWords.MatchString(t))
}

// HasData reports whether a body carries data: JSON with at least one non-empty
// leaf that is not only an error envelope, or non-error text.
func HasData(body []byte) bool {
	if len(strings.TrimSpace(string(body))) == 0 || IsErrorBody(body) {
		return false
	}
	if l := Leaves(body); l != nil {
		for _, v := range l {
			if v != "null" && v != "" {
				return true
			}
		}
		return false
	}
	return true
}
