package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/veche/veche/internal/voting/record"
)

func init() {
	register(command{
		Name:    "bench",
		Summary: "benchmarks: 'veche bench election --ballots N --options K --out DIR' writes a synthetic election record (docs/performance.md)",
		Run:     runBench,
	})
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "election" {
		return fmt.Errorf("%w: veche bench election --ballots N --options K --out DIR", errUsage)
	}
	return runBenchElection(ctx, args[1:], stdout, stderr)
}

// runBenchElection writes a complete synthetic election record — key
// ceremony, credentials, ballots, audit-log evidence, tally, partial
// decryptions, result — and prints how long each part took; with
// --verify it then verifies the record as verify-election does.
func runBenchElection(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench election", stderr)
	ballots := fs.Int("ballots", 1000, "ballots cast")
	options := fs.Int("options", 10, "options of the one contest")
	maxSel := fs.Int("max", 0, "a voter selects up to this many options (default: all of them; 1 makes a choose-one contest)")
	trustees := fs.Int("trustees", 3, "trustees of the key ceremony")
	threshold := fs.Int("threshold", 2, "trustees needed to decrypt")
	revotes := fs.Int("revotes", -1, "ballots that replace an earlier ballot of the same voter (default: 1% of the ballots)")
	abstain := fs.Int("abstain", -1, "published credentials that never vote (default: 2% of the ballots)")
	out := fs.String("out", "", "directory to write the record to; must not exist or be empty (required)")
	verify := fs.Bool("verify", false, "verify the record after writing it, and print the verifier's times")
	if err := parseFlags(fs, args, nil); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("%w: --out DIR is required", errUsage)
	}
	o := record.SyntheticOptions{
		Ballots: *ballots, Options: *options, Max: *maxSel, Trustees: *trustees, Threshold: *threshold,
		Revotes: *revotes, Abstain: *abstain, Progress: stdout, CPUTime: processCPU,
	}
	// The zero values of SyntheticOptions mean the defaults; -1 here does.
	if *revotes < 0 {
		o.Revotes = 0
	} else if *revotes == 0 {
		o.Revotes = -1
	}
	if *abstain < 0 {
		o.Abstain = 0
	} else if *abstain == 0 {
		o.Abstain = -1
	}
	fmt.Fprintf(stdout, "Writing a synthetic election record to %s: %d ballots, %d options, %d trustees (threshold %d), GOMAXPROCS %d, load average %s\n",
		*out, *ballots, *options, *trustees, *threshold, runtime.GOMAXPROCS(0), loadAverage())
	start, cpu := time.Now(), processCPU()
	timings, err := record.Synthesize(ctx, *out, o)
	fmt.Fprintf(stdout, "  %-12s %10s %10s\n", "part", "wall", "CPU")
	for _, t := range timings {
		fmt.Fprintf(stdout, "  %-12s %10s %10s  %s\n", t.Part, t.Elapsed.Round(time.Millisecond), t.CPU.Round(time.Millisecond), t.Detail)
	}
	if err != nil {
		return err
	}
	total, totalCPU := time.Since(start), processCPU()-cpu
	fmt.Fprintf(stdout, "  %-12s %10s %10s  %.0f µs wall, %.0f µs CPU per ballot; record size %s; load average %s\n", "total",
		total.Round(time.Millisecond), totalCPU.Round(time.Millisecond), total.Seconds()*1e6/float64(*ballots), totalCPU.Seconds()*1e6/float64(*ballots), dirSize(*out), loadAverage())
	if !*verify {
		return nil
	}
	fmt.Fprintf(stdout, "\nVerifying (load average %s)\n", loadAverage())
	r, closer, err := record.Open(*out, record.Limits{})
	if err != nil {
		return err
	}
	defer closer.Close()
	rep, err := record.Verify(ctx, r, record.Options{CPUTime: processCPU})
	printElectionReport(stdout, r, rep)
	fmt.Fprintf(stdout, "load average after: %s\n", loadAverage())
	return err
}

// loadAverage is /proc/loadavg's first three fields, or "unknown".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// dirSize is the total size of the files under dir, for the report.
func dirSize(dir string) string {
	var n int64
	entries, _ := os.ReadDir(dir)
	var walk func(string, []os.DirEntry)
	walk = func(p string, es []os.DirEntry) {
		for _, e := range es {
			if e.IsDir() {
				sub, _ := os.ReadDir(p + "/" + e.Name())
				walk(p+"/"+e.Name(), sub)
			} else if fi, err := e.Info(); err == nil {
				n += fi.Size()
			}
		}
	}
	walk(dir, entries)
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d KiB", n>>10)
}
