package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/veche/veche/internal/voting"
	"github.com/veche/veche/internal/voting/record"
)

func init() {
	register(command{
		Name:    "verify-election",
		Summary: "check a published election record: 'veche verify-election [--log-key KEY] RECORD', or a ballot: 'veche verify-election --ballot FILE --record RECORD'",
		Run:     runVerifyElection,
	})
}

// runVerifyElection checks a whole election record (a directory or a zip
// archive, docs/election-record.md), or one ballot against it: an
// audited ballot (Benaloh challenge) is opened to the choices it
// encrypts; a cast ballot is found in the ballot box and its count
// reported.
func runVerifyElection(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("verify-election", stderr)
	recordPath := fs.String("record", "", "the election record: a directory or a zip archive (or give it as the argument)")
	ballotPath := fs.String("ballot", "", "check this ballot file against the record: an audited ballot, or a cast ballot to find in the box")
	logKey := fs.String("log-key", "", "pin the audit log's signed-note verifier key, or @FILE to read it; without it the key in the record is trusted")
	workers := fs.Int("workers", 0, "goroutines verifying ballots (default: every core)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: veche verify-election [--log-key KEY] RECORD\n       veche verify-election --ballot FILE --record RECORD")
		fs.PrintDefaults()
	}
	// Flags may come before or after the record.
	var positional []string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	switch {
	case len(positional) > 1:
		return fmt.Errorf("%w: one election record, not %d", errUsage, len(positional))
	case len(positional) == 1 && *recordPath != "":
		return fmt.Errorf("%w: the record is given twice (argument and --record)", errUsage)
	case len(positional) == 1:
		*recordPath = positional[0]
	}
	if *recordPath == "" {
		return fmt.Errorf("%w: no election record: veche verify-election RECORD", errUsage)
	}
	key := *logKey
	if name, ok := strings.CutPrefix(key, "@"); ok {
		b, err := os.ReadFile(name)
		if err != nil {
			return fmt.Errorf("read log key: %w", err)
		}
		key = strings.TrimSpace(string(b))
	}
	r, closer, err := record.Open(*recordPath, record.Limits{})
	if err != nil {
		return fmt.Errorf("election record NOT verified: %w", err)
	}
	defer closer.Close()
	if *ballotPath != "" {
		return verifyBallotFile(r, *ballotPath, stdout)
	}

	fmt.Fprintf(stdout, "Election record %s\n", *recordPath)
	rep, err := record.Verify(ctx, r, record.Options{LogKey: key, Workers: *workers, CPUTime: processCPU})
	printElectionReport(stdout, r, rep)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		n := len(rep.Problems) + rep.MoreProblems
		return fmt.Errorf("election record NOT verified: %d problem%s (listed above)", n, plural(n))
	}
	return nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func printElectionReport(w io.Writer, r *record.Record, rep *record.Report) {
	fmt.Fprintf(w, "Election %q\n\n", rep.Election)
	fmt.Fprintf(w, "       %-20s %9s %9s\n", "check", "wall", "CPU")
	for _, s := range rep.Steps {
		mark := "ok  "
		if s.Failed > 0 {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "  %s %-20s %9s %9s  %s\n", mark, s.Name, s.Elapsed.Round(time.Millisecond), s.CPU.Round(time.Millisecond), s.Summary)
		if s.Failed > 0 {
			fmt.Fprintf(w, "       %d problem%s\n", s.Failed, plural(s.Failed))
		}
	}
	if len(rep.Problems) > 0 {
		fmt.Fprintf(w, "\nProblems:\n")
		for _, p := range rep.Problems {
			fmt.Fprintf(w, "  - %s\n", p)
		}
		if rep.MoreProblems > 0 {
			fmt.Fprintf(w, "  … and %d more\n", rep.MoreProblems)
		}
	}
	fmt.Fprintf(w, "\n%d credentials, %d ballots in the box, %d counted; %d log entries in the span, %d casts\n", rep.Credentials, rep.Ballots, rep.Counted, rep.Entries, rep.Casts)
	fmt.Fprintf(w, "Audit log key: %s, from %s\n", rep.LogKey, rep.LogKeyFrom)
	if rep.LogKeyFrom != "pinned" && rep.LogKey != "" {
		// The record vouches for itself here: say what is and is not shown.
		fmt.Fprintf(w, "  Note: the key was taken from the record itself. The record is consistent with a log\n"+
			"  signed by that key, but nothing here shows the key is the site's: get it on your own\n"+
			"  (the site's /log/key, or a witness you trust) and check again with --log-key.\n")
	}
	if rep.Result != nil && r.Manifest != nil {
		fmt.Fprintf(w, "\nResult (%d ballots, decrypted by trustees %v):\n", rep.Result.Ballots, rep.Result.Trustees)
		printResult(w, r.Manifest, rep.Result)
	}
	perBallot := ""
	if rep.Ballots > 0 {
		perBallot = fmt.Sprintf(", %.0f µs wall and %.0f µs CPU per ballot", rep.Elapsed.Seconds()*1e6/float64(rep.Ballots), rep.CPU.Seconds()*1e6/float64(rep.Ballots))
	}
	status := "VERIFIED"
	switch {
	case !rep.OK():
		status = "NOT VERIFIED"
	case rep.LogKeyFrom != "pinned":
		status = "VERIFIED (audit log key not pinned)"
	}
	fmt.Fprintf(w, "\n%s in %s (CPU %s, %d cores)%s\n", status, rep.Elapsed.Round(time.Millisecond), rep.CPU.Round(time.Millisecond), runtime.GOMAXPROCS(0), perBallot)
}

func printResult(w io.Writer, m *voting.Manifest, res *voting.Result) {
	for i, c := range res.Contests {
		title := c.ID
		var options []voting.Option
		if i < len(m.Contests) && m.Contests[i].ID == c.ID {
			title, options = m.Contests[i].Title, m.Contests[i].Options
		}
		fmt.Fprintf(w, "  %s\n", title)
		for j, o := range c.Options {
			name := o.ID
			if j < len(options) && options[j].ID == o.ID {
				name = options[j].Title
			}
			fmt.Fprintf(w, "    %-40s %d\n", name, o.Votes)
		}
	}
}

// verifyBallotFile checks one ballot file against the record.
func verifyBallotFile(r *record.Record, name string, stdout io.Writer) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	data, err := io.ReadAll(io.LimitReader(f, 8<<20))
	f.Close()
	if err != nil {
		return err
	}
	data = []byte(strings.TrimSpace(string(data)))
	if r.Manifest == nil || r.JointKey == nil {
		return errors.New("ballot NOT verified: the record has no manifest or joint key")
	}
	e, err := voting.NewElection(r.Manifest, r.JointKey)
	if err != nil {
		return fmt.Errorf("ballot NOT verified: %w", err)
	}
	if a, err := voting.ParseAuditedBallot(data); err == nil {
		return verifyAudited(r, e, a, stdout)
	}
	b, err := voting.ParseBallot(data)
	if errors.Is(err, voting.ErrAuditedBallot) {
		_, err = voting.ParseAuditedBallot(data)
	}
	if err != nil {
		return fmt.Errorf("ballot NOT verified: %s is neither a ballot nor an audited ballot: %w", name, err)
	}
	if err := e.VerifyBallot(b); err != nil {
		return fmt.Errorf("ballot NOT verified: %w", err)
	}
	fmt.Fprintf(stdout, "Ballot %s for election %q: proofs and signature valid\n", b.TrackingCode(), b.Election())
	loc, err := record.Locate(r, b)
	if errors.Is(err, record.ErrNotInBox) {
		return fmt.Errorf("ballot NOT in the ballot box: no ballot with tracking code %s was recorded; report it to the election officer", b.TrackingCode())
	}
	if err != nil {
		return fmt.Errorf("ballot NOT verified: %w", err)
	}
	fmt.Fprintf(stdout, "  in the ballot box at line %d, cast entry at audit-log index %d", loc.Position+1, loc.LogIndex)
	if loc.Logged {
		fmt.Fprintln(stdout, " (present in the log span)")
	} else {
		fmt.Fprintln(stdout, " (NOT found in the log span)")
	}
	switch {
	case loc.Counted && loc.ReplacedBy < 0:
		fmt.Fprintln(stdout, "  counted: it is the last ballot of its credential")
	case loc.ReplacedBy >= 0 && !loc.Counted:
		fmt.Fprintf(stdout, "  not counted: replaced by a later ballot of the same credential (line %d); only the last one counts\n", loc.ReplacedBy+1)
	case loc.Counted:
		return fmt.Errorf("ballot counted although a later ballot of its credential is at line %d: the record is wrong", loc.ReplacedBy+1)
	default:
		return errors.New("ballot NOT counted although it is the last ballot of its credential: the record is wrong")
	}
	if !loc.Logged {
		return errors.New("ballot NOT verified: its cast entry is not in the audit-log span")
	}
	fmt.Fprintln(stdout, "Run 'veche verify-election RECORD' to check the whole record and its tally.")
	return nil
}

func verifyAudited(r *record.Record, e *voting.Election, a *voting.AuditedBallot, stdout io.Writer) error {
	choices, err := e.VerifyAudit(a)
	if err != nil {
		return fmt.Errorf("audited ballot NOT verified: %w", err)
	}
	fmt.Fprintf(stdout, "Audited ballot %s for election %q: it encrypts exactly these choices\n", a.TrackingCode(), a.Election())
	m := e.Manifest()
	for _, c := range m.Contests {
		fmt.Fprintf(stdout, "  %s\n", c.Title)
		picked := map[string]bool{}
		for _, id := range choices[c.ID] {
			picked[id] = true
		}
		n := 0
		for _, o := range c.Options {
			if picked[o.ID] {
				fmt.Fprintf(stdout, "    [x] %s\n", o.Title)
				n++
			}
		}
		if n == 0 {
			fmt.Fprintln(stdout, "    (no selection)")
		}
	}
	fmt.Fprintln(stdout, "Compare them and the tracking code with what the booth showed. An audited ballot is never counted; vote again to cast one.")
	// An audited ballot's randomness is public: it must never be in the box.
	pos, err := record.FindTrackingCode(r, a.TrackingCode())
	if err != nil {
		return fmt.Errorf("reading the ballot box: %w", err)
	}
	if pos >= 0 {
		return fmt.Errorf("the audited ballot %s is in the ballot box at line %d: an audited ballot must never be cast", a.TrackingCode(), pos+1)
	}
	return nil
}
