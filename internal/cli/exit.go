package cli

import (
	"context"
	"errors"

	"github.com/rampart-scan/rampart/internal/scanner"
	"github.com/rampart-scan/rampart/internal/spec"
)

// Exit codes (CONTRACTS §2). When several apply: 2 > 3 > 1 > 4 > 0.
const (
	ExitOK          = 0
	ExitGate        = 1
	ExitUsage       = 2
	ExitTarget      = 3
	ExitIncomplete  = 4
	ExitInterrupted = 130
)

// usageError marks a bad flag, argument or config file.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(err error) error { return usageError{err} }

// exitCode maps an error from a command to its exit code.
func exitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var u usageError
	var su *scanner.UsageError
	var te *scanner.TargetError
	var se *spec.Error
	switch {
	case errors.As(err, &u), errors.As(err, &su):
		return ExitUsage
	case errors.As(err, &te), errors.As(err, &se):
		return ExitTarget
	case errors.Is(err, context.Canceled):
		return ExitInterrupted
	}
	return ExitUsage
}

// outcomeCode combines a finished scan's conditions by precedence 1 > 4 > 0;
// interruption wins over all of them because the user asked to stop.
func outcomeCode(interrupted, gateFailed, incomplete bool) int {
	switch {
	case interrupted:
		return ExitInterrupted
	case gateFailed:
		return ExitGate
	case incomplete:
		return ExitIncomplete
	}
	return ExitOK
}
