package web

// The voting booth in headless Chromium: a whole vote by keyboard alone,
// a Benaloh check then a new ballot, the errors (the voter's and the
// ballot box's), every state checked by axe-core in the three languages,
// and the time to encrypt a 20-option ballot in WebAssembly.
//
// The booth talks to the real election API (routes_election.go): each
// test runs an election up to its opening through the API — three
// trustees' key ceremony with package dkg, published credentials — and
// checks what the booth cast by reading the public ballot box and opening
// the ballot with two trustees' shares.

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veche/veche/internal/election"
	"github.com/veche/veche/internal/election/electiontest"
	"github.com/veche/veche/internal/i18n"
	"github.com/veche/veche/internal/identity"
	"github.com/veche/veche/internal/participation"
	"github.com/veche/veche/internal/store/storetest"
	"github.com/veche/veche/internal/voting"
	"github.com/veche/veche/internal/voting/record"
	"github.com/veche/veche/internal/web/browsertest"
)

// newBoothElection runs an election through the election API up to its
// opening, as newElectionFixture (election_test.go) does, but with
// contests of every kind: choose one of three, up to two of four, and a
// yes/no question that may be left blank. name keeps the accounts of
// several elections in one instance apart; the voters are
// name-voterN@example.org.
func newBoothElection(t *testing.T, e *testEnv, name string, el participation.Eligibility, voters int, contests ...map[string]any) *electionFixture {
	t.Helper()
	if contests == nil {
		contests = []map[string]any{
			{"title": "Mayor", "kind": "choose-one", "min": 1, "options": []string{"Ada", "Boris", "Chen"}},
			{"title": "City council", "kind": "choose-up-to", "min": 0, "max": 2, "options": []string{"One", "Two", "Three", "Four"}},
			{"title": "Build the park?", "kind": "yes-no", "min": 0, "options": []string{"Yes", "No"}},
		}
	}
	ctx := context.Background()
	f := &electionFixture{e: e}
	var officer int64
	f.officer, officer, _ = e.staffAPI(name+"-officer@example.org", identity.RoleElectionOfficer)
	var trusteeIDs []int64
	for i := 1; i <= 3; i++ {
		a, id, _ := e.staffAPI(fmt.Sprintf("%s-trustee%d@example.org", name, i), identity.RoleTrustee)
		f.trustees, trusteeIDs = append(f.trustees, a), append(trusteeIDs, id)
	}
	f.authority, _, _ = e.staffAPI(name+"-authority@example.org", identity.RoleCredentialAuthority)
	for i := range voters {
		email := fmt.Sprintf("%s-voter%d@example.org", name, i)
		f.voterIDs = append(f.voterIDs, e.createUser(email))
		a := e.apiCaller()
		a.signIn(email, testPassword, "")
		f.voters = append(f.voters, a)
	}
	now := e.clock()
	p, err := e.part.CreateProcess(ctx, officer, participation.ProcessInput{Title: "City vote " + name, Eligibility: el,
		Phases: []participation.PhaseInput{{Name: "Vote", Starts: now.Add(-time.Hour), Ends: now.Add(24 * time.Hour)}}})
	if err != nil {
		t.Fatal(err)
	}
	f.process = p.ID
	in := map[string]any{"title": "City vote 2026", "opens": now.Add(-time.Hour), "closes": now.Add(3 * time.Hour),
		"threshold": 2, "trustees": trusteeIDs, "contests": contests}
	r := f.officer.call("POST", fmt.Sprintf("/api/v1/processes/%d/elections", f.process), in)
	if r.status != http.StatusCreated {
		t.Fatalf("create: %s", r)
	}
	f.id = int64(r.body["id"].(float64))
	f.path = fmt.Sprintf("/api/v1/elections/%d", f.id)
	if r := f.officer.call("POST", f.path+"/ceremony/start", nil); r.status != http.StatusOK {
		t.Fatalf("start the ceremony: %s", r)
	}
	f.keys = electiontest.RunCeremony(t, 3, electiontest.Relay{
		Post: func(i uint32, body []byte) error {
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
	})
	r = f.officer.call("GET", f.path, nil)
	list := election.CredentialList{Election: r.body["manifest_id"].(string)}
	for range max(voters, 1) {
		c, err := voting.NewCredential(list.Election, nil)
		if err != nil {
			t.Fatal(err)
		}
		f.creds = append(f.creds, c)
		list.Credentials = append(list.Credentials, c.Public().String())
	}
	if r := f.authority.call("POST", f.path+"/credentials", list); r.status != http.StatusCreated {
		t.Fatalf("upload credentials: %s", r)
	}
	if r := f.authority.call("POST", f.path+"/credentials/publish", map[string]any{"count": len(list.Credentials), "digest": election.CredentialsDigest(list.Credentials)}); r.status != http.StatusOK {
		t.Fatalf("publish credentials: %s", r)
	}
	r = f.officer.call("POST", f.path+"/open", nil)
	if r.status != http.StatusOK || r.body["state"] != "open" {
		t.Fatalf("open: %s", r)
	}
	// The election as the booth reads it.
	if f.manifest, err = json.Marshal(r.body["manifest"]); err != nil {
		t.Fatal(err)
	}
	m, err := voting.ParseManifest(f.manifest)
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
	return f
}

// voterPage is a browser signed in as voter v of the election.
func (f *electionFixture) voterPage(t *testing.T, name string, v int) *browsertest.Page {
	t.Helper()
	p := browsertest.NewAt(t, f.e.srv.URL)
	f.e.browserSignIn(p, fmt.Sprintf("%s-voter%d@example.org", name, v), "")
	return p
}

// boothPath is the election's booth.
func (f *electionFixture) boothPath() string { return fmt.Sprintf("/elections/%d/booth", f.id) }

// boxed finds the ballot with the tracking code in the public ballot box
// and opens it, as a tally of one ballot, with two trustees' shares: for
// each contest title, the titles of the options it selects. counted says
// whether the box counts it.
func (f *electionFixture) boxed(t testing.TB, code string) (choices map[string][]string, counted bool) {
	t.Helper()
	r := f.officer.call("GET", f.path+"/ballots?tracking_code="+url.QueryEscape(code), nil)
	found, _ := r.body["ballots"].([]any)
	if r.status != http.StatusOK || len(found) != 1 {
		t.Fatalf("tracking code %s in the ballot box: %s", code, r)
	}
	entry := found[0].(map[string]any)
	counted, _ = entry["counted"].(bool)
	raw := f.officer.call("GET", f.path+"/ballots/"+entry["ballot_hash"].(string), nil)
	b, err := voting.ParseBallot(bytes.TrimSpace(raw.raw))
	if err != nil {
		t.Fatalf("the boxed ballot: %v\n%s", err, raw.raw)
	}
	if err := f.ve.VerifyBallot(b); err != nil || b.TrackingCode() != code {
		t.Fatalf("the boxed ballot does not verify (%v) or has code %s, not %s", err, b.TrackingCode(), code)
	}
	tally := f.ve.NewTally()
	if err := tally.Add(b); err != nil {
		t.Fatal(err)
	}
	var keys []voting.VerificationKey
	var partials []*voting.PartialDecryption
	for _, k := range f.keys[1:] {
		keys = append(keys, voting.VerificationKey{Index: k.Index, Key: k.VerificationKey})
		if k.Index <= 2 {
			pd, err := f.ve.PartialDecrypt(k.TrusteeShare(), tally, nil)
			if err != nil {
				t.Fatal(err)
			}
			partials = append(partials, pd)
		}
	}
	res, err := f.ve.Decrypt(tally, 2, keys, partials)
	if err != nil {
		t.Fatal(err)
	}
	m := f.ve.Manifest()
	choices = map[string][]string{}
	for i, c := range res.Contests {
		choices[m.Contests[i].Title] = []string{}
		for j, o := range c.Options {
			if o.Votes == 1 {
				choices[m.Contests[i].Title] = append(choices[m.Contests[i].Title], m.Contests[i].Options[j].Title)
			}
		}
	}
	return choices, counted
}

// ballotsOf counts the ballots in the box.
func (f *electionFixture) ballotsOf(t testing.TB) (total, counted int) {
	t.Helper()
	r := f.officer.call("GET", f.path+"/ballots", nil)
	if r.status != http.StatusOK {
		t.Fatalf("the ballot box: %s", r)
	}
	return int(r.body["total"].(float64)), int(r.body["counted"].(float64))
}

// ---- driving the booth ----

// boothWait waits until the booth shows step (an element id) or fails,
// saying what the page shows instead.
func boothWait(p *browsertest.Page, step string) {
	p.T().Helper()
	deadline := time.Now().Add(browsertest.ActionTimeout)
	for {
		if browsertest.Eval[bool](p, fmt.Sprintf(`(function(){var e=document.getElementById(%q);return !!e && !e.hidden && e.getClientRects().length>0})()`, step)) {
			return
		}
		if time.Now().After(deadline) {
			p.T().Fatalf("the booth did not reach %s; it says:\n%s", step, p.Text())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// boothReady opens the booth at path and waits for the choices.
func boothReady(p *browsertest.Page, path string) {
	p.T().Helper()
	if st := p.Open(path); st != http.StatusOK {
		p.T().Fatalf("booth: status %d", st)
	}
	boothWait(p, "booth-form")
}

// focusIs fails unless the element with id has the focus.
func focusIs(p *browsertest.Page, id string) {
	p.T().Helper()
	if f := p.Focused(); f.ID != id {
		p.T().Errorf("the focus is on %s, want #%s", f, id)
	}
}

func statusText(p *browsertest.Page) string { return p.TextOf("#booth-status") }

func checked(p *browsertest.Page) []string {
	return browsertest.Eval[[]string](p, `Array.prototype.map.call(document.querySelectorAll('#booth-contests input:checked'), function(e){return e.labels[0].innerText})`)
}

// waitStatus waits until the status line says want.
func waitStatus(p *browsertest.Page, want string) {
	p.T().Helper()
	deadline := time.Now().Add(browsertest.ActionTimeout)
	for !strings.Contains(statusText(p), want) {
		if time.Now().After(deadline) {
			p.T().Fatalf("the status line says %q, not %q", statusText(p), want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// boothChooseByMouse picks Boris, One and Two, and No, and types code.
func boothChooseByMouse(p *browsertest.Page, code string) {
	p.T().Helper()
	p.Check("Boris")
	p.Check("One")
	p.Check("Two")
	p.Check("No")
	p.Fill("credential", code)
}

// boothEncrypt reviews and encrypts what is chosen, and returns the
// tracking code shown.
func boothEncrypt(p *browsertest.Page, lang i18n.Lang) string {
	p.T().Helper()
	p.Check(i18n.T(lang, "booth.review.button"))
	boothWait(p, "booth-reviewed")
	p.Check(i18n.T(lang, "booth.encrypt.button"))
	boothWait(p, "booth-encrypted")
	return p.TextOf("#booth-tracking")
}

// TestBoothWholeVoteByKeyboard votes with the keyboard alone: radio
// buttons by arrows, checkboxes by Space with the limit enforced and
// said, the credential typed, Enter to review, then Encrypt and Cast; the
// focus follows each step, the status line says each result, and the
// real ballot box holds a ballot that verifies, carries the tracking code
// shown, counts, and opens (with two trustees' shares) to these choices.
func TestBoothWholeVoteByKeyboard(t *testing.T) {
	e := newTestEnv(t, storetest.SQLite(t), nil)
	f := newBoothElection(t, e, "kb", participation.Eligibility{}, 1)
	p := f.voterPage(t, "kb", 0)
	boothReady(p, f.boothPath())
	p.CheckA11y()

	p.TabTo("Ada", 60)
	p.Press("ArrowDown") // Boris
	p.TabTo("One", 5)
	p.Press("Space")
	p.Press("Tab", "Space") // Two
	p.Press("Tab", "Space") // Three: over the limit of 2
	if got := checked(p); !slices.Equal(got, []string{"Boris", "One", "Two"}) {
		t.Errorf("checked %q, want Boris, One, Two: the third council choice must not stay", got)
	}
	if got := p.TextOf("#contest-1-count"); !strings.Contains(got, "at most 2") || !strings.Contains(got, "Three") {
		t.Errorf("the limit is not said: %q", got)
	}
	if live := browsertest.Eval[string](p, `document.getElementById('contest-1-count').getAttribute('aria-live')`); live != "polite" {
		t.Errorf("the council count is not a live region: aria-live=%q", live)
	}
	p.TabTo("Yes", 5)
	p.Press("ArrowDown") // No
	p.TabTo("#credential", 5)
	p.Type(f.creds[0].Code())
	p.Press("Enter")
	boothWait(p, "booth-reviewed")
	focusIs(p, "booth-reviewed-title")
	for _, s := range []string{"Mayor", "Boris", "One, Two", "No"} {
		p.MustContain(s)
	}
	p.CheckA11y()

	p.TabTo("Encrypt my ballot", 5)
	p.Press("Enter")
	boothWait(p, "booth-encrypted")
	focusIs(p, "booth-encrypted-title")
	code := p.TextOf("#booth-tracking")
	if _, err := voting.ParseTrackingCode(code); err != nil || !strings.Contains(statusText(p), code) {
		t.Fatalf("tracking code %q (%v); status %q", code, err, statusText(p))
	}
	p.CheckA11y()

	p.TabTo("Cast this ballot", 10)
	p.Press("Enter")
	boothWait(p, "booth-cast-done")
	focusIs(p, "booth-cast-title")
	if got := p.TextOf("#booth-cast-tracking"); got != code {
		t.Errorf("the confirmation repeats %q, want %q", got, code)
	}
	if !strings.Contains(statusText(p), code) {
		t.Errorf("the cast is not announced with its code: %q", statusText(p))
	}
	if p.Contains(i18n.T(i18n.English, "booth.cast.replaced")) {
		t.Error("a first ballot is said to replace another")
	}
	box := browsertest.Eval[string](p, `document.getElementById('booth-ballot-box').getAttribute('href')`)
	if want := fmt.Sprintf("/elections/%d/ballots?tracking_code=%s", f.id, code); box != want {
		t.Errorf("ballot box link %q, want %q", box, want)
	}
	p.CheckA11y()

	got, counted := f.boxed(t, code)
	want := map[string][]string{"Mayor": {"Boris"}, "City council": {"One", "Two"}, "Build the park?": {"No"}}
	if fmt.Sprint(got) != fmt.Sprint(want) || !counted {
		t.Errorf("the ballot box holds %v (counted %v), want %v, counted", got, counted, want)
	}
	// The link leads to the ballot in the public ballot box.
	p.Click(i18n.T(i18n.English, "booth.cast.box"))
	p.MustContain(code)
}

// TestBoothCheckThenCast audits a ballot (Benaloh): the audited ballot
// verifies, outside the browser, to the choices made and carries the
// tracking code shown; it is published, never cast; the voter then makes
// a new ballot with the choices kept, which gets a new code and is cast.
// A second vote later replaces the first, and the booth says so.
func TestBoothCheckThenCast(t *testing.T) {
	e := newTestEnv(t, storetest.SQLite(t), nil)
	f := newBoothElection(t, e, "audit", participation.Eligibility{}, 1)
	p := f.voterPage(t, "audit", 0)
	boothReady(p, f.boothPath())
	boothChooseByMouse(p, f.creds[0].Code())
	first := boothEncrypt(p, i18n.English)
	p.Check("Check this ballot instead")
	boothWait(p, "booth-audited")
	focusIs(p, "booth-audited-title")
	p.CheckA11y()

	data := browsertest.Eval[string](p, `document.getElementById('booth-audited-json').value`)
	a, err := voting.ParseAuditedBallot([]byte(data))
	if err != nil {
		t.Fatalf("the audited ballot does not parse: %v\n%s", err, data)
	}
	choices, err := f.ve.VerifyAudit(a)
	if err != nil {
		t.Fatalf("the audited ballot does not verify: %v", err)
	}
	for _, ch := range choices {
		sort.Strings(ch)
	}
	if want := (voting.Choices{"c1": {"o2"}, "c2": {"o1", "o2"}, "c3": {"o2"}}); fmt.Sprint(choices) != fmt.Sprint(want) {
		t.Errorf("the audited ballot opens to %v, want %v", choices, want)
	}
	if a.TrackingCode() != first || p.TextOf("#booth-audited-tracking") != first {
		t.Errorf("audited tracking code %s, shown %s, want %s", a.TrackingCode(), p.TextOf("#booth-audited-tracking"), first)
	}
	if _, err := voting.ParseBallot([]byte(data)); err == nil {
		t.Error("the audited ballot parses as a ballot to count")
	}
	for _, s := range []string{"Boris", "One, Two", "No"} {
		if !strings.Contains(p.TextOf("#booth-audited-list"), s) {
			t.Errorf("the audited choices do not show %q: %s", s, p.TextOf("#booth-audited-list"))
		}
	}
	if link := browsertest.Eval[[]string](p, `(function(){var a=document.getElementById('booth-audited-download');return [a.getAttribute('href'), a.getAttribute('download')]})()`); !strings.HasPrefix(link[0], "blob:") || link[1] != "audited-ballot-"+first+".json" {
		t.Errorf("download link %q", link)
	}
	if cmd := p.TextOf("#booth-audited-command"); cmd != "veche verify-election --ballot audited-ballot-"+first+".json --record record.zip" {
		t.Errorf("the verifier's command says %q", cmd)
	}
	p.Check("Publish the checked ballot")
	waitStatus(p, "published")
	if r := f.officer.call("GET", f.path+"/audits", nil); r.status != http.StatusOK || !strings.Contains(string(r.raw), first) {
		t.Errorf("the published audits: %s", r)
	}
	if total, _ := f.ballotsOf(t); total != 0 {
		t.Errorf("%d ballots in the box after a check, want 0", total)
	}

	p.Check("Make a new ballot")
	boothWait(p, "booth-choose")
	focusIs(p, "booth-election-title")
	if got := checked(p); !slices.Equal(got, []string{"Boris", "One", "Two", "No"}) {
		t.Errorf("the choices are not kept: %q", got)
	}
	p.Check("Chen")
	second := boothEncrypt(p, i18n.English)
	if second == first {
		t.Error("the new ballot has the checked ballot's tracking code")
	}
	p.Check("Cast this ballot")
	boothWait(p, "booth-cast-done")
	if got, counted := f.boxed(t, second); got["Mayor"][0] != "Chen" || !counted {
		t.Errorf("the cast ballot holds %v, counted %v", got, counted)
	}

	// Voting again, later: the new ballot replaces the first.
	boothReady(p, f.boothPath())
	boothChooseByMouse(p, f.creds[0].Code())
	third := boothEncrypt(p, i18n.English)
	p.Check("Cast this ballot")
	boothWait(p, "booth-cast-done")
	p.MustContain(i18n.T(i18n.English, "booth.cast.replaced"))
	if _, counted := f.boxed(t, second); counted {
		t.Error("the replaced ballot still counts")
	}
	if got, counted := f.boxed(t, third); got["Mayor"][0] != "Boris" || !counted {
		t.Errorf("the new ballot holds %v, counted %v", got, counted)
	}
	if total, counted := f.ballotsOf(t); total != 2 || counted != 1 {
		t.Errorf("the box has %d ballots, %d counted; want 2 and 1", total, counted)
	}
}

// TestBoothBallotsCheckAgainstThePublishedRecord follows the booth's
// ballots to the end: one voter checks a ballot then casts another, a
// second casts; the officer closes and tallies, the trustees decrypt, and
// from the published election record (record.zip, what anyone
// downloads) the whole record verifies, the checked ballot opens to the
// choices the voter made — as `veche verify-election --ballot` opens it —
// the cast ones are found in the box, and the result counts them.
func TestBoothBallotsCheckAgainstThePublishedRecord(t *testing.T) {
	e := newTestEnv(t, storetest.SQLite(t), nil)
	f := newBoothElection(t, e, "rec", participation.Eligibility{}, 2)
	anna := f.voterPage(t, "rec", 0)
	boothReady(anna, f.boothPath())
	boothChooseByMouse(anna, f.creds[0].Code())
	checkedCode := boothEncrypt(anna, i18n.English)
	anna.Check("Check this ballot instead")
	boothWait(anna, "booth-audited")
	audited := browsertest.Eval[string](anna, `document.getElementById('booth-audited-json').value`)
	anna.Check("Make a new ballot")
	boothWait(anna, "booth-choose")
	anna.Check("Ada")
	annaCode := boothEncrypt(anna, i18n.English)
	anna.Check("Cast this ballot")
	boothWait(anna, "booth-cast-done")

	boris := f.voterPage(t, "rec", 1)
	boothReady(boris, f.boothPath())
	boothChooseByMouse(boris, f.creds[1].Code())
	borisCode := boothEncrypt(boris, i18n.English)
	boris.Check("Cast this ballot")
	boothWait(boris, "booth-cast-done")

	if r := f.officer.call("POST", f.path+"/close", nil); r.status != http.StatusOK {
		t.Fatalf("close: %s", r)
	}
	if r := f.officer.call("POST", f.path+"/tally", nil); r.status != http.StatusOK {
		t.Fatalf("tally: %s", r)
	}
	tally := f.officer.call("GET", f.path+"/tally", nil).raw
	for i := 1; i <= 2; i++ {
		if r := f.trustees[i-1].call("POST", f.path+"/decryptions", electiontest.PartialDecrypt(t, f.manifest, f.keys[i], tally)); r.status != http.StatusCreated {
			t.Fatalf("trustee %d's decryption: %s", i, r)
		}
	}
	e.sequence()
	rec, rep := verifiedRecord(t, e, fmt.Sprintf("/elections/%d/record.zip", f.id))
	if rep.Ballots != 2 || rep.Counted != 2 {
		t.Fatalf("the record holds %d ballots, %d counted; want 2 and 2", rep.Ballots, rep.Counted)
	}

	// The checked ballot, against the record alone.
	el, err := voting.NewElection(rec.Manifest, rec.JointKey)
	if err != nil {
		t.Fatal(err)
	}
	a, err := voting.ParseAuditedBallot([]byte(audited))
	if err != nil {
		t.Fatal(err)
	}
	opened, err := el.VerifyAudit(a)
	if err != nil || a.TrackingCode() != checkedCode {
		t.Fatalf("the checked ballot against the record: %v (code %s, shown %s)", err, a.TrackingCode(), checkedCode)
	}
	for _, ch := range opened {
		sort.Strings(ch)
	}
	if want := (voting.Choices{"c1": {"o2"}, "c2": {"o1", "o2"}, "c3": {"o2"}}); fmt.Sprint(opened) != fmt.Sprint(want) {
		t.Errorf("the checked ballot opens to %v, want %v", opened, want)
	}
	// The cast ballots are in the record's box, counted.
	for _, code := range []string{annaCode, borisCode} {
		raw := f.officer.call("GET", f.path+"/ballots?tracking_code="+url.QueryEscape(code), nil)
		found, _ := raw.body["ballots"].([]any)
		if len(found) != 1 {
			t.Fatalf("%s: %s", code, raw)
		}
		body := f.officer.call("GET", f.path+"/ballots/"+found[0].(map[string]any)["ballot_hash"].(string), nil).raw
		b, err := voting.ParseBallot(bytes.TrimSpace(body))
		if err != nil {
			t.Fatal(err)
		}
		loc, err := record.Locate(rec, b)
		if err != nil || !loc.Counted || !loc.Logged {
			t.Errorf("%s in the record: %v %+v", code, err, loc)
		}
	}
	// Mayor: Ada (Anna) and Boris (Boris); council: One and Two twice.
	votes := resultVotes(rep.Result)
	want := map[string]uint64{"c1/o1": 1, "c1/o2": 1, "c1/o3": 0, "c2/o1": 2, "c2/o2": 2, "c2/o3": 0, "c2/o4": 0, "c3/o1": 0, "c3/o2": 2}
	if fmt.Sprint(votes) != fmt.Sprint(want) {
		t.Errorf("the result %v, want %v", votes, want)
	}
}

// boothErrorShown fails unless the error summary is shown, has the
// focus, is an alert, and says want.
func boothErrorShown(t *testing.T, p *browsertest.Page, want string) {
	t.Helper()
	boothWait(p, "booth-errors")
	focusIs(p, "booth-errors")
	if role := browsertest.Eval[string](p, `document.getElementById('booth-errors').getAttribute('role')`); role != "alert" {
		t.Errorf("the error summary has role %q", role)
	}
	if got := p.TextOf("#booth-errors"); !strings.Contains(got, want) {
		t.Errorf("the error summary says %q, want %q", got, want)
	}
}

// TestBoothSaysWhatIsWrong: the voter's mistakes (no answer where one is
// needed, no or a mistyped credential) and the ballot box's refusals (a
// credential it does not know, another credential than the one the voter
// used, voting closed, a voter not on the list, no such election) each
// go to the error summary, which takes the focus and is announced; the
// states pass axe.
func TestBoothSaysWhatIsWrong(t *testing.T) {
	e := newTestEnv(t, storetest.SQLite(t), nil)
	f := newBoothElection(t, e, "err", participation.Eligibility{}, 2)
	p := f.voterPage(t, "err", 0)
	boothReady(p, f.boothPath())

	t.Run("nothing chosen", func(t *testing.T) {
		p := p.With(t)
		p.Check("Review my choices")
		boothErrorShown(t, p, "Choose an answer to “Mayor”.")
		boothErrorShown(t, p, "Enter your voting credential.")
		if inv := browsertest.Eval[string](p, `document.getElementById('credential').getAttribute('aria-invalid')`); inv != "true" {
			t.Errorf("the credential is not marked invalid: %q", inv)
		}
		// The summary's link leads to the field.
		p.TabTo("Enter your voting credential.", 5)
		p.Press("Enter")
		focusIs(p, "credential")
		checkPage(t, p, i18n.English)
	})
	t.Run("mistyped credential", func(t *testing.T) {
		p := p.With(t)
		code := []byte(f.creds[0].Code())
		code[0] = map[bool]byte{true: 'b', false: 'a'}[code[0] == 'a']
		boothChooseByMouse(p, string(code))
		p.Check("Review my choices")
		boothErrorShown(t, p, "The voting credential is mistyped.")
		p.Fill("credential", "abc")
		p.Check("Review my choices")
		boothErrorShown(t, p, "The voting credential has 3 letters and digits")
	})
	t.Run("credential the ballot box does not know", func(t *testing.T) {
		p := p.With(t)
		stranger, err := voting.NewCredential(f.ve.Manifest().ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		p.Fill("credential", stranger.Code())
		boothEncrypt(p, i18n.English)
		p.Check("Cast this ballot")
		boothErrorShown(t, p, "The ballot box does not know this voting credential")
		boothWait(p, "booth-choose")
		checkPage(t, p, i18n.English)
	})
	t.Run("another credential than before", func(t *testing.T) {
		p := p.With(t)
		p.Fill("credential", f.creds[0].Code())
		boothEncrypt(p, i18n.English)
		p.Check("Cast this ballot")
		boothWait(p, "booth-cast-done")
		boothReady(p, f.boothPath())
		boothChooseByMouse(p, f.creds[1].Code())
		boothEncrypt(p, i18n.English)
		p.Check("Cast this ballot")
		boothErrorShown(t, p, "You have already voted in this election with another voting credential")
	})
	t.Run("closed", func(t *testing.T) {
		p := p.With(t)
		boothReady(p, f.boothPath())
		boothChooseByMouse(p, f.creds[0].Code())
		boothEncrypt(p, i18n.English)
		if r := f.officer.call("POST", f.path+"/close", nil); r.status != http.StatusOK {
			t.Fatalf("close: %s", r)
		}
		p.Check("Cast this ballot")
		boothErrorShown(t, p, "Voting has closed, so the ballot was not accepted.")
		checkPage(t, p, i18n.English)
		if total, _ := f.ballotsOf(t); total != 1 {
			t.Errorf("%d ballots in the box, want the 1 cast before closing", total)
		}
	})
	t.Run("closed before the voter came", func(t *testing.T) {
		p := p.With(t)
		p.Open(f.boothPath())
		boothWait(p, "booth-choose")
		waitStatus(p, "Voting closed on")
		if p.Contains("Review my choices") {
			t.Error("the form is offered in a closed election")
		}
	})
	t.Run("not eligible", func(t *testing.T) {
		p := p.With(t)
		residents := newBoothElection(t, e, "res", participation.Eligibility{ResidentsOnly: true}, 0)
		p.Open(residents.boothPath())
		boothWait(p, "booth-errors")
		focusIs(p, "booth-errors")
		if p.Contains("Review my choices") {
			t.Error("the form is offered to a voter not on the list")
		}
		r := f.voters[0].call("GET", residents.path, nil)
		if reason, _ := r.body["reason"].(string); reason == "" || !strings.Contains(p.TextOf("#booth-errors"), reason) {
			t.Errorf("the error summary says %q, want the API's reason %q", p.TextOf("#booth-errors"), reason)
		}
		checkPage(t, p, i18n.English)
	})
	t.Run("no such election", func(t *testing.T) {
		p := p.With(t)
		p.Open("/elections/999999/booth")
		boothErrorShown(t, p, "There is no such election.")
	})
}

// TestBoothCredentialFromTheLink fills the credential from the link's
// fragment, says so, and takes the code out of the address bar; the
// server never sees it.
func TestBoothCredentialFromTheLink(t *testing.T) {
	e := newTestEnv(t, storetest.SQLite(t), nil)
	f := newBoothElection(t, e, "link", participation.Eligibility{}, 1)
	p := f.voterPage(t, "link", 0)
	p.Open(f.boothPath() + "#credential=" + f.creds[0].Code())
	boothWait(p, "booth-form")
	if got := browsertest.Eval[string](p, `document.getElementById('credential').value`); got != f.creds[0].Code() {
		t.Errorf("credential field %q, want the code from the link", got)
	}
	if strings.Contains(p.URL(), "credential") {
		t.Errorf("the code stays in the address: %s", p.URL())
	}
	p.MustContain("browsers never send the part of a link after the # sign")
	boothChooseByMouse(p, f.creds[0].Code())
	boothEncrypt(p, i18n.English)
	p.Check("Cast this ballot")
	boothWait(p, "booth-cast-done")
	if strings.Contains(e.logBuf.String(), f.creds[0].Code()) {
		t.Error("the credential code reached the server's log")
	}
	if n := dbCount(t, e.db, "SELECT COUNT(*) FROM election_ballots WHERE election_id = ?", f.id); n != 1 {
		t.Errorf("%d ballots stored", n)
	}
}

// TestBoothStatesPassAxeInEveryLanguage walks the booth's states in each
// language — start, error, reviewed, encrypted, checked, cast — and
// checks each with axe-core (and in English the focus order and the dark
// scheme), and that it reflows to 320 px, as the accessibility sweep does.
func TestBoothStatesPassAxeInEveryLanguage(t *testing.T) {
	e := newTestEnv(t, storetest.SQLite(t), nil)
	f := newBoothElection(t, e, "axe", participation.Eligibility{}, 1)
	p := f.voterPage(t, "axe", 0)
	for _, lang := range i18n.Langs {
		t.Run(string(lang), func(t *testing.T) {
			p := p.With(t)
			setLang(p, lang)
			button := func(key string) { p.Check(i18n.T(lang, key)) }
			boothReady(p, f.boothPath())
			checkPage(t, p, lang)
			button("booth.review.button")
			boothWait(p, "booth-errors")
			checkPage(t, p, lang)
			boothChooseByMouse(p, f.creds[0].Code())
			button("booth.review.button")
			boothWait(p, "booth-reviewed")
			checkPage(t, p, lang)
			button("booth.encrypt.button")
			boothWait(p, "booth-encrypted")
			checkPage(t, p, lang)
			button("booth.audit.button")
			boothWait(p, "booth-audited")
			checkPage(t, p, lang)
			button("booth.new.button")
			boothWait(p, "booth-choose")
			boothEncrypt(p, lang)
			button("booth.cast.button")
			boothWait(p, "booth-cast-done")
			checkPage(t, p, lang)
			if keys := keyLike().FindAllString(p.Text(), -1); keys != nil {
				t.Errorf("untranslated keys %q", keys)
			}
		})
	}
}

// boothSweep is the election of the accessibility sweep's fixture, made
// once per fixture.
var boothSweep sync.Map // *a11yFixture → booth path

func boothSweepElection(fx *a11yFixture) string {
	if path, ok := boothSweep.Load(fx); ok {
		return path.(string)
	}
	f := newBoothElection(fx.t, fx.e, "sweep", participation.Eligibility{}, 0)
	boothSweep.Store(fx, f.boothPath())
	return f.boothPath()
}

// TestBoothEncryptionSpeed times, in headless Chromium, the booth's
// module encrypting a ballot of 20 options with every proof and the
// signature — the work between "Encrypt my ballot" and the tracking
// code — for a choose-one contest and a choose-up-to-3 one (a contest's
// range proof grows with its maximum). The first encryption after the
// page loads is reported apart: it runs before the browser has optimised
// the module. The target is 300 ms on a 2-core machine; the test fails
// only far above it, since other tests share the machine.
func TestBoothEncryptionSpeed(t *testing.T) {
	e := newTestEnv(t, storetest.SQLite(t), nil)
	var options []string
	for i := range 20 {
		options = append(options, fmt.Sprintf("Project %d", i+1))
	}
	for _, max := range []int{1, 3} {
		name := fmt.Sprintf("speed%d", max)
		contest := map[string]any{"title": "Projects", "kind": "choose-up-to", "min": 0, "max": max, "options": options}
		choices := map[string][]string{"c1": {"o2", "o5", "o11"}}
		if max == 1 {
			contest["kind"], contest["min"] = "choose-one", 1
			choices["c1"] = []string{"o2"}
		}
		f := newBoothElection(t, e, name, participation.Eligibility{}, 1, contest)
		p := f.voterPage(t, name, 0)
		boothReady(p, f.boothPath())
		type timing struct {
			First   float64   `json:"first"`
			Runs    []float64 `json:"runs"`
			Fetch   float64   `json:"fetch"`
			Ready   float64   `json:"ready"`
			Version string    `json:"version"`
			Agent   string    `json:"agent"`
			Error   string    `json:"error"`
		}
		key, _ := f.ve.Key().MarshalText()
		got := browsertest.Eval[timing](p, fmt.Sprintf(`(function() {
  var b = window.vecheBooth, m = %q, choices = JSON.stringify(%s), first = 0, runs = [];
  for (var i = 0; i < 21; i++) {
    var t0 = performance.now();
    var r = b.encrypt(m, %q, %q, choices);
    var t1 = performance.now();
    if (r.error) return {error: r.message};
    b.discard(r.handle);
    if (i === 0) first = t1 - t0; else runs.push(t1 - t0);
  }
  var wasm = performance.getEntriesByType('resource').filter(function(e) { return e.name.indexOf('booth.wasm') >= 0; })[0];
  var ready = performance.getEntriesByName('booth-ready')[0];
  return {first: first, runs: runs, fetch: wasm ? wasm.duration : -1, ready: ready ? ready.startTime : -1, version: b.version, agent: navigator.userAgent};
})()`, f.manifest, mustJSON(t, choices), key, f.creds[0].Code()))
		if got.Error != "" {
			t.Fatal(got.Error)
		}
		sort.Float64s(got.Runs)
		median, worst := got.Runs[len(got.Runs)/2], got.Runs[len(got.Runs)-1]
		t.Logf("20 options, %s max %d: first %.0f ms, then median %.1f ms (slowest %.0f ms of %d); booth.wasm fetched in %.0f ms, booth ready %.0f ms after navigation; %s, booth built with %s",
			contest["kind"], max, got.First, median, worst, len(got.Runs), got.Fetch, got.Ready, got.Agent, got.Version)
		if median > 900 {
			t.Errorf("median %.0f ms to encrypt 20 options, three times the 300 ms target", median)
		}
	}
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// verifiedRecord downloads the election record from path as anyone
// would, reads it and verifies it against the instance's log key,
// failing the test unless it verifies.
func verifiedRecord(t *testing.T, e *testEnv, path string) (*record.Record, *record.Report) {
	t.Helper()
	zb := e.browser().get(path)
	if zb.status != http.StatusOK || zb.header.Get("Content-Type") != "application/zip" {
		t.Fatalf("record: %d %s", zb.status, zb.body)
	}
	zr, err := zip.NewReader(strings.NewReader(zb.body), int64(len(zb.body)))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := record.Read(zr, record.Limits{})
	if err != nil {
		t.Fatalf("read the record: %v", err)
	}
	rep, err := record.Verify(context.Background(), rec, record.Options{LogKey: logVerifierKey(e.log)})
	if err != nil || !rep.OK() {
		t.Fatalf("verify the record: %v\n%+v", err, rep)
	}
	return rec, rep
}

// resultVotes is a result's counts by "contest/option".
func resultVotes(res *voting.Result) map[string]uint64 {
	votes := map[string]uint64{}
	for _, c := range res.Contests {
		for _, o := range c.Options {
			votes[c.ID+"/"+o.ID] = o.Votes
		}
	}
	return votes
}
