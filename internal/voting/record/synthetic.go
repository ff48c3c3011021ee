package record

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/gtank/ristretto255"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/veche/veche/internal/auditlog/logformat"
	"github.com/veche/veche/internal/voting"
	"github.com/veche/veche/internal/voting/dkg"
)

// SyntheticOptions describe a synthetic election for benchmarks and
// tests: one contest of Options options in which a voter selects up to
// Max of them (Max 1: choose one), Ballots ballots cast by Ballots −
// Revotes voters, some of whom vote again (the last ballot counts), and
// Abstain more published credentials that never vote.
type SyntheticOptions struct {
	Ballots   int
	Options   int
	Max       int // default Options
	Trustees  int // default 3
	Threshold int // default 2
	Revotes   int // default Ballots/100; negative for none
	Abstain   int // default Ballots/50; negative for none
	Workers   int // default GOMAXPROCS
	// Progress, if set, receives a line now and then while ballots are made.
	Progress io.Writer
	// CPUTime, if set, is the process's CPU time so far, for Timing.CPU.
	CPUTime func() time.Duration
}

// Timing is how long one part of Synthesize took.
type Timing struct {
	Part    string
	Detail  string
	Elapsed time.Duration
	CPU     time.Duration // when SyntheticOptions.CPUTime is set
}

// The shape of the synthetic audit log: unrelated entries before the
// election's span and after it, and one unrelated entry among every
// syntheticFillerEvery casts, so that a verifier must pick the casts out.
const (
	syntheticPrefix      = 1000
	syntheticSuffix      = 100
	syntheticFillerEvery = 10000
	syntheticLogName     = "synthetic.veche.example/log"
)

// Synthesize writes a complete synthetic election record to dir (which
// must not exist or be empty): a key ceremony run in process by all
// trustees, the credentials, the ballots (encrypted, proven and signed
// with the voting package as a booth does, on all cores, streamed to
// disk), an audit log of their casts (an RFC 6962 tree with a fresh
// signed-note key, whose public key the record holds), the encrypted
// tally, every trustee's partial decryption and the result. Ballots are
// never all in memory. Credentials are derived from the election id and
// the voter's number, so they are not secret: the record is for
// measuring, not for voting.
func Synthesize(ctx context.Context, dir string, o SyntheticOptions) ([]Timing, error) {
	if o.Max == 0 {
		o.Max = o.Options
	}
	if o.Trustees == 0 {
		o.Trustees, o.Threshold = 3, 2
	}
	switch {
	case o.Revotes == 0:
		o.Revotes = o.Ballots / 100
	case o.Revotes < 0:
		o.Revotes = 0
	}
	switch {
	case o.Abstain == 0:
		o.Abstain = o.Ballots / 50
	case o.Abstain < 0:
		o.Abstain = 0
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	switch {
	case o.Ballots < 1 || o.Options < 2 || o.Options > voting.MaxOptions || o.Max < 1 || o.Max > o.Options:
		return nil, fmt.Errorf("synthetic election: %d ballots of %d options, up to %d selected: want at least 1 ballot and 2 to %d options", o.Ballots, o.Options, o.Max, voting.MaxOptions)
	case o.Revotes >= o.Ballots:
		return nil, fmt.Errorf("synthetic election: %d revotes of %d ballots", o.Revotes, o.Ballots)
	case o.Threshold < 1 || o.Threshold > o.Trustees || o.Trustees > dkg.MaxTrustees:
		return nil, fmt.Errorf("synthetic election: threshold %d of %d trustees", o.Threshold, o.Trustees)
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("election record: %s is not empty", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	s := &synth{ctx: ctx, dir: dir, o: o, sink: &dirSink{dir: dir}}
	parts := []struct {
		name string
		run  func() (string, error)
	}{
		{"ceremony", s.ceremony},
		{"credentials", s.credentials},
		{"ballots", s.ballots},
		{"decryption", s.decrypt},
		{"audit log", s.log},
	}
	var out []Timing
	cpu := o.CPUTime
	if cpu == nil {
		cpu = func() time.Duration { return 0 }
	}
	for _, p := range parts {
		t, c := time.Now(), cpu()
		detail, err := p.run()
		if err != nil {
			return out, fmt.Errorf("synthetic election: %s: %w", p.name, err)
		}
		out = append(out, Timing{Part: p.name, Detail: detail, Elapsed: time.Since(t), CPU: cpu() - c})
	}
	return out, nil
}

type synth struct {
	ctx  context.Context
	dir  string
	o    SyntheticOptions
	sink *dirSink

	manifest *voting.Manifest
	election *voting.Election
	shares   []voting.TrusteeShare
	tally    *voting.EncryptedTally

	// the audit log: every stored hash (tlog numbering) and its size
	hashes    []tlog.Hash
	size      int64
	spanFirst int64
}

func (s *synth) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(s.hashes)) {
			return nil, fmt.Errorf("stored hash %d not yet made", x)
		}
		out[i] = s.hashes[x]
	}
	return out, nil
}

// appendEntry adds an entry to the synthetic log.
func (s *synth) appendEntry(e []byte) error {
	hs, err := tlog.StoredHashes(s.size, e, s)
	if err != nil {
		return err
	}
	s.hashes = append(s.hashes, hs...)
	s.size++
	return nil
}

func (s *synth) electionID() string {
	return fmt.Sprintf("synthetic-%d-%d", s.o.Ballots, s.o.Options)
}

func (s *synth) ceremony() (string, error) {
	c := voting.Contest{ID: "c", Title: "Synthetic contest", Kind: voting.ChooseUpTo, Min: 0, Max: s.o.Max}
	if s.o.Max == 1 {
		c.Kind, c.Min = voting.ChooseOne, 1
	}
	for i := range s.o.Options {
		c.Options = append(c.Options, voting.Option{ID: "o" + strconv.Itoa(i+1), Title: "Option " + strconv.Itoa(i+1)})
	}
	opens := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	s.manifest = &voting.Manifest{ID: s.electionID(), Title: "Synthetic election", Opens: opens, Closes: opens.Add(12 * time.Hour), Contests: []voting.Contest{c}}
	if err := s.manifest.Validate(); err != nil {
		return "", err
	}
	cer := dkg.Ceremony{ElectionID: s.manifest.ID, ManifestDigest: s.manifest.Digest(), Trustees: uint32(s.o.Trustees), Threshold: uint32(s.o.Threshold)}
	rec := &dkg.Record{Ceremony: cer}
	var trustees []*dkg.Trustee
	for i := uint32(1); i <= cer.Trustees; i++ {
		t, err := dkg.NewTrustee(cer, i)
		if err != nil {
			return "", err
		}
		m, err := t.Commitment()
		if err != nil {
			return "", err
		}
		trustees = append(trustees, t)
		rec.Commitments = append(rec.Commitments, m)
	}
	var shares []*dkg.EncryptedShare
	for _, t := range trustees {
		sh, err := t.Deal(rec)
		if err != nil {
			return "", err
		}
		shares = append(shares, sh...)
	}
	for _, t := range trustees {
		m, err := t.Receive(rec, shares, false)
		if err != nil {
			return "", err
		}
		rec.Complaints = append(rec.Complaints, m)
	}
	for _, t := range trustees {
		ks, res, err := t.Finish(rec, shares)
		if err != nil {
			return "", err
		}
		s.shares = append(s.shares, voting.TrusteeShare{Index: ks.Index, Secret: ks.Secret})
		rec.Results = append(rec.Results, res)
	}
	o, err := dkg.Verify(rec)
	if err != nil {
		return "", err
	}
	key, err := voting.NewJointKey(o.JointKey)
	if err != nil {
		return "", err
	}
	if s.election, err = voting.NewElection(s.manifest, key); err != nil {
		return "", err
	}
	if err := writeHeader(s.sink, s.manifest, key); err != nil {
		return "", err
	}
	if err := writeCeremony(s.sink, rec); err != nil {
		return "", err
	}
	return fmt.Sprintf("%d trustees, threshold %d", cer.Trustees, cer.Threshold), nil
}

// voterReader is the deterministic randomness of voter v: credentials
// and choices are reproducible, encryption randomness is not.
func (s *synth) voterReader(kind string, v int) *mrand.ChaCha8 {
	seed := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%s\x00%d", s.electionID(), kind, v)))
	return mrand.NewChaCha8(seed)
}

func (s *synth) credential(v int) (*voting.Credential, error) {
	return voting.NewCredential(s.manifest.ID, s.voterReader("credential", v))
}

func (s *synth) voters() int { return s.o.Ballots - s.o.Revotes }

// credentials writes the public credentials of every voter and abstainer.
func (s *synth) credentials() (string, error) {
	n := s.voters() + s.o.Abstain
	w, err := s.sink.create(CredentialsFile)
	if err != nil {
		return "", err
	}
	const chunk = 1024
	err = ordered(s.ctx, s.o.Workers, (n+chunk-1)/chunk, func(c int) ([]byte, error) {
		var b []byte
		for v := c * chunk; v < min(n, (c+1)*chunk); v++ {
			cred, err := s.credential(v)
			if err != nil {
				return nil, err
			}
			b = append(b, cred.Public().String()...)
			b = append(b, '\n')
		}
		return b, nil
	}, func(_ int, b []byte) error {
		_, err := w.Write(b)
		return err
	})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d public credentials (%d voters, %d abstain)", n, s.voters(), s.o.Abstain), s.sink.done()
}

// ordered runs produce(0…n−1) on all workers and hands the results to
// use in order, with at most 4 per worker made and not yet used.
func ordered[T any](ctx context.Context, workers, n int, produce func(i int) (T, error), use func(i int, v T) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		v   T
		err error
	}
	slots := make([]chan result, n)
	for i := range slots {
		slots[i] = make(chan result, 1)
	}
	next := make(chan int)
	tokens := make(chan struct{}, 4*workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				v, err := produce(i)
				slots[i] <- result{v, err}
			}
		}()
	}
	go func() {
		defer close(next)
		for i := range n {
			select {
			case tokens <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case next <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	var err error
	for i := 0; i < n && err == nil; i++ {
		select {
		case r := <-slots[i]:
			err = r.err
			if err == nil {
				err = use(i, r.v)
			}
		case <-ctx.Done():
			err = ctx.Err()
		}
		<-tokens
	}
	cancel()
	wg.Wait()
	return err
}

// fillerEntry is an unrelated log entry.
func fillerEntry(t time.Time, n int64) ([]byte, error) {
	return encodeEntry(&logEntry{Time: t.UTC().Format(entryTimeLayout), Action: "synthetic.filler", Detail: map[string]string{"n": strconv.FormatInt(n, 10)}})
}

// electionEntry is the entry of the election's opening or closing.
func electionEntry(t time.Time, action, id string) ([]byte, error) {
	return encodeEntry(&logEntry{Time: t.UTC().Format(entryTimeLayout), Action: action, Detail: map[string]string{DetailElection: id}})
}

// ballotChunk is a run of ballots made by one worker.
type ballotChunk struct {
	lines   []byte   // ballots.jsonl lines
	entries [][]byte // their cast entries
	tally   *voting.EncryptedTally
}

const synthChunk = 64

// ballots makes, writes and logs every ballot, and sums the counted ones.
func (s *synth) ballots() (string, error) {
	n, voters := s.o.Ballots, s.voters()
	schedule := make([]int32, n)
	for p := range voters {
		schedule[p] = int32(p)
	}
	rnd := mrand.New(s.voterReader("schedule", 0))
	for p := voters; p < n; p++ {
		schedule[p] = int32(rnd.IntN(voters))
	}
	rnd.Shuffle(n, func(i, j int) { schedule[i], schedule[j] = schedule[j], schedule[i] })
	last := make([]int32, voters)
	for p, v := range schedule {
		last[v] = int32(p)
	}

	// The log: prefix, then the span: opening, casts (with fillers), closing.
	opens, closes := s.manifest.Opens, s.manifest.Closes
	for i := range int64(syntheticPrefix) {
		e, err := fillerEntry(opens.Add(-time.Hour).Add(time.Duration(i)*time.Millisecond), i)
		if err != nil {
			return "", err
		}
		if err := s.appendEntry(e); err != nil {
			return "", err
		}
	}
	s.spanFirst = s.size
	ef, err := os.Create(filepath.Join(s.dir, filepath.FromSlash(EntriesFile)))
	if err != nil {
		if err = os.MkdirAll(filepath.Join(s.dir, "log"), 0o755); err == nil {
			ef, err = os.Create(filepath.Join(s.dir, filepath.FromSlash(EntriesFile)))
		}
		if err != nil {
			return "", err
		}
	}
	defer ef.Close()
	entries := bufio.NewWriterSize(ef, 1<<20)
	logEntry := func(e []byte) error {
		if err := s.appendEntry(e); err != nil {
			return err
		}
		entries.Write(e)
		return entries.WriteByte('\n')
	}
	e, err := electionEntry(opens, "election.opened", s.manifest.ID)
	if err != nil {
		return "", err
	}
	if err := logEntry(e); err != nil {
		return "", err
	}
	step := closes.Sub(opens) / time.Duration(n+2)
	castTime := func(p int) time.Time { return opens.Add(time.Duration(p+1) * step) }
	logIndex := func(p int) int64 { return s.spanFirst + 1 + int64(p) + int64(p/syntheticFillerEvery) }

	bw, err := s.sink.create(BallotsFile)
	if err != nil {
		return "", err
	}
	s.tally = s.election.NewTally()
	c := s.manifest.Contests[0]
	started := time.Now()
	produce := func(k int) (*ballotChunk, error) {
		out := &ballotChunk{tally: s.election.NewTally()}
		var js []byte
		for p := k * synthChunk; p < min(n, (k+1)*synthChunk); p++ {
			v := int(schedule[p])
			cred, err := s.credential(v)
			if err != nil {
				return nil, err
			}
			r := mrand.New(s.voterReader("choices", p))
			picked := c.Min + r.IntN(c.Max-c.Min+1)
			var ids []string
			for _, j := range r.Perm(len(c.Options))[:picked] {
				ids = append(ids, c.Options[j].ID)
			}
			pending, err := s.election.Encrypt(cred, voting.Choices{c.ID: ids}, nil)
			if err != nil {
				return nil, err
			}
			b, err := pending.Cast()
			if err != nil {
				return nil, err
			}
			if js, err = b.MarshalJSON(); err != nil {
				return nil, err
			}
			out.lines = appendCastLine(out.lines, logIndex(p), b.TrackingCode(), js)
			e, err := castEntry(castTime(p), CastDetail(s.manifest.ID, b))
			if err != nil {
				return nil, err
			}
			out.entries = append(out.entries, e)
			if last[v] == int32(p) {
				if err := out.tally.Add(b); err != nil {
					return nil, err
				}
			}
		}
		return out, nil
	}
	chunks := (n + synthChunk - 1) / synthChunk
	nextReport := time.Now().Add(10 * time.Second)
	use := func(k int, ch *ballotChunk) error {
		if _, err := bw.Write(ch.lines); err != nil {
			return err
		}
		for i, e := range ch.entries {
			p := k*synthChunk + i
			if p > 0 && p%syntheticFillerEvery == 0 {
				f, err := fillerEntry(castTime(p).Add(-time.Microsecond), int64(syntheticPrefix+p/syntheticFillerEvery))
				if err != nil {
					return err
				}
				if err := logEntry(f); err != nil {
					return err
				}
			}
			if s.size != logIndex(p) {
				return fmt.Errorf("cast %d logged at %d, want %d", p, s.size, logIndex(p))
			}
			if err := logEntry(e); err != nil {
				return err
			}
		}
		if s.o.Progress != nil && time.Now().After(nextReport) {
			done := min(n, (k+1)*synthChunk)
			el := time.Since(started)
			fmt.Fprintf(s.o.Progress, "  %d of %d ballots (%.0f/s, about %s left)\n", done, n, float64(done)/el.Seconds(),
				(time.Duration(float64(el) / float64(done) * float64(n-done))).Round(time.Second))
			nextReport = time.Now().Add(30 * time.Second)
		}
		return s.tally.Merge(ch.tally)
	}
	if err := ordered(s.ctx, s.o.Workers, chunks, produce, use); err != nil {
		return "", err
	}
	if err := s.sink.done(); err != nil {
		return "", err
	}
	if e, err = electionEntry(closes, "election.closed", s.manifest.ID); err != nil {
		return "", err
	}
	if err := logEntry(e); err != nil {
		return "", err
	}
	if err := entries.Flush(); err != nil {
		return "", err
	}
	if err := ef.Close(); err != nil {
		return "", err
	}
	var counted []int64
	for p, v := range schedule {
		if last[v] == int32(p) {
			counted = append(counted, int64(p))
		}
	}
	cb, err := json.Marshal(counted)
	if err != nil {
		return "", err
	}
	if err := writeFile(s.sink, CountedFile, cb); err != nil {
		return "", err
	}
	return fmt.Sprintf("%d ballots (%d voters, %d revotes), %d options, up to %d selected; %d counted", n, voters, n-voters, len(c.Options), c.Max, len(counted)), nil
}

// decrypt writes the tally, every trustee's partial decryption and the result.
func (s *synth) decrypt() (string, error) {
	if err := writeJSON(s.sink, TallyFile, s.tally); err != nil {
		return "", err
	}
	var partials []*voting.PartialDecryption
	var keys []voting.VerificationKey
	for _, sh := range s.shares {
		p, err := s.election.PartialDecrypt(sh, s.tally, nil)
		if err != nil {
			return "", err
		}
		partials = append(partials, p)
		keys = append(keys, voting.VerificationKey{Index: sh.Index, Key: ristrettoBase(sh.Secret)})
		if err := writeJSON(s.sink, dkg.TrusteeFile(DecryptionsDir, sh.Index), p); err != nil {
			return "", err
		}
	}
	res, err := s.election.Decrypt(s.tally, s.o.Threshold, keys, partials)
	if err != nil {
		return "", err
	}
	if err := writeJSON(s.sink, ResultFile, res); err != nil {
		return "", err
	}
	return fmt.Sprintf("%d partial decryptions, combined %v", len(partials), res.Trustees), nil
}

// log closes the synthetic log with a few unrelated entries, signs its
// checkpoint with a fresh key and writes the evidence.
func (s *synth) log() (string, error) {
	spanEnd := s.size
	for i := range int64(syntheticSuffix) {
		e, err := fillerEntry(s.manifest.Closes.Add(time.Duration(i+1)*time.Millisecond), 1_000_000_000+i)
		if err != nil {
			return "", err
		}
		if err := s.appendEntry(e); err != nil {
			return "", err
		}
	}
	skey, vkey, err := note.GenerateKey(rand.Reader, syntheticLogName)
	if err != nil {
		return "", err
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		return "", err
	}
	root, err := tlog.TreeHash(s.size, s)
	if err != nil {
		return "", err
	}
	body := logformat.Checkpoint{Origin: syntheticLogName, Size: s.size, Hash: root}.Marshal()
	cp, err := note.Sign(&note.Note{Text: string(body)}, signer)
	if err != nil {
		return "", err
	}
	proof, err := RangeProof(s, s.size, s.spanFirst, spanEnd)
	if err != nil {
		return "", err
	}
	if err := writeFile(s.sink, LogKeyFile, []byte(vkey+"\n")); err != nil {
		return "", err
	}
	if err := writeFile(s.sink, CheckpointFile, cp); err != nil {
		return "", err
	}
	if err := writeRange(s.sink, s.spanFirst, spanEnd, proof); err != nil {
		return "", err
	}
	return fmt.Sprintf("%d entries, span [%d, %d), checkpoint signed by a fresh key", s.size, s.spanFirst, spanEnd), nil
}

// ristrettoBase is s·G.
func ristrettoBase(s *ristretto255.Scalar) *ristretto255.Element {
	return ristretto255.NewIdentityElement().ScalarBaseMult(s)
}
