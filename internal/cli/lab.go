package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/rampart-scan/rampart/internal/lab"
)

const defaultLabAddr = "127.0.0.1:8088"

func newLabCmd(stdout, stderr io.Writer) *cobra.Command {
	var mode, addr string
	var printConfig bool
	cmd := &cobra.Command{
		Use:   "lab",
		Short: "Serve Rampart's deliberately vulnerable lab API (or its hardened twin)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, err := lab.ParseMode(mode)
			if err != nil {
				return usagef(err)
			}
			if printConfig {
				_, err := io.WriteString(stdout, lab.Config("http://"+addr))
				return err
			}
			srv, url, err := startLab(m, addr)
			if err != nil {
				return err
			}
			defer srv.Close()
			fmt.Fprintf(stdout, "lab (%s) listening on %s\n", m, url)
			fmt.Fprintf(stdout, "scan it with:\n  rampart lab --print-config --addr %s > lab.yaml\n  rampart scan %s --config lab.yaml\n", hostPort(url), url)
			<-cmd.Context().Done()
			return nil
		},
	}
	cmd.Flags().StringVar(&mode, "mode", "vulnerable", "vulnerable or hardened")
	cmd.Flags().StringVar(&addr, "addr", defaultLabAddr, "listen address (loopback)")
	cmd.Flags().BoolVar(&printConfig, "print-config", false, "print the lab's Rampart config file (identities and signing key) and exit")
	return cmd
}

func hostPort(url string) string {
	if len(url) > 7 {
		return url[len("http://"):]
	}
	return url
}

// startLab serves the lab on a loopback address and returns its URL.
func startLab(m lab.Mode, addr string) (*http.Server, string, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, "", usagef(fmt.Errorf("--addr %q: %w", addr, err))
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, "", usagef(fmt.Errorf("--addr %q: the lab listens on a loopback address only", addr))
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", usagef(fmt.Errorf("lab: %w", err))
	}
	srv := &http.Server{Handler: lab.New(m), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = err
		}
	}()
	return srv, "http://" + ln.Addr().String(), nil
}

func shutdown(srv *http.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
}
