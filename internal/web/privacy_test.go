package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

// TestPrivacyNoticeIsPublicAndInEveryLanguage renders /privacy for an
// anonymous visitor in each language: every purpose, its lawful basis and
// the rights that do not apply, with the reason, are on the page.
func TestPrivacyNoticeIsPublicAndInEveryLanguage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db, nil)
		e.web.Controller = privacy.Controller{Name: "City of Polotsk", DPOContact: "dpo@polotsk.example"}
		for _, lang := range []string{"en", "be", "ru"} {
			b := e.browser()
			b.header.Set("Accept-Language", lang)
			p := b.get("/privacy")
			if p.status != http.StatusOK {
				t.Fatalf("%s: /privacy = %d", lang, p.status)
			}
			for _, want := range []string{`<html lang="` + lang + `">`, "City of Polotsk", "dpo@polotsk.example", `id="purpose-account"`, `id="purpose-security"`} {
				if !strings.Contains(p.body, want) {
					t.Errorf("%s: notice lacks %q", lang, want)
				}
			}
			if strings.Contains(p.body, "privacy.") {
				i := strings.Index(p.body, "privacy.")
				t.Errorf("%s: an untranslated key on the page: %q", lang, p.body[i:min(len(p.body), i+60)])
			}
		}
		p := e.browser().get("/privacy")
		// Portability does not apply to public-task processing, and the
		// page says so plainly.
		if !strings.Contains(p.body, "Does not apply") || !strings.Contains(p.body, "Article 20(1)") {
			t.Error("the notice does not say that portability does not apply and why")
		}
	})
}

func TestProcessingRecordIsForTheDPO(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db, nil)
		e.web.Controller = privacy.Controller{Name: "City of Polotsk"}
		e.createUser("dpo@example.org", identity.RoleDPO)
		e.createUser("citizen@example.org")

		dpo := e.browser()
		dpo.signIn("dpo@example.org", "")
		dpo.enableMFA()
		if p := dpo.get("/privacy/record"); p.status != http.StatusOK || !strings.Contains(p.body, "accounts.email") {
			t.Fatalf("DPO record page: %d", p.status)
		}
		a := e.api()
		a.signIn("citizen@example.org", "")
		if st, _, _ := a.call("GET", "/api/v1/privacy/record", nil); st != http.StatusForbidden {
			t.Fatalf("citizen reading the record: %d, want 403", st)
		}

		// The JSON record, read by the DPO through the API.
		req, _ := http.NewRequest("GET", e.srv.URL+"/api/v1/privacy/record", nil)
		resp, err := dpo.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var rec privacy.Record
		if err := json.NewDecoder(resp.Body).Decode(&rec); err != nil || resp.StatusCode != 200 {
			t.Fatalf("JSON record: %d %v", resp.StatusCode, err)
		}
		if rec.Controller.Name != "City of Polotsk" || len(rec.Activities) != len(privacy.Purposes) || rec.Digest != privacy.Digest() {
			t.Fatalf("record %+v", rec)
		}
	})
}

// TestStaffReadsAreRecordedAndShownToThePerson: an administrator opening
// a citizen's account must state why; the citizen sees the read on their
// account page and through the API; a break-glass read without a
// justification shows nothing and records nothing; the DPO reviews the
// break-glass reads.
func TestStaffReadsAreRecordedAndShownToThePerson(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db, nil)
		alaID := e.createUser("ala@example.org")
		e.createUser("admin@example.org", identity.RoleAdmin)
		e.createUser("dpo@example.org", identity.RoleDPO)
		admin := e.browser()
		admin.signIn("admin@example.org", "")
		admin.enableMFA()

		page := fmt.Sprintf("/admin/accounts/%d", alaID)
		if p := admin.get(page); p.status != 200 || strings.Contains(p.body, "ala@example.org") || !strings.Contains(p.body, `name="purpose"`) {
			t.Fatalf("opening an account without a purpose must ask for one first: %d", p.status)
		}
		if p := admin.get(page + "?purpose=break_glass&justification=short"); p.status != http.StatusUnprocessableEntity || strings.Contains(p.body, "ala@example.org") {
			t.Fatalf("break-glass without a real justification: %d", p.status)
		}
		if n := dbCount(t, db, "SELECT COUNT(*) FROM access_log"); n != 0 {
			t.Fatalf("%d accesses recorded for refused reads", n)
		}
		if p := admin.get(page + "?purpose=role_management"); p.status != 200 || !strings.Contains(p.body, "ala@example.org") {
			t.Fatalf("opening with a purpose: %d", p.status)
		}
		why := "Checking a reported impersonation of this account"
		if p := admin.get(page + "?purpose=break_glass&justification=" + url.QueryEscape(why)); p.status != 200 {
			t.Fatalf("break-glass read: %d", p.status)
		}

		ala := e.browser()
		ala.signIn("ala@example.org", "")
		p := ala.get("/account")
		for _, want := range []string{"Who has seen your data", "Administrator, staff account", "Managing this person&#39;s roles", why} {
			if !strings.Contains(p.body, want) {
				t.Errorf("account page lacks %q", want)
			}
		}
		a := e.api()
		a.signIn("ala@example.org", "")
		_, out, _ := a.call("GET", "/api/v1/account/access-log", nil)
		if list, _ := out["accesses"].([]any); len(list) != 2 {
			t.Fatalf("API access log: %v", out)
		}

		dpo := e.browser()
		dpo.signIn("dpo@example.org", "")
		dpo.enableMFA()
		if p := dpo.get("/privacy/access-review"); p.status != 200 || !strings.Contains(p.body, why) || strings.Count(p.body, "<tr>") != 2 {
			t.Fatalf("DPO review: %d, want one break-glass row with the justification", p.status)
		}
	})
}

// TestEraseAccountInPages: the person is asked to confirm their password
// first, must tick the confirmation, and is then signed out and gone.
func TestEraseAccountInPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db, nil)
		e.createUser("ala@example.org")
		b := e.browser()
		b.signIn("ala@example.org", "")
		e.advance(11 * time.Minute)
		if p := b.get("/account/erase"); p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/reauth?next=%2Faccount%2Ferase") {
			t.Fatalf("erase page without a recent sign-in: %d %q", p.status, p.header.Get("Location"))
		}
		b.post("/reauth", url.Values{"password": {testPassword}, "next": {"/account/erase"}})
		if p := b.get("/account/erase"); p.status != 200 || !strings.Contains(p.body, "What stays") {
			t.Fatalf("erase page: %d", p.status)
		}
		if p := b.post("/account/erase", nil); p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `aria-invalid="true"`) {
			t.Fatalf("erase without confirmation: %d", p.status)
		}
		if n := dbCount(t, db, "SELECT COUNT(*) FROM accounts"); n != 1 {
			t.Fatal("the account went without confirmation")
		}
		if p := b.post("/account/erase", url.Values{"confirm": {"yes"}}); p.status != 200 || !strings.Contains(p.body, "Your account is erased") {
			t.Fatalf("erase: %d", p.status)
		}
		if n := dbCount(t, db, "SELECT COUNT(*) FROM accounts"); n != 0 {
			t.Fatal("the account is still there")
		}
		if p := b.get("/account"); p.status != http.StatusSeeOther {
			t.Fatalf("still signed in after erasure: %d", p.status)
		}
	})
}

// TestExportHoldsEverythingAboutThePersonAndNoSecret downloads one's data
// as JSON and as the readable page.
func TestExportHoldsEverythingAboutThePersonAndNoSecret(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db, nil)
		e.createUser("ala@example.org")
		e.createUser("bob@example.org")
		// A failed sign-in to Ala's account is a security event about her.
		e.api().call("POST", "/api/v1/sessions", map[string]string{"email": "ala@example.org", "password": "wrong wrong wrong wrong"})
		b := e.browser()
		b.header.Set("User-Agent", "AlaBrowser/1.0")
		b.signIn("ala@example.org", "")
		secret := b.enableMFA()

		req, _ := http.NewRequest("GET", e.srv.URL+"/account/data.json", nil)
		resp, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment;") {
			t.Fatalf("download: %d %q", resp.StatusCode, resp.Header.Get("Content-Disposition"))
		}
		var d personalData
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatal(err)
		}
		if d.Account.Email != "ala@example.org" || !d.Account.MFAEnabled || d.RecoveryCodes != 10 {
			t.Fatalf("account part: %+v", d.Account)
		}
		if len(d.Sessions) != 1 || d.Sessions[0].UserAgent != "AlaBrowser/1.0" {
			t.Fatalf("sessions: %+v", d.Sessions)
		}
		if len(d.SecurityEvents) != 1 || d.SecurityEvents[0].Kind != "signin_failed" {
			t.Fatalf("security events: %+v", d.SecurityEvents)
		}
		for _, secretThing := range []string{secret, "bob@example.org", "$argon2id$"} {
			if strings.Contains(string(raw), secretThing) {
				t.Errorf("the export holds %q", secretThing)
			}
		}
		if p := b.get("/account/data"); p.status != 200 || !strings.Contains(p.body, "AlaBrowser/1.0") || !strings.Contains(p.body, "Failed sign-in") {
			t.Fatalf("summary page: %d", p.status)
		}
	})
}

// TestConsentIsOptInWithdrawableAndReceipted: nothing is consented by
// default; one click gives and one withdraws; the signed receipt verifies
// and a forged one does not; the history is kept and audited.
func TestConsentIsOptInWithdrawableAndReceipted(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db, nil)
		id := e.createUser("ala@example.org")
		ctx := context.Background()
		if ok, _ := e.web.Consents.Has(ctx, id, "newsletter"); ok {
			t.Fatal("consent given by default")
		}
		b := e.browser()
		b.signIn("ala@example.org", "")
		if p := b.get("/account"); !strings.Contains(p.body, "You have not been asked yet: no.") {
			t.Fatal("the account page does not show the unasked consent")
		}
		if p := b.post("/account/consents", url.Values{"purpose": {"newsletter"}, "action": {"give"}}); p.status != http.StatusSeeOther {
			t.Fatalf("give: %d", p.status)
		}
		if ok, _ := e.web.Consents.Has(ctx, id, "newsletter"); !ok {
			t.Fatal("consent not in force after giving it")
		}
		if p := b.post("/account/consents", url.Values{"purpose": {"account"}, "action": {"give"}}); p.status != http.StatusUnprocessableEntity {
			t.Fatalf("consent to a public-task purpose: %d, want 422", p.status)
		}
		// The receipt, from the page link, verifies through the API.
		hist, _ := e.web.Consents.History(ctx, id)
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s/account/consents/%d/receipt", e.srv.URL, hist[0].ID), nil)
		resp, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		receipt, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		a := e.api()
		if st, out, _ := a.call("POST", "/api/v1/consent-receipts/verify", string(receipt)); st != 200 || out["valid"] != true {
			t.Fatalf("genuine receipt: %d %v", st, out)
		}
		forged := strings.Replace(string(receipt), `"state": "given"`, `"state": "withdrawn"`, 1)
		if forged == string(receipt) {
			t.Fatal("test did not alter the receipt")
		}
		if st, out, _ := a.call("POST", "/api/v1/consent-receipts/verify", forged); st != http.StatusUnprocessableEntity || errorCode(out) != "receipt_invalid" {
			t.Fatalf("forged receipt: %d %v", st, out)
		}
		// Withdrawing is one click too, and stops processing at once.
		if p := b.post("/account/consents", url.Values{"purpose": {"newsletter"}, "action": {"withdraw"}}); p.status != http.StatusSeeOther {
			t.Fatalf("withdraw: %d", p.status)
		}
		if ok, _ := e.web.Consents.Has(ctx, id, "newsletter"); ok {
			t.Fatal("consent still in force after withdrawal")
		}
		if hist, _ := e.web.Consents.History(ctx, id); len(hist) != 2 {
			t.Fatalf("history has %d records, want 2", len(hist))
		}
		// The same through the API, with the receipt in the answer.
		a.signIn("ala@example.org", "")
		if st, out, _ := a.call("PUT", "/api/v1/account/consents/research_contact", nil); st != 200 || out["receipt"] == nil {
			t.Fatalf("API give: %d %v", st, out)
		}
		_, out, _ := a.call("GET", "/api/v1/account/consents", nil)
		list, _ := out["consents"].([]any)
		given := 0
		for _, c := range list {
			if c.(map[string]any)["given"] == true {
				given++
			}
		}
		if given != 1 {
			t.Fatalf("consents in force: %d, want 1 (%v)", given, out)
		}
	})
}

// TestSubjectRequestsGoThroughTheDPOQueue: a citizen files an objection
// and a correction; bad requests are refused with the field named; the DPO
// sees them by deadline, extends one once and answers the other; the
// citizen reads the answer; reminders come a week before the deadline.
func TestSubjectRequestsGoThroughTheDPOQueue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db, nil)
		e.createUser("ala@example.org")
		e.createUser("dpo@example.org", identity.RoleDPO)
		ala := e.browser()
		ala.signIn("ala@example.org", "")
		for _, bad := range []url.Values{
			{"kind": {"objection"}, "purpose": {"security"}, "details": {"x"}},     // legal obligation: no objection
			{"kind": {"restriction"}, "purpose": {"newsletter"}, "details": {"x"}}, // consent: withdraw instead
			{"kind": {"rectification"}, "details": {""}},                           // nothing asked
			{"kind": {"teleport"}, "details": {"x"}},
		} {
			if p := ala.post("/account/requests", bad); p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `aria-invalid="true"`) {
				t.Errorf("bad request %v: %d", bad, p.status)
			}
		}
		if n := dbCount(t, db, "SELECT COUNT(*) FROM subject_requests"); n != 0 {
			t.Fatalf("%d bad requests stored", n)
		}
		const secretText = "My old address was misspelled as alla@"
		if p := ala.post("/account/requests", url.Values{"kind": {"rectification"}, "details": {secretText}}); p.status != http.StatusSeeOther {
			t.Fatalf("correction: %d", p.status)
		}
		if p := ala.post("/account/requests", url.Values{"kind": {"objection"}, "purpose": {"account"}, "details": {"I object to being listed"}}); p.status != http.StatusSeeOther {
			t.Fatalf("objection: %d", p.status)
		}
		var sealed []byte
		db.QueryRow(t.Context(), "SELECT details_sealed FROM subject_requests WHERE kind = 'rectification'").Scan(&sealed)
		if strings.Contains(string(sealed), "misspelled") {
			t.Fatal("request details stored in clear")
		}

		dpo := e.browser()
		dpo.signIn("dpo@example.org", "")
		dpo.enableMFA()
		p := dpo.get("/privacy/requests")
		if p.status != 200 || !strings.Contains(p.body, secretText) || strings.Count(p.body, `action="/privacy/requests/`) != 2 {
			t.Fatalf("DPO queue: %d", p.status)
		}
		list, _ := e.web.Requests.Queue(t.Context())
		corr, obj := list[0], list[1]
		if corr.Kind != "rectification" {
			corr, obj = obj, corr
		}
		if p := dpo.post(fmt.Sprintf("/privacy/requests/%d", corr.ID), url.Values{"status": {"completed"}, "outcome": {""}}); p.status != http.StatusUnprocessableEntity {
			t.Fatalf("closing without an answer: %d", p.status)
		}
		if p := dpo.post(fmt.Sprintf("/privacy/requests/%d", corr.ID), url.Values{"status": {"completed"}, "outcome": {"Corrected."}}); p.status != http.StatusSeeOther {
			t.Fatalf("answer: %d", p.status)
		}
		if p := dpo.post(fmt.Sprintf("/privacy/requests/%d", corr.ID), url.Values{"status": {"refused"}, "outcome": {"again"}}); p.status != http.StatusConflict {
			t.Fatalf("answering a closed request: %d", p.status)
		}
		if p := dpo.post(fmt.Sprintf("/privacy/requests/%d", obj.ID), url.Values{"status": {"extended"}, "outcome": {"We need to consult the registry office."}}); p.status != http.StatusSeeOther {
			t.Fatalf("extend: %d", p.status)
		}
		if p := dpo.post(fmt.Sprintf("/privacy/requests/%d", obj.ID), url.Values{"status": {"extended"}, "outcome": {"again"}}); p.status != http.StatusUnprocessableEntity {
			t.Fatalf("extending twice: %d", p.status)
		}
		list, _ = e.web.Requests.Queue(t.Context())
		for _, r := range list {
			if r.ID == obj.ID && r.DueAt.Sub(r.ReceivedAt) != privacy.RequestDeadline+privacy.RequestExtension {
				t.Fatalf("extended deadline: %v after receipt", r.DueAt.Sub(r.ReceivedAt))
			}
		}
		if p := ala.get("/account/requests"); !strings.Contains(p.body, "Corrected.") || !strings.Contains(p.body, "Extended") {
			t.Fatal("the citizen does not see the answers")
		}
		// Reminders: none now; one, once, within a week of the deadline.
		if due, _ := e.web.Requests.DueSoon(t.Context()); len(due) != 0 {
			t.Fatalf("%d reminders right away", len(due))
		}
		e.web.Requests.SetClock(func() time.Time {
			return time.Now().Add(privacy.RequestDeadline + privacy.RequestExtension - 6*24*time.Hour)
		})
		if due, _ := e.web.Requests.DueSoon(t.Context()); len(due) != 1 || due[0].ID != obj.ID {
			t.Fatalf("reminders near the deadline: %+v", due)
		}
		if due, _ := e.web.Requests.DueSoon(t.Context()); len(due) != 0 {
			t.Fatal("reminded twice")
		}
	})
}

func TestRequestsThroughTheAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db, nil)
		e.createUser("ala@example.org")
		a := e.api()
		a.signIn("ala@example.org", "")
		st, out, _ := a.call("POST", "/api/v1/account/requests", map[string]string{"kind": "objection", "purpose": "security", "details": "x"})
		if st != http.StatusUnprocessableEntity || !strings.Contains(fmt.Sprint(out), "objection_not_applicable") {
			t.Fatalf("objection to a legal-obligation purpose: %d %v", st, out)
		}
		st, out, _ = a.call("POST", "/api/v1/account/requests", map[string]string{"kind": "restriction", "purpose": "account", "details": "Please pause while I dispute a record."})
		if st != http.StatusCreated {
			t.Fatalf("restriction: %d %v", st, out)
		}
		_, out, _ = a.call("GET", "/api/v1/account/requests", nil)
		list, _ := out["requests"].([]any)
		if len(list) != 1 || list[0].(map[string]any)["status"] != "open" {
			t.Fatalf("list: %v", out)
		}
		if err := e.web.Requests.Close(t.Context(), 1, 999, "completed", "x"); !errors.Is(err, privacy.ErrRequestNotFound) {
			t.Fatalf("closing an unknown request: %v", err)
		}
	})
}
