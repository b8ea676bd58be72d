package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/rampart-scan/rampart/internal/report"
	"github.com/rampart-scan/rampart/internal/triage"
)

func newDiffCmd(stdout io.Writer) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "diff OLD.json NEW.json",
		Short: "Compare two JSON reports: new and fixed findings, score change (exit 1 when there are new findings)",
		Args:  cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			if format != "text" && format != "markdown" && format != "json" {
				return usagef(fmt.Errorf("--format %q: want text, markdown or json", format))
			}
			old, err := readReport(args[0])
			if err != nil {
				return err
			}
			cur, err := readReport(args[1])
			if err != nil {
				return err
			}
			d := triage.Compare(old, cur)
			if err := triage.WriteDiff(stdout, d, format); err != nil {
				return err
			}
			if len(d.New) > 0 {
				return exitError{ExitGate}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "text, markdown or json")
	return cmd
}

func readReport(p string) (*report.Report, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, usagef(fmt.Errorf("%s: %w", p, unwrapPath(err)))
	}
	defer f.Close()
	r, err := report.ReadJSON(f)
	if err != nil {
		return nil, usagef(fmt.Errorf("%s: not a Rampart JSON report: %s", p, oneLine(err.Error())))
	}
	return r, nil
}
