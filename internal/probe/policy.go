package probe

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
)

// Phase is the scan phase the client is in (CONTRACTS §6).
type Phase int32

// The phases of a scan.
const (
	PhasePrepare Phase = iota + 1
	PhaseRead
	PhaseWrite
	PhaseBurst
)

func (p Phase) String() string {
	switch p {
	case PhasePrepare:
		return "prepare"
	case PhaseRead:
		return "read"
	case PhaseWrite:
		return "write"
	case PhaseBurst:
		return "burst"
	}
	return "unknown"
}

// Permission is what the safety table allows for one request, decided by the
// operation classifier.
type Permission int

// Permissions, from the CONTRACTS §7 table.
const (
	// PermitDefault: safe methods always; writes only with --active in the write or burst phase.
	PermitDefault Permission = iota
	// PermitAlways: a write that runs in every mode (configured login, LLM endpoint from the spec or an exact chat route).
	PermitAlways
	// PermitActive: a write that runs with --active in any phase (endpoints that only look like LLM endpoints by path).
	PermitActive
	// PermitNever: a service-wide state-changing action not named by --include: nothing is sent, whatever the method.
	PermitNever
)

// Classifier says what the safety table allows for a method and URL.
type Classifier interface {
	Permission(method string, u *url.URL) Permission
}

// Policy is the method guard: CONTRACTS §7 enforced in the client.
type Policy struct {
	Active     bool
	Deep       bool
	Classifier Classifier

	phase atomic.Int32

	mu     sync.RWMutex
	logins map[string]bool // METHOD URL of configured login requests
}

// SetPhase moves the policy to a new phase.
func (p *Policy) SetPhase(ph Phase) { p.phase.Store(int32(ph)) }

// Phase is the current phase.
func (p *Policy) Phase() Phase { return Phase(p.phase.Load()) }

// AllowLogin registers a configured login request, which may always be sent.
func (p *Policy) AllowLogin(method string, u *url.URL) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.logins == nil {
		p.logins = map[string]bool{}
	}
	p.logins[strings.ToUpper(method)+" "+u.String()] = true
}

// SafeMethod reports whether a method never changes state by definition.
func SafeMethod(m string) bool {
	switch strings.ToUpper(m) {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, "TRACK":
		return true
	}
	return false
}

// ErrForbidden is returned when the safety policy refuses a request.
type ErrForbidden struct{ Method, URL, Reason string }

func (e *ErrForbidden) Error() string {
	return fmt.Sprintf("safety policy refused %s %s: %s", e.Method, e.URL, e.Reason)
}

// Check decides whether the request may be sent now.
func (p *Policy) Check(method string, u *url.URL) error {
	method = strings.ToUpper(method)
	perm := PermitDefault
	if p.Classifier != nil {
		perm = p.Classifier.Permission(method, u)
	}
	if perm == PermitNever {
		return &ErrForbidden{method, u.String(), "service-wide state-changing action (name it with --include to allow)"}
	}
	if SafeMethod(method) {
		return nil
	}
	p.mu.RLock()
	login := p.logins[method+" "+u.String()]
	p.mu.RUnlock()
	if login || perm == PermitAlways {
		return nil
	}
	if !p.Active {
		return &ErrForbidden{method, u.String(), "write methods need --active"}
	}
	if perm == PermitActive {
		return nil
	}
	switch p.Phase() {
	case PhaseWrite, PhaseBurst:
		return nil
	}
	return &ErrForbidden{method, u.String(), "writes run only in the write phase"}
}
