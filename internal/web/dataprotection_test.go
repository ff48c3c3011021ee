package web

// Tests of the data-protection leftovers: changing one's email address,
// restrictions that stop processing, the DPO's queue through the API, and
// staff reads of security events in the access log.

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/veche/veche/internal/identity"
	"github.com/veche/veche/internal/privacy"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/store/storetest"
)

// accountByIndex returns the account whose address has email, or 0.
func (e *testEnv) accountByIndex(email string) int64 {
	e.t.Helper()
	var id int64
	err := e.db.QueryRow(context.Background(), "SELECT id FROM accounts WHERE email_index = ?", e.emailIndex(email)).Scan(&id)
	if err != nil && err != store.ErrNotFound {
		e.t.Fatal(err)
	}
	return id
}

// pendingAudit returns the audit entries not yet sequenced, as text.
func pendingAudit(t *testing.T, db *store.DB) string {
	t.Helper()
	rows, err := db.Query(t.Context(), "SELECT entry FROM auditlog_pending ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var entry []byte
		rows.Scan(&entry)
		b.Write(entry)
		b.WriteByte('\n')
	}
	return b.String()
}

// TestEmailChangeInPagesNeedsReauthAndTheNewAddress changes an address
// from the account page: a password re-check first, a notice to the old
// address, a link to the new one, nothing changed until the link is used
// (the pending address sealed), then the new address signs in and the old
// does not, the old address is told, and the link works once.
func TestEmailChangeInPagesNeedsReauthAndTheNewAddress(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db, nil)
		id := e.createUser("ala@example.org")
		b := e.browser()
		b.signIn("ala@example.org", "")
		if p := b.get("/account"); !strings.Contains(p.body, `href="/account/email"`) {
			t.Fatal("the account page does not link to the change of address")
		}
		e.advance(11 * time.Minute)
		if p := b.get("/account/email"); p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/reauth") {
			t.Fatalf("stale session: %d %s, want the password re-check", p.status, p.header.Get("Location"))
		}
		if p := b.post("/account/email", url.Values{"email": {"ala.new@example.org"}}); p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/reauth") {
			t.Fatalf("stale session, form sent: %d", p.status)
		}
		if len(e.mails("ala.new@example.org")) != 0 {
			t.Fatal("a link was sent without the password re-check")
		}
		if p := b.post("/reauth", url.Values{"password": {testPassword}, "next": {"/account/email"}}); p.status != http.StatusSeeOther {
			t.Fatalf("reauth: %d", p.status)
		}
		if p := b.get("/account/email"); p.status != 200 || !strings.Contains(p.body, "ala@example.org") {
			t.Fatalf("form: %d", p.status)
		}
		if p := b.post("/account/email", url.Values{"email": {"ALA@example.org "}}); p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "already your address") {
			t.Fatalf("the same address: %d", p.status)
		}
		if p := b.post("/account/email", url.Values{"email": {"not an address"}}); p.status != http.StatusUnprocessableEntity {
			t.Fatalf("a bad address: %d", p.status)
		}
		if p := b.post("/account/email", url.Values{"email": {"Ala.New@example.org"}}); p.status != 200 || !strings.Contains(p.body, "ala.new@example.org") {
			t.Fatalf("change: %d\n%s", p.status, p.body)
		}
		notice := e.mails("ala@example.org")
		if len(notice) != 1 || !strings.Contains(notice[0].Subject, "being changed") || strings.Contains(notice[0].Body, "ala.new") {
			t.Fatalf("notice to the old address: %+v", notice)
		}
		link := e.lastLink("ala.new@example.org", "/account/email/confirm")

		// Nothing changed yet; the pending address is sealed.
		if e.accountByIndex("ala@example.org") != id || e.accountByIndex("ala.new@example.org") != 0 {
			t.Fatal("the address changed before the new one was confirmed")
		}
		var sealed []byte
		db.QueryRow(t.Context(), "SELECT email_sealed FROM email_changes WHERE account_id = ?", id).Scan(&sealed)
		if len(sealed) == 0 || strings.Contains(string(sealed), "ala.new") {
			t.Fatalf("pending address stored as %q", sealed)
		}
		if p := b.get("/account/email"); !strings.Contains(p.body, "ala.new@example.org") || !strings.Contains(p.body, `action="/account/email/cancel"`) {
			t.Fatal("the form does not show the pending change")
		}
		if p := e.browser().post("/signin", url.Values{"email": {"ala.new@example.org"}, "password": {testPassword}}); p.status == http.StatusSeeOther {
			t.Fatal("the unconfirmed address signs in")
		}

		// The link, opened in another browser: a button, then the change.
		other := e.browser()
		if p := other.get(link); p.status != 200 || !strings.Contains(p.body, `action="/account/email/confirm"`) {
			t.Fatalf("confirm form: %d", p.status)
		}
		if e.accountByIndex("ala.new@example.org") != 0 {
			t.Fatal("opening the link (GET) changed the address")
		}
		u, _ := url.Parse(link)
		token := u.Query().Get("token")
		if p := other.post("/account/email/confirm", url.Values{"token": {token}}); p.status != 200 {
			t.Fatalf("confirm: %d\n%s", p.status, p.body)
		}
		if e.accountByIndex("ala.new@example.org") != id || e.accountByIndex("ala@example.org") != 0 {
			t.Fatal("the address did not change")
		}
		if p := other.post("/account/email/confirm", url.Values{"token": {token}}); p.status != http.StatusBadRequest {
			t.Fatalf("the link used twice: %d", p.status)
		}
		a, err := e.id.Account(t.Context(), id)
		if err != nil || a.Email != "ala.new@example.org" || !a.EmailVerified {
			t.Fatalf("account after the change: %+v %v", a, err)
		}
		if m := e.mails("ala@example.org"); len(m) != 2 || !strings.Contains(m[1].Subject, "was changed") {
			t.Fatalf("the old address was not told of the change: %+v", m)
		}
		if p := e.browser().post("/signin", url.Values{"email": {"ala@example.org"}, "password": {testPassword}}); p.status == http.StatusSeeOther {
			t.Fatal("the old address still signs in")
		}
		e.browser().signIn("ala.new@example.org", "")
		if n := dbCount(t, db, "SELECT COUNT(*) FROM email_changes"); n != 0 {
			t.Fatalf("%d pending changes left", n)
		}
		audit := pendingAudit(t, db)
		for _, want := range []string{"account.email_change_requested", "account.email_changed"} {
			if !strings.Contains(audit, want) {
				t.Errorf("audit log lacks %s", want)
			}
		}
		if strings.Contains(audit, "ala") {
			t.Error("the audit log names the address")
		}
	})
}

// TestEmailChangeToATakenAddressTellsOnlyThatAddress asks, through the
// API, for an address another account has: the answer is the same as for
// a free one, that address is told it has an account and gets no link,
// and nothing changes. An address taken after the link was sent is a
// clear "taken" error for the holder of the link.
func TestEmailChangeToATakenAddressTellsOnlyThatAddress(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newAPITestEnv(t, db, nil)
		ala := e.createUser("ala@example.org")
		bob := e.createUser("bob@example.org")
		a := e.apiCaller()
		a.signIn("ala@example.org", testPassword, "")
		free := a.call("POST", "/api/v1/account/email", map[string]string{"email": "ala2@example.org"})
		taken := a.call("POST", "/api/v1/account/email", map[string]string{"email": "bob@example.org"})
		if free.status != http.StatusAccepted || taken.status != free.status || string(taken.raw) != string(free.raw) {
			t.Fatalf("free address: %s; taken: %s; want the same answer", free, taken)
		}
		m := e.mails("bob@example.org")
		if len(m) != 1 || strings.Contains(m[0].Body, "/account/email/confirm") || !strings.Contains(m[0].Body, "already has its own account") {
			t.Fatalf("mail to the taken address: %+v", m)
		}
		if e.accountByIndex("bob@example.org") != bob || e.accountByIndex("ala@example.org") != ala {
			t.Fatal("an account changed")
		}
		// The later request replaced the first: its link no longer works.
		first := e.emailedToken("ala2@example.org", "/account/email/confirm")
		if r := e.apiCaller().call("POST", "/api/v1/account/email/confirm", map[string]string{"token": first}); r.status != 400 || r.errCode() != "token_invalid" {
			t.Fatalf("a replaced link: %s", r)
		}

		// Asked for a free address that is taken before the link is used.
		if r := a.call("POST", "/api/v1/account/email", map[string]string{"email": "cyril@example.org"}); r.status != http.StatusAccepted {
			t.Fatalf("change: %s", r)
		}
		if r := a.call("GET", "/api/v1/account", nil); r.body["email_change"] == nil {
			t.Fatalf("GET /api/v1/account does not show the pending change: %s", r)
		}
		token := e.emailedToken("cyril@example.org", "/account/email/confirm")
		e.createUser("cyril@example.org")
		r := e.apiCaller().call("POST", "/api/v1/account/email/confirm", map[string]string{"token": token})
		if r.status != http.StatusUnprocessableEntity || r.errField("email") != "taken" {
			t.Fatalf("confirming a taken address: %s", r)
		}
		if e.accountByIndex("ala@example.org") != ala {
			t.Fatal("ala's address changed")
		}
	})
}

// TestEmailChangeExpiresAndCanBeCancelled shows that a link past 24 hours
// and a cancelled change's link do not work, and that the expired
// change is purged.
func TestEmailChangeExpiresAndCanBeCancelled(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newAPITestEnv(t, db, nil)
		ala := e.createUser("ala@example.org")
		a := e.apiCaller()
		a.signIn("ala@example.org", testPassword, "")
		if r := a.call("POST", "/api/v1/account/email", map[string]string{"email": "late@example.org"}); r.status != http.StatusAccepted {
			t.Fatalf("change: %s", r)
		}
		token := e.emailedToken("late@example.org", "/account/email/confirm")
		e.advance(identity.EmailChangeTTL + time.Minute)
		if r := e.apiCaller().call("POST", "/api/v1/account/email/confirm", map[string]string{"token": token}); r.errCode() != "token_invalid" {
			t.Fatalf("expired link: %s", r)
		}
		if _, err := e.id.PurgeExpired(t.Context()); err != nil {
			t.Fatal(err)
		}
		if n := dbCount(t, db, "SELECT COUNT(*) FROM email_changes"); n != 0 {
			t.Fatalf("%d expired changes kept", n)
		}

		a.signIn("ala@example.org", testPassword, "")
		if r := a.call("POST", "/api/v1/account/email", map[string]string{"email": "never@example.org"}); r.status != http.StatusAccepted {
			t.Fatalf("change: %s", r)
		}
		token = e.emailedToken("never@example.org", "/account/email/confirm")
		if r := a.call("DELETE", "/api/v1/account/email", nil); r.status != http.StatusNoContent {
			t.Fatalf("cancel: %s", r)
		}
		if r := e.apiCaller().call("POST", "/api/v1/account/email/confirm", map[string]string{"token": token}); r.errCode() != "token_invalid" {
			t.Fatalf("cancelled change's link: %s", r)
		}
		if e.accountByIndex("ala@example.org") != ala {
			t.Fatal("the address changed")
		}
		if !strings.Contains(pendingAudit(t, db), "account.email_change_cancelled") {
			t.Fatal("the cancellation is not in the audit log")
		}
	})
}

// TestRestrictionFromTheDPOQueueThroughTheAPIStopsInactivityErasure runs
// a restriction request through the DPO's API: list and filter the
// queue, complete the request, see the restriction in force (the DPO's
// list, the person's requests), see that the inactivity rule neither warns
// nor erases the person meanwhile, lift it, and see the rule apply again.
func TestRestrictionFromTheDPOQueueThroughTheAPIStopsInactivityErasure(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newAPITestEnv(t, db, nil)
		alaID := e.createUser("ala@example.org")
		ala := e.apiCaller()
		ala.signIn("ala@example.org", testPassword, "")
		dpo, _, _ := e.staffAPI("dpo@example.org", identity.RoleDPO)
		citizenAsDPO := ala.call("GET", "/api/v1/privacy/requests", nil)
		if citizenAsDPO.status != http.StatusForbidden {
			t.Fatalf("a citizen reads the queue: %s", citizenAsDPO)
		}
		r := ala.call("POST", "/api/v1/account/requests", map[string]string{"kind": "restriction", "purpose": "account",
			"details": "Keep my account: I need it for a court case."})
		if r.status != http.StatusCreated {
			t.Fatalf("file: %s", r)
		}
		reqID := int64(r.body["request"].(map[string]any)["id"].(float64))

		count := func(path string) int {
			t.Helper()
			r := dpo.call("GET", path, nil)
			if r.status != 200 {
				t.Fatalf("%s: %s", path, r)
			}
			return len(r.body["requests"].([]any))
		}
		for path, want := range map[string]int{"/api/v1/privacy/requests": 1, "/api/v1/privacy/requests?status=open": 1,
			"/api/v1/privacy/requests?status=pending": 1, "/api/v1/privacy/requests?status=completed": 0,
			"/api/v1/privacy/requests?due_soon=1": 0} {
			if got := count(path); got != want {
				t.Errorf("%s: %d requests, want %d", path, got, want)
			}
		}
		e.web.Requests.SetClock(func() time.Time { return time.Now().Add(privacy.RequestDeadline - 5*24*time.Hour) })
		if got := count("/api/v1/privacy/requests?due_soon=1"); got != 1 {
			t.Errorf("due soon five days before the deadline: %d", got)
		}
		e.web.Requests.SetClock(time.Now)

		r = dpo.call("POST", fmt.Sprintf("/api/v1/privacy/requests/%d", reqID), map[string]string{"status": "completed", "outcome": "Your account is kept while the case lasts."})
		if r.status != 200 || r.body["request"].(map[string]any)["status"] != "completed" {
			t.Fatalf("complete: %s", r)
		}
		r = dpo.call("POST", fmt.Sprintf("/api/v1/privacy/requests/%d", reqID), map[string]string{"status": "refused", "outcome": "again"})
		if r.status != http.StatusConflict || r.errCode() != "request_closed" {
			t.Fatalf("answering twice: %s", r)
		}
		r = dpo.call("GET", "/api/v1/privacy/restrictions", nil)
		list, _ := r.body["restrictions"].([]any)
		if len(list) != 1 {
			t.Fatalf("restrictions in force: %s", r)
		}
		restriction := list[0].(map[string]any)
		if restriction["purpose"] != "account" || restriction["basis"] != "restriction" || int64(restriction["account"].(float64)) != alaID {
			t.Fatalf("restriction: %v", restriction)
		}
		mine := ala.call("GET", "/api/v1/account/requests", nil)
		if got, _ := mine.body["restrictions"].([]any); len(got) != 1 {
			t.Fatalf("the person does not see the restriction: %s", mine)
		}
		b := e.browser()
		b.signIn("ala@example.org", "")
		if p := b.get("/account/requests"); !strings.Contains(p.body, "In force") || !strings.Contains(p.body, "kept while the case lasts") {
			t.Fatal("the requests page does not show the restriction")
		}

		// Inactivity: ala has not signed in for long; the restriction keeps
		// her account from the warning and the erasure.
		rule := identity.Inactivity{After: 365 * 24 * time.Hour, Warn: 30 * 24 * time.Hour}
		if _, err := db.Exec(t.Context(), "UPDATE accounts SET last_active_at = ? WHERE id = ?", store.Micros(e.clock().AddDate(-2, 0, 0)), alaID); err != nil {
			t.Fatal(err)
		}
		if warned, erased, err := e.id.EnforceInactivity(t.Context(), rule); err != nil || warned != 0 || erased != 0 {
			t.Fatalf("inactivity with the restriction: warned %d, erased %d, %v", warned, erased, err)
		}

		id := int64(restriction["id"].(float64))
		if r := dpo.call("POST", fmt.Sprintf("/api/v1/privacy/restrictions/%d/lift", id), map[string]string{"reason": ""}); r.status != 422 || r.errField("reason") == "" {
			t.Fatalf("lift without a reason: %s", r)
		}
		if r := dpo.call("POST", fmt.Sprintf("/api/v1/privacy/restrictions/%d/lift", id), map[string]string{"reason": "The case is closed."}); r.status != 200 {
			t.Fatalf("lift: %s", r)
		}
		if r := dpo.call("POST", fmt.Sprintf("/api/v1/privacy/restrictions/%d/lift", id), map[string]string{"reason": "again"}); r.status != 404 {
			t.Fatalf("lift twice: %s", r)
		}
		if r := dpo.call("GET", "/api/v1/privacy/restrictions", nil); len(r.body["restrictions"].([]any)) != 0 {
			t.Fatalf("in force after lifting: %s", r)
		}
		mine = ala.call("GET", "/api/v1/account/requests", nil)
		lifted := mine.body["restrictions"].([]any)[0].(map[string]any)
		if lifted["lifted_at"] == nil || lifted["lift_reason"] != "The case is closed." {
			t.Fatalf("the person's view after lifting: %v", lifted)
		}
		if warned, _, err := e.id.EnforceInactivity(t.Context(), rule); err != nil || warned != 1 {
			t.Fatalf("inactivity after lifting: warned %d, %v", warned, err)
		}
		audit := pendingAudit(t, db)
		for _, want := range []string{"request.completed", "restriction.set", "restriction.lifted"} {
			if !strings.Contains(audit, want) {
				t.Errorf("audit log lacks %s", want)
			}
		}
	})
}

// TestRestrictionsInTheDPOPages lifts a restriction from the queue page.
func TestRestrictionsInTheDPOPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db, nil)
		ala := e.createUser("ala@example.org")
		dpoID := e.createUser("dpo@example.org", identity.RoleDPO)
		if err := e.web.Requests.Restrictions.Restrict(t.Context(), dpoID, ala, "communication", privacy.BasisObjection, "Upheld."); err != nil {
			t.Fatal(err)
		}
		dpo := e.browser()
		dpo.signIn("dpo@example.org", "")
		dpo.enableMFA()
		p := dpo.get("/privacy/requests")
		list, _ := e.web.Requests.Restrictions.InForce(t.Context())
		action := fmt.Sprintf("/privacy/restrictions/%d/lift", list[0].ID)
		if p.status != 200 || !strings.Contains(p.body, `action="`+action+`"`) {
			t.Fatalf("queue page: %d", p.status)
		}
		if p := dpo.post(action, url.Values{"reason": {""}}); p.status != http.StatusUnprocessableEntity {
			t.Fatalf("lift without a reason: %d", p.status)
		}
		if p := dpo.post(action, url.Values{"reason": {"Objection withdrawn."}}); p.status != http.StatusSeeOther {
			t.Fatalf("lift: %d", p.status)
		}
		if stop, err := e.web.Requests.Restrictions.Restricted(t.Context(), ala, "communication"); err != nil || stop {
			t.Fatalf("still restricted: %v %v", stop, err)
		}
	})
}

// TestSecurityEventReadsAreInTheAccessLog shows that reading security
// events records, for each account an event names, a read under the
// stated purpose (security monitoring by default): the person sees it,
// break-glass reads reach the DPO's review, and events naming no account
// record nothing.
func TestSecurityEventReadsAreInTheAccessLog(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newAPITestEnv(t, db, nil)
		olgaID := e.createUser("olga@example.org")
		e.createUser("ivan@example.org")
		anon := e.apiCaller()
		anon.call("POST", "/api/v1/sessions", map[string]string{"email": "olga@example.org", "password": "wrong password, long enough"})
		anon.call("POST", "/api/v1/sessions", map[string]string{"email": "nobody@example.org", "password": "wrong password, long enough"})
		analyst, analystID, secret := e.staffAPI("analyst@example.org", identity.RoleSecurityAnalyst)
		accesses := func() int { return dbCount(t, db, "SELECT COUNT(*) FROM access_log") }
		before := accesses()

		r := analyst.call("GET", "/api/v1/security-events?kind=signin_failed", nil)
		if r.status != 200 || len(r.body["events"].([]any)) != 2 {
			t.Fatalf("events: %s", r)
		}
		if got := accesses() - before; got != 1 {
			t.Fatalf("%d access-log rows for one read of events naming one account", got)
		}
		var subject, reader int64
		var role, purpose, data string
		db.QueryRow(t.Context(), "SELECT subject_account, reader_account, reader_role, purpose, data FROM access_log ORDER BY id DESC LIMIT 1").Scan(&subject, &reader, &role, &purpose, &data)
		if subject != olgaID || reader != analystID || role != "security_analyst" || purpose != "security_monitoring" || !strings.Contains(data, "security_events.ip") {
			t.Fatalf("access row: subject %d reader %d role %s purpose %s data %s", subject, reader, role, purpose, data)
		}
		olga := e.apiCaller()
		olga.signIn("olga@example.org", testPassword, "")
		if r := olga.call("GET", "/api/v1/account/access-log", nil); len(r.body["accesses"].([]any)) != 1 {
			t.Fatalf("olga's access log: %s", r)
		}

		// The page, with a break-glass reason: the DPO reviews it.
		b := e.browser()
		b.signIn("analyst@example.org", secret)
		if p := b.get("/security/events?purpose=break_glass"); p.status != http.StatusUnprocessableEntity {
			t.Fatalf("break glass without a justification: %d", p.status)
		}
		before = accesses()
		if p := b.get("/security/events?purpose=break_glass&justification=" + url.QueryEscape("Police request 2026/17 about this address")); p.status != 200 {
			t.Fatalf("break-glass read: %d", p.status)
		}
		if got := accesses() - before; got != 1 {
			t.Fatalf("%d rows for the break-glass read", got)
		}
		dpo, _, _ := e.staffAPI("dpo@example.org", identity.RoleDPO)
		if r := dpo.call("GET", "/api/v1/privacy/break-glass", nil); !strings.Contains(string(r.raw), "Police request 2026/17") {
			t.Fatalf("the DPO does not see the break-glass read: %s", r)
		}
		// Events naming no account (a rate limit, say) record nothing.
		before = accesses()
		if r := analyst.call("GET", "/api/v1/security-events?kind=rate_limited", nil); r.status != 200 {
			t.Fatalf("events: %s", r)
		}
		if got := accesses() - before; got != 0 {
			t.Fatalf("%d rows for events naming nobody", got)
		}
	})
}
