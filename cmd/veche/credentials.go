package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/veche/veche/internal/election"
	"github.com/veche/veche/internal/voting"
)

func init() {
	register(command{
		Name:    "credentials",
		Summary: "the credential authority's voting codes: 'veche credentials generate --election ID --count N --out DIR' (see docs/elections.md)",
		Run:     runCredentials,
	})
}

const credentialsUsage = `veche credentials generate --election ID --count N --out DIR

Generates N voting credentials for election ID (the election id the
officer's page shows, such as election-3-9f2c01ab) on this machine, and
writes into DIR, which must not exist yet:

  private-credentials.txt   the private codes, one a line, to hand out, one
                            to each eligible voter; never upload this file
  public-credentials.json   the public credentials, to upload to the server
  upload/part-NNNN.json     the same list in parts of at most 800, in order,
                            when there are more than 800

and prints the count and digest to publish the list with.`

// The files veche credentials generate writes.
const (
	privateCredentialsFile = "private-credentials.txt"
	publicCredentialsFile  = "public-credentials.json"
	credentialsUploadDir   = "upload"
)

// maxCredentials bounds one run; an election with more voters runs
// several, into several directories, and uploads them all before
// publishing.
const maxCredentials = 10_000_000

var electionIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

func runCredentials(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "generate" {
		return fmt.Errorf("%w:\n%s", errUsage, credentialsUsage)
	}
	flags := newFlagSet("credentials generate", stderr)
	id := flags.String("election", "", "the election id, as the election page shows it to the credential authority (required)")
	count := flags.Int("count", 0, "how many credentials: one per eligible voter (required)")
	out := flags.String("out", "", "a new directory for the files (required); keep it on this machine")
	if err := parseFlags(flags, args[1:], nil); err != nil {
		return err
	}
	switch {
	case !electionIDPattern.MatchString(*id):
		return fmt.Errorf("%w: --election must be the election id (1 to 64 of A-Z a-z 0-9 . _ -), such as election-3-9f2c01ab", errUsage)
	case *count < 1 || *count > maxCredentials:
		return fmt.Errorf("%w: --count must be between 1 and %d", errUsage, maxCredentials)
	case *out == "":
		return fmt.Errorf("%w: --out is required", errUsage)
	}
	if _, err := os.Stat(*out); err == nil {
		return fmt.Errorf("%s exists: give a new directory, so that no earlier codes are overwritten or mixed in", *out)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	codes := make([]string, 0, *count)
	public := make([]string, 0, *count)
	seen := make(map[string]bool, *count)
	for len(codes) < *count {
		if err := ctx.Err(); err != nil {
			return err
		}
		c, err := voting.NewCredential(*id, nil)
		if err != nil {
			return err
		}
		p := c.Public().String()
		if seen[p] {
			continue // about 2⁻⁸⁸ per pair: draw again rather than publish one twice
		}
		seen[p] = true
		codes = append(codes, c.Code())
		public = append(public, p)
	}
	// The public list is published in sorted order, not in the order of
	// the private codes, so that the order in which codes are handed out
	// does not link voters to public credentials.
	slices.Sort(public)
	if err := os.MkdirAll(*out, 0o700); err != nil {
		return err
	}
	if err := writePrivate(filepath.Join(*out, privateCredentialsFile), strings.Join(codes, "\n")+"\n"); err != nil {
		return err
	}
	if err := writeCredentialList(filepath.Join(*out, publicCredentialsFile), election.CredentialList{Election: *id, Credentials: public}); err != nil {
		return err
	}
	parts := 0
	if len(public) > election.MaxCredentialsPerUpload {
		for start := 0; start < len(public); start += election.MaxCredentialsPerUpload {
			parts++
			part := public[start:min(start+election.MaxCredentialsPerUpload, len(public))]
			name := filepath.Join(*out, credentialsUploadDir, fmt.Sprintf("part-%04d.json", parts))
			if err := writeCredentialList(name, election.CredentialList{Election: *id, Credentials: part}); err != nil {
				return err
			}
		}
	}
	digest := election.CredentialsDigest(public)
	fmt.Fprintf(stdout, "%d credentials for election %q\n", len(codes), *id)
	fmt.Fprintf(stdout, "  private codes:      %s (hand out one per voter; never upload it)\n", filepath.Join(*out, privateCredentialsFile))
	fmt.Fprintf(stdout, "  public credentials: %s\n", filepath.Join(*out, publicCredentialsFile))
	if parts > 0 {
		fmt.Fprintf(stdout, "  upload in %d parts: %s\n", parts, filepath.Join(*out, credentialsUploadDir, "part-*.json"))
	}
	fmt.Fprintf(stdout, "  count:  %d\n  digest: %s\n", len(public), digest)
	fmt.Fprintln(stdout, "next: upload the public credentials (POST /api/v1/elections/NUMBER/credentials, each part in order),")
	fmt.Fprintf(stdout, "then publish them with {\"count\": %d, \"digest\": \"%s\"} (POST /api/v1/elections/NUMBER/credentials/publish)\n", len(public), digest)
	return nil
}

// writePrivate writes the private codes readable by their owner only.
func writePrivate(name, text string) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.WriteString(f, text); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeCredentialList writes a list as compact JSON: a part of 800 then
// stays well under the server's 64 KiB request limit.
func writeCredentialList(name string, l election.CredentialList) error {
	b, err := json.Marshal(l)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(name), 0o700); err != nil {
		return err
	}
	return writeFileAtomic(name, func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	})
}
