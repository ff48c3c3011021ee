package web

// The voting booth in headless Chromium: a whole vote by keyboard alone,
// a Benaloh check then a new ballot, the errors (the voter's and the
// ballot box's), every state checked by axe-core in the three languages,
// and the time to encrypt a 20-option ballot in WebAssembly.
//
// The booth talks to the election API. Until internal/election serves
// it, boothStub below serves the contract the booth relies on (see
// docs/booth.md) from a manifest and a joint key made with package
// voting, behind the real server's chain: session, cross-origin
// protection, the API's JSON rule and its error format.

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gtank/ristretto255"

	"github.com/veche/veche/internal/i18n"
	"github.com/veche/veche/internal/identity"
	"github.com/veche/veche/internal/store/storetest"
	"github.com/veche/veche/internal/voting"
	"github.com/veche/veche/internal/web/browsertest"
)

// boothStub serves GET /api/v1/elections/{id} and POST …/ballots and
// …/audits for the booth's tests.
type boothStub struct {
	mu        sync.Mutex
	elections map[string]*stubElection
}

// stubElection is an election of the stub, with the secret key that the
// trustees would share, so that a test can read a ballot.
type stubElection struct {
	id       string
	manifest *voting.Manifest
	el       *voting.Election
	secret   *ristretto255.Scalar
	creds    []*voting.Credential
	state    string
	eligible bool
	ballots  []*voting.Ballot // accepted, in order; the last per credential counts
	audits   []*voting.AuditedBallot
}

func installBoothStub(e *testEnv) *boothStub {
	st := &boothStub{elections: map[string]*stubElection{}}
	self := needs(identity.PermAccountSelf)
	for _, rt := range []route{
		{"GET", "/api/v1/elections/{id}", self, st.serveElection},
		{"POST", "/api/v1/elections/{id}/ballots", self, st.serveCast},
		{"POST", "/api/v1/elections/{id}/audits", self, st.serveAudit},
	} {
		e.web.mux.Handle(rt.method+" "+rt.path, e.web.guard(rt))
	}
	return st
}

// boothManifest has one contest of each kind: choose one of three, up to
// two of four, and a yes/no question that may be left blank.
func boothManifest(id string, now time.Time) *voting.Manifest {
	now = now.UTC().Truncate(time.Second)
	return &voting.Manifest{
		ID: id, Title: "City vote 2026", Opens: now.Add(-time.Hour), Closes: now.Add(7 * 24 * time.Hour),
		Contests: []voting.Contest{
			{ID: "mayor", Title: "Mayor", Kind: voting.ChooseOne, Min: 1, Max: 1, Options: []voting.Option{
				{ID: "ada", Title: "Ada"}, {ID: "boris", Title: "Boris"}, {ID: "chen", Title: "Chen"}}},
			{ID: "council", Title: "City council", Kind: voting.ChooseUpTo, Min: 0, Max: 2, Options: []voting.Option{
				{ID: "p1", Title: "One"}, {ID: "p2", Title: "Two"}, {ID: "p3", Title: "Three"}, {ID: "p4", Title: "Four"}}},
			{ID: "park", Title: "Build the park?", Kind: voting.YesNo, Min: 0, Max: 1, Options: []voting.Option{
				{ID: "yes", Title: "Yes"}, {ID: "no", Title: "No"}}},
		},
	}
}

// add opens an election of m with a joint key from a fresh secret (no key
// ceremony) and three published credentials.
func (st *boothStub) add(t testing.TB, m *voting.Manifest) *stubElection {
	t.Helper()
	s, err := voting.RandomScalar(nil)
	if err != nil {
		t.Fatal(err)
	}
	key, err := voting.NewJointKey(ristretto255.NewIdentityElement().ScalarBaseMult(s))
	if err != nil {
		t.Fatal(err)
	}
	el, err := voting.NewElection(m, key)
	if err != nil {
		t.Fatal(err)
	}
	se := &stubElection{id: m.ID, manifest: m, el: el, secret: s, state: "open", eligible: true}
	for range 3 {
		c, err := voting.NewCredential(m.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		se.creds = append(se.creds, c)
	}
	st.mu.Lock()
	st.elections[m.ID] = se
	st.mu.Unlock()
	return se
}

func (st *boothStub) election(r *http.Request) *stubElection {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.elections[r.PathValue("id")]
}

func (st *boothStub) set(se *stubElection, f func()) {
	st.mu.Lock()
	defer st.mu.Unlock()
	f()
}

func stubError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": message}})
}

func (st *boothStub) serveElection(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	se := st.election(r)
	if se == nil {
		stubError(w, http.StatusNotFound, "not_found", "no such election")
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	key, _ := se.el.Key().MarshalText()
	reason := ""
	if !se.eligible {
		reason = "not in the register of this election"
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id": se.id, "title": se.manifest.Title, "state": se.state,
		"opens_at": se.manifest.Opens, "closes_at": se.manifest.Closes,
		"manifest": se.manifest, "joint_key": string(key),
		"eligible": se.eligible, "reason": reason,
	})
}

func (st *boothStub) serveCast(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	se := st.election(r)
	if se == nil {
		stubError(w, http.StatusNotFound, "not_found", "no such election")
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		stubError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	b, err := voting.ParseBallot(body)
	if err != nil {
		stubError(w, http.StatusUnprocessableEntity, "ballot_invalid", err.Error())
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	switch {
	case se.state != "open":
		stubError(w, http.StatusConflict, "election_closed", "voting has closed")
		return
	case !se.eligible:
		stubError(w, http.StatusForbidden, "not_eligible", "not in the register")
		return
	case !slices.ContainsFunc(se.creds, func(c *voting.Credential) bool { return c.Public().Equal(b.Credential()) }):
		stubError(w, http.StatusForbidden, "credential_unknown", "the credential is not published")
		return
	}
	if err := se.el.VerifyBallot(b); err != nil {
		stubError(w, http.StatusUnprocessableEntity, "ballot_invalid", err.Error())
		return
	}
	se.ballots = append(se.ballots, b)
	h := b.Hash()
	writeJSON(w, http.StatusCreated, map[string]string{"tracking_code": b.TrackingCode(), "ballot_hash": base64.RawURLEncoding.EncodeToString(h[:])})
}

func (st *boothStub) serveAudit(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	se := st.election(r)
	if se == nil {
		stubError(w, http.StatusNotFound, "not_found", "no such election")
		return
	}
	body, _ := io.ReadAll(r.Body)
	a, err := voting.ParseAuditedBallot(body)
	if err == nil {
		_, err = se.el.VerifyAudit(a)
	}
	if err != nil {
		stubError(w, http.StatusUnprocessableEntity, "audit_invalid", err.Error())
		return
	}
	st.mu.Lock()
	se.audits = append(se.audits, a)
	st.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]string{"tracking_code": a.TrackingCode()})
}

// cast returns the accepted ballots.
func (st *boothStub) cast(se *stubElection) []*voting.Ballot {
	st.mu.Lock()
	defer st.mu.Unlock()
	return slices.Clone(se.ballots)
}

// read decrypts a ballot with the election's secret, as a tally of one
// ballot by one trustee: for each contest, the options it selects.
func (se *stubElection) read(t testing.TB, b *voting.Ballot) map[string][]string {
	t.Helper()
	tally := se.el.NewTally()
	if err := tally.Add(b); err != nil {
		t.Fatal(err)
	}
	share := voting.TrusteeShare{Index: 1, Secret: se.secret}
	partial, err := se.el.PartialDecrypt(share, tally, nil)
	if err != nil {
		t.Fatal(err)
	}
	keys := []voting.VerificationKey{{Index: 1, Key: se.el.Key().Element()}}
	res, err := se.el.Decrypt(tally, 1, keys, []*voting.PartialDecryption{partial})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, c := range res.Contests {
		out[c.ID] = []string{}
		for _, o := range c.Options {
			if o.Votes == 1 {
				out[c.ID] = append(out[c.ID], o.ID)
			}
		}
	}
	return out
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

// boothReady opens the booth of election id and waits for the choices.
func boothReady(p *browsertest.Page, id string) {
	p.T().Helper()
	if st := p.Open("/elections/" + id + "/booth"); st != http.StatusOK {
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

// boothChooseByMouse picks Boris, One and Two, and No, and types code.
func boothChooseByMouse(p *browsertest.Page, code string) {
	p.T().Helper()
	p.Check("Boris")
	p.Check("One")
	p.Check("Two")
	p.Check("No")
	p.Fill("credential", code)
}

// TestBoothWholeVoteByKeyboard votes with the keyboard alone: radio
// buttons by arrows, checkboxes by Space with the limit enforced and
// said, the credential typed, Enter to review, then Encrypt and Cast; the
// focus follows each step, the status line says each result, and the
// ballot box receives a ballot that verifies and holds these choices.
func TestBoothWholeVoteByKeyboard(t *testing.T) {
	e := newTestEnv(t, storetest.SQLite(t), nil)
	st := installBoothStub(e)
	se := st.add(t, boothManifest("city-2026", e.clock()))
	p := e.browserCitizen(t, "voter@example.org")
	boothReady(p, se.id)
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
	p.Type(se.creds[0].Code())
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
	if href := browsertest.Eval[string](p, `document.getElementById('booth-ballot-box').getAttribute('href')`); !strings.HasPrefix(href, "/elections/city-2026/ballots") {
		t.Errorf("ballot box link %q", href)
	}
	p.CheckA11y()

	ballots := st.cast(se)
	if len(ballots) != 1 || ballots[0].TrackingCode() != code {
		t.Fatalf("the ballot box has %d ballots", len(ballots))
	}
	want := map[string][]string{"mayor": {"boris"}, "council": {"p1", "p2"}, "park": {"no"}}
	if got := se.read(t, ballots[0]); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("the ballot holds %v, want %v", got, want)
	}
	if !ballots[0].Credential().Equal(se.creds[0].Public()) {
		t.Error("the ballot is not signed with the voter's credential")
	}
}

// TestBoothCheckThenCast audits a ballot (Benaloh): the audited ballot
// verifies, outside the browser, to the choices made and carries the
// tracking code shown; it is published, never cast; the voter then makes
// a new ballot with the choices kept, which gets a new code and is cast.
// A second vote later replaces the first in the ballot box.
func TestBoothCheckThenCast(t *testing.T) {
	e := newTestEnv(t, storetest.SQLite(t), nil)
	st := installBoothStub(e)
	se := st.add(t, boothManifest("city-2026", e.clock()))
	p := e.browserCitizen(t, "voter@example.org")
	boothReady(p, se.id)
	boothChooseByMouse(p, se.creds[1].Code())
	p.Check("Review my choices")
	boothWait(p, "booth-reviewed")
	p.Check("Encrypt my ballot")
	boothWait(p, "booth-encrypted")
	first := p.TextOf("#booth-tracking")
	p.Check("Check this ballot instead")
	boothWait(p, "booth-audited")
	focusIs(p, "booth-audited-title")
	checkPage(t, p, i18n.English)

	data := browsertest.Eval[string](p, `document.getElementById('booth-audited-json').value`)
	a, err := voting.ParseAuditedBallot([]byte(data))
	if err != nil {
		t.Fatalf("the audited ballot does not parse: %v\n%s", err, data)
	}
	choices, err := se.el.VerifyAudit(a)
	if err != nil {
		t.Fatalf("the audited ballot does not verify: %v", err)
	}
	for _, ch := range choices {
		sort.Strings(ch)
	}
	if want := (voting.Choices{"mayor": {"boris"}, "council": {"p1", "p2"}, "park": {"no"}}); fmt.Sprint(choices) != fmt.Sprint(want) {
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
	p.Check("Publish the checked ballot")
	deadline := time.Now().Add(browsertest.ActionTimeout)
	for !strings.Contains(statusText(p), "published") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if st.mu.Lock(); len(se.audits) != 1 || len(se.ballots) != 0 {
		t.Errorf("%d audits published and %d ballots cast, want 1 and 0 (status %q)", len(se.audits), len(se.ballots), statusText(p))
	}
	st.mu.Unlock()

	p.Check("Make a new ballot")
	boothWait(p, "booth-choose")
	focusIs(p, "booth-election-title")
	if got := checked(p); !slices.Equal(got, []string{"Boris", "One", "Two", "No"}) {
		t.Errorf("the choices are not kept: %q", got)
	}
	p.Check("Chen")
	p.Check("Review my choices")
	boothWait(p, "booth-reviewed")
	p.Check("Encrypt my ballot")
	boothWait(p, "booth-encrypted")
	second := p.TextOf("#booth-tracking")
	if second == first {
		t.Error("the new ballot has the checked ballot's tracking code")
	}
	p.Check("Cast this ballot")
	boothWait(p, "booth-cast-done")
	ballots := st.cast(se)
	if len(ballots) != 1 || ballots[0].TrackingCode() != second || se.read(t, ballots[0])["mayor"][0] != "chen" {
		t.Fatalf("the ballot box has %d ballots", len(ballots))
	}

	// Voting again, later: a second ballot of the same credential.
	boothReady(p, se.id)
	boothChooseByMouse(p, se.creds[1].Code())
	p.Check("Review my choices")
	boothWait(p, "booth-reviewed")
	p.Check("Encrypt my ballot")
	boothWait(p, "booth-encrypted")
	p.Check("Cast this ballot")
	boothWait(p, "booth-cast-done")
	if ballots := st.cast(se); len(ballots) != 2 || se.read(t, ballots[1])["mayor"][0] != "boris" {
		t.Errorf("revote: the ballot box has %d ballots", len(ballots))
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
// credential it does not know, voting closed, a voter not on the list,
// no such election) each go to the error summary, which takes the focus
// and is announced; each state passes axe.
func TestBoothSaysWhatIsWrong(t *testing.T) {
	e := newTestEnv(t, storetest.SQLite(t), nil)
	st := installBoothStub(e)
	se := st.add(t, boothManifest("city-2026", e.clock()))
	p := e.browserCitizen(t, "voter@example.org")
	boothReady(p, se.id)

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
		code := []byte(se.creds[0].Code())
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
		stranger, err := voting.NewCredential(se.id, nil)
		if err != nil {
			t.Fatal(err)
		}
		p.Fill("credential", stranger.Code())
		p.Check("Review my choices")
		boothWait(p, "booth-reviewed")
		p.Check("Encrypt my ballot")
		boothWait(p, "booth-encrypted")
		p.Check("Cast this ballot")
		boothErrorShown(t, p, "The ballot box does not know this voting credential")
		boothWait(p, "booth-choose")
		checkPage(t, p, i18n.English)
	})
	t.Run("closed", func(t *testing.T) {
		p := p.With(t)
		p.Fill("credential", se.creds[0].Code())
		p.Check("Review my choices")
		boothWait(p, "booth-reviewed")
		p.Check("Encrypt my ballot")
		boothWait(p, "booth-encrypted")
		st.set(se, func() { se.state = "closed" })
		p.Check("Cast this ballot")
		boothErrorShown(t, p, "Voting has closed, so the ballot was not accepted.")
		checkPage(t, p, i18n.English)
		if n := len(st.cast(se)); n != 0 {
			t.Errorf("%d ballots accepted", n)
		}
	})
	t.Run("not eligible", func(t *testing.T) {
		p := p.With(t)
		other := st.add(t, boothManifest("council-2026", e.clock()))
		st.set(other, func() { other.eligible = false })
		p.Open("/elections/council-2026/booth")
		boothErrorShown(t, p, "You are not on the list of voters of this election.")
		if p.Contains("Review my choices") {
			t.Error("the form is offered to a voter not on the list")
		}
		checkPage(t, p, i18n.English)
	})
	t.Run("no such election", func(t *testing.T) {
		p := p.With(t)
		p.Open("/elections/no-such-election/booth")
		boothErrorShown(t, p, "There is no such election.")
	})
	t.Run("closed before the voter came", func(t *testing.T) {
		p := p.With(t)
		p.Open("/elections/" + se.id + "/booth")
		boothWait(p, "booth-choose")
		deadline := time.Now().Add(browsertest.ActionTimeout)
		for !strings.Contains(statusText(p), "Voting closed on") && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if !strings.Contains(statusText(p), "Voting closed on") || p.Contains("Review my choices") {
			t.Errorf("a closed election: status %q, form offered %v", statusText(p), p.Contains("Review my choices"))
		}
	})
}

// TestBoothCredentialFromTheLink fills the credential from the link's
// fragment, says so, and takes the code out of the address bar.
func TestBoothCredentialFromTheLink(t *testing.T) {
	e := newTestEnv(t, storetest.SQLite(t), nil)
	st := installBoothStub(e)
	se := st.add(t, boothManifest("city-2026", e.clock()))
	p := e.browserCitizen(t, "voter@example.org")
	p.Open("/elections/" + se.id + "/booth#credential=" + se.creds[2].Code())
	boothWait(p, "booth-form")
	if got := browsertest.Eval[string](p, `document.getElementById('credential').value`); got != se.creds[2].Code() {
		t.Errorf("credential field %q, want the code from the link", got)
	}
	if strings.Contains(p.URL(), "credential") {
		t.Errorf("the code stays in the address: %s", p.URL())
	}
	p.MustContain("browsers never send the part of a link after the # sign")
	if strings.Contains(e.logBuf.String(), se.creds[2].Code()) {
		t.Error("the credential code reached the server's log")
	}
}

// TestBoothStatesPassAxeInEveryLanguage walks the booth's states in each
// language — start, reviewed, encrypted, checked, cast, error — and
// checks each with axe-core (and in English the focus order, the dark
// scheme, and reflow at 320 px), as the accessibility sweep does.
func TestBoothStatesPassAxeInEveryLanguage(t *testing.T) {
	e := newTestEnv(t, storetest.SQLite(t), nil)
	st := installBoothStub(e)
	se := st.add(t, boothManifest("city-2026", e.clock()))
	p := e.browserCitizen(t, "voter@example.org")
	for _, lang := range i18n.Langs {
		t.Run(string(lang), func(t *testing.T) {
			p := p.With(t)
			setLang(p, lang)
			boothReady(p, se.id)
			checkPage(t, p, lang)
			button := func(key string) { p.Check(i18n.T(lang, key)) }
			button("booth.review.button")
			boothWait(p, "booth-errors")
			checkPage(t, p, lang)
			boothChooseByMouse(p, se.creds[0].Code())
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
			button("booth.review.button")
			boothWait(p, "booth-reviewed")
			button("booth.encrypt.button")
			boothWait(p, "booth-encrypted")
			button("booth.cast.button")
			boothWait(p, "booth-cast-done")
			checkPage(t, p, lang)
			if keys := keyLike().FindAllString(p.Text(), -1); keys != nil {
				t.Errorf("untranslated keys %q", keys)
			}
		})
	}
}

// boothSweep is the stub and election of the accessibility sweep's
// fixture, made once per fixture.
var boothSweep sync.Map // *a11yFixture → election id

func boothSweepElection(fx *a11yFixture) string {
	if id, ok := boothSweep.Load(fx); ok {
		return id.(string)
	}
	st := installBoothStub(fx.e)
	se := st.add(fx.t, boothManifest("sweep-2026", fx.e.clock()))
	boothSweep.Store(fx, se.id)
	return se.id
}

// TestBoothEncryptionSpeed times, in headless Chromium, the booth's
// module encrypting a ballot of 20 options with every proof and the
// signature — the work between "Encrypt my ballot" and the tracking
// code. The target is 300 ms on a 2-core machine; the test fails only
// far above it, since other tests share the machine.
func TestBoothEncryptionSpeed(t *testing.T) {
	e := newTestEnv(t, storetest.SQLite(t), nil)
	st := installBoothStub(e)
	m := boothManifest("bench-2026", e.clock())
	m.Contests = []voting.Contest{{ID: "projects", Title: "Projects", Kind: voting.ChooseUpTo, Min: 0, Max: 5}}
	for i := range 20 {
		m.Contests[0].Options = append(m.Contests[0].Options, voting.Option{ID: fmt.Sprintf("p%d", i+1), Title: fmt.Sprintf("Project %d", i+1)})
	}
	se := st.add(t, m)
	p := e.browserCitizen(t, "voter@example.org")
	boothReady(p, se.id)
	type timing struct {
		Runs    []float64 `json:"runs"`
		Load    float64   `json:"load"`
		Version string    `json:"version"`
		Agent   string    `json:"agent"`
		Error   string    `json:"error"`
	}
	got := browsertest.Eval[timing](p, fmt.Sprintf(`(function() {
  var b = window.vecheBooth, m = JSON.stringify(%s), runs = [];
  var choices = JSON.stringify({projects: ['p2', 'p5', 'p11']});
  for (var i = 0; i < 11; i++) {
    var t0 = performance.now();
    var r = b.encrypt(m, %q, %q, choices);
    var t1 = performance.now();
    if (r.error) return {error: r.message};
    b.discard(r.handle);
    if (i > 0) runs.push(t1 - t0);
  }
  var wasm = performance.getEntriesByType('resource').filter(function(e) { return e.name.indexOf('booth.wasm') >= 0; })[0];
  return {runs: runs, load: wasm ? wasm.duration : -1, version: b.version, agent: navigator.userAgent};
})()`, mustJSON(t, m), mustText(t, se.el.Key()), se.creds[0].Code()))
	if got.Error != "" {
		t.Fatal(got.Error)
	}
	sort.Float64s(got.Runs)
	median, worst := got.Runs[len(got.Runs)/2], got.Runs[len(got.Runs)-1]
	t.Logf("20-option ballot encrypted in the browser (%s, booth built with %s): median %.1f ms, slowest %.1f ms of %d; booth.wasm fetched in %.0f ms",
		got.Agent, got.Version, median, worst, len(got.Runs), got.Load)
	if median > 900 {
		t.Errorf("median %.0f ms to encrypt 20 options, three times the 300 ms target", median)
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

func mustText(t testing.TB, v interface{ MarshalText() ([]byte, error) }) string {
	t.Helper()
	b, err := v.MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
