package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/veche/veche/internal/voting"
	"github.com/veche/veche/internal/voting/dkg"
)

// veche trustee decrypt: a trustee's partial decryption of an election's
// encrypted tally, with the key share that 'veche trustee finish' kept.
// runTrustee dispatches "decrypt" here.

const trusteeDecryptUsage = `veche trustee decrypt --dir SECRETS --tally tally.json --manifest manifest.json [--out FILE]

Decrypts your part of the published encrypted tally with your key share
(SECRETS/key-share.age, under your passphrase) and writes your partial
decryption, with its proofs, to FILE (default decryption-trustee-I.json in
the current directory; - for standard output), for you to upload.`

func trusteeDecrypt(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := newFlagSet("trustee decrypt", stderr)
	dir := flags.String("dir", "", "your secrets directory, as for the key ceremony (required)")
	tallyFile := flags.String("tally", "", "the encrypted tally the server published: GET /api/v1/elections/ID/tally (required)")
	manifestFile := flags.String("manifest", "", "the election's manifest: the \"manifest\" of GET /api/v1/elections/ID (required)")
	passStdin := flags.Bool("passphrase-stdin", false, "read the passphrase from the first line of standard input instead of the terminal")
	out := flags.String("out", "", "where to write your partial decryption (default decryption-trustee-I.json; - for standard output)")
	if err := parseFlags(flags, args, nil); err != nil {
		return err
	}
	if *dir == "" || *tallyFile == "" || *manifestFile == "" {
		return fmt.Errorf("%w: --dir, --tally and --manifest are required\n%s", errUsage, trusteeDecryptUsage)
	}
	mb, err := os.ReadFile(*manifestFile)
	if err != nil {
		return err
	}
	m, err := voting.ParseManifest(bytes.TrimSpace(mb))
	if err != nil {
		return fmt.Errorf("%s: %w", *manifestFile, err)
	}
	tb, err := os.ReadFile(*tallyFile)
	if err != nil {
		return err
	}
	tally, err := voting.ParseEncryptedTally(bytes.TrimSpace(tb))
	if err != nil {
		return fmt.Errorf("%s: %w (download it again; do not edit it)", *tallyFile, err)
	}
	p := &trusteeRun{ctx: ctx, dir: *dir, passStdin: *passStdin, stdout: stdout, stderr: stderr}
	keyFile := filepath.Join(*dir, trusteeKeyShareFile)
	if _, err := os.Stat(keyFile); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no %s: give the --dir where 'veche trustee finish' kept your key share", keyFile)
	}
	if err := p.readPassphrase(false); err != nil {
		return err
	}
	b, err := p.unseal(keyFile)
	if err != nil {
		return err
	}
	ks, err := dkg.ParseKeyShare(b)
	if err != nil {
		return fmt.Errorf("%s: %w", keyFile, err)
	}
	if ks.Ceremony.ElectionID != m.ID || ks.Ceremony.ManifestDigest != m.Digest() {
		return fmt.Errorf("your key share is for election %q; %s is the manifest of election %q (or another version of it): give the manifest of your election",
			ks.Ceremony.ElectionID, *manifestFile, m.ID)
	}
	key, err := voting.NewJointKey(ks.JointKey)
	if err != nil {
		return err
	}
	e, err := voting.NewElection(m, key)
	if err != nil {
		return err
	}
	pd, err := e.PartialDecrypt(voting.TrusteeShare(ks.TrusteeShare()), tally, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", *tallyFile, err)
	}
	j, err := pd.MarshalJSON()
	if err != nil {
		return err
	}
	where := *out
	switch where {
	case "-":
		_, err = stdout.Write(j)
		return err
	case "":
		where = fmt.Sprintf("decryption-trustee-%d.json", ks.Index)
	}
	if err := writeFileAtomic(where, func(w io.Writer) error { _, err := w.Write(j); return err }); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "trustee %d: your partial decryption of the tally of %d ballots of election %q is in %s\n", ks.Index, tally.Ballots(), m.ID, where)
	fmt.Fprintln(stdout, "next: upload it (POST /api/v1/elections/ID/decryptions); the result is published once enough trustees have")
	return nil
}
