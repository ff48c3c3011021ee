package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/veche/veche/internal/i18n"
	"github.com/veche/veche/internal/identity"
	"github.com/veche/veche/internal/mail"
	"github.com/veche/veche/internal/participation/notify"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/store/storetest"
)

// runNotifications runs one pass of the notification job, as app does
// every five minutes.
func (e *testEnv) runNotifications() {
	e.t.Helper()
	if _, err := notify.New(e.part, e.srv.URL).Run(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

// checkGenuineMail: plain text, no images or tracking, every link a plain
// address on this instance without a query, and the footer on genuine
// messages.
func (e *testEnv) checkGenuineMail(m mail.Message) {
	e.t.Helper()
	for _, bad := range []string{"<img", "<a ", "utm_", "token="} {
		if strings.Contains(strings.ToLower(m.Body), bad) {
			e.t.Errorf("mail to %s contains %q:\n%s", m.To, bad, m.Body)
		}
	}
	for _, l := range linkRE.FindAllString(m.Body, -1) {
		if !strings.HasPrefix(l, e.srv.URL+"/") || strings.Contains(l, "?") {
			e.t.Errorf("mail to %s links %q", m.To, l)
		}
	}
	host := strings.TrimPrefix(e.srv.URL, "https://")
	if !strings.Contains(m.Body, i18n.T(i18n.English, "notify.mail.genuine", "host", host)) {
		e.t.Errorf("mail to %s lacks the footer on genuine messages:\n%s", m.To, m.Body)
	}
}

// TestNotificationsThroughPagesAndMail: a reply notifies the parent's
// author (not the replier) on the site and in the header; a kind turned
// off by email stays on the site; "immediately" mails at the next run;
// the daily digest sends one mail with several items, then nothing more;
// the Follow button and the API work.
func TestNotificationsThroughPagesAndMail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db, nil)
		official := e.staffBrowser("official@example.org", identity.RoleOfficial)
		anna, _ := e.citizenBrowser("anna@example.org")
		boris, _ := e.citizenBrowser("boris@example.org")

		process := e.newProcess(official, nil)
		phase := regexp.MustCompile(`<option value="(\d+)"`).FindStringSubmatch(official.get("/processes/" + process + "/consultations/new").body)
		space := created(t, official.post("/processes/"+process+"/consultations", url.Values{"title": {"Draft parks plan"}, "phase_id": {phase[1]},
			"document": {"Why.\n\n## Trees\nPlant trees.\n"}}))
		comment := func(b *browser, parent, body string) string {
			t.Helper()
			p := b.post("/consultations/"+space+"/comments", url.Values{"parent": {parent}, "body": {body}})
			m := regexp.MustCompile(`#c(\d+)`).FindStringSubmatch(p.header.Get("Location"))
			if p.status != http.StatusSeeOther || m == nil {
				t.Fatalf("comment: %d %s", p.status, p.body)
			}
			return m[1]
		}
		annas := comment(anna, "", "Plant oaks.")
		boriss := comment(boris, annas, "Oaks grow slowly.")
		comment(anna, annas, "And limes.") // to oneself: no notification

		page := anna.get("/notifications")
		if page.status != 200 || strings.Count(page.body, `class="unread"`) != 1 || !strings.Contains(page.body, "Someone replied to your comment in “Draft parks plan”") ||
			!strings.Contains(page.body, `href="/consultations/`+space+`#c`+boriss+`"`) || !strings.Contains(page.body, "Notifications (1 unread)") {
			t.Fatalf("anna's notifications page (%d):\n%s", page.status, page.body)
		}
		if p := boris.get("/notifications"); !strings.Contains(p.body, "You have no notifications.") {
			t.Errorf("the replier was notified:\n%s", p.body)
		}
		if p := anna.post("/notifications/read", url.Values{"up_to": {"999999"}}); p.status != http.StatusSeeOther {
			t.Fatalf("mark read: %d", p.status)
		}
		if p := anna.get("/notifications"); strings.Contains(p.body, `class="unread"`) || strings.Contains(p.body, "unread)") {
			t.Errorf("still unread after marking all read")
		}

		// Anna: at once, but no email about replies.
		if p := anna.post("/account/notifications", url.Values{"email_mode": {"weekly"}}); p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `id="email_mode-error"`) {
			t.Errorf("an unknown mode: %d", p.status)
		}
		form := url.Values{"email_mode": {"immediately"}, "email_on": {"answer", "new_space", "deadline", "moderation"}}
		if p := anna.post("/account/notifications", form); p.status != http.StatusSeeOther {
			t.Fatalf("preferences: %d %s", p.status, p.body)
		}
		if p := anna.get("/account/notifications"); !strings.Contains(p.body, `value="immediately" checked`) || strings.Contains(p.body, `value="reply" checked`) ||
			!strings.Contains(p.body, "we never ask for your password") && !strings.Contains(p.body, "We never ask for your password") {
			t.Errorf("the preferences page does not show the choice or the advice:\n%s", p.body)
		}
		comment(boris, annas, "Limes too.")
		e.runNotifications()
		if got := e.mails("anna@example.org"); len(got) != 0 {
			t.Fatalf("a reply was emailed although replies are off: %+v", got)
		}
		if p := anna.get("/notifications"); strings.Count(p.body, `class="unread"`) != 1 {
			t.Errorf("the reply is not on the site:\n%s", p.body)
		}
		if p := official.post("/consultations/"+space+"/answers", url.Values{"comment_id": {annas}, "outcome": {"accepted"}, "answer": {"Oaks it is."}}); p.status != http.StatusSeeOther {
			t.Fatalf("answer: %d", p.status)
		}
		e.runNotifications()
		got := e.mails("anna@example.org")
		if len(got) != 1 || !strings.Contains(got[0].Body, "The public body answered your comment") || strings.Contains(got[0].Body, "replied") {
			t.Fatalf("anna's mail: %+v", got)
		}
		e.checkGenuineMail(got[0])

		// Following: anna follows by taking part, and can stop.
		if p := anna.get("/processes/" + process); !strings.Contains(p.body, "Stop following") {
			t.Errorf("the process page does not show that anna follows it")
		}
		if p := anna.post("/processes/"+process+"/follow", url.Values{"follow": {"0"}}); p.status != http.StatusSeeOther {
			t.Fatalf("unfollow: %d", p.status)
		}
		if p := anna.get("/processes/" + process); !strings.Contains(p.body, "Follow this process") {
			t.Errorf("the process page still shows anna as following")
		}

		// The API.
		api := e.api()
		api.signIn("boris@example.org", "")
		if st, out, _ := api.call("GET", "/api/v1/notifications", nil); st != 200 || out["unread"] != float64(0) {
			t.Errorf("boris's notifications: %d %v", st, out)
		}
		if st, out, _ := api.call("PUT", "/api/v1/account/notification-preferences", map[string]any{"email_mode": "hourly"}); st != 422 || errorCode(out) != "invalid_input" {
			t.Errorf("an unknown mode: %d %v", st, out)
		}
		if st, _, _ := api.call("PUT", "/api/v1/processes/999999/follow", nil); st != 404 {
			t.Errorf("following no process: %d", st)
		}
		if st, out, _ := api.call("DELETE", "/api/v1/processes/"+process+"/follow", nil); st != 200 || out["following"] != false {
			t.Errorf("unfollow: %d %v", st, out)
		}
		if st, out, _ := api.call("PUT", "/api/v1/processes/"+process+"/follow", nil); st != 200 || out["following"] != true {
			t.Errorf("follow: %d %v", st, out)
		}

		// Boris (the default daily digest) gets replies from anna: nothing
		// at once, one digest with both after a day, then nothing more.
		comment(anna, boriss, "They do.")
		comment(anna, boriss, "But they live long.")
		e.runNotifications()
		if got := e.mails("boris@example.org"); len(got) != 0 {
			t.Fatalf("a daily-digest reader got mail at once: %+v", got)
		}
		e.advance(24 * time.Hour)
		e.runNotifications()
		e.runNotifications()
		got = e.mails("boris@example.org")
		if len(got) != 1 || strings.Count(got[0].Body, "Someone replied") != 2 || got[0].Subject != "veche: your daily digest" {
			t.Fatalf("boris's digest: %+v", got)
		}
		e.checkGenuineMail(got[0])
		e.advance(24 * time.Hour)
		e.runNotifications()
		if got := e.mails("boris@example.org"); len(got) != 1 {
			t.Errorf("the digest was sent again: %d mails", len(got))
		}
	})
}
