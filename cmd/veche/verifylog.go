package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/veche/veche/internal/auditlog/logclient"
)

func init() {
	register(command{
		Name:    "verify-log",
		Summary: "check a veche audit log from outside: 'veche verify-log --url https://host/log --key KEY [--state FILE]'",
		Run:     runVerifyLog,
	})
}

// runVerifyLog checks a published audit log against its public key: the
// checkpoint signature, consistency with the checkpoint saved by the last
// run, and every entry against the signed Merkle tree.
func runVerifyLog(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("verify-log", stderr)
	url := fs.String("url", "", "base URL of the log, e.g. https://veche.example.org/log (required)")
	key := fs.String("key", "", "the log's signed-note verifier key, or @FILE to read it from FILE (required; get it from a source you trust, not only from the log's own /key)")
	state := fs.String("state", "", "file holding the last verified checkpoint; the log must extend it, and it is updated on success")
	timeout := fs.Duration("timeout", time.Minute, "time limit for each HTTP request")
	if err := parseFlags(fs, args, nil); err != nil {
		return err
	}
	if *url == "" || *key == "" {
		return fmt.Errorf("%w: --url and --key are required", errUsage)
	}
	vkey := *key
	if name, ok := strings.CutPrefix(vkey, "@"); ok {
		b, err := os.ReadFile(name)
		if err != nil {
			return fmt.Errorf("read key: %w", err)
		}
		vkey = strings.TrimSpace(string(b))
	}
	client := &http.Client{Timeout: *timeout}
	rep, err := logclient.Verify(ctx, client, *url, vkey, *state)
	if err != nil {
		return fmt.Errorf("audit log NOT verified: %w", err)
	}
	fmt.Fprintf(stdout, "audit log verified: %s\n  entries: %d\n  root:    %s\n", rep.Origin, rep.Size, rep.Root)
	switch {
	case rep.PreviousSize >= 0:
		fmt.Fprintf(stdout, "  extends the saved checkpoint of %d entries (%s)\n", rep.PreviousSize, *state)
	case *state != "":
		fmt.Fprintf(stdout, "  no earlier checkpoint; saved this one to %s\n", *state)
	}
	return nil
}
