// Package cli is Rampart's command line: one file per command, and exit.go
// mapping errors to the exit codes of CONTRACTS §2.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// exitError carries a command's exit code after its output was written.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// Run executes the command line and returns the process exit code. It never panics on input.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "rampart: internal error: %v\n", r)
			code = ExitUsage
		}
	}()
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if err != nil {
		fmt.Fprintf(stderr, "rampart: %s\n", oneLine(err.Error()))
		return exitCode(classify(err))
	}
	return ExitOK
}

// classify turns cobra's own flag and argument errors into usage errors.
func classify(err error) error {
	var u usageError
	if errors.As(err, &u) {
		return err
	}
	msg := err.Error()
	for _, s := range []string{"unknown flag", "unknown shorthand", "flag needs an argument", "invalid argument", "unknown command", "accepts ", "requires at least", "bad flag"} {
		if strings.Contains(msg, s) {
			return usagef(err)
		}
	}
	return err
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "rampart",
		Short:         "Rampart: an API security scanner that proves what it finds",
		Long:          "Rampart scans HTTP APIs for broken authentication, object- and function-level authorization, tenant escapes and the rest of the OWASP API Top 10, with evidence and a curl line for every finding.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usagef(err) })
	root.AddCommand(newScanCmd(stdout, stderr), newDemoCmd(stdout, stderr), newLabCmd(stdout, stderr), newOOBCmd(stdout), newRulesCmd(stdout), newDiffCmd(stdout), newVersionCmd(stdout))
	return root
}
