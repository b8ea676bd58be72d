package cli

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/term"

	"github.com/rampart-scan/rampart/internal/report"
)

func checkFormat(f string) error {
	if !report.KnownFormat(f) {
		return usagef(fmt.Errorf("unknown format %q (want %s)", f, strings.Join(report.Formats, ", ")))
	}
	return nil
}

// parseOutputs reads --output FORMAT=PATH values.
func parseOutputs(vals []string) ([][2]string, error) {
	var out [][2]string
	for _, v := range vals {
		f, p, ok := strings.Cut(v, "=")
		if !ok || p == "" {
			return nil, usagef(fmt.Errorf("--output %q: want FORMAT=PATH", v))
		}
		if err := checkFormat(f); err != nil {
			return nil, err
		}
		out = append(out, [2]string{f, p})
	}
	return out, nil
}

func render(w io.Writer, format string, r *report.Report, o report.RenderOptions) error {
	return report.Render(w, format, r, o)
}

// writeAtomic writes a file through a temporary sibling and a rename, so a
// reader never sees half a report and an old report is never lost to a failed write.
func writeAtomic(path string, fill func(io.Writer) error) error {
	var buf bytes.Buffer
	if err := fill(&buf); err != nil {
		return err
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// useColor: a terminal on stdout and NO_COLOR unset.
func useColor(w io.Writer) bool {
	if _, ok := os.LookupEnv("NO_COLOR"); ok {
		return false
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
