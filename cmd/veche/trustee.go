package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"filippo.io/age"
	"github.com/gtank/ristretto255"
	"golang.org/x/term"

	"github.com/veche/veche/internal/voting/dkg"
)

func init() {
	register(command{
		Name:    "trustee",
		Summary: "an election trustee's key ceremony and tally: 'veche trustee signin|init|shares|receive|answer|finish|verify|decrypt' (see docs/trustees.md)",
		Run:     runTrustee,
	})
}

const trusteeUsage = `veche trustee signin  --election URL --dir SECRETS              sign in to the veche server (asks email, password, two-step code)
veche trustee init    --election URL --dir SECRETS [--index I]  make your secrets and your commitment
veche trustee shares  --election URL --dir SECRETS              encrypt your shares for the other trustees
veche trustee receive --election URL --dir SECRETS              check the shares sent to you; file your complaint
veche trustee answer  --election URL --dir SECRETS              answer complaints against you
veche trustee finish  --election URL --dir SECRETS              compute and keep your key share; confirm the result
veche trustee verify  --election URL [--ceremony DIR]           check a whole ceremony, as anyone can
veche trustee decrypt --election URL --dir SECRETS              after the vote: your partial decryption of the tally

URL is the election's page on the veche server, such as
https://veche.example/elections/3 (or its /api/v1/elections/3 address).
SECRETS is your own directory on your machine; signin keeps your session in
it. With --election, each step first downloads the ceremony directory from
the server into SECRETS/ceremony (or --ceremony DIR), and then uploads the
message it wrote and says what the server accepted.

Without a server, give --ceremony DIR instead of --election: DIR is the
ceremony directory a relay shares (ceremony.json and everyone's messages);
each step writes its message into DIR unless --out says otherwise, and
decrypt takes --tally tally.json --manifest manifest.json. See docs/trustees.md.`

// The files of a trustee's secrets directory. Both are age files
// encrypted under the trustee's passphrase (scrypt).
const (
	trusteeSecretsFile  = "secrets.age"   // polynomial, age identity, signing key
	trusteeKeyShareFile = "key-share.age" // the share of the election key, after finish
)

// trusteeScryptWorkFactor is age's scrypt work factor (2^18, about a
// second here) for the trustee's files; tests lower it.
var trusteeScryptWorkFactor = 18

// trusteeMinPassphrase is the shortest passphrase init accepts: the secrets are
// only as safe as it.
const trusteeMinPassphrase = 12

// trusteeElectionFlag is --election's description.
const trusteeElectionFlag = "the election's page on the veche server, e.g. https://veche.example/elections/3: download the ceremony directory before the step and upload your message after it (sign in first with 'veche trustee signin')"

func runTrustee(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w:\n%s", errUsage, trusteeUsage)
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "decrypt":
		return trusteeDecrypt(ctx, args, stdout, stderr) // trustee_decrypt.go
	case "signin":
		return trusteeSignin(ctx, args, stdout, stderr) // trustee_server.go
	}
	fs := newFlagSet("trustee "+sub, stderr)
	cdir := fs.String("ceremony", "", "the ceremony directory: ceremony.json and the messages of every trustee (required without --election; with it, SECRETS/ceremony)")
	election := fs.String("election", "", trusteeElectionFlag)
	if sub == "verify" {
		fs.Lookup("ceremony").Usage = "the ceremony directory: ceremony.json and the messages of every trustee (required without --election; with it, ./ceremony)"
		fs.Lookup("election").Usage = "the election's page on the veche server, e.g. https://veche.example/elections/3: download its ceremony directory and check it"
		if err := parseFlags(fs, args, nil); err != nil {
			return err
		}
		if *election != "" {
			srv, err := parseElectionURL(*election)
			if err != nil {
				return err
			}
			if err := srv.loadToken(""); err != nil {
				return err
			}
			if *cdir == "" {
				*cdir = "ceremony"
			}
			if _, err := srv.download(ctx, *cdir, stdout); err != nil {
				return err
			}
		}
		if *cdir == "" {
			return fmt.Errorf("%w: --ceremony is required (or --election)", errUsage)
		}
		return trusteeVerify(*cdir, stdout)
	}
	dir := fs.String("dir", "", "your secrets directory on this machine (required); nothing in it ever leaves it unencrypted")
	passStdin := fs.Bool("passphrase-stdin", false, "read the passphrase from the first line of standard input instead of the terminal")
	out := fs.String("out", "", "where to write your message (default: into the ceremony directory; - for standard output); not with --election")
	var index *uint
	var complainMissing *bool
	switch sub {
	case "init":
		index = fs.Uint("index", 0, "your number among the trustees, 1…n, as the election officer gave it (required without --election; with it, the server's)")
	case "receive":
		complainMissing = fs.Bool("complain-missing", false, "complain about dealers whose share has not arrived (only once the deadline has passed: a complaint makes the dealer reveal your share to everyone)")
	case "shares", "answer", "finish":
	default:
		return fmt.Errorf("%w: unknown step %q\n%s", errUsage, sub, trusteeUsage)
	}
	if sub == "shares" {
		fs.Lookup("out").Usage = "directory to write the shares/ files into (default: the ceremony directory); not with --election"
	}
	if err := parseFlags(fs, args, nil); err != nil {
		return err
	}
	var srv *trusteeServer
	if *election != "" {
		var err error
		if srv, err = parseElectionURL(*election); err != nil {
			return err
		}
		switch {
		case *dir == "":
			return fmt.Errorf("%w: --dir is required", errUsage)
		case *out != "":
			return fmt.Errorf("%w: --out and --election do not go together: with --election the message goes into the ceremony directory and to the server", errUsage)
		case *cdir == "":
			*cdir = filepath.Join(*dir, "ceremony")
		}
		if err := srv.loadToken(*dir); err != nil {
			return err
		}
	}
	if *cdir == "" || *dir == "" {
		return fmt.Errorf("%w: --ceremony and --dir are required", errUsage)
	}
	if sub == "shares" && *out == "-" {
		return fmt.Errorf("%w: shares are several files: give --out a directory, or leave it out to write into the ceremony directory", errUsage)
	}
	if sub == "init" && (*index > dkg.MaxTrustees || srv == nil && *index < 1) {
		return fmt.Errorf("%w: --index is required: your number among the trustees, from 1", errUsage)
	}
	p := &trusteeRun{ctx: ctx, cdir: *cdir, dir: *dir, out: *out, passStdin: *passStdin, stdout: stdout, stderr: stderr, srv: srv}
	if srv != nil {
		if err := p.connect(); err != nil {
			return err
		}
		// What the server accepts in its order, asked before the step so
		// that nothing is computed from a record that is not yet whole.
		var err error
		switch sub {
		case "shares", "receive":
			err = p.waitFor("commitment", "commitments", sub)
		case "answer", "finish":
			err = p.waitFor("complaint", "complaints", sub)
		}
		if err != nil {
			return err
		}
	}
	var err error
	switch sub {
	case "init":
		err = p.init(uint32(*index))
	case "shares":
		err = p.shares()
	case "receive":
		err = p.receive(*complainMissing)
	case "answer":
		err = p.answer()
	default:
		err = p.finish()
	}
	if err != nil || srv == nil {
		return err
	}
	if err := p.upload(); err != nil {
		return err
	}
	fmt.Fprint(p.report(), p.next)
	return nil
}

// trusteeRun is one step of one trustee.
type trusteeRun struct {
	ctx            context.Context
	cdir, dir, out string
	passStdin      bool
	stdout, stderr io.Writer
	pass           string

	// With --election: the server, what it sent before the step, the
	// messages the step wrote into the ceremony directory (dkg layout
	// names) for upload, and what to do next, said after the upload.
	srv     *trusteeServer
	got     *trusteeCeremonyAnswer
	written []string
	next    string
}

// then says what to do next: at once without a server, after the upload
// with one (where sending is done).
func (p *trusteeRun) then(offline, online string) {
	if p.srv == nil {
		fmt.Fprint(p.report(), offline)
		return
	}
	p.next = online
}

func (p *trusteeRun) init(index uint32) error {
	cer, err := dkg.ReadCeremony(os.DirFS(p.cdir))
	if err != nil {
		return fmt.Errorf("ceremony directory %s: %w", p.cdir, err)
	}
	if p.srv != nil {
		switch {
		case index == 0:
			index = p.got.You
		case index != p.got.You:
			return fmt.Errorf("%w: --index %d, but the server has you as trustee %d of election %d: leave --index out, or sign in with the account of trustee %d",
				errUsage, index, p.got.You, p.srv.id, index)
		}
	}
	if index > cer.Trustees {
		return fmt.Errorf("%w: --index %d, but the ceremony has %d trustees", errUsage, index, cer.Trustees)
	}
	secrets := filepath.Join(p.dir, trusteeSecretsFile)
	if _, err := os.Stat(secrets); err == nil {
		if p.srv != nil {
			return p.resumeInit(cer, index, secrets)
		}
		return fmt.Errorf("%s exists: you have already begun a ceremony with this directory; use another --dir for another ceremony (never delete secrets of a ceremony in progress)", secrets)
	}
	if p.srv != nil && p.got.State != "ceremony" {
		return fmt.Errorf("election %d is in state %q: its key ceremony is over, there is nothing for init to do", p.srv.id, p.got.State)
	}
	if err := p.readPassphrase(true); err != nil {
		return err
	}
	tr, err := dkg.NewTrustee(cer, index)
	if err != nil {
		return err
	}
	c, err := tr.Commitment()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(p.dir, 0o700); err != nil {
		return err
	}
	b, err := tr.MarshalBinary()
	if err != nil {
		return err
	}
	if err := p.seal(secrets, b); err != nil {
		return err
	}
	where, err := p.writeMessage(dkg.TrusteeFile(dkg.CommitmentsDir, index), c)
	if err != nil {
		return err
	}
	w := p.report()
	fmt.Fprintf(w, "trustee %d of %d for election %q (any %d decrypt)\n", index, cer.Trustees, cer.ElectionID, cer.Threshold)
	fmt.Fprintf(w, "  secrets:     %s (encrypted under your passphrase; never send it)\n", secrets)
	fmt.Fprintf(w, "  commitment:  %s\n", where)
	fmt.Fprintf(w, "  fingerprint: %s\n", c.Fingerprint())
	p.initNext()
	return nil
}

func (p *trusteeRun) initNext() {
	p.then("next: send the commitment to the relay, and read your fingerprint to the other trustees\n"+
		"over a channel the relay does not carry (phone, in person); then wait for every commitment and run 'veche trustee shares'\n",
		"next: read your fingerprint to the other trustees and the officer over a channel the server does not carry\n"+
			"(phone, in person); once every commitment is in, run:\n    "+p.command("shares")+"\n")
}

// resumeInit is init run again with --election after its secrets were
// made: the upload may have failed. It sends the commitment the secrets
// make — the one written then, if it is still in the ceremony directory,
// so that the fingerprint stays the one printed — instead of refusing.
func (p *trusteeRun) resumeInit(cer dkg.Ceremony, index uint32, secrets string) error {
	if err := p.readPassphrase(false); err != nil {
		return err
	}
	b, err := p.unseal(secrets)
	if err != nil {
		return err
	}
	tr, err := dkg.ParseTrustee(b)
	if err != nil {
		return fmt.Errorf("%s: %w", secrets, err)
	}
	if tc := tr.Ceremony(); tc != cer {
		return fmt.Errorf("%w: your secrets in %s are for election %q, and the server's ceremony is of election %q (the officer may have started a new ceremony): give a new --dir for it",
			dkg.ErrOtherCeremony, p.dir, tc.ElectionID, cer.ElectionID)
	}
	if tr.Index() != index {
		return fmt.Errorf("your secrets in %s are trustee %d's, and the server has you as trustee %d: sign in with the account of trustee %d", p.dir, tr.Index(), index, tr.Index())
	}
	mine, err := tr.Commitment()
	if err != nil {
		return err
	}
	rel := dkg.TrusteeFile(dkg.CommitmentsDir, index)
	name := filepath.Join(p.cdir, filepath.FromSlash(rel))
	c := mine
	if b, err := os.ReadFile(name); err == nil {
		if c, err = dkg.ParseCommitment(cer, bytes.TrimSpace(b)); err != nil {
			return p.explain(fmt.Errorf("%s: %w", name, err))
		}
		if !sameCommitment(c, mine) {
			return fmt.Errorf("%s, trustee %d's commitment, is not the one your secrets in %s make: someone else's secrets made it; tell the officer", name, index, p.dir)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	} else if err := trusteeWriteJSON(name, c); err != nil {
		return err
	}
	p.written = append(p.written, rel)
	w := p.report()
	fmt.Fprintf(w, "trustee %d of %d for election %q (any %d decrypt): your secrets were made before, in %s; sending your commitment\n",
		index, cer.Trustees, cer.ElectionID, cer.Threshold, secrets)
	fmt.Fprintf(w, "  commitment:  %s\n", name)
	fmt.Fprintf(w, "  fingerprint: %s\n", c.Fingerprint())
	p.initNext()
	return nil
}

// sameCommitment reports whether two commitments are of the same secrets
// (their proofs differ: each is made afresh).
func sameCommitment(a, b *dkg.Commitment) bool {
	return a.Trustee == b.Trustee && a.Recipient == b.Recipient && bytes.Equal(a.SigningKey, b.SigningKey) &&
		slices.EqualFunc(a.Coefficients, b.Coefficients, func(x, y *ristretto255.Element) bool { return x.Equal(y) == 1 })
}

func (p *trusteeRun) shares() error {
	tr, r, err := p.open()
	if err != nil {
		return err
	}
	shares, err := tr.Deal(r)
	if err != nil {
		return p.explain(err)
	}
	outDir := p.out
	if outDir == "" {
		outDir = p.cdir
	}
	for _, m := range shares {
		rel := dkg.ShareFile(m.Dealer, m.Recipient)
		if err := trusteeWriteJSON(filepath.Join(outDir, filepath.FromSlash(rel)), m); err != nil {
			return err
		}
		if outDir == p.cdir {
			p.written = append(p.written, rel)
		}
	}
	fmt.Fprintf(p.stdout, "trustee %d: %d encrypted shares written to %s\n", tr.Index(), len(shares), filepath.Join(outDir, dkg.SharesDir))
	fmt.Fprintln(p.stdout, "  made for the commitments with these fingerprints; each trustee should have confirmed theirs:")
	for _, c := range r.Commitments {
		fmt.Fprintf(p.stdout, "    trustee %d: %s\n", c.Trustee, c.Fingerprint())
	}
	p.then("next: send the shares to the relay; when every trustee's shares are in, run 'veche trustee receive'\n",
		"next: when every trustee's shares are in, run:\n    "+p.command("receive")+"\n")
	return nil
}

func (p *trusteeRun) receive(complainMissing bool) error {
	tr, r, err := p.open()
	if err != nil {
		return err
	}
	shares, err := dkg.ReadShares(os.DirFS(p.cdir), tr.Ceremony(), tr.Index())
	if err != nil {
		return p.explain(err)
	}
	c, err := tr.Receive(r, shares, complainMissing)
	if errors.Is(err, dkg.ErrMissingShare) {
		return fmt.Errorf("%w\nsome shares have not arrived: wait for them, or ask their dealers to send you the share file\n"+
			"(it is encrypted to you) by another way; once the deadline has passed, run again with --complain-missing\n"+
			"(the dealer must then reveal your share to everyone)", p.explain(err))
	}
	if err != nil {
		return p.explain(err)
	}
	where, err := p.writeMessage(dkg.TrusteeFile(dkg.ComplaintsDir, tr.Index()), c)
	if err != nil {
		return err
	}
	w := p.report()
	if len(c.Accused) == 0 {
		fmt.Fprintf(w, "trustee %d: all %d shares sent to you match their dealers' commitments; no complaint\n", tr.Index(), tr.Ceremony().Trustees-1)
	} else {
		fmt.Fprintf(w, "trustee %d: complaint against", tr.Index())
		for _, a := range c.Accused {
			fmt.Fprintf(w, " %d (%s)", a.Dealer, a.Reason)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "  written to %s\n", where)
	p.then("next: send it to the relay (an empty complaint too: it says you checked); then run 'veche trustee answer'\n",
		"next: once every complaint is in, run:\n    "+p.command("answer")+"\n")
	return nil
}

func (p *trusteeRun) answer() error {
	tr, r, err := p.open()
	if err != nil {
		return err
	}
	a, err := tr.Answer(r)
	if err != nil {
		return p.explain(err)
	}
	if a == nil {
		fmt.Fprintf(p.stdout, "trustee %d: no complaint against you in %s: nothing to answer\n", tr.Index(), filepath.Join(p.cdir, dkg.ComplaintsDir))
		if p.srv == nil {
			fmt.Fprint(p.stdout, "next: once every answer is in, run 'veche trustee finish'\n")
		}
		p.next = "next: nothing to send; once every accused trustee has answered, run:\n    " + p.command("finish") + "\n"
		return nil
	}
	where, err := p.writeMessage(dkg.TrusteeFile(dkg.AnswersDir, tr.Index()), a)
	if err != nil {
		return err
	}
	var to []string
	for _, s := range a.Shares {
		to = append(to, strconv.Itoa(int(s.Recipient)))
	}
	w := p.report()
	whose := "the share of trustee " + to[0]
	if len(to) > 1 {
		whose = "the shares of trustees " + strings.Join(to, ", ")
	}
	fmt.Fprintf(w, "trustee %d: your answer reveals %s, who complained\n  written to %s\n", tr.Index(), whose, where)
	p.then("next: send it to the relay; once every answer is in, run 'veche trustee finish'\n",
		"next: once every accused trustee has answered, run:\n    "+p.command("finish")+"\n")
	return nil
}

func (p *trusteeRun) finish() error {
	tr, r, err := p.open()
	if err != nil {
		return err
	}
	shares, err := dkg.ReadShares(os.DirFS(p.cdir), tr.Ceremony(), tr.Index())
	if err != nil {
		return p.explain(err)
	}
	ks, res, err := tr.Finish(r, shares)
	if err != nil {
		return p.explain(err)
	}
	keyFile := filepath.Join(p.dir, trusteeKeyShareFile)
	if old, err := p.unseal(keyFile); err == nil {
		prev, err := dkg.ParseKeyShare(old)
		if err != nil {
			return fmt.Errorf("%s: %w", keyFile, err)
		}
		if prev.Record != ks.Record {
			return fmt.Errorf("%s holds your share of another record (digest %x…, now %x…): the published messages changed since you finished; find out why with the officer before going on (to finish again, move that file away)",
				keyFile, prev.Record[:8], ks.Record[:8])
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	} else {
		b, err := ks.MarshalBinary()
		if err != nil {
			return err
		}
		if err := p.seal(keyFile, b); err != nil {
			return err
		}
	}
	where, err := p.writeMessage(dkg.TrusteeFile(dkg.ResultsDir, tr.Index()), res)
	if err != nil {
		return err
	}
	o, _ := dkg.Evaluate(r)
	w := p.report()
	fmt.Fprintf(w, "trustee %d: your share of the election key is in %s (encrypted under your passphrase)\n", tr.Index(), keyFile)
	trusteeField(w, "joint public key", hex.EncodeToString(ks.JointKey.Bytes()))
	trusteeField(w, "your verification key", hex.EncodeToString(ks.VerificationKey.Bytes()))
	trusteeField(w, "record digest", hex.EncodeToString(ks.Record[:]))
	trusteeQualification(w, o)
	trusteeField(w, "result", where)
	p.then("next: send the result to the relay; keep the secrets directory and your passphrase until the election is tallied\n",
		"next: keep the secrets directory and your passphrase until the election is tallied; then run:\n    "+p.command("decrypt")+"\n")
	return nil
}

func trusteeVerify(cdir string, stdout io.Writer) error {
	r, err := dkg.ReadRecord(os.DirFS(cdir))
	if err != nil {
		return fmt.Errorf("ceremony NOT verified: %w", err)
	}
	o, err := dkg.Verify(r)
	if err != nil {
		return fmt.Errorf("ceremony NOT verified:\n%w", err)
	}
	cer := o.Ceremony
	fmt.Fprintf(stdout, "ceremony verified: election %q, %d trustees, any %d decrypt\n", cer.ElectionID, cer.Trustees, cer.Threshold)
	trusteeField(stdout, "manifest digest", hex.EncodeToString(cer.ManifestDigest[:]))
	trusteeField(stdout, "record digest", hex.EncodeToString(o.Digest[:]))
	trusteeField(stdout, "joint public key", hex.EncodeToString(o.JointKey.Bytes()))
	trusteeQualification(stdout, o)
	trusteeField(stdout, "confirmed by", trusteeIndices(o.Confirmed))
	slices.SortFunc(r.Commitments, func(a, b *dkg.Commitment) int { return int(a.Trustee) - int(b.Trustee) })
	for _, c := range r.Commitments {
		trusteeField(stdout, fmt.Sprintf("trustee %d", c.Trustee), "fingerprint "+c.Fingerprint())
		trusteeField(stdout, "", "verification key "+hex.EncodeToString(o.VerificationKey(c.Trustee).Bytes()))
	}
	return nil
}

func trusteeQualification(w io.Writer, o *dkg.Outcome) {
	if o == nil {
		return
	}
	trusteeField(w, "qualified dealers", trusteeIndices(o.Qualified))
	for _, d := range o.Disqualified {
		trusteeField(w, "disqualified", fmt.Sprintf("trustee %d: %s", d.Dealer, d.Reason))
	}
}

// trusteeField prints one line of a report, the values aligned.
func trusteeField(w io.Writer, label, value string) {
	if label != "" {
		label += ":"
	}
	fmt.Fprintf(w, "  %-22s %s\n", label, value)
}

func trusteeIndices(v []uint32) string {
	s := make([]string, len(v))
	for k, i := range v {
		s[k] = strconv.Itoa(int(i))
	}
	return strings.Join(s, " ")
}

// open reads the passphrase, the trustee's secrets and the ceremony
// directory, and checks they belong to the same ceremony.
func (p *trusteeRun) open() (*dkg.Trustee, *dkg.Record, error) {
	secrets := filepath.Join(p.dir, trusteeSecretsFile)
	if _, err := os.Stat(secrets); err != nil {
		return nil, nil, fmt.Errorf("no %s: give the --dir you used with 'veche trustee init'", secrets)
	}
	cer, err := dkg.ReadCeremony(os.DirFS(p.cdir))
	if err != nil {
		return nil, nil, fmt.Errorf("ceremony directory %s: %w", p.cdir, err)
	}
	if err := p.readPassphrase(false); err != nil {
		return nil, nil, err
	}
	b, err := p.unseal(secrets)
	if err != nil {
		return nil, nil, err
	}
	tr, err := dkg.ParseTrustee(b)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", secrets, err)
	}
	if tr.Ceremony() != cer {
		tc := tr.Ceremony()
		return nil, nil, fmt.Errorf("%w: %s is for election %q (%d of %d), your secrets in %s for election %q (%d of %d): give the ceremony directory of your election",
			dkg.ErrOtherCeremony, filepath.Join(p.cdir, dkg.CeremonyFile), cer.ElectionID, cer.Threshold, cer.Trustees, p.dir, tc.ElectionID, tc.Threshold, tc.Trustees)
	}
	r, err := dkg.ReadRecord(os.DirFS(p.cdir))
	if err != nil {
		return nil, nil, p.explain(err)
	}
	return tr, r, nil
}

// explain adds what a person can do about a failed message.
func (p *trusteeRun) explain(err error) error {
	switch {
	case errors.Is(err, dkg.ErrOtherCeremony):
		return fmt.Errorf("%w\na message of another ceremony is in %s: remove it, or check that this is the directory of your election", err, p.cdir)
	case errors.Is(err, dkg.ErrInvalid):
		return fmt.Errorf("%w\na message failed its checks: it was altered, damaged or is incomplete; ask its sender or the relay for it again (do not edit messages)", err)
	}
	return err
}

var errNoPassphraseTerminal = errors.New("no terminal to ask for the passphrase: give --passphrase-stdin and pipe the passphrase in")

// readPassphrase asks for the passphrase once per run: from the first
// line of standard input with --passphrase-stdin, or from the terminal
// without echo (twice when creating).
func (p *trusteeRun) readPassphrase(create bool) error {
	if p.pass != "" {
		return nil
	}
	var pass string
	if p.passStdin {
		line, err := bufio.NewReader(io.LimitReader(stdin, 64<<10)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read passphrase: %w", err)
		}
		pass = strings.TrimRight(line, "\r\n")
	} else {
		var err error
		if pass, err = trusteeReadTerminal(p.ctx, "Passphrase for your trustee secrets: ", false, errNoPassphraseTerminal); err != nil {
			return err
		}
		if create {
			again, err := trusteeReadTerminal(p.ctx, "The same passphrase again: ", false, errNoPassphraseTerminal)
			if err != nil {
				return err
			}
			if again != pass {
				return errors.New("the two passphrases differ; nothing was written")
			}
		}
	}
	switch {
	case pass == "":
		return errors.New("empty passphrase")
	case create && len([]rune(pass)) < trusteeMinPassphrase:
		return fmt.Errorf("the passphrase is shorter than %d characters: the secrets are only as safe as it; choose a longer one (several words)", trusteeMinPassphrase)
	}
	p.pass = pass
	return nil
}

// trusteeReadTerminal asks for a line on the controlling terminal, with
// echo off unless echo is set; noTerminal is the error when there is no
// terminal. Interrupted (ctx), it puts the terminal back as it was.
func trusteeReadTerminal(ctx context.Context, prompt string, echo bool, noTerminal error) (string, error) {
	in, out, err := trusteeTerminal()
	if err != nil {
		return "", noTerminal
	}
	defer in.Close()
	if out != in {
		defer out.Close()
	}
	fd := int(in.Fd())
	state, err := term.GetState(fd)
	if err != nil {
		return "", noTerminal
	}
	fmt.Fprint(out, prompt)
	type line struct {
		s   string
		err error
	}
	done := make(chan line, 1)
	go func() {
		var b []byte
		var err error
		if echo {
			b, err = trusteeReadLine(in)
		} else {
			b, err = term.ReadPassword(fd)
			fmt.Fprintln(out)
		}
		done <- line{string(b), err}
	}()
	select {
	case <-ctx.Done():
		term.Restore(fd, state)
		fmt.Fprintln(out)
		return "", ctx.Err()
	case l := <-done:
		if l.err != nil && !errors.Is(l.err, io.EOF) {
			return "", l.err
		}
		return strings.TrimRight(l.s, "\r\n"), nil
	}
}

// trusteeTerminal opens the terminal to ask on: the controlling terminal
// (the console on Windows), whatever standard input is.
func trusteeTerminal() (in, out *os.File, err error) {
	if runtime.GOOS == "windows" {
		if in, err = os.OpenFile("CONIN$", os.O_RDWR, 0); err != nil {
			return nil, nil, err
		}
		if out, err = os.OpenFile("CONOUT$", os.O_WRONLY, 0); err != nil {
			in.Close()
			return nil, nil, err
		}
	} else {
		if in, err = os.OpenFile("/dev/tty", os.O_RDWR, 0); err != nil {
			return nil, nil, err
		}
		out = in
	}
	if !term.IsTerminal(int(in.Fd())) {
		in.Close()
		if out != in {
			out.Close()
		}
		return nil, nil, errors.New("not a terminal")
	}
	return in, out, nil
}

// trusteeReadLine reads one line a byte at a time, so that nothing typed
// after it is taken.
func trusteeReadLine(r io.Reader) ([]byte, error) {
	var line []byte
	var b [1]byte
	for len(line) < 4096 {
		n, err := r.Read(b[:])
		if n == 1 {
			if b[0] == '\n' {
				return line, nil
			}
			line = append(line, b[0])
		}
		if err != nil {
			return line, err
		}
	}
	return line, nil
}

// seal writes b to name, encrypted under the passphrase.
func (p *trusteeRun) seal(name string, b []byte) error {
	r, err := age.NewScryptRecipient(p.pass)
	if err != nil {
		return err
	}
	r.SetWorkFactor(trusteeScryptWorkFactor)
	return writeFileAtomic(name, func(w io.Writer) error {
		aw, err := age.Encrypt(w, r)
		if err != nil {
			return err
		}
		if _, err := aw.Write(b); err != nil {
			return err
		}
		return aw.Close()
	})
}

// unseal decrypts name under the passphrase.
func (p *trusteeRun) unseal(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	id, err := age.NewScryptIdentity(p.pass)
	if err != nil {
		return nil, err
	}
	r, err := age.Decrypt(bufio.NewReader(f), id)
	var wrong *age.NoIdentityMatchError
	if errors.As(err, &wrong) {
		return nil, fmt.Errorf("wrong passphrase for %s (or the file is not passphrase-encrypted)", name)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s is damaged: %w", name, err)
	}
	return b, nil
}

// writeMessage writes a public message to --out, standard output, or its
// place in the ceremony directory, and says where.
func (p *trusteeRun) writeMessage(rel string, m any) (string, error) {
	switch p.out {
	case "-":
		b, err := trusteeEncode(m)
		if err != nil {
			return "", err
		}
		_, err = p.stdout.Write(b)
		return "standard output", err
	case "":
		name := filepath.Join(p.cdir, filepath.FromSlash(rel))
		p.written = append(p.written, rel)
		return name, trusteeWriteJSON(name, m)
	default:
		return p.out, trusteeWriteJSON(p.out, m)
	}
}

// report is where a step's summary goes: standard error when the message
// itself goes to standard output.
func (p *trusteeRun) report() io.Writer {
	if p.out == "-" {
		return p.stderr
	}
	return p.stdout
}

func trusteeEncode(m any) ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

func trusteeWriteJSON(name string, m any) error {
	b, err := trusteeEncode(m)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	err = writeFileAtomic(name, func(w io.Writer) error {
		_, err := io.Copy(w, bytes.NewReader(b))
		return err
	})
	if err != nil {
		return err
	}
	return os.Chmod(name, 0o644) // public: the relay passes it on
}
