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
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"filippo.io/age"

	"github.com/veche/veche/internal/voting/dkg"
)

func init() {
	register(command{
		Name:    "trustee",
		Summary: "an election trustee's key ceremony and tally: 'veche trustee init|shares|receive|answer|finish|verify|decrypt' (see docs/trustees.md)",
		Run:     runTrustee,
	})
}

const trusteeUsage = `veche trustee init    --ceremony DIR --index I --dir SECRETS   make your secrets and your commitment
veche trustee shares  --ceremony DIR --dir SECRETS              encrypt your shares for the other trustees
veche trustee receive --ceremony DIR --dir SECRETS              check the shares sent to you; file your complaint
veche trustee answer  --ceremony DIR --dir SECRETS              answer complaints against you
veche trustee finish  --ceremony DIR --dir SECRETS              compute and keep your key share; confirm the result
veche trustee verify  --ceremony DIR                            check a whole ceremony, as anyone can
veche trustee decrypt --dir SECRETS --tally tally.json --manifest manifest.json
                                                                after the vote: your partial decryption of the tally

DIR is the ceremony directory the relay shares (ceremony.json and everyone's
messages); SECRETS is your own directory on your machine. Each step writes its
message into DIR unless --out says otherwise. See docs/trustees.md.`

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

func runTrustee(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w:\n%s", errUsage, trusteeUsage)
	}
	sub, args := args[0], args[1:]
	if sub == "decrypt" {
		return trusteeDecrypt(ctx, args, stdout, stderr) // trustee_decrypt.go
	}
	fs := newFlagSet("trustee "+sub, stderr)
	cdir := fs.String("ceremony", "", "the ceremony directory: ceremony.json and the messages of every trustee (required)")
	if sub == "verify" {
		if err := parseFlags(fs, args, nil); err != nil {
			return err
		}
		if *cdir == "" {
			return fmt.Errorf("%w: --ceremony is required", errUsage)
		}
		return trusteeVerify(*cdir, stdout)
	}
	dir := fs.String("dir", "", "your secrets directory on this machine (required); nothing in it ever leaves it unencrypted")
	passStdin := fs.Bool("passphrase-stdin", false, "read the passphrase from the first line of standard input instead of the terminal")
	out := fs.String("out", "", "where to write your message (default: into the ceremony directory; - for standard output)")
	var index *uint
	var complainMissing *bool
	switch sub {
	case "init":
		index = fs.Uint("index", 0, "your number among the trustees, 1…n, as the election officer gave it (required)")
	case "receive":
		complainMissing = fs.Bool("complain-missing", false, "complain about dealers whose share has not arrived (only once the deadline has passed: a complaint makes the dealer reveal your share to everyone)")
	case "shares", "answer", "finish":
	default:
		return fmt.Errorf("%w: unknown step %q\n%s", errUsage, sub, trusteeUsage)
	}
	if sub == "shares" {
		fs.Lookup("out").Usage = "directory to write the shares/ files into (default: the ceremony directory)"
	}
	if err := parseFlags(fs, args, nil); err != nil {
		return err
	}
	if *cdir == "" || *dir == "" {
		return fmt.Errorf("%w: --ceremony and --dir are required", errUsage)
	}
	if sub == "shares" && *out == "-" {
		return fmt.Errorf("%w: shares are several files: give --out a directory, or leave it out to write into the ceremony directory", errUsage)
	}
	p := &trusteeRun{ctx: ctx, cdir: *cdir, dir: *dir, out: *out, passStdin: *passStdin, stdout: stdout, stderr: stderr}
	switch sub {
	case "init":
		if *index < 1 || *index > dkg.MaxTrustees {
			return fmt.Errorf("%w: --index is required: your number among the trustees, from 1", errUsage)
		}
		return p.init(uint32(*index))
	case "shares":
		return p.shares()
	case "receive":
		return p.receive(*complainMissing)
	case "answer":
		return p.answer()
	default:
		return p.finish()
	}
}

// trusteeRun is one step of one trustee.
type trusteeRun struct {
	ctx            context.Context
	cdir, dir, out string
	passStdin      bool
	stdout, stderr io.Writer
	pass           string
}

func (p *trusteeRun) init(index uint32) error {
	cer, err := dkg.ReadCeremony(os.DirFS(p.cdir))
	if err != nil {
		return fmt.Errorf("ceremony directory %s: %w", p.cdir, err)
	}
	if index > cer.Trustees {
		return fmt.Errorf("%w: --index %d, but the ceremony has %d trustees", errUsage, index, cer.Trustees)
	}
	secrets := filepath.Join(p.dir, trusteeSecretsFile)
	if _, err := os.Stat(secrets); err == nil {
		return fmt.Errorf("%s exists: you have already begun a ceremony with this directory; use another --dir for another ceremony (never delete secrets of a ceremony in progress)", secrets)
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
	fmt.Fprintf(w, "next: send the commitment to the relay, and read your fingerprint to the other trustees\n"+
		"over a channel the relay does not carry (phone, in person); then wait for every commitment and run 'veche trustee shares'\n")
	return nil
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
		if err := trusteeWriteJSON(filepath.Join(outDir, dkg.ShareFile(m.Dealer, m.Recipient)), m); err != nil {
			return err
		}
	}
	fmt.Fprintf(p.stdout, "trustee %d: %d encrypted shares written to %s\n", tr.Index(), len(shares), filepath.Join(outDir, dkg.SharesDir))
	fmt.Fprintln(p.stdout, "  made for the commitments with these fingerprints; each trustee should have confirmed theirs:")
	for _, c := range r.Commitments {
		fmt.Fprintf(p.stdout, "    trustee %d: %s\n", c.Trustee, c.Fingerprint())
	}
	fmt.Fprintln(p.stdout, "next: send the shares to the relay; when every trustee's shares are in, run 'veche trustee receive'")
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
	fmt.Fprintf(w, "  written to %s\nnext: send it to the relay (an empty complaint too: it says you checked); then run 'veche trustee answer'\n", where)
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
		fmt.Fprintf(p.stdout, "trustee %d: no complaint against you in %s: nothing to answer\nnext: once every answer is in, run 'veche trustee finish'\n",
			tr.Index(), filepath.Join(p.cdir, dkg.ComplaintsDir))
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
	fmt.Fprintln(w, "next: send it to the relay; once every answer is in, run 'veche trustee finish'")
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
	fmt.Fprintln(w, "next: send the result to the relay; keep the secrets directory and your passphrase until the election is tallied")
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
		if pass, err = trusteeReadTerminal(p.ctx, "Passphrase for your trustee secrets: "); err != nil {
			return err
		}
		if create {
			again, err := trusteeReadTerminal(p.ctx, "The same passphrase again: ")
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

// trusteeReadTerminal reads a line from the controlling terminal with echo off
// (through stty, so that no terminal library is needed).
func trusteeReadTerminal(ctx context.Context, prompt string) (string, error) {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return "", errors.New("no terminal to ask for the passphrase: give --passphrase-stdin and pipe the passphrase in")
	}
	defer tty.Close()
	stty := func(arg string) error {
		c := exec.Command("stty", arg)
		c.Stdin = tty
		return c.Run()
	}
	if err := stty("-echo"); err != nil {
		return "", fmt.Errorf("cannot turn the terminal's echo off (%v): give --passphrase-stdin instead", err)
	}
	defer func() {
		stty("echo")
		fmt.Fprintln(tty)
	}()
	fmt.Fprint(tty, prompt)
	type line struct {
		s   string
		err error
	}
	done := make(chan line, 1)
	go func() {
		s, err := bufio.NewReader(tty).ReadString('\n')
		done <- line{s, err}
	}()
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case l := <-done:
		if l.err != nil && !errors.Is(l.err, io.EOF) {
			return "", l.err
		}
		return strings.TrimRight(l.s, "\r\n"), nil
	}
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
