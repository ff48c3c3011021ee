package election_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veche/veche/internal/auditlog"
	"github.com/veche/veche/internal/election"
	"github.com/veche/veche/internal/election/electiontest"
	"github.com/veche/veche/internal/participation"
	"github.com/veche/veche/internal/participation/participationtest"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/store/storetest"
	"github.com/veche/veche/internal/validate"
	"github.com/veche/veche/internal/voting"
	"github.com/veche/veche/internal/voting/dkg"
	"github.com/veche/veche/internal/voting/record"
)

// fixture is an election with three trustees (any two decrypt) whose key
// ceremony is done, credentials for five voters published, and the
// clock inside the voting period.
type fixture struct {
	env      *participationtest.Env
	s        *election.Service
	officer  int64
	trustees []int64
	voters   []int64
	process  *participation.Process
	e        *election.Election
	keys     []*dkg.KeyShare
	creds    []*voting.Credential
}

func grant(t *testing.T, env *participationtest.Env, account int64, role string) {
	t.Helper()
	if _, err := env.DB.Exec(context.Background(), "INSERT INTO account_roles (account_id, role, granted_at) VALUES (?, ?, 0)", account, role); err != nil {
		t.Fatal(err)
	}
}

func input(f *fixture) election.Input {
	return election.Input{
		Title: "Referendum on the park", Opens: f.env.Now.Add(24 * time.Hour), Closes: f.env.Now.Add(48 * time.Hour),
		Contests: []election.ContestInput{
			{Title: "Which park first?", Kind: voting.ChooseOne, Options: []string{"North", "South", "River"}},
			{Title: "Benches everywhere?", Kind: voting.YesNo, Min: 1, Options: []string{"Yes", "No"}},
		},
		Trustees: f.trustees, Threshold: 2,
	}
}

// newDraft makes the people and a draft election.
func newDraft(t *testing.T, db *store.DB, el participation.Eligibility) *fixture {
	t.Helper()
	env := participationtest.New(t, db)
	f := &fixture{env: env, s: election.New(env.P)}
	f.officer = env.Account(t)
	grant(t, env, f.officer, "election_officer")
	for range 3 {
		a := env.Account(t)
		grant(t, env, a, "trustee")
		f.trustees = append(f.trustees, a)
	}
	for range 5 {
		f.voters = append(f.voters, env.Account(t))
	}
	f.process = env.Process(t, f.officer, el)
	var err error
	if f.e, err = f.s.Create(t.Context(), f.officer, f.process.ID, input(f)); err != nil {
		t.Fatal(err)
	}
	return f
}

// relay is the service itself as the trustees' relay.
func (f *fixture) relay(t *testing.T) electiontest.Relay {
	return electiontest.Relay{
		Post: func(i uint32, body []byte) error {
			_, err := f.s.PostMessage(t.Context(), f.trustees[i-1], f.e.ID, body)
			return err
		},
		Files: func(i uint32) map[string][]byte {
			files, err := f.s.CeremonyFiles(t.Context(), f.e.ID, f.trustees[i-1])
			if err != nil {
				t.Fatal(err)
			}
			return files
		},
	}
}

func newOpenElection(t *testing.T, db *store.DB, el participation.Eligibility) *fixture {
	t.Helper()
	f := newDraft(t, db, el)
	ctx := t.Context()
	var err error
	if _, err = f.s.StartCeremony(ctx, f.officer, f.e.ID); err != nil {
		t.Fatal(err)
	}
	f.keys = electiontest.RunCeremony(t, 3, f.relay(t))
	if f.e, err = f.s.Get(ctx, f.e.ID); err != nil || f.e.State != election.Credentials || f.e.JointKey == nil {
		t.Fatalf("after the ceremony: %v, state %s", err, f.e.State)
	}
	list := election.CredentialList{Election: f.e.ManifestID}
	for range f.voters {
		c, err := voting.NewCredential(f.e.ManifestID, nil)
		if err != nil {
			t.Fatal(err)
		}
		f.creds = append(f.creds, c)
		list.Credentials = append(list.Credentials, c.Public().String())
	}
	ca := f.env.Account(t)
	if _, err := f.s.AddCredentials(ctx, ca, f.e.ID, list); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.PublishCredentials(ctx, ca, f.e.ID, len(list.Credentials), election.CredentialsDigest(list.Credentials)); err != nil {
		t.Fatal(err)
	}
	if f.e, err = f.s.Open(ctx, f.officer, f.e.ID); err != nil || f.e.State != election.Scheduled {
		t.Fatalf("open: %v, state %v", err, f.e)
	}
	f.env.Now = f.env.Now.Add(25 * time.Hour)
	return f
}

// ballot encrypts choices with voter v's credential.
func (f *fixture) ballot(t *testing.T, v int, choices voting.Choices) []byte {
	t.Helper()
	ve, err := f.e.Voting()
	if err != nil {
		t.Fatal(err)
	}
	p, err := ve.Encrypt(f.creds[v], choices, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.Cast()
	if err != nil {
		t.Fatal(err)
	}
	j, err := b.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func count(t *testing.T, db *store.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func refusal(err error) string {
	var r *election.Refusal
	if errors.As(err, &r) {
		return r.Code
	}
	return ""
}

// TestElectionFromDraftToResult runs a whole election through the
// service: the draft refuses a bad manifest, the ceremony fixes the key,
// ballots are cast (one voter changes their mind), bad ballots are
// refused with their reason and leave nothing behind, the tally is
// decrypted by two trustees after a third's wrong decryption is named and
// excluded, and the counts are the voters' choices.
func TestElectionFromDraftToResult(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newDraft(t, db, participation.Eligibility{})
		ctx := t.Context()
		bad := input(f)
		bad.Contests[0].Options = []string{"Only one"}
		bad.Threshold = 4
		bad.Trustees = append(bad.Trustees, f.voters[0])
		_, err := f.s.Update(ctx, f.officer, f.e.ID, bad)
		var v validate.Errors
		if !errors.As(err, &v) {
			t.Fatalf("bad draft: %v", err)
		}
		for _, field := range []string{"contests.0.options", "trustees"} {
			if _, ok := v.Field(field); !ok {
				t.Errorf("bad draft: no problem with %s in %v", field, v)
			}
		}
		if _, err := f.s.Open(ctx, f.officer, f.e.ID); !errors.As(err, new(*election.StateError)) {
			t.Errorf("opening a draft: %v", err)
		}

		f = newOpenElection(t, db, participation.Eligibility{})
		choices := []voting.Choices{
			{"c1": {"o1"}, "c2": {"o1"}},
			{"c1": {"o2"}, "c2": {"o1"}},
			{"c1": {"o1"}, "c2": {"o2"}},
		}
		var receipts []*election.Receipt
		for i, c := range choices {
			rc, err := f.s.Cast(ctx, f.voters[i], f.e.ID, f.ballot(t, i, c))
			if err != nil {
				t.Fatalf("voter %d: %v", i, err)
			}
			receipts = append(receipts, rc)
		}
		// Voter 0 changes their mind: only the last ballot counts.
		first := f.ballot(t, 0, voting.Choices{"c1": {"o3"}, "c2": {"o2"}})
		rc, err := f.s.Cast(ctx, f.voters[0], f.e.ID, first)
		if err != nil || !rc.Replaced {
			t.Fatalf("revote: %v %+v", err, rc)
		}
		choices[0] = voting.Choices{"c1": {"o3"}, "c2": {"o2"}}

		tests := []struct {
			name    string
			account int64
			body    []byte
			code    string
		}{
			{"malformed", f.voters[3], []byte(`{"election":`), election.BallotMalformed},
			{"replayed", f.voters[0], first, election.BallotReplayed},
			{"someone else's credential", f.voters[3], f.ballot(t, 1, choices[1]), election.CredentialUsed},
			{"a second credential", f.voters[0], f.ballot(t, 4, choices[0]), election.CredentialOther},
			// The signature covers every ciphertext and proof, so any change
			// to a ballot breaks it first.
			{"tampered", f.voters[3], tamper(t, f.ballot(t, 3, choices[0])), election.BallotBadSignature},
		}
		for _, tt := range tests {
			_, err := f.s.Cast(ctx, tt.account, f.e.ID, tt.body)
			if got := refusal(err); got != tt.code {
				t.Errorf("%s: %v (code %q), want %q", tt.name, err, got, tt.code)
			}
		}
		if n := count(t, db, "SELECT COUNT(*) FROM election_ballots WHERE election_id = ?", f.e.ID); n != 4 {
			t.Errorf("%d ballots in the box, want 4 (3 voters, one twice)", n)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM election_ballots WHERE election_id = ? AND counted", f.e.ID); n != 3 {
			t.Errorf("%d counted, want 3", n)
		}
		if got, err := f.s.Track(ctx, f.e.ID, strings.ToLower(receipts[1].TrackingCode)); err != nil || len(got) != 1 || !got[0].Counted {
			t.Errorf("track %s: %v %+v", receipts[1].TrackingCode, err, got)
		}

		// Closing time: too late to vote, and the tally closes the election.
		f.env.Now = f.env.Now.Add(24 * time.Hour)
		if _, err := f.s.Cast(ctx, f.voters[3], f.e.ID, f.ballot(t, 3, choices[0])); !errors.As(err, new(*election.PeriodError)) {
			t.Errorf("after closing: %v", err)
		}
		if f.e, err = f.s.Tally(ctx, f.officer, f.e.ID); err != nil || f.e.State != election.Tallying || f.e.ClosedAt == nil {
			t.Fatalf("tally: %v %+v", err, f.e)
		}
		good := electiontest.PartialDecrypt(t, f.e.ManifestJSON, f.keys[1], f.e.TallyJSON)
		if _, err := f.s.PostDecryption(ctx, f.trustees[1], f.e.ID, good); refusal(err) != "message_not_yours" {
			t.Errorf("trustee 2 posting trustee 1's decryption: %v", err)
		}
		if _, err := f.s.PostDecryption(ctx, f.trustees[0], f.e.ID, electiontest.Corrupt(t, good)); err != nil {
			t.Fatal(err)
		}
		if f.e, err = f.s.PostDecryption(ctx, f.trustees[1], f.e.ID, electiontest.PartialDecrypt(t, f.e.ManifestJSON, f.keys[2], f.e.TallyJSON)); err != nil || f.e.State != election.Tallying {
			t.Fatalf("second decryption: %v, state %s (one of two is bad: not yet enough)", err, f.e.State)
		}
		st, err := f.s.DecryptionStatus(ctx, f.e.ID)
		if err != nil || len(st.Failed) != 1 || st.Failed[0].Trustee != 1 {
			t.Errorf("decryption status: %v %+v", err, st)
		}
		if f.e, err = f.s.PostDecryption(ctx, f.trustees[2], f.e.ID, electiontest.PartialDecrypt(t, f.e.ManifestJSON, f.keys[3], f.e.TallyJSON)); err != nil || f.e.State != election.Published {
			t.Fatalf("third decryption: %v, state %s", err, f.e.State)
		}
		r := f.e.Result()
		want := map[string]uint64{"c1/o1": 1, "c1/o2": 1, "c1/o3": 1, "c2/o1": 1, "c2/o2": 2}
		for _, c := range r.Contests {
			for _, o := range c.Options {
				if o.Votes != want[c.ID+"/"+o.ID] {
					t.Errorf("%s/%s: %d votes, want %d", c.ID, o.ID, o.Votes, want[c.ID+"/"+o.ID])
				}
			}
		}
		if r.Ballots != 3 || len(r.Excluded) != 1 || r.Excluded[0].Trustee != 1 || fmt.Sprint(r.Trustees) != "[2 3]" {
			t.Errorf("result: %+v", r)
		}
		actions := strings.Join(f.env.Entries(t), " ")
		for _, a := range []string{"election.created", "election.ceremony_started", "election.key_fixed", "election.credentials_published",
			"election.opened", "election.ballot_cast", "election.closed", "election.tallied", "election.decryption_received", "election.results_published"} {
			if !strings.Contains(actions, a) {
				t.Errorf("no %s entry in the log", a)
			}
		}
	})
}

// tamper swaps the first two ciphertexts of a ballot, keeping the JSON
// canonical: the signature and proofs no longer hold.
func tamper(t *testing.T, b []byte) []byte {
	t.Helper()
	s := string(b)
	const key = `"ciphertext":"`
	i := strings.Index(s, key) + len(key)
	j := strings.Index(s[i:], key) + i + len(key)
	n := strings.IndexByte(s[i:], '"')
	return []byte(s[:i] + s[j:j+n] + s[i+n:j] + s[i:i+n] + s[j+n:])
}

// TestConcurrentCastsWithOneCredential: two people send ballots with one
// credential at once, several each; the database gives the credential to
// one of them, accepts all of that person's ballots, refuses the other's,
// and keeps exactly one counted.
func TestConcurrentCastsWithOneCredential(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newOpenElection(t, db, participation.Eligibility{})
		const each = 8
		ballots := make([][]byte, 2*each)
		for i := range ballots {
			ballots[i] = f.ballot(t, 0, voting.Choices{"c1": {"o1"}, "c2": {"o1"}})
		}
		var wg sync.WaitGroup
		errs := make(chan error, len(ballots))
		for i, b := range ballots {
			wg.Go(func() { _, err := f.s.Cast(t.Context(), f.voters[i%2], f.e.ID, b); errs <- err })
		}
		wg.Wait()
		close(errs)
		ok, used := 0, 0
		for err := range errs {
			switch {
			case err == nil:
				ok++
			case refusal(err) == election.CredentialUsed:
				used++
			default:
				t.Errorf("cast: %v", err)
			}
		}
		if ok != each || used != each {
			t.Errorf("%d accepted and %d refused as another's credential; want %d each", ok, used, each)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM election_ballots WHERE election_id = ? AND counted", f.e.ID); n != 1 {
			t.Errorf("%d counted ballots for one credential", n)
		}
	})
}

// TestCloseDueRecordsTheCloseOfElectionsPastTheirClosingTime: the
// background job closes an opened election once its closing time has
// passed (one audit entry, once), and leaves one still voting alone.
func TestCloseDueRecordsTheCloseOfElectionsPastTheirClosingTime(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newOpenElection(t, db, participation.Eligibility{})
		ctx := t.Context()
		closed := func() int {
			return count(t, db, "SELECT COUNT(*) FROM elections WHERE id = ? AND state = ?", f.e.ID, election.Closed)
		}
		if n, err := f.s.CloseDue(ctx); err != nil || n != 0 || closed() != 0 {
			t.Fatalf("while voting: closed %d, %v", n, err)
		}
		f.env.Now = f.env.Now.Add(24 * time.Hour) // past the closing time
		if n, err := f.s.CloseDue(ctx); err != nil || n != 1 || closed() != 1 {
			t.Fatalf("after the closing time: closed %d, %v", n, err)
		}
		if n, err := f.s.CloseDue(ctx); err != nil || n != 0 {
			t.Fatalf("a second run: closed %d, %v", n, err)
		}
		closes := 0
		for _, a := range f.env.Entries(t) {
			if a == "election.closed" {
				closes++
			}
		}
		if closes != 1 {
			t.Fatalf("election.closed entries: %d, want 1", closes)
		}
	})
}

// TestCastAtTheCloseIsLoggedBeforeIt: a ballot accepted a microsecond
// before the close is stamped in the log at the instant the ballot box
// decided by, the same as its cast_at, so the record's verifier (which
// checks each cast entry's time against the voting period) does not
// find an honest ballot cast "after the close" because the entry was
// written a moment later. One microsecond after, the ballot is refused.
func TestCastAtTheCloseIsLoggedBeforeIt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newOpenElection(t, db, participation.Eligibility{})
		ctx := t.Context()
		closes := f.e.Closes()
		f.env.Now = closes.Add(-time.Microsecond)
		if _, err := f.s.Cast(ctx, f.voters[0], f.e.ID, f.ballot(t, 0, voting.Choices{"c1": {"o1"}, "c2": {"o1"}})); err != nil {
			t.Fatalf("a microsecond before the close: %v", err)
		}
		var castAt int64
		if err := db.QueryRow(ctx, "SELECT cast_at FROM election_ballots WHERE election_id = ?", f.e.ID).Scan(&castAt); err != nil {
			t.Fatal(err)
		}
		rows, err := db.Query(ctx, "SELECT entry FROM auditlog_pending ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var stamped []time.Time
		for rows.Next() {
			var b []byte
			if err := rows.Scan(&b); err != nil {
				t.Fatal(err)
			}
			if r, err := auditlog.ParseRecord(b); err == nil && r.Action == record.CastAction {
				stamped = append(stamped, r.Time)
			}
		}
		if len(stamped) != 1 || !stamped[0].Before(closes) || !stamped[0].Equal(store.FromMicros(castAt)) {
			t.Errorf("the cast is stamped %v in the log and %v in the box; voting closes at %v", stamped, store.FromMicros(castAt), closes)
		}
		f.env.Now = closes
		if _, err := f.s.Cast(ctx, f.voters[1], f.e.ID, f.ballot(t, 1, voting.Choices{"c1": {"o1"}, "c2": {"o1"}})); err == nil {
			t.Error("a ballot at the closing instant was accepted")
		}
	})
}

// TestCancelledCeremonyStartsAgainWithOtherTrustees: trustee 3 never
// sends a commitment, so the ceremony cannot go on; each trustee's next
// step says so. The officer cancels it: the election is a draft again
// under a new id, the messages are gone, trustee 3 is replaced, and a
// new ceremony fixes the key. A commitment of the abandoned ceremony is
// refused by the new one. Cancelling outside a ceremony is refused.
func TestCancelledCeremonyStartsAgainWithOtherTrustees(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newDraft(t, db, participation.Eligibility{})
		ctx := t.Context()
		if _, err := f.s.CancelCeremony(ctx, f.officer, f.e.ID); !errors.As(err, new(*election.StateError)) {
			t.Fatalf("cancelling a draft's ceremony: %v", err)
		}
		if _, err := f.s.StartCeremony(ctx, f.officer, f.e.ID); err != nil {
			t.Fatal(err)
		}
		files, err := f.s.CeremonyFiles(ctx, f.e.ID, f.trustees[0])
		if err != nil {
			t.Fatal(err)
		}
		var old []byte
		for i := uint32(1); i <= 2; i++ {
			_, c := electiontest.Commit(t, files[dkg.CeremonyFile], i)
			b, _ := c.MarshalJSON()
			if _, err := f.s.PostMessage(ctx, f.trustees[i-1], f.e.ID, b); err != nil {
				t.Fatalf("trustee %d's commitment: %v", i, err)
			}
			if i == 1 {
				old = b
			}
		}
		st, err := f.s.Ceremony(ctx, f.e.ID)
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range []string{election.StepWait, election.StepWait, election.StepInit} {
			step, waiting := st.Next(uint32(i + 1))
			if step != want || (step == election.StepWait && fmt.Sprint(waiting) != "[3]") {
				t.Errorf("trustee %d's next step: %s %v, want %s", i+1, step, waiting, want)
			}
		}
		if len(st.Fingerprints) != 2 || st.Fingerprints[1] == "" {
			t.Errorf("fingerprints %v", st.Fingerprints)
		}

		before := f.e.ManifestID
		e, err := f.s.CancelCeremony(ctx, f.officer, f.e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if e.State != election.Draft || e.ManifestID == before || e.Manifest.ID != e.ManifestID || len(e.CeremonyJSON) != 0 {
			t.Fatalf("after cancelling: state %s, id %s (was %s), manifest id %s", e.State, e.ManifestID, before, e.Manifest.ID)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM election_messages WHERE election_id = ?", e.ID); n != 0 {
			t.Errorf("%d messages kept", n)
		}
		if got := f.env.Entries(t); got[len(got)-1] != "election.ceremony_cancelled" {
			t.Errorf("the last audit entry is %s", got[len(got)-1])
		}

		// A new trustee replaces the one who never came.
		nt := f.env.Account(t)
		grant(t, f.env, nt, "trustee")
		f.trustees[2] = nt
		in := e.Input()
		in.Trustees = f.trustees
		if _, err := f.s.Update(ctx, f.officer, e.ID, in); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.StartCeremony(ctx, f.officer, e.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.PostMessage(ctx, f.trustees[0], e.ID, old); refusal(err) != "message_invalid" {
			t.Errorf("the abandoned ceremony's commitment in the new one: %v", err)
		}
		f.e = e
		electiontest.RunCeremony(t, 3, f.relay(t))
		if e, err = f.s.Get(ctx, e.ID); err != nil || e.State != election.Credentials || e.JointKey == nil {
			t.Fatalf("after the new ceremony: %v, state %s", err, e.State)
		}
		st, err = f.s.Ceremony(ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if step, _ := st.Next(1); step != election.StepDone {
			t.Errorf("after the ceremony, trustee 1's next step is %s", step)
		}
	})
}

// TestNextStepFollowsTheCeremony walks a ceremony message by message and
// checks each trustee's next step against what the relay accepts.
func TestNextStepFollowsTheCeremony(t *testing.T) {
	f := newDraft(t, storetest.SQLite(t), participation.Eligibility{})
	ctx := t.Context()
	if _, err := f.s.StartCeremony(ctx, f.officer, f.e.ID); err != nil {
		t.Fatal(err)
	}
	var seen []string
	relay := f.relay(t)
	post := relay.Post
	relay.Post = func(i uint32, body []byte) error {
		st, err := f.s.Ceremony(ctx, f.e.ID)
		if err != nil {
			t.Fatal(err)
		}
		step, _ := st.Next(i)
		seen = append(seen, fmt.Sprintf("%d:%s", i, step))
		return post(i, body)
	}
	electiontest.RunCeremony(t, 3, relay)
	// Each trustee's step before each of its messages: the commitment,
	// two shares (the second after the first is in: still "shares"), the
	// complaint, the result.
	want := "1:init 2:init 3:init 1:shares 1:shares 2:shares 2:shares 3:shares 3:shares 1:receive 2:receive 3:receive 1:finish 2:finish 3:finish"
	if got := strings.Join(seen, " "); got != want {
		t.Errorf("next steps:\n got %s\nwant %s", got, want)
	}
}

// TestReplaceCredentialsInOneStep: the authority's whole file, count and
// digest publish the list in one step, replacing a wrong part uploaded
// before; a wrong count, digest, file or election is refused on its field
// and changes nothing; a part can also be discarded on its own.
func TestReplaceCredentialsInOneStep(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newDraft(t, db, participation.Eligibility{})
		ctx := t.Context()
		if _, err := f.s.StartCeremony(ctx, f.officer, f.e.ID); err != nil {
			t.Fatal(err)
		}
		electiontest.RunCeremony(t, 3, f.relay(t))
		e, err := f.s.Get(ctx, f.e.ID)
		if err != nil {
			t.Fatal(err)
		}
		ca := f.env.Account(t)
		list := election.CredentialList{Election: e.ManifestID}
		for range 450 {
			c, err := voting.NewCredential(e.ManifestID, nil)
			if err != nil {
				t.Fatal(err)
			}
			list.Credentials = append(list.Credentials, c.Public().String())
		}
		digest := election.CredentialsDigest(list.Credentials)
		// A wrong part first: the first ten twice over.
		if _, err := f.s.AddCredentials(ctx, ca, e.ID, election.CredentialList{Election: e.ManifestID, Credentials: list.Credentials[:10]}); err != nil {
			t.Fatal(err)
		}
		if n, err := f.s.DiscardCredentials(ctx, ca, e.ID); err != nil || n != 10 {
			t.Fatalf("discard: %d, %v", n, err)
		}
		if _, err := f.s.AddCredentials(ctx, ca, e.ID, election.CredentialList{Election: e.ManifestID, Credentials: list.Credentials[:10]}); err != nil {
			t.Fatalf("the same part again after discarding: %v", err)
		}
		bad := func(l election.CredentialList, count int, digest string) string {
			_, err := f.s.ReplaceCredentials(ctx, ca, e.ID, l, count, digest)
			var v validate.Errors
			if !errors.As(err, &v) {
				return fmt.Sprint(err)
			}
			return v[0].Field + ":" + v[0].Code
		}
		dup := election.CredentialList{Election: e.ManifestID, Credentials: append([]string{list.Credentials[1]}, list.Credentials[1:]...)}
		for _, tt := range []struct {
			name  string
			got   string
			field string
		}{
			{"count", bad(list, 449, digest), "count:credentials_count_mismatch"},
			{"digest", bad(list, 450, strings.Repeat("0", 64)), "digest:credentials_digest_mismatch"},
			{"other election", bad(election.CredentialList{Election: "election-9-00000000", Credentials: list.Credentials}, 450, digest), "credentials:credentials_file_other_election"},
			{"empty", bad(election.CredentialList{Election: e.ManifestID}, 0, digest), "credentials:credentials_file_empty"},
			{"duplicate", bad(dup, 450, election.CredentialsDigest(dup.Credentials)), "credentials:credentials_file_duplicate"},
			{"not a credential", bad(election.CredentialList{Election: e.ManifestID, Credentials: []string{"x"}}, 1, election.CredentialsDigest([]string{"x"})), "credentials:credentials_file_invalid"},
		} {
			if tt.got != tt.field {
				t.Errorf("%s: %s, want %s", tt.name, tt.got, tt.field)
			}
		}
		if n := count(t, db, "SELECT COUNT(*) FROM election_credentials WHERE election_id = ?", e.ID); n != 10 {
			t.Fatalf("after refused uploads the server holds %d credentials, want the 10 uploaded", n)
		}
		e, err = f.s.ReplaceCredentials(ctx, ca, e.ID, list, 450, digest)
		if err != nil || e.State != election.Ready || e.Credentials != 450 || e.CredentialsDigest != digest {
			t.Fatalf("replace: %v, %+v", err, e)
		}
		pub, err := f.s.PublicCredentials(ctx, e.ID)
		if err != nil || fmt.Sprint(pub) != fmt.Sprint(list.Credentials) {
			t.Errorf("published %d credentials, %v", len(pub), err)
		}
		if _, err := f.s.ReplaceCredentials(ctx, ca, e.ID, list, 450, digest); !errors.As(err, new(*election.StateError)) {
			t.Errorf("replacing published credentials: %v", err)
		}
	})
}
