package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/veche/veche/internal/auditlog"
	"github.com/veche/veche/internal/election"
	"github.com/veche/veche/internal/election/electiontest"
	"github.com/veche/veche/internal/identity"
	"github.com/veche/veche/internal/participation"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/store/storetest"
	"github.com/veche/veche/internal/voting"
	"github.com/veche/veche/internal/voting/dkg"
	"github.com/veche/veche/internal/voting/record"
)

// electionFixture is an election run through the API up to the opening:
// an officer, three trustees (any two decrypt) who ran the key ceremony
// through the API with package dkg, a credential authority who published
// a credential for each voter, and the voters signed in.
type electionFixture struct {
	e         *testEnv
	officer   *apiCaller
	trustees  []*apiCaller // trustee i is trustees[i-1]
	authority *apiCaller
	voters    []*apiCaller
	voterIDs  []int64
	creds     []*voting.Credential
	keys      []*dkg.KeyShare
	process   int64
	id        int64
	path      string // /api/v1/elections/ID
	ve        *voting.Election
	manifest  []byte
}

func electionInput(now time.Time) map[string]any {
	return map[string]any{
		"title": "Referendum on the river park", "opens": now.Add(-time.Hour), "closes": now.Add(3 * time.Hour), "threshold": 2,
		"contests": []map[string]any{
			{"title": "Which park first?", "kind": "choose-one", "options": []string{"North", "South", "River"}},
			{"title": "Benches everywhere?", "kind": "yes-no", "min": 1, "options": []string{"Yes", "No"}},
		},
	}
}

// newElectionFixture runs an election up to open, for voters many
// people under the process's eligibility rule el.
func newElectionFixture(t testing.TB, e *testEnv, el participation.Eligibility, voters int) *electionFixture {
	t.Helper()
	ctx := context.Background()
	f := &electionFixture{e: e}
	var officer int64
	f.officer, officer, _ = e.staffAPI("officer@example.org", identity.RoleElectionOfficer)
	var trusteeIDs []int64
	for i := 1; i <= 3; i++ {
		a, id, _ := e.staffAPI(fmt.Sprintf("trustee%d@example.org", i), identity.RoleTrustee)
		f.trustees, trusteeIDs = append(f.trustees, a), append(trusteeIDs, id)
	}
	f.authority, _, _ = e.staffAPI("authority@example.org", identity.RoleCredentialAuthority)
	for i := range voters {
		email := fmt.Sprintf("voter%d@example.org", i)
		f.voterIDs = append(f.voterIDs, e.createUser(email))
		a := e.apiCaller()
		a.signIn(email, testPassword, "")
		f.voters = append(f.voters, a)
	}
	p, err := e.part.CreateProcess(ctx, officer, participation.ProcessInput{Title: "River park", Eligibility: el,
		Phases: []participation.PhaseInput{{Name: "Vote", Starts: e.clock().Add(-time.Hour), Ends: e.clock().Add(24 * time.Hour)}}})
	if err != nil {
		t.Fatal(err)
	}
	f.process = p.ID

	in := electionInput(e.clock())
	in["trustees"] = trusteeIDs
	r := f.officer.call("POST", fmt.Sprintf("/api/v1/processes/%d/elections", f.process), in)
	if r.status != http.StatusCreated || r.body["state"] != "draft" {
		t.Fatalf("create: %s", r)
	}
	f.id = int64(r.body["id"].(float64))
	f.path = fmt.Sprintf("/api/v1/elections/%d", f.id)
	if r := f.officer.call("POST", f.path+"/ceremony/start", nil); r.status != http.StatusOK || r.body["state"] != "ceremony" {
		t.Fatalf("start the ceremony: %s", r)
	}
	f.keys = electiontest.RunCeremony(t, 3, f.relay(t))
	r = f.voters[0].call("GET", f.path, nil)
	if r.body["state"] != "credentials" || r.body["joint_key"] == nil {
		t.Fatalf("after the ceremony: %s", r)
	}
	list := election.CredentialList{Election: r.body["manifest_id"].(string)}
	for range voters {
		c, err := voting.NewCredential(list.Election, nil)
		if err != nil {
			t.Fatal(err)
		}
		f.creds = append(f.creds, c)
		list.Credentials = append(list.Credentials, c.Public().String())
	}
	if r := f.authority.call("POST", f.path+"/credentials", list); r.status != http.StatusCreated || r.body["total"] != float64(voters) {
		t.Fatalf("upload credentials: %s", r)
	}
	if r := f.authority.call("POST", f.path+"/credentials/publish", map[string]any{"count": voters, "digest": strings.Repeat("0", 64)}); r.status != http.StatusConflict || r.errCode() != "credentials_mismatch" {
		t.Errorf("publish with a wrong digest: %s", r)
	}
	if r := f.authority.call("POST", f.path+"/credentials/publish", map[string]any{"count": voters, "digest": election.CredentialsDigest(list.Credentials)}); r.status != http.StatusOK || r.body["state"] != "ready" {
		t.Fatalf("publish credentials: %s", r)
	}
	if r := f.officer.call("POST", f.path+"/open", nil); r.status != http.StatusOK || r.body["state"] != "open" {
		t.Fatalf("open: %s", r)
	}
	f.load(t)
	return f
}

// load reads the election as the booth does: its manifest and joint key
// from the API.
func (f *electionFixture) load(t testing.TB) {
	t.Helper()
	r := f.voters[0].call("GET", f.path, nil)
	mj, _ := json.Marshal(r.body["manifest"])
	m, err := voting.ParseManifest(mj)
	if err != nil {
		t.Fatalf("the API's manifest: %v", err)
	}
	var key voting.JointKey
	if err := key.UnmarshalText([]byte(r.body["joint_key"].(string))); err != nil {
		t.Fatalf("the API's joint key: %v", err)
	}
	if f.ve, err = voting.NewElection(m, &key); err != nil {
		t.Fatal(err)
	}
	f.manifest = mj
}

// relay is the API as the trustees' relay. The first commitment is also
// offered by the wrong trustee, and again after it is in: both refused.
func (f *electionFixture) relay(t testing.TB) electiontest.Relay {
	tried := false
	return electiontest.Relay{
		Post: func(i uint32, body []byte) error {
			if !tried {
				tried = true
				if r := f.trustees[i%3].call("POST", f.path+"/ceremony/messages", body); r.status != http.StatusForbidden || r.errCode() != "message_not_yours" {
					t.Errorf("another trustee's message: %s", r)
				}
				defer func() {
					if r := f.trustees[i-1].call("POST", f.path+"/ceremony/messages", body); r.status != http.StatusConflict || r.errCode() != "message_duplicate" {
						t.Errorf("the same message twice: %s", r)
					}
				}()
			}
			if r := f.trustees[i-1].call("POST", f.path+"/ceremony/messages", body); r.status != http.StatusCreated {
				return fmt.Errorf("%s", r)
			}
			return nil
		},
		Files: func(i uint32) map[string][]byte {
			r := f.trustees[i-1].call("GET", f.path+"/ceremony", nil)
			if r.status != http.StatusOK {
				t.Fatalf("download the ceremony: %s", r)
			}
			out := map[string][]byte{}
			for name, v := range r.body["files"].(map[string]any) {
				out[name], _ = json.Marshal(v)
			}
			return out
		},
	}
}

// ballot encrypts choices with voter v's credential (another credential
// when cred is given) and returns the ballot's JSON and its receipt.
func (f *electionFixture) ballot(t testing.TB, cred *voting.Credential, choices voting.Choices) ([]byte, *voting.Ballot) {
	t.Helper()
	p, err := f.ve.Encrypt(cred, choices, nil)
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
	return j, b
}

func (f *electionFixture) cast(t testing.TB, v int, body []byte) apiAnswer {
	t.Helper()
	return f.voters[v].call("POST", f.path+"/ballots", body)
}

// stored counts the ballots in the box and the cast entries in the log.
func (f *electionFixture) stored(t testing.TB) (ballots, entries int) {
	t.Helper()
	ballots = dbCount(t, f.e.db, "SELECT COUNT(*) FROM election_ballots WHERE election_id = ?", f.id)
	for _, table := range []string{"auditlog_pending", "auditlog_entries"} {
		rows, err := f.e.db.Query(context.Background(), "SELECT entry FROM "+table)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var b []byte
			rows.Scan(&b)
			if rec, err := auditlog.ParseRecord(b); err == nil && rec.Action == record.CastAction {
				entries++
			}
		}
		rows.Close()
	}
	return ballots, entries
}

// tamper swaps the first two ciphertexts of a ballot: still canonical
// JSON, but its signature and proofs no longer hold.
func tamper(b []byte) []byte {
	s := string(b)
	const key = `"ciphertext":"`
	i := strings.Index(s, key) + len(key)
	j := strings.Index(s[i:], key) + i + len(key)
	n := strings.IndexByte(s[i:], '"')
	return []byte(s[:i] + s[j:j+n] + s[i+n:j] + s[i:i+n] + s[j+n:])
}

// TestElectionEndToEndOverHTTP runs a whole election through the API: the
// officer creates it, three trustees run the key ceremony with package dkg
// (a message from the wrong trustee and a repeated one are refused), the
// credential authority publishes the credentials, voters cast ballots
// encrypted with package voting, one changes their mind, one tries every
// kind of bad ballot and gets its status and reason with nothing stored,
// the officer closes and tallies, one trustee's wrong partial decryption
// is named and excluded, the result matches the choices, and the election
// record downloaded from the site passes package record's verifier.
func TestElectionEndToEndOverHTTP(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newAPITestEnv(t, db, nil)
		f := newElectionFixture(t, e, participation.Eligibility{}, 4)

		r := f.voters[0].call("GET", f.path, nil)
		for _, k := range []string{"id", "title", "state", "opens_at", "closes_at", "manifest", "joint_key", "eligible", "reason"} {
			if _, ok := r.body[k]; !ok {
				t.Errorf("GET %s: no %q in %s", f.path, k, r)
			}
		}
		if r.body["eligible"] != true || r.body["reason"] != "" {
			t.Errorf("an eligible voter: %s", r)
		}
		// Found from the site: the navigation links the elections, the
		// process page lists its own.
		visitor := e.browser()
		if pg := visitor.get("/"); !strings.Contains(pg.body, `href="/elections"`) {
			t.Errorf("the navigation does not link /elections")
		}
		if pg := visitor.get(fmt.Sprintf("/processes/%d", f.process)); !strings.Contains(pg.body, fmt.Sprintf(`href="/elections/%d"`, f.id)) {
			t.Errorf("the process page does not list its election:\n%s", pg.body)
		}
		if r := e.apiCaller().call("GET", f.path, nil); r.body["eligible"] != false || r.body["reason_code"] != "signin_required" {
			t.Errorf("signed out: %s", r)
		}

		choices := []voting.Choices{
			{"c1": {"o1"}, "c2": {"o1"}},
			{"c1": {"o2"}, "c2": {"o1"}},
			{"c1": {"o1"}, "c2": {"o2"}},
			{"c1": {"o3"}, "c2": {"o2"}},
		}
		var first []byte
		for v, c := range choices[:3] {
			body, b := f.ballot(t, f.creds[v], c)
			r := f.cast(t, v, body)
			h := b.Hash()
			if r.status != http.StatusCreated || r.body["tracking_code"] != b.TrackingCode() || r.body["ballot_hash"] != fmt.Sprintf("%x", h[:]) {
				t.Fatalf("voter %d casts: %s", v, r)
			}
			if v == 0 {
				first = body
			}
		}
		// Voter 0 changes their mind; the first ballot no longer counts.
		choices[0] = voting.Choices{"c1": {"o2"}, "c2": {"o2"}}
		revote, _ := f.ballot(t, f.creds[0], choices[0])
		if r := f.cast(t, 0, revote); r.status != http.StatusCreated || r.body["replaced"] != true {
			t.Fatalf("revote: %s", r)
		}

		// Voter 3 tries every kind of bad ballot.
		other := &voting.Manifest{ID: "another-election", Title: "Another", Opens: f.ve.Manifest().Opens, Closes: f.ve.Manifest().Closes, Contests: f.ve.Manifest().Contests}
		otherElection, err := voting.NewElection(other, f.ve.Key())
		if err != nil {
			t.Fatal(err)
		}
		otherCred, _ := voting.NewCredential("another-election", nil)
		p, _ := otherElection.Encrypt(otherCred, choices[3], nil)
		ob, _ := p.Cast()
		otherBallot, _ := ob.MarshalJSON()
		unpublished, _ := voting.NewCredential(f.ve.Manifest().ID, nil)
		unpublishedBallot, _ := f.ballot(t, unpublished, choices[3])
		borrowed, _ := f.ballot(t, f.creds[1], choices[3])
		own, _ := f.ballot(t, f.creds[3], choices[3])
		pending, _ := f.ve.Encrypt(f.creds[3], choices[3], nil)
		audited, _ := pending.Audit()
		auditedJSON, _ := audited.MarshalJSON()
		tests := []struct {
			name   string
			body   []byte
			status int
			code   string
		}{
			{"malformed JSON", []byte(`{"election":"x",`), http.StatusBadRequest, "bad_request"},
			{"not a ballot", []byte(`{"election":"x"}`), http.StatusBadRequest, election.BallotMalformed},
			{"not canonical", bytes.ReplaceAll(own, []byte(`,"`), []byte(`, "`)), http.StatusBadRequest, election.BallotMalformed},
			{"for another election", otherBallot, http.StatusUnprocessableEntity, election.BallotWrongElection},
			{"unpublished credential", unpublishedBallot, http.StatusUnprocessableEntity, election.CredentialUnknown},
			{"another voter's credential", borrowed, http.StatusConflict, election.CredentialUsed},
			{"replay of another's ballot", first, http.StatusConflict, election.BallotReplayed},
			{"tampered", tamper(own), http.StatusUnprocessableEntity, election.BallotBadSignature},
			{"audited", auditedJSON, http.StatusUnprocessableEntity, election.BallotAudited},
		}
		before, logged := f.stored(t)
		for _, tt := range tests {
			r := f.cast(t, 3, tt.body)
			if r.status != tt.status || r.errCode() != tt.code || len(r.errMessage()) < 20 {
				t.Errorf("%s: %s; want %d %s with a reason", tt.name, r, tt.status, tt.code)
			}
		}
		if n, m := f.stored(t); n != before || m != logged {
			t.Errorf("refused ballots left %d ballots and %d log entries behind", n-before, m-logged)
		}
		if r := f.voters[3].call("POST", f.path+"/audits", auditedJSON); r.status != http.StatusCreated || r.body["tracking_code"] != audited.TrackingCode() {
			t.Errorf("publish the audited ballot: %s", r)
		}
		if r := f.cast(t, 3, own); r.status != http.StatusCreated {
			t.Fatalf("voter 3's own ballot: %s", r)
		}

		// The public ballot box, and a voter looking up their code.
		r = e.apiCaller().call("GET", f.path+"/ballots", nil)
		if r.body["total"] != float64(5) || r.body["counted"] != float64(4) {
			t.Errorf("ballot box: %s", r)
		}
		var firstBallot voting.Ballot
		fb, _ := voting.ParseBallot(first)
		firstBallot = *fb
		code := strings.ToLower(strings.ReplaceAll(firstBallot.TrackingCode(), "-", " "))
		page := e.browser().get(fmt.Sprintf("/elections/%d/ballots?tracking_code=%s", f.id, strings.ReplaceAll(code, " ", "+")))
		if page.status != http.StatusOK || !strings.Contains(page.body, "replaced by a later ballot") {
			t.Errorf("looking up a replaced ballot: %d\n%s", page.status, page.body)
		}

		// Close, tally, decrypt: trustee 1's decryption is wrong.
		if r := f.officer.call("POST", f.path+"/close", nil); r.status != http.StatusOK || r.body["state"] != "closed" {
			t.Fatalf("close: %s", r)
		}
		late, _ := f.ballot(t, f.creds[2], choices[2])
		if r := f.cast(t, 2, late); r.status != http.StatusConflict || r.errCode() != "election_closed" {
			t.Errorf("a ballot after the close: %s", r)
		}
		if r := f.officer.call("POST", f.path+"/tally", nil); r.status != http.StatusOK || r.body["state"] != "tallied" {
			t.Fatalf("tally: %s", r)
		}
		tally := e.apiCaller().call("GET", f.path+"/tally", nil).raw
		partial := func(i int) []byte { return electiontest.PartialDecrypt(t, f.manifest, f.keys[i], tally) }
		if r := f.trustees[0].call("POST", f.path+"/decryptions", electiontest.Corrupt(t, partial(1))); r.status != http.StatusCreated || r.body["state"] != "tallied" {
			t.Fatalf("trustee 1's decryption: %s", r)
		}
		if r := f.trustees[1].call("POST", f.path+"/decryptions", partial(2)); r.status != http.StatusCreated || r.body["state"] != "tallied" {
			t.Fatalf("trustee 2's decryption: %s (with one of two wrong, two valid are not in yet)", r)
		}
		r = e.apiCaller().call("GET", f.path+"/results", nil)
		failed, _ := r.body["decryptions"].(map[string]any)["failed"].([]any)
		if len(failed) != 1 || failed[0].(map[string]any)["trustee"] != float64(1) {
			t.Errorf("results while decrypting: %s", r)
		}
		if r := f.trustees[2].call("POST", f.path+"/decryptions", partial(3)); r.status != http.StatusCreated || r.body["state"] != "published" {
			t.Fatalf("trustee 3's decryption: %s", r)
		}
		r = e.apiCaller().call("GET", f.path+"/results", nil)
		res, _ := r.body["result"].(map[string]any)
		want := map[string]float64{}
		for _, c := range choices {
			for contest, opts := range c {
				for _, o := range opts {
					want[contest+"/"+o]++
				}
			}
		}
		for _, c := range res["contests"].([]any) {
			c := c.(map[string]any)
			for _, o := range c["options"].([]any) {
				o := o.(map[string]any)
				if k := c["id"].(string) + "/" + o["id"].(string); o["votes"] != want[k] {
					t.Errorf("%s: %v votes, want %v", k, o["votes"], want[k])
				}
			}
		}
		excluded, _ := res["excluded"].([]any)
		if res["ballots"] != float64(4) || len(excluded) != 1 || excluded[0].(map[string]any)["trustee"] != float64(1) {
			t.Errorf("result: %s", r)
		}
		pg := e.browser().get(fmt.Sprintf("/elections/%d/results", f.id))
		if pg.status != http.StatusOK || !strings.Contains(pg.body, "River") || !strings.Contains(pg.body, "Trustee 1: their partial decryption did not check") {
			t.Errorf("results page: %d\n%s", pg.status, pg.body)
		}
		if n := dbCount(t, db, "SELECT COUNT(*) FROM election_credentials WHERE election_id = ? AND account_id IS NOT NULL", f.id); n != 0 {
			t.Errorf("%d account↔credential links kept after the result", n)
		}

		// The election record passes the independent verifier.
		e.sequence()
		_, rep := verifiedRecord(t, e, fmt.Sprintf("/elections/%d/record.zip", f.id))
		if rep.Ballots != 5 || rep.Counted != 4 || rep.Casts != 5 {
			t.Errorf("the record: %+v", rep)
		}

		// The cast entries of the log name no one.
		rows, err := db.Query(context.Background(), "SELECT entry FROM auditlog_entries")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var b []byte
			rows.Scan(&b)
			if ent, _ := auditlog.ParseRecord(b); ent.Action == record.CastAction && (ent.Actor != "" || ent.Subject != "" || len(ent.Detail) != 3) {
				t.Errorf("a cast entry says more than the ballot: %s", b)
			}
		}
	})
}

// TestElectionRefusesIneligibleVoters: in a process for verified
// residents, a person who is not one sees why on the election and is
// refused with the reason when casting, nothing stored.
func TestElectionRefusesIneligibleVoters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newAPITestEnv(t, db, nil)
		f := newElectionFixture(t, e, participation.Eligibility{ResidentsOnly: true}, 1)
		r := f.voters[0].call("GET", f.path, nil)
		if r.body["eligible"] != false || r.body["reason_code"] != "not_eligible" || !strings.Contains(r.body["reason"].(string), "resident") {
			t.Errorf("GET as a non-resident: %s", r)
		}
		body, _ := f.ballot(t, f.creds[0], voting.Choices{"c1": {"o1"}, "c2": {"o1"}})
		before, logged := f.stored(t)
		if r := f.cast(t, 0, body); r.status != http.StatusForbidden || r.errCode() != "not_eligible" || r.errMessage() == "" {
			t.Errorf("cast as a non-resident: %s", r)
		}
		if n, m := f.stored(t); n != before || m != logged {
			t.Errorf("a refused ballot was stored")
		}
		page := f.e.browser().get(fmt.Sprintf("/elections/%d", f.id))
		if page.status != http.StatusOK || !strings.Contains(page.body, "Open for voting") {
			t.Errorf("election page: %d", page.status)
		}
	})
}

// TestElectionParallelCastsOverHTTP: one person sends the same ballot and
// several different ones at once, and another person races them with the
// same credential. The database accepts the same ballot once, keeps the
// credential for one person, and exactly one ballot counts.
func TestElectionParallelCastsOverHTTP(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newAPITestEnv(t, db, nil)
		f := newElectionFixture(t, e, participation.Eligibility{}, 2)
		same, _ := f.ballot(t, f.creds[0], voting.Choices{"c1": {"o1"}, "c2": {"o1"}})
		var different [][]byte
		for range 6 {
			b, _ := f.ballot(t, f.creds[0], voting.Choices{"c1": {"o2"}, "c2": {"o2"}})
			different = append(different, b)
		}
		// Voter 0 binds the credential first, so that the race below is
		// between voter 0's own ballots and voter 1's use of it.
		if r := f.cast(t, 0, same); r.status != http.StatusCreated {
			t.Fatalf("first cast: %s", r)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		counts := map[string]int{}
		note := func(r apiAnswer) {
			mu.Lock()
			counts[fmt.Sprint(r.status, " ", r.errCode())]++
			mu.Unlock()
		}
		for range 6 {
			wg.Go(func() { note(f.cast(t, 0, same)) })
		}
		for _, b := range different {
			wg.Go(func() { note(f.cast(t, 0, b)) })
			wg.Go(func() {
				b2, _ := f.ballot(t, f.creds[0], voting.Choices{"c1": {"o3"}, "c2": {"o1"}})
				note(f.cast(t, 1, b2))
			})
		}
		wg.Wait()
		want := map[string]int{"409 ballot_replayed": 6, "201 ": 6, "409 credential_used": 6}
		if fmt.Sprint(counts) != fmt.Sprint(want) {
			t.Errorf("answers %v, want %v", counts, want)
		}
		if n := dbCount(t, db, "SELECT COUNT(*) FROM election_ballots WHERE election_id = ? AND counted", f.id); n != 1 {
			t.Errorf("%d ballots count for one credential", n)
		}
		if n := dbCount(t, db, "SELECT COUNT(*) FROM election_ballots WHERE election_id = ?", f.id); n != 7 {
			t.Errorf("%d ballots in the box, want 7", n)
		}
	})
}

// electionWrites are the election API's writes, part of apiWrites
// (api_test.go), whose TestAPIRefusesMalformedBodies sends each of them
// every malformed body: the path, and a string field of the body ("" for
// an endpoint without one, or whose body is an object of package voting
// or dkg, passed on as it is).
var electionWrites = []apiWrite{
	{"POST", "/api/v1/processes/1/elections", "title"},
	{"PUT", "/api/v1/elections/1", "title"},
	{"POST", "/api/v1/elections/1/ceremony/start", ""},
	{"POST", "/api/v1/elections/1/ceremony/cancel", ""},
	{"DELETE", "/api/v1/elections/1/credentials", ""},
	{"POST", "/api/v1/elections/1/ceremony/messages", ""},
	{"POST", "/api/v1/elections/1/credentials", "election"},
	{"POST", "/api/v1/elections/1/credentials/publish", "digest"},
	{"POST", "/api/v1/elections/1/open", ""},
	{"POST", "/api/v1/elections/1/close", ""},
	{"POST", "/api/v1/elections/1/ballots", ""},
	{"POST", "/api/v1/elections/1/audits", ""},
	{"POST", "/api/v1/elections/1/tally", ""},
	{"POST", "/api/v1/elections/1/decryptions", ""},
}

// TestElectionOfficerPages: the officer creates a draft through the form
// (a wrong one is shown again with an error summary and each field's
// problem, in the reader's language), changes it, starts the key ceremony,
// and is told plainly when a step does not fit the election's state.
func TestElectionOfficerPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db, nil)
		officer := e.staffBrowser("officer@example.org", identity.RoleElectionOfficer)
		var trustees []string
		for i := range 3 {
			trustees = append(trustees, fmt.Sprint(e.createUser(fmt.Sprintf("t%d@example.org", i), identity.RoleTrustee)))
		}
		citizen := e.createUser("not-a-trustee@example.org")
		p, err := e.part.CreateProcess(t.Context(), e.createUser("official@example.org", identity.RoleOfficial), participation.ProcessInput{Title: "River park",
			Phases: []participation.PhaseInput{{Name: "Vote", Starts: e.clock().Add(-time.Hour), Ends: e.clock().Add(24 * time.Hour)}}})
		if err != nil {
			t.Fatal(err)
		}
		if pg := officer.get("/elections/new"); pg.status != 200 || !strings.Contains(pg.body, `<option value="`+fmt.Sprint(p.ID)+`"`) {
			t.Fatalf("new election form: %d", pg.status)
		}
		now := e.clock().UTC()
		form := map[string][]string{"process_id": {fmt.Sprint(p.ID)}, "title": {""}, "opens": {now.Add(time.Hour).Format(formTime)}, "closes": {now.Format(formTime)},
			"trustees": {strings.Join(trustees, "\n") + "\n" + fmt.Sprint(citizen)}, "trustees.threshold": {"2"},
			"contests.0.title": {"Which park first?"}, "contests.0.kind": {"choose-one"}, "contests.0.options": {"North"}}
		pg := officer.post("/elections", form)
		if pg.status != http.StatusUnprocessableEntity || !strings.Contains(pg.body, "error-summary") {
			t.Fatalf("a wrong draft: %d\n%s", pg.status, pg.body)
		}
		for _, want := range []string{`href="#title"`, `href="#closes"`, `href="#contests.0.options"`, "does not hold the trustee role", "give at least 2 answers"} {
			if !strings.Contains(pg.body, want) {
				t.Errorf("the wrong draft's page does not show %q", want)
			}
		}
		form["title"], form["closes"] = []string{"Referendum"}, []string{now.Add(48 * time.Hour).Format(formTime)}
		form["trustees"], form["contests.0.options"] = []string{strings.Join(trustees, "\n")}, []string{"North\r\nSouth\r\n"}
		id := created(t, officer.post("/elections", form))
		if pg := officer.get("/elections/" + id + "?done=created"); pg.status != 200 || !strings.Contains(pg.body, "created as a draft") || !strings.Contains(pg.body, "Start the key ceremony") {
			t.Fatalf("the draft's page: %d\n%s", pg.status, pg.body)
		}
		pg = officer.get("/elections/" + id + "/edit")
		if pg.status != 200 || !strings.Contains(pg.body, ">North\nSouth</textarea>") {
			t.Fatalf("edit form: %d\n%s", pg.status, pg.body)
		}
		form["contests.1.title"], form["contests.1.kind"], form["contests.1.min"], form["contests.1.options"] = []string{"Benches?"}, []string{"yes-no"}, []string{"1"}, []string{"Yes\nNo"}
		if pg := officer.post("/elections/"+id+"/edit", form); pg.status != http.StatusSeeOther {
			t.Fatalf("save the draft: %d\n%s", pg.status, pg.body)
		}
		if pg := officer.post("/elections/"+id+"/open", nil); pg.status != http.StatusConflict || !strings.Contains(pg.body, "this can be done only when it is Ready to open") {
			t.Errorf("opening a draft: %d\n%s", pg.status, pg.body)
		}
		if pg := officer.post("/elections/"+id+"/ceremony/start", nil); pg.status != http.StatusSeeOther {
			t.Fatalf("start the ceremony: %d\n%s", pg.status, pg.body)
		}
		pub := e.browser()
		pub.header.Set("Accept-Language", "be")
		if pg := pub.get("/elections/" + id); pg.status != 200 || !strings.Contains(pg.body, "Цырымонія ключа") || !strings.Contains(pg.body, "Benches?") {
			t.Errorf("the public page in Belarusian: %d\n%s", pg.status, pg.body)
		}
		if pg := pub.get("/elections/" + id + "/ceremony"); pg.status != 200 || !strings.Contains(pg.body, "<caption>") {
			t.Errorf("the ceremony page: %d", pg.status)
		}
		if pg := officer.get("/elections/" + id + "/edit"); pg.status != http.StatusConflict {
			t.Errorf("editing after the ceremony started: %d", pg.status)
		}
	})
}

// TestTallyOutlastingTheRequestGoesOn: a tally that takes longer than the
// officer's request waits is answered 202 (API) or with a notice (page),
// goes on detached from the request, is shown as running, refuses a
// second start, and ends tallied.
func TestTallyOutlastingTheRequestGoesOn(t *testing.T) {
	e := newAPITestEnv(t, storetest.SQLite(t), nil)
	f := newElectionFixture(t, e, participation.Eligibility{}, 1)
	body, _ := f.ballot(t, f.creds[0], voting.Choices{"c1": {"o1"}, "c2": {"o1"}})
	if r := f.cast(t, 0, body); r.status != http.StatusCreated {
		t.Fatalf("cast: %s", r)
	}
	if r := f.officer.call("POST", f.path+"/close", nil); r.status != http.StatusOK {
		t.Fatalf("close: %s", r)
	}
	release := make(chan struct{})
	oldWait, oldHook := tallyWait, beforeTally
	tallyWait, beforeTally = 10*time.Millisecond, func() { <-release }
	t.Cleanup(func() { tallyWait, beforeTally = oldWait, oldHook })

	r := f.officer.call("POST", f.path+"/tally", nil)
	if r.status != http.StatusAccepted || r.body["state"] != "closed" {
		t.Fatalf("a long tally: %s", r)
	}
	close(release) // the request has answered; let the tally run
	deadline := time.Now().Add(30 * time.Second)
	for {
		r = f.officer.call("GET", f.path, nil)
		if r.body["state"] == "tallied" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the tally did not end: %s", r)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if r.body["tally_running"] != nil {
		t.Errorf("a finished tally is shown as running: %s", r)
	}
	if r := f.officer.call("POST", f.path+"/tally", nil); r.status != http.StatusConflict || r.errCode() != "election_wrong_state" {
		t.Errorf("tallying again: %s", r)
	}
}

// TestLongDownloadOutlastsTheWriteTimeout: a download that keeps going
// is not cut at the server's write timeout, as the election record of a
// large election would be; only a stall is.
func TestLongDownloadOutlastsTheWriteTimeout(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := newProgressWriter(w)
		p.stall, p.every = 300*time.Millisecond, 0
		for range 8 {
			if _, err := p.Write(bytes.Repeat([]byte("x"), 1024)); err != nil {
				return
			}
			http.NewResponseController(w).Flush()
			time.Sleep(50 * time.Millisecond)
		}
	}))
	srv.Config.WriteTimeout = 150 * time.Millisecond
	srv.Start()
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || len(b) != 8*1024 {
		t.Fatalf("read %d bytes of 8192 over 400 ms with a 150 ms write timeout: %v", len(b), err)
	}
}

// TestTrusteePageSaysWhatToDoNext: through a key ceremony where trustee 3
// sends a commitment but never deals, trustee 1's page names each next
// step with its command, then whom it waits for and, since trustee 3 may
// never come, how to complain that the shares are missing.
func TestTrusteePageSaysWhatToDoNext(t *testing.T) {
	e := newAPITestEnv(t, storetest.SQLite(t), nil)
	officer, officerID, _ := e.staffAPI("officer@example.org", identity.RoleElectionOfficer)
	var trustees []*apiCaller
	var ids []int64
	for i := 1; i <= 3; i++ {
		a, id, _ := e.staffAPI(fmt.Sprintf("trustee%d@example.org", i), identity.RoleTrustee)
		trustees, ids = append(trustees, a), append(ids, id)
	}
	p, err := e.part.CreateProcess(t.Context(), officerID, participation.ProcessInput{Title: "River park",
		Phases: []participation.PhaseInput{{Name: "Vote", Starts: e.clock().Add(-time.Hour), Ends: e.clock().Add(24 * time.Hour)}}})
	if err != nil {
		t.Fatal(err)
	}
	in := electionInput(e.clock())
	in["trustees"] = ids
	r := officer.call("POST", fmt.Sprintf("/api/v1/processes/%d/elections", p.ID), in)
	if r.status != http.StatusCreated {
		t.Fatalf("create: %s", r)
	}
	id := int64(r.body["id"].(float64))
	api, page := fmt.Sprintf("/api/v1/elections/%d", id), fmt.Sprintf("/elections/%d", id)
	if r := officer.call("POST", api+"/ceremony/start", nil); r.status != http.StatusOK {
		t.Fatalf("start: %s", r)
	}
	says := func(want ...string) {
		t.Helper()
		req, _ := http.NewRequest("GET", e.srv.URL+page, nil)
		req.Header.Set("Authorization", "Bearer "+trustees[0].token)
		res, err := trustees[0].c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		body := string(b)
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("trustee 1's page does not say %q", w)
			}
		}
	}
	files := func(i int) fstest.MapFS {
		fsys := fstest.MapFS{}
		for name, v := range trustees[i].call("GET", api+"/ceremony", nil).body["files"].(map[string]any) {
			fsys[name] = &fstest.MapFile{Data: []byte(mustJSON(t, v))}
		}
		return fsys
	}
	post := func(i int, m any) {
		t.Helper()
		if r := trustees[i].call("POST", api+"/ceremony/messages", []byte(mustJSON(t, m))); r.status != http.StatusCreated {
			t.Fatalf("trustee %d: %s", i+1, r)
		}
	}
	says("Your next step:", "veche trustee init --election "+e.srv.URL+page+" --dir ~/veche-trustee --index 1")
	var dealers []*dkg.Trustee
	for i := range 3 {
		tr, c := electiontest.Commit(t, files(i)[dkg.CeremonyFile].Data, uint32(i+1))
		post(i, c)
		dealers = append(dealers, tr)
	}
	says("veche trustee shares --election")
	for i := range 2 {
		rec, err := dkg.ReadRecord(files(i))
		if err != nil {
			t.Fatal(err)
		}
		shares, err := dealers[i].Deal(rec)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range shares {
			post(i, s)
		}
	}
	says("waiting for the trustees numbered 3", "veche trustee receive --complain-missing --election")
	if r := trustees[0].call("GET", api+"/ceremony", nil); r.body["next"] != "wait" || fmt.Sprint(r.body["waiting_for"]) != "[3]" {
		t.Errorf("the API's next step: %v %v", r.body["next"], r.body["waiting_for"])
	}
}
