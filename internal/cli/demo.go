package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/rampart-scan/rampart/internal/lab"
)

func newDemoCmd(stdout, stderr io.Writer) *cobra.Command {
	var f scanFlags
	var mode, addr string
	var keep bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Start the lab and scan it with the lab's own identities",
		Long: "Start the lab (vulnerable by default) on loopback and scan it with its own configuration " +
			"(tenant keys, users with logins, an admin, its signing key), merged with your scan flags: " +
			"an identity you name replaces the lab's of that name, new names add. A URL, --spec or --config is refused.",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef(errors.New("demo scans its own lab: a URL is refused (use rampart scan for other targets)"))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Flags().Changed("spec") || cmd.Flags().Changed("config") {
				return usagef(errors.New("demo scans its own lab with its own spec and config: --spec and --config are refused"))
			}
			m, err := lab.ParseMode(mode)
			if err != nil {
				return usagef(err)
			}
			srv, url, err := startLab(m, addr)
			if err != nil {
				return err
			}
			defer shutdown(srv)
			dir, err := os.MkdirTemp("", "rampart-demo-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			f.config = filepath.Join(dir, "lab.yaml")
			if err := os.WriteFile(f.config, []byte(lab.Config(url)), 0o600); err != nil {
				return err
			}
			fmt.Fprintf(stderr, "rampart: lab (%s) on %s\n", m, url)
			cfg, out, err := f.build(cmd.Flags(), url)
			if err != nil {
				return err
			}
			scanErr := runScan(cmd.Context(), cfg, out, stdout, stderr)
			if keep && !errors.Is(cmd.Context().Err(), context.Canceled) {
				fmt.Fprintf(stderr, "\nrampart: the lab keeps running on %s (Ctrl-C stops it). To replay curl lines:\n", url)
				fmt.Fprintln(stderr, "  export RAMPART_ID_TENANT_A='Bearer tenant_a_key' RAMPART_ID_TENANT_B='Bearer tenant_b_key'")
				fmt.Fprintf(stderr, "  export RAMPART_ID_ALICE=\"Bearer $(curl -s -X POST %s/auth/login -H 'Content-Type: application/json' -d '{\"username\":\"alice\",\"password\":\"%s\"}' | sed 's/.*\"access_token\":\"\\([^\"]*\\)\".*/\\1/')\"\n", url, lab.UserPassword("alice"))
				<-cmd.Context().Done()
			}
			return scanErr
		},
	}
	f.register(cmd.Flags())
	// The lab runs in-process: pacing the simulated model would only slow the demo.
	_ = cmd.Flags().Set("llm-delay", "0s")
	cmd.Flags().Lookup("llm-delay").DefValue = "0s"
	cmd.Flags().Lookup("llm-delay").Changed = false
	cmd.Flags().StringVar(&mode, "mode", "vulnerable", "vulnerable or hardened")
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:0", "the lab's listen address (loopback)")
	cmd.Flags().BoolVar(&keep, "keep", false, "leave the lab running after the scan so curl lines can be replayed")
	return cmd
}
