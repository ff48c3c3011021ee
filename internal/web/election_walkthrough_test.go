package web

// A whole election as the people in it see it, in headless Chromium: the
// officer creates it through the form and takes every step with the
// buttons of the election page; a trustee and the credential authority
// see what is asked of them; voters vote in the booth, one checks a
// ballot first; anyone reads the ballot box, looks up a tracking code,
// reads the results in three languages and downloads the record, which
// verifies. Each page is checked by axe-core on the way.
//
// With VECHE_SCREENSHOTS=DIR, every step is also saved as a picture, in
// order, for a person to review (docs/elections.md lists how):
//
//	VECHE_SCREENSHOTS=/tmp/walk go test ./internal/web -run TestElectionWalkthrough

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/veche/veche/internal/election"
	"github.com/veche/veche/internal/election/electiontest"
	"github.com/veche/veche/internal/i18n"
	"github.com/veche/veche/internal/identity"
	"github.com/veche/veche/internal/participation"
	"github.com/veche/veche/internal/store/storetest"
	"github.com/veche/veche/internal/voting"
	"github.com/veche/veche/internal/web/browsertest"
)

// walk is the walk-through's step counter: each step's page is checked
// with axe and, when asked for, saved as NN-name.png.
type walk struct{ n int }

func (w *walk) step(p *browsertest.Page, name string) {
	p.T().Helper()
	w.n++
	p.CheckA11y()
	p.Screenshot(fmt.Sprintf("%02d-%s", w.n, name))
}

// setValue sets a field that key presses cannot fill well (a
// datetime-local, a textarea of several lines) as a script would.
func setValue(p *browsertest.Page, id, value string) {
	browsertest.Eval[string](p, fmt.Sprintf(`document.getElementById(%q).value = %q`, id, value))
}

func TestElectionWalkthrough(t *testing.T) {
	browsertest.Need(t)
	e := newTestEnv(t, storetest.SQLite(t), nil)
	ctx := context.Background()
	var w walk

	// The people: an officer, three trustees, a credential authority and
	// two voters, all with accounts; the staff have two-step sign-in.
	officerAPI, officerID, officerSecret := e.staffAPI("officer@example.org", identity.RoleElectionOfficer)
	var trusteeAPI []*apiCaller
	var trusteeIDs []string
	var trusteeSecret []string
	for i := 1; i <= 4; i++ {
		a, id, secret := e.staffAPI(fmt.Sprintf("trustee%d@example.org", i), identity.RoleTrustee)
		trusteeAPI, trusteeIDs, trusteeSecret = append(trusteeAPI, a), append(trusteeIDs, fmt.Sprint(id)), append(trusteeSecret, secret)
	}
	_, _, authoritySecret := e.staffAPI("authority@example.org", identity.RoleCredentialAuthority)
	now := e.clock()
	_, err := e.part.CreateProcess(ctx, officerID, participation.ProcessInput{Title: "City budget 2027",
		Phases: []participation.PhaseInput{{Name: "Final vote", Starts: now.Add(-time.Hour), Ends: now.Add(7 * 24 * time.Hour)}}})
	if err != nil {
		t.Fatal(err)
	}

	// The officer writes the draft. A first try with one answer to a
	// question is shown again with the problem.
	officer := browsertest.NewAt(t, e.srv.URL)
	e.browserSignIn(officer, "officer@example.org", officerSecret)
	officer.Open("/elections")
	w.step(officer, "officer-elections-empty")
	officer.Click("New election")
	w.step(officer, "officer-new-election-form")
	officer.Fill("process_id", "City budget 2027")
	officer.Fill("title", "Final vote on the city budget")
	setValue(officer, "opens", now.UTC().Add(10*time.Minute).Format(formTime))
	setValue(officer, "closes", now.UTC().Add(7*24*time.Hour).Format(formTime))
	officer.Fill("contests.0.title", "Which project first?")
	officer.Fill("contests.0.kind", "Choose one")
	setValue(officer, "contests.0.options", "A park by the river\nA new library\nBike lanes")
	officer.Fill("contests.0.min", "1")
	officer.Fill("contests.1.title", "Which two streets to repave?")
	officer.Fill("contests.1.kind", "Choose up to")
	setValue(officer, "contests.1.options", "Main Street")
	officer.Fill("contests.1.max", "2")
	officer.Fill("contests.2.title", "Should the vote be repeated every year?")
	officer.Fill("contests.2.kind", "Yes or no")
	setValue(officer, "contests.2.options", "Yes\nNo")
	officer.Fill("contests.2.min", "0")
	setValue(officer, "trustees", strings.Join(trusteeIDs[:3], "\n"))
	officer.Fill("trustees.threshold", "2")
	if st := officer.Click("Create the draft"); st != http.StatusUnprocessableEntity {
		t.Fatalf("a draft with one answer: status %d\n%s", st, officer.Text())
	}
	officer.MustContain("give at least 2 answers")
	w.step(officer, "officer-draft-with-a-mistake")
	setValue(officer, "contests.1.options", "Main Street\nRiver Road\nOld Square\nStation Lane")
	officer.Click("Create the draft")
	electionPath := regexp.MustCompile(`^/elections/\d+`).FindString(officer.Path())
	if electionPath == "" {
		t.Fatalf("after creating the draft: %s\n%s", officer.Path(), officer.Text())
	}
	var id int64
	fmt.Sscanf(electionPath, "/elections/%d", &id)
	api := fmt.Sprintf("/api/v1/elections/%d", id)
	officer.MustContain("created as a draft")
	w.step(officer, "officer-draft")
	officer.Click("Start the key ceremony")
	officer.MustContain("The key ceremony has started")
	w.step(officer, "officer-ceremony-started")

	// A trustee sees what to do; the ceremony page shows who has sent what.
	trustee := browsertest.NewAt(t, e.srv.URL)
	e.browserSignIn(trustee, "trustee1@example.org", trusteeSecret[0])
	trustee.Open("/elections")
	trustee.MustContain(i18n.T(i18n.English, "election.list.mine"))
	w.step(trustee, "trustee-elections")
	trustee.Open(electionPath)
	trustee.MustContain("You are trustee 1")
	trustee.MustContain(fmt.Sprintf("veche trustee init --election https://%s%s --dir ~/veche-trustee --index 1", strings.TrimPrefix(e.srv.URL, "https://"), electionPath))
	w.step(trustee, "trustee-election-during-ceremony")

	// Trustees 1 and 2 send their commitments; trustee 3 never does, so
	// the officer cancels the ceremony, puts trustee 4 in their place and
	// starts again.
	ceremonyAt := func(i int) []byte {
		return []byte(mustJSON(t, trusteeAPI[i].call("GET", api+"/ceremony", nil).body["files"].(map[string]any)["ceremony.json"]))
	}
	for i := range 2 {
		_, c := electiontest.Commit(t, ceremonyAt(i), uint32(i+1))
		if r := trusteeAPI[i].call("POST", api+"/ceremony/messages", []byte(mustJSON(t, c))); r.status != http.StatusCreated {
			t.Fatalf("trustee %d's commitment: %s", i+1, r)
		}
	}
	trustee.Open(electionPath)
	trustee.MustContain("waiting for the trustees numbered 3")
	w.step(trustee, "trustee-waiting")
	officer.Open(electionPath + "/ceremony")
	w.step(officer, "ceremony-stalled")
	officer.Open(electionPath)
	officer.Click("Cancel the key ceremony")
	officer.MustContain("The key ceremony was cancelled")
	w.step(officer, "officer-ceremony-cancelled")
	officer.Click("Change the draft")
	setValue(officer, "trustees", strings.Join([]string{trusteeIDs[0], trusteeIDs[1], trusteeIDs[3]}, "\n"))
	officer.Click("Save the draft")
	officer.MustContain("The draft was saved")
	officer.Click("Start the key ceremony")
	officer.MustContain("The key ceremony has started")
	inCeremony := []*apiCaller{trusteeAPI[0], trusteeAPI[1], trusteeAPI[3]}
	relay := electiontest.Relay{
		Post: func(i uint32, body []byte) error {
			if r := inCeremony[i-1].call("POST", api+"/ceremony/messages", body); r.status != http.StatusCreated {
				return fmt.Errorf("%s", r)
			}
			return nil
		},
		Files: func(i uint32) map[string][]byte {
			r := inCeremony[i-1].call("GET", api+"/ceremony", nil)
			out := map[string][]byte{}
			for name, v := range r.body["files"].(map[string]any) {
				out[name] = []byte(mustJSON(t, v))
			}
			return out
		},
	}
	keys := electiontest.RunCeremony(t, 3, relay)
	trustee.Open(electionPath + "/ceremony")
	trustee.MustContain(i18n.T(i18n.English, "election.ceremony.key"))
	w.step(trustee, "ceremony-done")

	// The credential authority is told what to run, and uploads the
	// public credentials.
	authority := browsertest.NewAt(t, e.srv.URL)
	e.browserSignIn(authority, "authority@example.org", authoritySecret)
	authority.Open(electionPath)
	authority.MustContain(i18n.T(i18n.English, "election.authority.title"))
	w.step(authority, "authority-election")
	r := officerAPI.call("GET", api, nil)
	list := election.CredentialList{Election: r.body["manifest_id"].(string)}
	var creds []*voting.Credential
	for range 2 {
		c, err := voting.NewCredential(list.Election, nil)
		if err != nil {
			t.Fatal(err)
		}
		creds = append(creds, c)
		list.Credentials = append(list.Credentials, c.Public().String())
	}
	file := filepath.Join(t.TempDir(), "public-credentials.json")
	if err := os.WriteFile(file, []byte(mustJSON(t, list)), 0o644); err != nil {
		t.Fatal(err)
	}
	authority.Click("Upload and publish the public credentials")
	w.step(authority, "authority-upload-form")
	authority.Upload("credentials", file)
	authority.Fill("count", "3")
	authority.Fill("digest", election.CredentialsDigest(list.Credentials))
	if st := authority.Click("Check and publish"); st != http.StatusUnprocessableEntity {
		t.Fatalf("a wrong count: status %d\n%s", st, authority.Text())
	}
	authority.MustContain("the file holds 2 credentials")
	w.step(authority, "authority-upload-wrong-count")
	authority.Upload("credentials", file)
	authority.Fill("count", "2")
	authority.Click("Check and publish")
	authority.MustContain("The credentials are published")
	w.step(authority, "authority-published")

	// The officer opens; it opens at the opening time.
	officer.Open(electionPath)
	w.step(officer, "officer-ready")
	officer.Click("Open the election")
	w.step(officer, "officer-opened-scheduled")
	e.advance(11 * time.Minute)

	// Anna reads the election, checks a ballot, then casts another.
	e.createUser("anna@example.org")
	e.createUser("boris@example.org")
	anna := browsertest.NewAt(t, e.srv.URL)
	anna.Open(electionPath)
	w.step(anna, "public-election-open")
	e.browserSignIn(anna, "anna@example.org", "")
	anna.Open(electionPath)
	anna.Click("Go to the voting booth")
	boothWait(anna, "booth-form")
	w.step(anna, "booth")
	anna.Check("A new library")
	anna.Check("Main Street")
	anna.Check("Old Square")
	anna.Check("Station Lane")
	w.step(anna, "booth-limit-said")
	anna.Check(i18n.T(i18n.English, "booth.review.button"))
	boothErrorShown(t, anna, "Enter your voting credential")
	w.step(anna, "booth-no-credential")
	anna.Fill("credential", creds[0].Code())
	anna.Check(i18n.T(i18n.English, "booth.review.button"))
	boothWait(anna, "booth-reviewed")
	w.step(anna, "booth-review")
	anna.Check(i18n.T(i18n.English, "booth.encrypt.button"))
	boothWait(anna, "booth-encrypted")
	w.step(anna, "booth-encrypted")
	checkedCode := anna.TextOf("#booth-tracking")
	anna.Check("Check this ballot instead")
	boothWait(anna, "booth-audited")
	w.step(anna, "booth-checked")
	audited := browsertest.Eval[string](anna, `document.getElementById('booth-audited-json').value`)
	anna.Check("Publish the checked ballot")
	waitStatus(anna, "published")
	anna.Check("Make a new ballot")
	boothWait(anna, "booth-choose")
	annaCode := boothEncrypt(anna, i18n.English)
	anna.Check("Cast this ballot")
	boothWait(anna, "booth-cast-done")
	w.step(anna, "booth-cast")

	// Boris votes, in Belarusian, for the park and no streets.
	boris := browsertest.NewAt(t, e.srv.URL)
	boris.SetCookie(langCookie, "be")
	e.browserSignIn(boris, "boris@example.org", "")
	boothReady(boris, electionPath+"/booth")
	w.step(boris, "booth-be")
	boris.Check("A park by the river")
	boris.Check("Yes")
	boris.Fill("credential", creds[1].Code())
	borisCode := boothEncrypt(boris, i18n.Belarusian)
	boris.Check(i18n.T(i18n.Belarusian, "booth.cast.button"))
	boothWait(boris, "booth-cast-done")
	w.step(boris, "booth-cast-be")

	// Anyone: the ballot box, and a tracking code looked up.
	public := browsertest.NewAt(t, e.srv.URL)
	public.Open(electionPath + "/ballots")
	public.MustContain("2 ballots accepted, 2 of them count")
	w.step(public, "ballot-box")
	public.Fill("tracking_code", strings.ToLower(strings.ReplaceAll(annaCode, "-", " ")))
	public.Click(i18n.T(i18n.English, "election.box.lookup"))
	public.MustContain(annaCode + ": in the ballot box since")
	w.step(public, "ballot-box-found")

	// The officer closes and has the ballots added up.
	officer.Open(electionPath)
	w.step(officer, "officer-open")
	officer.Click("Close voting now")
	officer.MustContain("Voting is closed.")
	w.step(officer, "officer-closed")
	officer.Click("Compute the encrypted tally")
	officer.MustContain("The encrypted tally is published")
	w.step(officer, "officer-tallied")

	// The trustees decrypt: trustee 3's part is wrong and is named and
	// left out; trustees 1 and 2 are enough.
	tally := public.Open(api + "/tally")
	if tally != http.StatusOK {
		t.Fatalf("the tally: %d", tally)
	}
	tallyJSON := e.apiCaller().call("GET", api+"/tally", nil).raw
	manifest := officerAPI.call("GET", api, nil).body["manifest"]
	mj := []byte(mustJSON(t, manifest))
	trustee.Open(electionPath)
	trustee.MustContain(i18n.T(i18n.English, "election.trustee.decrypt")[:40])
	w.step(trustee, "trustee-asked-to-decrypt")
	if r := inCeremony[2].call("POST", api+"/decryptions", electiontest.Corrupt(t, electiontest.PartialDecrypt(t, mj, keys[3], tallyJSON))); r.status != http.StatusCreated {
		t.Fatalf("trustee 3's decryption: %s", r)
	}
	if r := trusteeAPI[0].call("POST", api+"/decryptions", electiontest.PartialDecrypt(t, mj, keys[1], tallyJSON)); r.status != http.StatusCreated {
		t.Fatalf("trustee 1's decryption: %s", r)
	}
	public.Open(electionPath + "/results")
	public.MustContain("Trustee 3")
	w.step(public, "results-waiting")
	if r := trusteeAPI[1].call("POST", api+"/decryptions", electiontest.PartialDecrypt(t, mj, keys[2], tallyJSON)); r.status != http.StatusCreated {
		t.Fatalf("trustee 2's decryption: %s", r)
	}
	e.sequence()

	// The result, in three languages and on a narrow screen.
	public.Open(electionPath)
	w.step(public, "public-election-published")
	public.Open(electionPath + "/results")
	public.MustContain("2 ballots were counted")
	w.step(public, "results")
	public.Viewport(320, 640)
	w.step(public, "results-320px")
	public.Viewport(0, 0)
	for _, lang := range []string{"be", "ru"} {
		public.SetCookie(langCookie, lang)
		public.Open(electionPath + "/results")
		w.step(public, "results-"+lang)
	}
	public.SetCookie(langCookie, "en")

	// The record, downloaded as anyone would, verifies and holds both
	// voters' ballots and Anna's checked one.
	rec, rep := verifiedRecord(t, e, electionPath+"/record.zip")
	if rep.Ballots != 2 || rep.Counted != 2 {
		t.Fatalf("the record holds %d ballots, %d counted; want 2 and 2", rep.Ballots, rep.Counted)
	}
	votes := resultVotes(rep.Result)
	// Anna: the library, Main Street and Old Square, no answer to the
	// last question; Boris: the park, no street, yes.
	want := map[string]uint64{"c1/o1": 1, "c1/o2": 1, "c1/o3": 0, "c2/o1": 1, "c2/o2": 0, "c2/o3": 1, "c2/o4": 0, "c3/o1": 1, "c3/o2": 0}
	if fmt.Sprint(votes) != fmt.Sprint(want) {
		t.Errorf("the result %v, want %v", votes, want)
	}
	if len(rep.Result.Excluded) != 1 || rep.Result.Excluded[0].Trustee != 3 {
		t.Errorf("the record excludes trustees %+v, want 3", rep.Result.Excluded)
	}
	a, err := voting.ParseAuditedBallot([]byte(audited))
	if err != nil || a.TrackingCode() != checkedCode {
		t.Fatalf("the checked ballot: %v", err)
	}
	el, err := voting.NewElection(rec.Manifest, rec.JointKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := el.VerifyAudit(a); err != nil {
		t.Errorf("the checked ballot against the record: %v", err)
	}
	for _, code := range []string{annaCode, borisCode} {
		public.Open(electionPath + "/ballots?tracking_code=" + code)
		public.MustContain("and it counts")
	}
}
