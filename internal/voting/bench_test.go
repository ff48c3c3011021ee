package voting

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// Benchmarks quoted in docs/election-record.md, "Performance":
//
//	go test -run '^$' -bench . -benchtime 2s ./internal/voting/

// benchManifest has one contest of n options: choose one (the shape of
// the 1,000,000-ballot verifier target) or, with upTo > 1, choose up to
// upTo (a participatory budget).
func benchManifest(n, upTo int) *Manifest {
	c := Contest{ID: "c", Title: "Contest", Kind: ChooseOne, Min: 1, Max: 1}
	if upTo > 1 {
		c.Kind, c.Min, c.Max = ChooseUpTo, 0, upTo
	}
	for i := 0; i < n; i++ {
		c.Options = append(c.Options, Option{ID: fmt.Sprintf("o%d", i), Title: fmt.Sprintf("Option %d", i)})
	}
	return &Manifest{
		ID: "bench", Title: "Benchmark",
		Opens:    time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Closes:   time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC),
		Contests: []Contest{c},
	}
}

func benchFixture(b *testing.B, n, upTo int) *fixture {
	rnd := newSeededReader(fmt.Sprintf("bench-%d-%d", n, upTo))
	key, shares, vks := trustees(b, 3, 2, rnd)
	e, err := NewElection(benchManifest(n, upTo), key)
	if err != nil {
		b.Fatal(err)
	}
	return &fixture{election: e, shares: shares, keys: vks, rnd: rnd}
}

func benchChoices(n, upTo, i int) Choices {
	if upTo > 1 {
		return Choices{"c": {fmt.Sprintf("o%d", i%n), fmt.Sprintf("o%d", (i+1)%n)}}
	}
	return Choices{"c": {fmt.Sprintf("o%d", i%n)}}
}

var (
	benchOnce    sync.Once
	benchFix     *fixture
	benchBallots []*Ballot
)

// tenOptionBallots are 1024 distinct ballots of a choose-one-of-10 contest.
func tenOptionBallots(b *testing.B) (*fixture, []*Ballot) {
	benchOnce.Do(func() {
		benchFix = benchFixture(b, 10, 1)
		for i := 0; i < 1024; i++ {
			benchBallots = append(benchBallots, benchFix.ballot(b, benchFix.credential(b), benchChoices(10, 1, i)))
		}
	})
	return benchFix, benchBallots
}

func BenchmarkEncryptBallot(b *testing.B) {
	for _, shape := range [][2]int{{20, 1}, {20, 3}, {10, 1}} {
		b.Run(fmt.Sprintf("options=%d/max=%d", shape[0], shape[1]), func(b *testing.B) {
			f := benchFixture(b, shape[0], shape[1])
			cred := f.credential(b)
			ch := benchChoices(shape[0], shape[1], 0)
			cpu := startCPU(b)
			for i := 0; i < b.N; i++ {
				p, err := f.election.Encrypt(cred, ch, nil)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := p.Cast(); err != nil {
					b.Fatal(err)
				}
			}
			cpu.report(float64(shape[0]), "option")
			cpu.report(1, "ballot")
		})
	}
}

func BenchmarkParseBallot(b *testing.B) {
	_, ballots := tenOptionBallots(b)
	data, _ := ballots[0].MarshalJSON()
	b.SetBytes(int64(len(data)))
	cpu := startCPU(b)
	for i := 0; i < b.N; i++ {
		if _, err := ParseBallot(data); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report(10, "option")
}

func BenchmarkVerifyBallot(b *testing.B) {
	f, ballots := tenOptionBallots(b)
	b.Run("one-msm", func(b *testing.B) {
		cpu := startCPU(b)
		for i := 0; i < b.N; i++ {
			if err := f.election.VerifyBallot(ballots[i%len(ballots)]); err != nil {
				b.Fatal(err)
			}
		}
		cpu.report(10, "option")
	})
	b.Run("naive", func(b *testing.B) {
		cpu := startCPU(b)
		for i := 0; i < b.N; i++ {
			chk, err := f.election.prepare(ballots[i%len(ballots)], true)
			if err != nil {
				b.Fatal(err)
			}
			if err := f.election.exact(chk); err != nil {
				b.Fatal(err)
			}
		}
		cpu.report(10, "option")
	})
}

func BenchmarkVerifyBatch(b *testing.B) {
	f, ballots := tenOptionBallots(b)
	for _, size := range []int{1, 4, 8, 16, 64, 256, 1024} {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			errs := make([]error, size)
			cpu := startCPU(b)
			for i := 0; i < b.N; i++ {
				f.election.verifyBatch(ballots[:size], errs)
				for _, err := range errs {
					if err != nil {
						b.Fatal(err)
					}
				}
			}
			cpu.report(float64(size), "ballot")
			cpu.report(float64(size*10), "option")
		})
	}
	b.Run("all-cores", func(b *testing.B) {
		cpu := startCPU(b)
		for i := 0; i < b.N; i++ {
			for _, err := range f.election.VerifyBallots(ballots) {
				if err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.N*len(ballots))/b.Elapsed().Seconds(), "ballots/s")
		cpu.report(float64(len(ballots)), "ballot")
	})
}

// BenchmarkAcceptBallot is what the server does per cast ballot, on all
// cores: parse the JSON and verify it alone.
func BenchmarkAcceptBallot(b *testing.B) {
	f, ballots := tenOptionBallots(b)
	data := make([][]byte, len(ballots))
	for i, bl := range ballots {
		data[i], _ = bl.MarshalJSON()
	}
	cpu := startCPU(b)
	var n sync.Mutex
	next := 0
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n.Lock()
			d := data[next%len(data)]
			next++
			n.Unlock()
			bl, err := ParseBallot(d)
			if err != nil {
				b.Fatal(err)
			}
			if err := f.election.VerifyBallot(bl); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ballots/s")
	cpu.report(1, "ballot")
}

func BenchmarkTally(b *testing.B) {
	f, ballots := tenOptionBallots(b)
	tally := f.election.NewTally()
	for _, bl := range ballots {
		tally.Add(bl)
	}
	b.Run("add", func(b *testing.B) {
		t := f.election.NewTally()
		cpu := startCPU(b)
		for i := 0; i < b.N; i++ {
			t.Add(ballots[i%len(ballots)])
		}
		cpu.report(10, "option")
	})
	b.Run("partial-decrypt", func(b *testing.B) {
		cpu := startCPU(b)
		for i := 0; i < b.N; i++ {
			if _, err := f.election.PartialDecrypt(f.shares[0], tally, nil); err != nil {
				b.Fatal(err)
			}
		}
		cpu.report(10, "option")
	})
	ps := f.partials(b, tally)
	b.Run("combine-3-partials-threshold-2", func(b *testing.B) {
		cpu := startCPU(b)
		for i := 0; i < b.N; i++ {
			if _, err := f.election.Decrypt(tally, 2, f.keys, ps); err != nil {
				b.Fatal(err)
			}
		}
		cpu.report(10, "option")
	})
}

func BenchmarkDiscreteLog(b *testing.B) {
	const bound = 1_000_000
	b.Run("table", func(b *testing.B) {
		cpu := startCPU(b)
		for i := 0; i < b.N; i++ {
			newDiscreteLog(bound)
		}
		cpu.report(1, "op")
	})
	d := newDiscreteLog(bound)
	p := multipleOfG(bound - 1) // near the worst case: the most giant steps
	b.Run("lookup", func(b *testing.B) {
		cpu := startCPU(b)
		for i := 0; i < b.N; i++ {
			if m, ok := d.lookup(p); !ok || m != bound-1 {
				b.Fatal(m, ok)
			}
		}
		cpu.report(1, "op")
	})
}
