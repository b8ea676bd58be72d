package cli

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/rampart-scan/rampart/internal/identity"
	"github.com/rampart-scan/rampart/internal/oob"
)

func newOOBCmd(stdout io.Writer) *cobra.Command {
	var httpAddr, httpsAddr, token, publicHTTP, publicHTTPS string
	cmd := &cobra.Command{
		Use:   "oob",
		Short: "Run a standalone out-of-band canary for scans of remote targets (--oob-url)",
		Long: "Run the canary that proves blind SSRF, callbacks and key fetches, on an address the targets can reach. " +
			"Scanners read its hits at /_rampart/ with the API token (--token, or RAMPART_OOB_TOKEN).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tok, err := identity.ExpandEnv(token)
			if err != nil {
				return usagef(err)
			}
			if tok == "" {
				tok = os.Getenv("RAMPART_OOB_TOKEN")
			}
			if len(tok) < 16 {
				return usagef(errors.New("oob needs an API token of at least 16 characters (--token or RAMPART_OOB_TOKEN)"))
			}
			c, err := oob.Serve(httpAddr, httpsAddr, tok, publicHTTP, publicHTTPS)
			if err != nil {
				return usagef(fmt.Errorf("oob: %w", err))
			}
			defer c.Close()
			fmt.Fprintf(stdout, "canary listening: %s (http), %s (https)\nscan with: rampart scan URL --oob-url %s --oob-token \"$RAMPART_OOB_TOKEN\"\n",
				c.Base(), c.TLSURL("")[:len(c.TLSURL(""))-len("/t/")], c.Base())
			<-cmd.Context().Done()
			return nil
		},
	}
	cmd.Flags().StringVar(&httpAddr, "addr", "127.0.0.1:8099", "HTTP listen address")
	cmd.Flags().StringVar(&httpsAddr, "tls-addr", "127.0.0.1:8443", "HTTPS listen address (self-signed certificate)")
	cmd.Flags().StringVar(&token, "token", "", "API token scanners present (default RAMPART_OOB_TOKEN)")
	cmd.Flags().StringVar(&publicHTTP, "public-url", "", "HTTP base URL targets should call (a DNS name), default the listener's address")
	cmd.Flags().StringVar(&publicHTTPS, "public-tls-url", "", "HTTPS base URL targets should call")
	return cmd
}
