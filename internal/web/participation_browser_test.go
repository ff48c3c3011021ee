package web

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/veche/veche/internal/identity"
	"github.com/veche/veche/internal/store/storetest"
	"github.com/veche/veche/internal/web/browsertest"
)

// Full flows of the participation spaces in headless Chromium: an official
// creates, citizens take part (one of them by keyboard alone), the official
// closes, and the results are published; axe checks each page on the way.

// browserSignIn signs p in as email (with TOTP for staff).
func (e *testEnv) browserSignIn(p *browsertest.Page, email, secret string) {
	p.T().Helper()
	p.Open("/signin")
	p.Fill("email", email)
	p.Fill("password", testPassword)
	p.PressAndWait("Enter")
	if strings.HasPrefix(p.Path(), "/signin/mfa") {
		e.advance(30 * time.Second)
		p.Fill("code", e.totpCode(secret))
		p.PressAndWait("Enter")
	}
	if strings.HasPrefix(p.Path(), "/signin") {
		p.T().Fatalf("sign-in as %s ended at %s", email, p.Path())
	}
}

// browserCitizen makes an established citizen and a signed-in page.
func (e *testEnv) browserCitizen(t *testing.T, email string) *browsertest.Page {
	id := e.createUser(email)
	if _, err := e.db.Exec(t.Context(), "UPDATE accounts SET created_at = 0 WHERE id = ?", id); err != nil {
		t.Fatal(err)
	}
	p := browsertest.NewAt(t, e.srv.URL)
	e.browserSignIn(p, email, "")
	return p
}

// browserProcess creates a process open now through the form and returns
// the process page's path.
func (e *testEnv) browserProcess(p *browsertest.Page, title string) string {
	t := p.T()
	t.Helper()
	if st := p.Open("/processes/new"); st != 200 {
		t.Fatalf("new process form: %d", st)
	}
	p.CheckA11y()
	p.Fill("Title", title)
	p.Fill("phases.0.name", "Participation")
	now := e.clock().UTC()
	browsertest.Eval[string](p, fmt.Sprintf(`document.getElementById('phases.0.starts').value = %q`, now.Add(-time.Hour).Format(formTime)))
	browsertest.Eval[string](p, fmt.Sprintf(`document.getElementById('phases.0.ends').value = %q`, now.Add(7*24*time.Hour).Format(formTime)))
	p.Click("Create the process")
	if !regexp.MustCompile(`^/processes/\d+$`).MatchString(p.Path()) {
		t.Fatalf("after creating the process: %s\n%s", p.Path(), p.Text())
	}
	p.CheckA11y()
	return p.Path()
}

var fragmentComment = regexp.MustCompile(`#c(\d+)$`)

func TestConsultationFlowInTheBrowser(t *testing.T) {
	e := newTestEnv(t, storetest.SQLite(t), nil)
	official := newRoleHolder(e, identity.RoleOfficial, 1)
	off := browsertest.NewAt(t, e.srv.URL)
	e.browserSignIn(off, official.email, official.secret)
	process := e.browserProcess(off, "Parks 2027")

	off.Click("New consultation")
	off.CheckA11y()
	off.Fill("Title", "Draft parks plan")
	off.Fill("Draft document", "Why we consult.\n\n## Trees\nPlant 500 trees.\n\n## Benches\nAdd benches.\n")
	off.Click("Create")
	space := off.Path()
	if !strings.HasPrefix(space, "/consultations/") {
		t.Fatalf("after creating the consultation: %s", space)
	}

	// A citizen comments by keyboard alone.
	anna := e.browserCitizen(t, "anna@example.org")
	anna.Open(space)
	anna.CheckA11y()
	anna.TabTo("#body", 80)
	anna.Type("Plant oaks along the river.")
	anna.TabTo("Post the comment", 10)
	anna.PressAndWait("Enter")
	anna.MustContain("Your comment is published.")
	m := fragmentComment.FindStringSubmatch(anna.URL())
	if m == nil {
		t.Fatalf("no comment anchor in %s", anna.URL())
	}
	comment := m[1]
	anna.CheckA11y()

	// Another agrees, with the mouse.
	boris := e.browserCitizen(t, "boris@example.org")
	boris.Open(space)
	boris.Click("Agree (comment " + comment + ")")
	boris.MustContain("1 agree")

	// The official answers the comment, closes, and reports.
	off.Open(space)
	off.TabTo("Answer officially (comment "+comment+")", 200)
	off.Press("Enter")
	off.Fill("answer-c"+comment, "Oaks and limes will be planted.")
	off.ClickCSS("form:has(#answer-c" + comment + ") button[type=submit]")
	off.MustContain("Oaks and limes will be planted.")
	off.Open(process)
	off.Click("Close “Draft parks plan” now")
	off.MustContain("closed")
	off.Open(space + "/report")
	off.CheckA11y()
	off.Fill("Final report", "We took up #c"+comment+".")
	off.Click("Publish the report")

	// Anyone reads the report and follows its link to the comment.
	pub := browsertest.NewAt(t, e.srv.URL)
	pub.Open(space + "/report")
	pub.CheckA11y()
	pub.MustContain("Oaks and limes will be planted.")
	pub.Click("#c" + comment)
	pub.MustContain("Plant oaks along the river.")
}

func TestPetitionFlowInTheBrowser(t *testing.T) {
	e := newTestEnv(t, storetest.SQLite(t), nil)
	official := newRoleHolder(e, identity.RoleOfficial, 1)
	off := browsertest.NewAt(t, e.srv.URL)
	e.browserSignIn(off, official.email, official.secret)
	process := e.browserProcess(off, "City petitions 2027")
	off.Click("New petition space")
	off.CheckA11y()
	off.Fill("Title", "City petitions")
	off.Fill("Signatures needed for an official response", "2")
	off.Fill("Days to respond once the threshold is reached", "30")
	off.Click("Create")
	space := off.Path()

	anna := e.browserCitizen(t, "anna@example.org")
	anna.Open(space)
	anna.CheckA11y()
	anna.Click("File a petition or proposal")
	anna.CheckA11y()
	anna.Fill("Title", "More benches")
	anna.Fill("What you ask for, and why", "Benches in every park.")
	anna.Click("File it")
	petition := anna.Path()
	anna.Click("Sign")
	anna.MustContain("Your signature is recorded.")

	// Boris signs by keyboard, showing his name.
	boris := e.browserCitizen(t, "boris@example.org")
	boris.Open(petition)
	boris.TabTo("Show a name in the public list of signers", 80)
	boris.Press("Space")
	boris.TabTo("#public_name", 5)
	boris.Type("Boris B.")
	boris.TabTo("Sign", 5)
	boris.PressAndWait("Enter")
	boris.MustContain("2 of 2 signatures")
	boris.MustContain("must respond by")
	boris.CheckA11y()

	off.Open(petition)
	off.Fill("Response of the public body", "Benches are ordered.")
	off.Click("Publish the response")
	off.Open(process)
	off.Click("Close “City petitions” now")

	pub := browsertest.NewAt(t, e.srv.URL)
	pub.Open(petition)
	pub.CheckA11y()
	pub.MustContain("Benches are ordered.")
	pub.MustContain("Boris B.")
	pub.MustContain("This is closed")
}
