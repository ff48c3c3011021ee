package record

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/veche/veche/internal/auditlog/logformat"
	"github.com/veche/veche/internal/voting"
	"github.com/veche/veche/internal/voting/dkg"
)

// Options tune Verify; the zero value is usable.
type Options struct {
	// LogKey pins the audit log's signed-note verifier key. Empty, the
	// key in the record (log/key) is trusted, and the report says so.
	LogKey string
	// Workers is the number of goroutines that verify ballots; default
	// GOMAXPROCS.
	Workers int
	// MaxProblems bounds the problems the report lists one by one;
	// default 100. The rest are counted.
	MaxProblems int
	// CPUTime, if set, is the process's CPU time so far, for Step.CPU
	// and Report.CPU.
	CPUTime func() time.Duration
}

// Report is what Verify checked and found.
type Report struct {
	Election     string
	Steps        []Step
	Problems     []*Problem // at most Options.MaxProblems
	MoreProblems int        // problems found beyond those listed

	Credentials int64 // published credentials
	Ballots     int64 // ballots in the box
	Counted     int64 // ballots counted
	Entries     int64 // log entries of the span
	Casts       int64 // cast entries of this election in the span
	LogKey      string
	LogKeyFrom  string // "pinned" or "the record (not pinned)"

	Result  *voting.Result // as the verifier decrypted it, nil if it could not
	Elapsed time.Duration
	CPU     time.Duration // when Options.CPUTime is set
}

// Step is one check of the verification.
type Step struct {
	Name    string
	Summary string
	Elapsed time.Duration
	CPU     time.Duration // when Options.CPUTime is set
	Failed  int           // problems found by this step
}

// OK reports whether the record passed every check.
func (rep *Report) OK() bool { return len(rep.Problems) == 0 && rep.MoreProblems == 0 }

// verifier is the state of one Verify.
type verifier struct {
	ctx  context.Context
	r    *Record
	opts Options
	rep  *Report
	step *Step

	election *voting.Election
	outcome  *dkg.Outcome
	creds    map[[32]byte]int32 // public credential → its line (0-based)

	// casts of this election in the span, by order of index
	castIndex []int64
	castHash  [][32]byte
	castTime  []time.Time

	// per position of the box
	boxHash  [][32]byte
	boxIndex []int64
	boxCred  []int32 // -1 when unpublished or unparsed
	boxOK    []bool  // parsed and verified

	tally *voting.EncryptedTally
}

// Verify checks the whole record: the ceremony and the joint key, every
// ballot (well formed, for this election, under a published credential,
// valid proofs and signature, in batches by random linear combination on
// all cores), that exactly the last ballot of each credential counts, that
// the ballot box is the audit log's casts (entries authenticated against
// the signed checkpoint, same order, none missing, none extra), the
// homomorphic tally, every partial decryption and the result. It checks
// everything it can even after a failure. The report lists what was
// checked and every problem, each naming its object; the error is nil
// exactly when the record passed, and otherwise joins the listed
// problems, wrapping ErrInvalid.
func Verify(ctx context.Context, r *Record, opts Options) (*Report, error) {
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.MaxProblems <= 0 {
		opts.MaxProblems = 100
	}
	if opts.CPUTime == nil {
		opts.CPUTime = func() time.Duration { return 0 }
	}
	start, cpu := time.Now(), opts.CPUTime()
	empty := func(yield func([]byte, error) bool) {}
	if r.Credentials == nil {
		r.Credentials = func(yield func(*voting.PublicCredential, error) bool) {}
	}
	if r.Ballots == nil {
		r.Ballots = func(yield func(*Cast, error) bool) {}
	}
	if r.Log.Entries == nil {
		r.Log.Entries = empty
	}
	v := &verifier{ctx: ctx, r: r, opts: opts, rep: &Report{}}
	if r.Manifest != nil {
		v.rep.Election = r.Manifest.ID
	}
	v.run("election", v.checkElection)
	v.run("ceremony", v.checkCeremony)
	v.run("credentials", v.checkCredentials)
	v.run("audit log", v.checkLog)
	v.run("ballots", v.checkBallots)
	v.run("ballot box and log", v.checkBox)
	v.run("counted ballots", v.checkCounted)
	v.run("tally", v.checkTally)
	v.run("decryption", v.checkDecryption)
	v.rep.Elapsed, v.rep.CPU = time.Since(start), opts.CPUTime()-cpu
	if err := ctx.Err(); err != nil {
		return v.rep, err
	}
	if v.rep.OK() {
		return v.rep, nil
	}
	errs := make([]error, len(v.rep.Problems))
	for i, p := range v.rep.Problems {
		errs[i] = p
	}
	if v.rep.MoreProblems > 0 {
		errs = append(errs, fmt.Errorf("and %d more problems", v.rep.MoreProblems))
	}
	return v.rep, fmt.Errorf("%w: %w", ErrInvalid, errors.Join(errs...))
}

func (v *verifier) run(name string, check func() string) {
	if v.ctx.Err() != nil {
		return
	}
	v.rep.Steps = append(v.rep.Steps, Step{Name: name})
	v.step = &v.rep.Steps[len(v.rep.Steps)-1]
	t, cpu := time.Now(), v.opts.CPUTime()
	v.step.Summary = check()
	v.step.Elapsed, v.step.CPU = time.Since(t), v.opts.CPUTime()-cpu
}

func (v *verifier) problem(object string, format string, args ...any) {
	v.add(&Problem{Object: object, Err: fmt.Errorf(format, args...)})
}

func (v *verifier) add(p *Problem) {
	v.step.Failed++
	if len(v.rep.Problems) < v.opts.MaxProblems {
		v.rep.Problems = append(v.rep.Problems, p)
	} else {
		v.rep.MoreProblems++
	}
}

func b64(d []byte) string {
	s, _ := json.Marshal(d) // base64 std, quoted
	return strings.Trim(string(s), `"`)
}

// checkElection checks that election.json, the manifest and the ceremony
// name the same election and manifest, and binds the election to the
// joint key of election.json.
func (v *verifier) checkElection() string {
	r := v.r
	if r.Manifest == nil || r.JointKey == nil {
		v.problem(ElectionFile, "no manifest or joint key")
		return ""
	}
	md := r.Manifest.Digest()
	h := r.header
	if h == nil {
		h = &electionHeader{id: r.Manifest.ID, manifest: md}
	}
	var cer *dkg.Ceremony
	if r.Ceremony != nil {
		cer = &r.Ceremony.Ceremony
	}
	switch {
	case h.id != r.Manifest.ID && cer != nil && cer.ElectionID == r.Manifest.ID:
		v.problem(ElectionFile, "election %q, the manifest and the ceremony are for %q", h.id, r.Manifest.ID)
	case h.id != r.Manifest.ID:
		v.problem(ManifestFile, "election %q, %s says %q", r.Manifest.ID, ElectionFile, h.id)
	case cer != nil && cer.ElectionID != r.Manifest.ID:
		v.problem(CeremonyDir+"/"+dkg.CeremonyFile, "election %q, the manifest is for %q", cer.ElectionID, r.Manifest.ID)
	}
	switch {
	case h.manifest != md && cer != nil && cer.ManifestDigest == md:
		v.problem(ElectionFile, "manifest digest %x…, the manifest's and the ceremony's is %x…", h.manifest[:8], md[:8])
	case h.manifest != md:
		v.problem(ManifestFile, "its digest %x… is not the one the election was set up for (%s: %x…): the manifest was changed", md[:8], ElectionFile, h.manifest[:8])
	case cer != nil && cer.ManifestDigest != md:
		v.problem(CeremonyDir+"/"+dkg.CeremonyFile, "manifest digest %x…, the manifest's is %x…", cer.ManifestDigest[:8], md[:8])
	}
	e, err := voting.NewElection(r.Manifest, r.JointKey)
	if err != nil {
		v.problem(ManifestFile, "%v", err)
		return ""
	}
	v.election = e
	options := 0
	for _, c := range r.Manifest.Contests {
		options += len(c.Options)
	}
	return fmt.Sprintf("%q, %d contests, %d options, manifest digest %x…", r.Manifest.ID, len(r.Manifest.Contests), options, md[:8])
}

// checkCeremony verifies the key ceremony and that its joint key is the
// election's.
func (v *verifier) checkCeremony() string {
	if v.r.Ceremony == nil {
		v.problem(CeremonyDir, "missing")
		return ""
	}
	o, err := dkg.Verify(v.r.Ceremony)
	if err != nil {
		probs := dkg.Problems(err)
		if len(probs) == 0 {
			v.problem(CeremonyDir, "%v", err)
		}
		for _, p := range probs {
			v.add(&Problem{Object: ceremonyObject(p), Err: p.Err})
		}
		return ""
	}
	v.outcome = o
	if v.r.JointKey != nil && !bytes.Equal(o.JointKey.Bytes(), v.r.JointKey.Bytes()) {
		v.problem(ElectionFile, "joint_key is not the key the ceremony made (%s)", b64(o.JointKey.Bytes()))
	}
	c := o.Ceremony
	return fmt.Sprintf("%d trustees, threshold %d; qualified %v; results confirmed by %v; joint key = ceremony's", c.Trustees, c.Threshold, o.Qualified, o.Confirmed)
}

// ceremonyObject names the file of a ceremony problem.
func ceremonyObject(p *dkg.Error) string {
	dir := map[string]string{"commitment": dkg.CommitmentsDir, "complaint": dkg.ComplaintsDir, "answer": dkg.AnswersDir, "result": dkg.ResultsDir}[p.Message]
	if p.Trustee == 0 || dir == "" {
		return fmt.Sprintf("%s: %s", CeremonyDir, p.Message)
	}
	return fmt.Sprintf("%s/%s (trustee %d's %s)", CeremonyDir, dkg.TrusteeFile(dir, p.Trustee), p.Trustee, p.Message)
}

func (v *verifier) checkCredentials() string {
	v.creds = map[[32]byte]int32{}
	n := int32(0)
	for c, err := range v.r.Credentials {
		if err != nil {
			v.add(asProblem(CredentialsFile, err))
			break
		}
		var k [32]byte
		copy(k[:], c.Bytes())
		if first, dup := v.creds[k]; dup {
			v.problem(fmt.Sprintf("%s line %d", CredentialsFile, n+1), "the same public credential as line %d", first+1)
		} else {
			v.creds[k] = n
		}
		n++
	}
	v.rep.Credentials = int64(n)
	return fmt.Sprintf("%d published, all distinct", n)
}

func asProblem(object string, err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	return &Problem{Object: object, Err: err}
}

// checkLog authenticates the span of entries against the signed
// checkpoint and collects this election's casts.
func (v *verifier) checkLog() string {
	l := &v.r.Log
	key, from := l.Key, "the record (not pinned: pass --log-key to check it is the log's)"
	if v.opts.LogKey != "" {
		key, from = strings.TrimSpace(v.opts.LogKey), "pinned"
		if l.Key != "" && l.Key != key {
			v.problem(LogKeyFile, "is not the pinned log key")
		}
	}
	v.rep.LogKey, v.rep.LogKeyFrom = key, from
	verifier, err := note.NewVerifier(key)
	if err != nil {
		v.problem(LogKeyFile, "not a signed-note verifier key: %v", err)
		return ""
	}
	n, err := note.Open(l.Checkpoint, note.VerifierList(verifier))
	if err != nil {
		v.problem(CheckpointFile, "the signature does not verify with the log key %s: %v", verifier.Name(), err)
		return ""
	}
	cp, err := logformat.ParseCheckpoint(n.Text)
	if err != nil {
		v.problem(CheckpointFile, "%v", err)
		return ""
	}
	if cp.Origin != verifier.Name() {
		v.problem(CheckpointFile, "origin %q is not the key's name %q", cp.Origin, verifier.Name())
	}

	var (
		leaves []tlog.Hash
		e      = v.election
		opens  time.Time
		closes time.Time
		id     string
	)
	if e != nil {
		m := e.Manifest()
		opens, closes, id = m.Opens, m.Closes, m.ID
	}
	index := l.First
	for b, err := range l.Entries {
		if err != nil {
			v.add(asProblem(EntriesFile, err))
			return ""
		}
		leaves = append(leaves, tlog.RecordHash(b))
		object := func() string { return fmt.Sprintf("%s line %d (log index %d)", EntriesFile, index-l.First+1, index) }
		ent, t, err := parseEntry(b)
		switch {
		case err != nil:
			v.problem(object(), "%v", err)
		case ent.Action == CastAction && ent.Detail[DetailElection] == id && id != "":
			h, err := parseCastDetail(ent.Detail)
			switch {
			case err != nil:
				v.problem(object(), "%v", err)
			case t.Before(opens) || !t.Before(closes):
				v.problem(object(), "cast at %s, the election is open from %s to %s", t.Format(time.RFC3339), opens.Format(time.RFC3339), closes.Format(time.RFC3339))
			}
			v.castIndex = append(v.castIndex, index)
			v.castHash = append(v.castHash, h)
			v.castTime = append(v.castTime, t)
		}
		index++
	}
	v.rep.Entries, v.rep.Casts = int64(len(leaves)), int64(len(v.castIndex))
	root, err := rangeRoot(cp.Size, l.First, leaves, l.Hashes)
	switch {
	case err != nil:
		v.problem(RangeFile, "%v", err)
	case root != cp.Hash:
		v.problem(EntriesFile+", "+RangeFile, "the %d entries of the span [%d, %d) do not hash to the checkpoint's root with the range proof: an entry, the proof or the checkpoint was changed", len(leaves), l.First, index)
	}
	return fmt.Sprintf("checkpoint of %d entries signed by %s (key from %s); span [%d, %d) of %d entries authenticated; %d casts of this election", cp.Size, cp.Origin, from, l.First, index, len(leaves), len(v.castIndex))
}

// parseCastDetail checks a cast entry's detail and returns the ballot digest.
func parseCastDetail(d map[string]string) ([32]byte, error) {
	var h [32]byte
	if len(d) != 3 {
		return h, fmt.Errorf("a cast entry's detail has %s, %s and %s, nothing else", DetailElection, DetailBallot, DetailTrackingCode)
	}
	raw, err := hex.DecodeString(d[DetailBallot])
	if err != nil || len(raw) != 32 || hex.EncodeToString(raw) != d[DetailBallot] {
		return h, fmt.Errorf("%s is not 64 lowercase hex digits", DetailBallot)
	}
	copy(h[:], raw)
	if d[DetailTrackingCode] != voting.TrackingCode(h) {
		return h, fmt.Errorf("%s %q is not the ballot digest's (%s)", DetailTrackingCode, d[DetailTrackingCode], voting.TrackingCode(h))
	}
	return h, nil
}

// chunk is a run of ballot-box lines verified together.
type chunk struct {
	first int64 // position of the first line
	lines [][]byte
	casts []*Cast // when the record was not read by Read
}

// checkBallots parses and verifies every ballot of the box, on all cores,
// and sums the counted ones.
func (v *verifier) checkBallots() string {
	e := v.election
	if e == nil {
		v.problem(BallotsFile, "not checked: no valid manifest and joint key")
		return ""
	}
	countedSet := map[int64]bool{}
	for _, p := range v.r.Counted {
		countedSet[p] = true
	}
	work := make(chan *chunk, 2*v.opts.Workers)
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		tallies  []*voting.EncryptedTally
		problems []*Problem
	)
	grow := func(n int64) {
		// called with mu held
		for int64(len(v.boxHash)) < n {
			v.boxHash = append(v.boxHash, [32]byte{})
			v.boxIndex = append(v.boxIndex, -1)
			v.boxCred = append(v.boxCred, -1)
			v.boxOK = append(v.boxOK, false)
		}
	}
	for w := 0; w < v.opts.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := e.NewTally()
			var local []*Problem
			for c := range work {
				res := v.verifyChunk(c, t, countedSet, &local)
				mu.Lock()
				grow(c.first + int64(len(res)))
				for i, x := range res {
					p := c.first + int64(i)
					v.boxHash[p], v.boxIndex[p], v.boxCred[p], v.boxOK[p] = x.hash, x.logIndex, x.cred, x.ok
				}
				mu.Unlock()
			}
			mu.Lock()
			tallies = append(tallies, t)
			problems = append(problems, local...)
			mu.Unlock()
		}()
	}
	chunkSize := batchBallots(v.r.Manifest)
	n := int64(0)
	send := func(c *chunk) bool {
		select {
		case work <- c:
			return true
		case <-v.ctx.Done():
			return false
		}
	}
	var readErr error
	if v.r.src != nil {
		c := &chunk{}
		for line, err := range v.r.src.lines(BallotsFile, v.r.src.lim.MaxBallots) {
			if err != nil {
				readErr = err
				break
			}
			c.lines = append(c.lines, bytes.Clone(line))
			n++
			if len(c.lines) == chunkSize {
				if !send(c) {
					break
				}
				c = &chunk{first: n}
			}
		}
		if len(c.lines) > 0 {
			send(c)
		}
	} else {
		c := &chunk{}
		for cast, err := range v.r.Ballots {
			if err != nil {
				readErr = err
				break
			}
			c.casts = append(c.casts, cast)
			n++
			if len(c.casts) == chunkSize {
				if !send(c) {
					break
				}
				c = &chunk{first: n}
			}
		}
		if len(c.casts) > 0 {
			send(c)
		}
	}
	close(work)
	wg.Wait()
	if readErr != nil {
		v.add(asProblem(BallotsFile, readErr))
	}
	slices.SortFunc(problems, func(a, b *Problem) int { return strings.Compare(a.Object, b.Object) })
	slices.SortStableFunc(problems, func(a, b *Problem) int { return lineOf(a.Object) - lineOf(b.Object) })
	for _, p := range problems {
		v.add(p)
	}
	v.tally = e.NewTally()
	for _, t := range tallies {
		if err := v.tally.Merge(t); err != nil {
			v.problem(BallotsFile, "%v", err)
		}
	}
	valid := 0
	for _, ok := range v.boxOK {
		if ok {
			valid++
		}
	}
	v.rep.Ballots = n
	return fmt.Sprintf("%d ballots, %d valid (proofs and signatures checked in batches of %d ballots, one multi-scalar multiplication each, on %d workers)", n, valid, chunkSize, v.opts.Workers)
}

// batchPoints is about the number of points of one batch verification:
// past it, Pippenger's method gains little, and a failing batch costs
// more to search.
const batchPoints = 20000

// batchBallots is the number of ballots of a batch: about batchPoints
// points, from the shape of a ballot of the manifest (per option a
// ciphertext and two pairs of commitments, per contest two commitments
// per count, a signature), between 16 and 1024 ballots.
func batchBallots(m *voting.Manifest) int {
	points := 2
	for _, c := range m.Contests {
		points += 6*len(c.Options) + 2*(c.Max-c.Min+1)
	}
	return min(1024, max(16, batchPoints/points))
}

// lineOf is the line number in a problem's object, for sorting.
func lineOf(object string) int {
	var n int
	if i := strings.Index(object, " line "); i >= 0 {
		fmt.Sscanf(object[i+6:], "%d", &n)
	}
	return n
}

type ballotResult struct {
	hash     [32]byte
	logIndex int64
	cred     int32
	ok       bool
}

// verifyChunk checks one chunk of lines and adds its counted ballots to t.
func (v *verifier) verifyChunk(c *chunk, t *voting.EncryptedTally, counted map[int64]bool, problems *[]*Problem) []ballotResult {
	e := v.election
	n := max(len(c.lines), len(c.casts))
	res := make([]ballotResult, n)
	casts := make([]*Cast, n)
	objects := make([]string, n)
	for i := range n {
		pos := c.first + int64(i)
		objects[i] = fmt.Sprintf("%s line %d", BallotsFile, pos+1)
		res[i].cred, res[i].logIndex = -1, -1
		if c.casts != nil {
			casts[i] = c.casts[i]
		} else {
			cast, err := parseCastLine(c.lines[i])
			if err != nil {
				*problems = append(*problems, &Problem{Object: objects[i], Err: err})
				continue
			}
			casts[i] = cast
		}
		b := casts[i].Ballot
		res[i].hash = b.Hash()
		res[i].logIndex = casts[i].LogIndex
		code := voting.TrackingCode(res[i].hash)
		objects[i] += " (tracking code " + code + ")"
		if casts[i].TrackingCode != code {
			*problems = append(*problems, &Problem{Object: objects[i], Err: fmt.Errorf("the record gives tracking code %q, not the ballot's", casts[i].TrackingCode)})
		}
		var k [32]byte
		copy(k[:], b.Credential().Bytes())
		if ci, ok := v.creds[k]; ok {
			res[i].cred = ci
		} else {
			*problems = append(*problems, &Problem{Object: objects[i], Err: fmt.Errorf("credential %s is not a published credential", b.Credential())})
		}
	}
	var ballots []*voting.Ballot
	var at []int
	for i, cast := range casts {
		if cast != nil {
			ballots = append(ballots, cast.Ballot)
			at = append(at, i)
		}
	}
	for k, err := range e.VerifyBallotBatch(ballots) {
		i := at[k]
		if err != nil {
			*problems = append(*problems, &Problem{Object: objects[i], Err: err})
			continue
		}
		res[i].ok = res[i].cred >= 0
		if counted[c.first+int64(i)] {
			if err := t.Add(casts[i].Ballot); err != nil {
				*problems = append(*problems, &Problem{Object: objects[i], Err: err})
			}
		}
	}
	return res
}

// checkBox checks that the ballot box is exactly the log's casts of the
// election, in the same order.
func (v *verifier) checkBox() string {
	if v.castHash == nil && v.boxHash == nil {
		return "no casts and no ballots"
	}
	byHash := make(map[[32]byte]int32, len(v.castHash))
	for j, h := range v.castHash {
		if prev, dup := byHash[h]; dup {
			v.problem(fmt.Sprintf("%s (log index %d)", EntriesFile, v.castIndex[j]), "logs the cast of the same ballot as log index %d", v.castIndex[prev])
			continue
		}
		byHash[h] = int32(j)
	}
	used := make([]int32, len(v.castHash)) // box position + 1
	prevIndex := int64(-1)
	for p := range v.boxHash {
		if v.boxIndex[p] < 0 {
			continue // unparsed: already a problem
		}
		object := fmt.Sprintf("%s line %d (tracking code %s)", BallotsFile, p+1, voting.TrackingCode(v.boxHash[p]))
		j, ok := byHash[v.boxHash[p]]
		switch {
		case !ok:
			v.problem(object, "the audit log has no cast entry for this ballot in the span (it was not logged, or was changed after)")
			continue
		case used[j] != 0:
			v.problem(object, "the same ballot as line %d: a ballot is in the box once", used[j])
			continue
		}
		used[j] = int32(p + 1)
		if v.boxIndex[p] != v.castIndex[j] {
			v.problem(object, "log_index %d, but its cast entry is at log index %d", v.boxIndex[p], v.castIndex[j])
		}
		if v.castIndex[j] <= prevIndex {
			v.problem(object, "out of order: logged at index %d, before the ballot of the line above (index %d)", v.castIndex[j], prevIndex)
		}
		prevIndex = max(prevIndex, v.castIndex[j])
	}
	for j, u := range used {
		if u == 0 {
			v.problem(fmt.Sprintf("%s line %d (log index %d)", EntriesFile, v.castIndex[j]-v.r.Log.First+1, v.castIndex[j]),
				"the log holds the cast of ballot %s, which is not in the ballot box", voting.TrackingCode(v.castHash[j]))
		}
	}
	return fmt.Sprintf("%d ballots in the box, %d casts in the log: the same ballots in the same order", len(v.boxHash), len(v.castHash))
}

// checkCounted checks that the counted ballots are exactly the last
// ballot of each credential.
func (v *verifier) checkCounted() string {
	last := map[int32]int64{}
	for p, c := range v.boxCred {
		if c >= 0 {
			last[c] = int64(p)
		}
	}
	want := make([]bool, len(v.boxHash))
	for _, p := range last {
		want[p] = true
	}
	got := make([]bool, len(v.boxHash))
	prev := int64(-1)
	for _, p := range v.r.Counted {
		switch {
		case p < 0 || p >= int64(len(v.boxHash)):
			v.problem(CountedFile, "position %d is not a line of %s (%d ballots)", p, BallotsFile, len(v.boxHash))
			continue
		case p <= prev:
			v.problem(CountedFile, "position %d after %d: positions are increasing, each once", p, prev)
			continue
		}
		prev = p
		got[p] = true
		object := fmt.Sprintf("%s: position %d (%s line %d, tracking code %s)", CountedFile, p, BallotsFile, p+1, voting.TrackingCode(v.boxHash[p]))
		switch {
		case !v.boxOK[p]:
			v.problem(object, "counts a ballot that is not valid")
		case !want[p]:
			v.problem(object, "counts a ballot that is not the last of its credential (line %d is)", last[v.boxCred[p]]+1)
		}
	}
	for p := range want {
		if want[p] && !got[p] {
			v.problem(fmt.Sprintf("%s: position %d (%s line %d, tracking code %s)", CountedFile, p, BallotsFile, p+1, voting.TrackingCode(v.boxHash[p])), "leaves out the last ballot of its credential")
		}
	}
	v.rep.Counted = int64(len(v.r.Counted))
	return fmt.Sprintf("%d counted: the last ballot of each of %d credentials that voted (%d ballots replaced by a later one)", len(v.r.Counted), len(last), int64(len(v.boxHash))-int64(len(last)))
}

func (v *verifier) checkTally() string {
	if v.tally == nil || v.r.Tally == nil {
		v.problem(TallyFile, "not checked: no ballots verified")
		return ""
	}
	if v.tally.Equal(v.r.Tally) {
		return fmt.Sprintf("the sums of the %d counted ballots' ciphertexts are the published encrypted tally", v.tally.Ballots())
	}
	if v.r.Tally.Ballots() != v.tally.Ballots() {
		v.problem(TallyFile, "says %d ballots, %d are counted", v.r.Tally.Ballots(), v.tally.Ballots())
	}
	for _, d := range tallyDiff(v.tally, v.r.Tally) {
		v.problem(TallyFile, "%s: not the sum of the counted ballots' ciphertexts", d)
	}
	if v.step.Failed == 0 {
		v.problem(TallyFile, "is not a tally of this election")
	}
	return ""
}

// tallyDiff names the options whose sums differ.
func tallyDiff(a, b *voting.EncryptedTally) []string {
	type wire struct {
		Contests []struct {
			ID      string `json:"id"`
			Options []struct {
				ID         string `json:"id"`
				Ciphertext string `json:"ciphertext"`
			} `json:"options"`
		} `json:"contests"`
	}
	var wa, wb wire
	ja, _ := a.MarshalJSON()
	jb, _ := b.MarshalJSON()
	if json.Unmarshal(ja, &wa) != nil || json.Unmarshal(jb, &wb) != nil || len(wa.Contests) != len(wb.Contests) {
		return nil
	}
	var out []string
	for i, c := range wa.Contests {
		if len(c.Options) != len(wb.Contests[i].Options) {
			continue
		}
		for j, o := range c.Options {
			if o.Ciphertext != wb.Contests[i].Options[j].Ciphertext {
				out = append(out, fmt.Sprintf("contest %q, option %q", c.ID, o.ID))
			}
		}
	}
	return out
}

func (v *verifier) checkDecryption() string {
	if v.outcome == nil || v.election == nil || v.r.Tally == nil {
		v.problem(DecryptionsDir, "not checked: no verified ceremony or tally")
		return ""
	}
	c := v.outcome.Ceremony
	keys := make([]voting.VerificationKey, len(v.outcome.VerificationKeys))
	for i, k := range v.outcome.VerificationKeys {
		keys[i] = voting.VerificationKey{Index: k.Index, Key: k.Key}
	}
	res, err := v.election.Decrypt(v.r.Tally, int(c.Threshold), keys, v.r.Decryptions)
	file := func(trustee uint32) string {
		for i, p := range v.r.Decryptions {
			if p.Trustee() == trustee && i < len(v.r.decryptionFiles) {
				return v.r.decryptionFiles[i]
			}
		}
		return dkg.TrusteeFile(DecryptionsDir, trustee)
	}
	var de *voting.DecryptionError
	if errors.As(err, &de) {
		for _, f := range de.Failed {
			v.problem(file(f.Trustee), "%v", f.Err)
		}
		v.problem(DecryptionsDir, "%d valid partial decryptions, %d needed", len(de.Valid), de.Threshold)
		return ""
	}
	if err != nil {
		v.problem(DecryptionsDir, "%v", err)
		return ""
	}
	v.rep.Result = res
	pub := v.r.Result
	excluded := map[uint32]bool{}
	for _, x := range pub.Excluded {
		excluded[x.Trustee] = true
	}
	for _, f := range res.Excluded {
		if !excluded[f.Trustee] {
			v.problem(file(f.Trustee), "%v (and %s does not list the trustee as excluded)", f.Err, ResultFile)
		}
		delete(excluded, f.Trustee)
	}
	for t := range excluded {
		v.problem(ResultFile, "lists trustee %d as excluded, but its partial decryption verifies", t)
	}
	if !res.SameCounts(pub) {
		for _, d := range resultDiff(res, pub) {
			v.problem(ResultFile, "%s", d)
		}
		if v.step.Failed == 0 {
			v.problem(ResultFile, "is not the decryption of the tally")
		}
	}
	return fmt.Sprintf("%d partial decryptions, proofs checked; trustees %v combined; totals of %d ballots = %s", len(v.r.Decryptions), res.Trustees, res.Ballots, ResultFile)
}

// resultDiff says how the published result differs from the decryption.
func resultDiff(got, pub *voting.Result) []string {
	var out []string
	if got.Election != pub.Election {
		out = append(out, fmt.Sprintf("election %q, the tally's is %q", pub.Election, got.Election))
	}
	if got.Ballots != pub.Ballots {
		out = append(out, fmt.Sprintf("%d ballots, the tally has %d", pub.Ballots, got.Ballots))
	}
	if !slices.Equal(got.Trustees, pub.Trustees) {
		out = append(out, fmt.Sprintf("combines trustees %v, the decryption uses %v", pub.Trustees, got.Trustees))
	}
	if len(got.Contests) != len(pub.Contests) {
		return append(out, fmt.Sprintf("%d contests, the tally has %d", len(pub.Contests), len(got.Contests)))
	}
	for i, c := range got.Contests {
		pc := pub.Contests[i]
		if pc.ID != c.ID || len(pc.Options) != len(c.Options) {
			out = append(out, fmt.Sprintf("contest %d is %q with %d options, the tally's is %q with %d", i+1, pc.ID, len(pc.Options), c.ID, len(c.Options)))
			continue
		}
		for j, o := range c.Options {
			po := pc.Options[j]
			if po.ID != o.ID || po.Votes != o.Votes {
				out = append(out, fmt.Sprintf("contest %q, option %q: %d votes, the decryption gives %d", c.ID, po.ID, po.Votes, o.Votes))
			}
		}
	}
	return out
}
