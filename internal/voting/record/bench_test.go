package record

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/veche/veche/internal/voting"
)

// Benchmarks of the verifier, quoted in docs/performance.md
// ("Verifiable elections"):
//
//	go test -run '^$' -bench . -benchtime 3x ./internal/voting/record/
//
// The record is a synthetic election of benchBallots ballots with 10
// options in one contest, each voter selecting up to all 10, made once;
// or, for BenchmarkVerify, the record VECHE_BENCH_RECORD names (such as
// one written by veche bench election --ballots 1000000).

const benchBallots = 512

var (
	benchOnce sync.Once
	benchDir  string
	benchErr  error
)

func benchRecord(b *testing.B) string {
	benchOnce.Do(func() {
		dir, err := os.MkdirTemp("", "record-bench-")
		if err != nil {
			benchErr = err
			return
		}
		benchDir = filepath.Join(dir, "r")
		_, benchErr = Synthesize(context.Background(), benchDir, SyntheticOptions{Ballots: benchBallots, Options: 10})
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchDir
}

// cpuTime is the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkVerify is the whole verification of a record, per ballot:
// reading, parsing and batch-verifying every ballot on all cores, the
// log, the box, the tally and the decryption.
func BenchmarkVerify(b *testing.B) {
	dir := os.Getenv("VECHE_BENCH_RECORD")
	if dir == "" {
		dir = benchRecord(b)
	}
	cpu0 := cpuTime()
	b.ResetTimer()
	ballots := int64(0)
	for range b.N {
		r, c, err := Open(dir, Limits{})
		if err != nil {
			b.Fatal(err)
		}
		rep, err := Verify(context.Background(), r, Options{})
		if err != nil {
			b.Fatal(err)
		}
		ballots += rep.Ballots
		c.Close()
	}
	b.StopTimer()
	n := float64(ballots)
	b.ReportMetric(float64(b.Elapsed().Microseconds())/n, "µs/ballot")
	b.ReportMetric(float64(b.Elapsed().Microseconds())/n/10, "µs/option")
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/n, "cpu-µs/ballot")
}

// BenchmarkVerifyBallots is the ballots step alone, by number of workers.
func BenchmarkVerifyBallots(b *testing.B) {
	dir := benchRecord(b)
	for _, workers := range []int{1, 2} {
		b.Run("workers="+strconv.Itoa(workers), func(b *testing.B) {
			r, c, err := Open(dir, Limits{})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			v := &verifier{ctx: context.Background(), r: r, opts: Options{Workers: workers, MaxProblems: 100}, rep: &Report{}}
			v.run("election", v.checkElection)
			v.run("credentials", v.checkCredentials)
			cpu0 := cpuTime()
			b.ResetTimer()
			for range b.N {
				v.boxHash, v.boxIndex, v.boxCred, v.boxOK = nil, nil, nil, nil
				v.run("ballots", v.checkBallots)
				if !v.rep.OK() {
					b.Fatal(v.rep.Problems)
				}
			}
			b.StopTimer()
			n := float64(b.N * benchBallots)
			b.ReportMetric(float64(b.Elapsed().Microseconds())/n, "µs/ballot")
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/n, "cpu-µs/ballot")
		})
	}
}

// BenchmarkBallotCost splits a ballot's cost on one core: parsing its
// line, verifying it alone (one multi-scalar multiplication of its own
// equations, Straus' method) and verifying it in a batch of the whole
// record's ballots (Pippenger's method).
func BenchmarkBallotCost(b *testing.B) {
	dir := benchRecord(b)
	r, c, err := Open(dir, Limits{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	var lines [][]byte
	var ballots []*voting.Ballot
	for line, err := range r.src.lines(BallotsFile, benchBallots) {
		if err != nil {
			b.Fatal(err)
		}
		lines = append(lines, bytes.Clone(line))
		cast, err := parseCastLine(line)
		if err != nil {
			b.Fatal(err)
		}
		ballots = append(ballots, cast.Ballot)
	}
	e, err := voting.NewElection(r.Manifest, r.JointKey)
	if err != nil {
		b.Fatal(err)
	}
	report := func(b *testing.B, cpu0 time.Duration, per int) {
		n := float64(b.N * per)
		cpu := float64((cpuTime() - cpu0).Microseconds())
		b.ReportMetric(cpu/n, "cpu-µs/ballot")
		b.ReportMetric(cpu/n/10, "cpu-µs/option")
	}
	b.Run("parse", func(b *testing.B) {
		cpu0 := cpuTime()
		for i := range b.N {
			if _, err := parseCastLine(lines[i%len(lines)]); err != nil {
				b.Fatal(err)
			}
		}
		report(b, cpu0, 1)
	})
	b.Run("verify-alone", func(b *testing.B) {
		cpu0 := cpuTime()
		for i := range b.N {
			if err := e.VerifyBallot(ballots[i%len(ballots)]); err != nil {
				b.Fatal(err)
			}
		}
		report(b, cpu0, 1)
	})
	for _, size := range []int{64, 238, 512} {
		b.Run("verify-batch="+strconv.Itoa(size), func(b *testing.B) {
			cpu0 := cpuTime()
			for range b.N {
				for _, err := range e.VerifyBallotBatch(ballots[:size]) {
					if err != nil {
						b.Fatal(err)
					}
				}
			}
			report(b, cpu0, size)
		})
	}
}
