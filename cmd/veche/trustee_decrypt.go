package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/veche/veche/internal/voting"
	"github.com/veche/veche/internal/voting/dkg"
)

// veche trustee decrypt: a trustee's partial decryption of an election's
// encrypted tally, with the key share that 'veche trustee finish' kept.
// runTrustee dispatches "decrypt" here.

const trusteeDecryptUsage = `veche trustee decrypt --election URL --dir SECRETS [--out FILE]
veche trustee decrypt --dir SECRETS --tally tally.json --manifest manifest.json [--out FILE]

Decrypts your part of the published encrypted tally with your key share
(SECRETS/key-share.age, under your passphrase) and writes your partial
decryption, with its proofs, to FILE. With --election, the tally and the
manifest come from the server, and the partial decryption (kept in
SECRETS/decryption-trustee-I.json unless --out says otherwise) is uploaded
to it. Without, give the two files; the partial decryption goes to
decryption-trustee-I.json in the current directory (- for standard output),
for you to upload.`

func trusteeDecrypt(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := newFlagSet("trustee decrypt", stderr)
	election := flags.String("election", "", "the election's page on the veche server, e.g. https://veche.example/elections/3: download the tally and manifest, and upload your partial decryption")
	dir := flags.String("dir", "", "your secrets directory, as for the key ceremony (required)")
	tallyFile := flags.String("tally", "", "the encrypted tally the server published: GET /api/v1/elections/ID/tally (required without --election)")
	manifestFile := flags.String("manifest", "", "the election's manifest: the \"manifest\" of GET /api/v1/elections/ID (required without --election)")
	passStdin := flags.Bool("passphrase-stdin", false, "read the passphrase from the first line of standard input instead of the terminal")
	out := flags.String("out", "", "where to write your partial decryption (default decryption-trustee-I.json, in SECRETS with --election; - for standard output without it)")
	if err := parseFlags(flags, args, nil); err != nil {
		return err
	}
	var srv *trusteeServer
	var mb, tb []byte
	manifestFrom, tallyFrom := *manifestFile, *tallyFile
	if *election != "" {
		var err error
		if srv, err = parseElectionURL(*election); err != nil {
			return err
		}
		switch {
		case *dir == "":
			return fmt.Errorf("%w: --dir is required\n%s", errUsage, trusteeDecryptUsage)
		case *tallyFile != "" || *manifestFile != "":
			return fmt.Errorf("%w: with --election the tally and the manifest come from the server: leave out --tally and --manifest", errUsage)
		case *out == "-":
			return fmt.Errorf("%w: with --election the partial decryption goes to the server; give --out a file to keep a copy elsewhere", errUsage)
		}
		if err := srv.loadToken(*dir); err != nil {
			return err
		}
		var done bool
		if mb, tb, done, err = srv.tallyAndManifest(ctx, *dir, stdout); err != nil || done {
			return err
		}
		manifestFrom, tallyFrom = "the server's manifest", "the server's tally"
		fmt.Fprintf(stdout, "downloaded the encrypted tally and the manifest of election %d from %s\n", srv.id, srv.origin)
	} else {
		if *dir == "" || *tallyFile == "" || *manifestFile == "" {
			return fmt.Errorf("%w: --dir, --tally and --manifest are required (or --election and --dir)\n%s", errUsage, trusteeDecryptUsage)
		}
		var err error
		if mb, err = os.ReadFile(*manifestFile); err != nil {
			return err
		}
		if tb, err = os.ReadFile(*tallyFile); err != nil {
			return err
		}
	}
	m, err := voting.ParseManifest(bytes.TrimSpace(mb))
	if err != nil {
		return fmt.Errorf("%s: %w", manifestFrom, err)
	}
	tally, err := voting.ParseEncryptedTally(bytes.TrimSpace(tb))
	if err != nil {
		return fmt.Errorf("%s: %w (download it again; do not edit it)", tallyFrom, err)
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
			ks.Ceremony.ElectionID, manifestFrom, m.ID)
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
		return fmt.Errorf("%s: %w", tallyFrom, err)
	}
	j, err := pd.MarshalJSON()
	if err != nil {
		return err
	}
	where := *out
	switch {
	case where == "-":
		_, err = stdout.Write(j)
		return err
	case where == "" && srv != nil:
		where = filepath.Join(*dir, fmt.Sprintf("decryption-trustee-%d.json", ks.Index))
	case where == "":
		where = fmt.Sprintf("decryption-trustee-%d.json", ks.Index)
	}
	if err := writeFileAtomic(where, func(w io.Writer) error { _, err := w.Write(j); return err }); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "trustee %d: your partial decryption of the tally of %d ballots of election %q is in %s\n", ks.Index, tally.Ballots(), m.ID, where)
	if srv == nil {
		fmt.Fprintln(stdout, "next: upload it (POST /api/v1/elections/ID/decryptions); the result is published once enough trustees have")
		return nil
	}
	return srv.sendDecryption(ctx, ks.Index, j, stdout)
}

// tallyAndManifest downloads what decrypt needs, after checking that the
// session is one of the election's trustees. Once the result is
// published there is nothing to do: done says so, after saying whether
// the server had this trustee's part.
func (s *trusteeServer) tallyAndManifest(ctx context.Context, dir string, w io.Writer) (manifest, tally []byte, done bool, err error) {
	if err := s.needToken(dir); err != nil {
		return nil, nil, false, err
	}
	var el struct {
		State    string          `json:"state"`
		Manifest json.RawMessage `json:"manifest"`
		You      *struct {
			Trustee uint32 `json:"trustee"`
		} `json:"you"`
	}
	if err := s.getJSON(ctx, s.api, true, &el); err != nil {
		return nil, nil, false, s.refused(fmt.Sprintf("read election %d", s.id), err)
	}
	if el.You == nil || el.You.Trustee == 0 {
		return nil, nil, false, s.whoIsNot(ctx, dir)
	}
	if el.State == "published" {
		received, err := s.decryptionsReceived(ctx)
		if err != nil {
			return nil, nil, false, err
		}
		if !slices.Contains(received, el.You.Trustee) {
			return nil, nil, false, fmt.Errorf("the result of election %d is published already, from the partial decryptions of trustees %s: yours is no longer needed (%s/results)",
				s.id, strings.ReplaceAll(trusteeIndices(received), " ", ", "), s.page)
		}
		fmt.Fprintf(w, "trustee %d: the server has your partial decryption, and the result is published: %s/results\n", el.You.Trustee, s.page)
		return nil, nil, true, nil
	}
	tally, err = s.call(ctx, http.MethodGet, s.api+"/tally", nil, true, "")
	if err != nil {
		return nil, nil, false, s.refused("download the encrypted tally", err)
	}
	return el.Manifest, tally, false, nil
}

// decryptionsReceived lists the trustees whose partial decryption the
// server has.
func (s *trusteeServer) decryptionsReceived(ctx context.Context) ([]uint32, error) {
	var res struct {
		Decryptions struct {
			Received []uint32 `json:"received"`
		} `json:"decryptions"`
	}
	if err := s.getJSON(ctx, s.api+"/results", false, &res); err != nil {
		return nil, s.refused("read the results", err)
	}
	return res.Decryptions.Received, nil
}

// sendDecryption uploads trustee index's partial decryption and says
// what became of it; one the server already has is done.
func (s *trusteeServer) sendDecryption(ctx context.Context, index uint32, body []byte, w io.Writer) error {
	ans, err := s.call(ctx, http.MethodPost, s.api+"/decryptions", body, true, "")
	var ae *trusteeAPIError
	switch {
	case err == nil:
		var el struct {
			State string `json:"state"`
		}
		json.Unmarshal(ans, &el)
		fmt.Fprintf(w, "  sent: accepted by %s\n", s.origin)
		if el.State == "published" {
			fmt.Fprintf(w, "the result is published: %s/results\n", s.page)
		} else {
			fmt.Fprintln(w, "the result is published once enough trustees have sent theirs")
		}
		return nil
	case errors.As(err, &ae) && ae.Code == "message_duplicate":
		fmt.Fprintf(w, "  the server already has your partial decryption (%s)\n", ae)
		return nil
	case errors.As(err, &ae) && ae.Status == http.StatusConflict:
		// Once published, the server takes no more: it may have had
		// this trustee's before.
		if received, rerr := s.decryptionsReceived(ctx); rerr == nil && slices.Contains(received, index) {
			fmt.Fprintf(w, "  the server already has your partial decryption (%s)\n", ae)
			return nil
		}
	}
	if err != nil {
		return s.refused("send your partial decryption", err)
	}
	return nil
}
