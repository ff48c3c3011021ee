package web

import (
	"encoding/base64"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/veche/veche/internal/i18n"
	"github.com/veche/veche/internal/identity"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/store/storetest"
)

// inputTag returns the <input> (or <select>) element with id, or "".
func inputTag(body, id string) string {
	return regexp.MustCompile(`(?s)<(?:input|select) id="` + regexp.QuoteMeta(id) + `"[^>]*>`).FindString(body)
}

// checkFieldProblem checks that a page tells, in the three places a
// person (or their screen reader) looks, that field is wrong and why: the
// error summary at the top linking to the field, a message next to the
// field, and the field marked invalid and described by that message.
func checkFieldProblem(t *testing.T, body, field, message string) {
	t.Helper()
	if !strings.Contains(body, `class="error-summary"`) || !strings.Contains(body, `<a href="#`+field+`">`+template.HTMLEscapeString(message)) {
		t.Errorf("no error summary linking to #%s with %q", field, message)
	}
	if !strings.Contains(body, `<p class="error" id="`+field+`-error">`+template.HTMLEscapeString(message)+`</p>`) {
		t.Errorf("no message %q next to %s", message, field)
	}
	tag := inputTag(body, field)
	if !strings.Contains(tag, `aria-invalid="true"`) || !regexp.MustCompile(`aria-describedby="[^"]*\b`+field+`-error\b`).MatchString(tag) {
		t.Errorf("field %s is not marked invalid and described by its message: %s", field, tag)
	}
}

// TestRegistrationFormShowsWhatIsWrong submits the registration form with
// each kind of mistake: the page says which field and why, keeps the
// address typed, never shows the password back, and stores nothing.
func TestRegistrationFormShowsWhatIsWrong(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db, nil)
		cases := []struct {
			name, email, password string
			field, message        string
		}{
			{"no address", "", testPassword, "email", "Enter your Email address."},
			{"an address without @", "ala.example.org", testPassword, "email", "Enter an email address in the correct form, like name@example.org."},
			{"an address with a name", "Ala <ala@example.org>", testPassword, "email", "Enter an email address in the correct form, like name@example.org."},
			{"an address too long", strings.Repeat("a", 250) + "@example.org", testPassword, "email", "Email address must be 254 characters or fewer."},
			{"an address in invalid UTF-8", "ala\xff@example.org", testPassword, "email", "Email address contains characters that cannot be read."},
			{"no password", "ala@example.org", "", "password", "Your password must be at least 15 characters long. A few random words make a strong, memorable password."},
			{"a short password", "ala@example.org", "Tr0ub4dor&3", "password", "Your password must be at least 15 characters long. A few random words make a strong, memorable password."},
			{"a long password", "ala@example.org", strings.Repeat("horse battery ", 10), "password", "Your password must be 128 characters or fewer."},
			{"a common password", "ala@example.org", "1qaz2wsx3edc4rfv", "password", "This password is too common and appears in lists used by attackers. Choose a different one."},
			{"a repetitive password", "ala@example.org", "abcabcabcabcabcabc", "password", "Your password is made of repeated characters or a simple sequence. Choose a different one."},
			{"the address as password", "stanislava@example.org", "stanislava-stanislava", "password", "Your password is too close to your email address or the name of this site."},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				accounts := dbCount(t, db, "SELECT COUNT(*) FROM accounts")
				b := e.browser()
				p := b.post("/register", url.Values{"email": {tc.email}, "password": {tc.password}})
				if p.status != http.StatusUnprocessableEntity {
					t.Fatalf("status %d, want 422", p.status)
				}
				checkFieldProblem(t, p.body, tc.field, tc.message)
				if tc.password != "" && strings.Contains(p.body, template.HTMLEscapeString(tc.password)) {
					t.Error("the page shows the password back")
				}
				if tc.field == "password" && !strings.Contains(inputTag(p.body, "email"), `value="`+template.HTMLEscapeString(tc.email)+`"`) {
					t.Errorf("the address typed is gone: %s", inputTag(p.body, "email"))
				}
				if dbCount(t, db, "SELECT COUNT(*) FROM accounts") != accounts {
					t.Error("an account was stored")
				}
			})
		}
	})
}

// TestFormsNeverShowPasswordsBack checks every form that takes a password,
// refused for each reason it can be: the password never appears in the
// answer.
func TestFormsNeverShowPasswordsBack(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db, nil)
		e.createUser("ala@example.org")
		const typed = "Typed-Secret-Zebra-Password"
		b := e.browser()
		b.signIn("ala@example.org", "")
		e.browser().post("/password/forgot", url.Values{"email": {"ala@example.org"}})
		resetLink := e.lastLink("ala@example.org", "/password/reset")
		u, _ := url.Parse(resetLink)
		cases := []struct {
			name, path string
			form       url.Values
			status     int
			b          *browser
		}{
			{"sign-in, wrong password", "/signin", url.Values{"email": {"ala@example.org"}, "password": {typed}}, 401, e.browser()},
			{"sign-in, unknown address", "/signin", url.Values{"email": {"x@example.org"}, "password": {typed}}, 401, e.browser()},
			{"registration, taken-looking", "/register", url.Values{"email": {"bad address"}, "password": {typed}}, 422, e.browser()},
			{"re-check, wrong", "/reauth", url.Values{"password": {typed}}, 401, b},
			{"change, too short", "/account/password", url.Values{"new_password": {"Zebra-short"}}, 422, b},
			{"change, common", "/account/password", url.Values{"new_password": {"1qaz2wsx3edc4rfv"}}, 422, b},
			{"reset, too short", "/password/reset", url.Values{"token": {u.Query().Get("token")}, "new_password": {"Zebra-short"}}, 422, e.browser()},
		}
		state := func() string {
			var hash string
			db.QueryRow(t.Context(), "SELECT password_hash FROM accounts WHERE email_index = ?", e.emailIndex("ala@example.org")).Scan(&hash)
			return fmt.Sprint(hash, dbCount(t, db, "SELECT COUNT(*) FROM accounts"), dbCount(t, db, "SELECT COUNT(*) FROM sessions"),
				dbCount(t, db, "SELECT COUNT(*) FROM email_tokens WHERE used_at IS NULL"))
		}
		for _, tc := range cases {
			before := state()
			p := tc.b.post(tc.path, tc.form)
			if p.status != tc.status {
				t.Errorf("%s: status %d, want %d", tc.name, p.status, tc.status)
			}
			if state() != before {
				t.Errorf("%s: a refused form changed what is stored", tc.name)
			}
			for _, k := range []string{"password", "new_password"} {
				if pw := tc.form.Get(k); pw != "" && strings.Contains(p.body, pw) {
					t.Errorf("%s: the page shows the password back", tc.name)
				}
			}
			for _, id := range []string{"password", "new_password"} {
				if tag := inputTag(p.body, id); strings.Contains(tag, "value=") {
					t.Errorf("%s: password field has a value: %s", tc.name, tag)
				}
			}
		}
		p := e.browser().post("/signin", url.Values{"email": {"ala@example.org"}, "password": {typed}})
		if !strings.Contains(p.body, "The email address or password is wrong.") || !strings.Contains(inputTag(p.body, "email"), `value="ala@example.org"`) {
			t.Errorf("failed sign-in: should say so and keep the address\n%s", p.body)
		}
		// The re-check was never confirmed, so it must not have opened the
		// window: the new password above was refused for its quality,
		// after a recent sign-in, and nothing changed.
		if n := len(e.mails("ala@example.org")); n != 1 {
			t.Errorf("%d messages, want only the reset link", n)
		}
	})
}

// TestChangePasswordNeedsRecentSignInAndEndsOtherSessions changes a
// password through the pages.
func TestChangePasswordNeedsRecentSignInAndEndsOtherSessions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db, nil)
		e.createUser("ala@example.org")
		b := e.browser()
		b.signIn("ala@example.org", "")
		secret := b.enableMFA()
		b = e.browser()
		b.signIn("ala@example.org", secret)
		other := e.browser()
		other.signIn("ala@example.org", secret)

		if p := b.get("/account/password"); p.status != 200 || inputTag(p.body, "new_password") == "" {
			t.Fatalf("change-password page just after sign-in: %d", p.status)
		}
		e.advance(11 * time.Minute)
		want := "/reauth?next=" + url.QueryEscape("/account/password")
		if p := b.get("/account/password"); p.status != http.StatusSeeOther || p.header.Get("Location") != want {
			t.Fatalf("11 minutes later: %d to %q, want %q", p.status, p.header.Get("Location"), want)
		}
		// Posting the form directly is no way around it.
		if p := b.post("/account/password", url.Values{"new_password": {"a brand new passphrase here"}}); p.status != http.StatusSeeOther || p.header.Get("Location") != want {
			t.Fatalf("posting without a recent sign-in: %d to %q", p.status, p.header.Get("Location"))
		}
		p := b.get(want)
		if p.status != 200 || inputTag(p.body, "password") == "" || inputTag(p.body, "code") == "" {
			t.Fatalf("re-check page: %d\n%s", p.status, p.body)
		}
		if !strings.Contains(p.body, `name="next" value="/account/password"`) {
			t.Error("re-check page loses where to go back")
		}
		// A wrong password, then a right password without the code.
		if p := b.post("/reauth", url.Values{"password": {"not the right password"}, "next": {"/account/password"}}); p.status != http.StatusUnauthorized || !strings.Contains(p.body, "The email address or password is wrong.") {
			t.Errorf("re-check with a wrong password: %d", p.status)
		}
		if p := b.post("/reauth", url.Values{"password": {testPassword}, "next": {"/account/password"}}); p.status != http.StatusUnauthorized || !strings.Contains(p.body, "That code is wrong") {
			t.Errorf("re-check without the code: %d", p.status)
		}
		if p := b.get("/account/password"); p.status != http.StatusSeeOther {
			t.Errorf("failed re-checks opened the window: %d", p.status)
		}
		e.advance(30 * time.Second)
		p = b.post("/reauth", url.Values{"password": {testPassword}, "code": {e.totpCode(secret)}, "next": {"/account/password"}})
		if p.status != http.StatusSeeOther || p.header.Get("Location") != "/account/password" {
			t.Fatalf("re-check: %d to %q\n%s", p.status, p.header.Get("Location"), p.body)
		}
		p = b.post("/account/password", url.Values{"new_password": {"short"}})
		if p.status != http.StatusUnprocessableEntity {
			t.Fatalf("too short a new password: %d", p.status)
		}
		checkFieldProblem(t, p.body, "new_password", "Your password must be at least 15 characters long. A few random words make a strong, memorable password.")
		const newPassword = "a brand new passphrase here"
		p = b.post("/account/password", url.Values{"new_password": {newPassword}})
		if p.status != 200 || !strings.Contains(p.body, "Your password has been changed.") {
			t.Fatalf("change: %d\n%s", p.status, p.body)
		}
		if p := b.get("/account"); p.status != 200 {
			t.Errorf("this browser after the change: %d", p.status)
		}
		if p := other.get("/account"); p.status != http.StatusSeeOther {
			t.Errorf("the other browser after the change: %d, want signed out", p.status)
		}
		msgs := e.mails("ala@example.org")
		if len(msgs) == 0 || !strings.Contains(msgs[len(msgs)-1].Subject, "password was changed") {
			t.Error("no message about the change")
		}
		// The new password works and the old one does not.
		n := e.browser()
		if p := n.post("/signin", url.Values{"email": {"ala@example.org"}, "password": {testPassword}}); p.status != http.StatusUnauthorized {
			t.Errorf("old password: %d", p.status)
		}
		if p := n.post("/signin", url.Values{"email": {"ala@example.org"}, "password": {newPassword}}); p.status != http.StatusSeeOther {
			t.Errorf("new password: %d", p.status)
		}
	})
}

// TestPasswordResetByEmailedLink walks the reset flow and its failures.
func TestPasswordResetByEmailedLink(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db, nil)
		e.createUser("ala@example.org")
		signedIn := e.browser()
		signedIn.signIn("ala@example.org", "")
		apiSession := e.api()
		apiSession.signIn("ala@example.org", "")

		b := e.browser()
		if p := b.get("/password/forgot"); p.status != 200 || inputTag(p.body, "email") == "" {
			t.Fatalf("forgot page: %d", p.status)
		}
		p := b.post("/password/forgot", url.Values{"email": {"not an address"}})
		if p.status != http.StatusUnprocessableEntity {
			t.Fatalf("forgot with a bad address: %d", p.status)
		}
		checkFieldProblem(t, p.body, "email", "Enter an email address in the correct form, like name@example.org.")
		if !strings.Contains(inputTag(p.body, "email"), `value="not an address"`) {
			t.Error("the address typed is gone")
		}
		if p := b.post("/password/forgot", url.Values{"email": {"ala@example.org"}}); p.status != 200 || !strings.Contains(p.body, "ala@example.org") {
			t.Fatalf("forgot: %d", p.status)
		}
		link := e.lastLink("ala@example.org", "/password/reset")
		token := func(link string) string { u, _ := url.Parse(link); return u.Query().Get("token") }
		if p := b.get(link); p.status != 200 || !strings.Contains(p.body, `name="token" value="`+token(link)+`"`) {
			t.Fatalf("reset page: %d", p.status)
		}
		// A refused new password leaves the link usable.
		p = b.post("/password/reset", url.Values{"token": {token(link)}, "new_password": {"1qaz2wsx3edc4rfv"}})
		if p.status != http.StatusUnprocessableEntity {
			t.Fatalf("reset to a common password: %d", p.status)
		}
		checkFieldProblem(t, p.body, "new_password", "This password is too common and appears in lists used by attackers. Choose a different one.")
		if !strings.Contains(p.body, `name="token" value="`+token(link)+`"`) {
			t.Error("the refused form lost the token")
		}
		const newPassword = "reset to this passphrase"
		p = b.post("/password/reset", url.Values{"token": {token(link)}, "new_password": {newPassword}})
		if p.status != 200 || !strings.Contains(p.body, "Your password has been changed and you have been signed out everywhere.") {
			t.Fatalf("reset: %d\n%s", p.status, p.body)
		}
		if n := dbCount(t, db, "SELECT COUNT(*) FROM sessions"); n != 0 {
			t.Errorf("%d sessions left after a reset", n)
		}
		if p := signedIn.get("/account"); p.status != http.StatusSeeOther {
			t.Errorf("browser signed in before the reset: %d", p.status)
		}
		if st, _, _ := apiSession.call("GET", "/api/v1/account", nil); st != http.StatusUnauthorized {
			t.Errorf("API session from before the reset: %d", st)
		}

		bad := []struct {
			name, token string
			before      func()
		}{
			{"the used link again", token(link), nil},
			{"a forged token", base64.RawURLEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef")), nil},
			{"no token", "", nil},
			{"a verification token", "", nil},
			{"an expired link", "", func() {
				e.browser().post("/password/forgot", url.Values{"email": {"ala@example.org"}})
				e.advance(31 * time.Minute)
			}},
		}
		for _, tc := range bad {
			if tc.before != nil {
				tc.before()
				tc.token = token(e.lastLink("ala@example.org", "/password/reset"))
			}
			events := eventCount(t, db, "token_invalid")
			hashes := dbCount(t, db, "SELECT COUNT(*) FROM accounts WHERE password_changed_at IS NOT NULL")
			var changed int64
			db.QueryRow(t.Context(), "SELECT password_changed_at FROM accounts WHERE email_index = ?", e.emailIndex("ala@example.org")).Scan(&changed)
			p := e.browser().post("/password/reset", url.Values{"token": {tc.token}, "new_password": {"yet another passphrase"}})
			if p.status != http.StatusBadRequest || !strings.Contains(p.body, "This link is not valid or has expired. Ask for a new one.") {
				t.Errorf("%s: %d, want 400 saying the link is not valid", tc.name, p.status)
			}
			var after int64
			db.QueryRow(t.Context(), "SELECT password_changed_at FROM accounts WHERE email_index = ?", e.emailIndex("ala@example.org")).Scan(&after)
			if after != changed || dbCount(t, db, "SELECT COUNT(*) FROM accounts WHERE password_changed_at IS NOT NULL") != hashes {
				t.Errorf("%s: the password changed", tc.name)
			}
			if eventCount(t, db, "token_invalid") != events+1 {
				t.Errorf("%s: no token_invalid security event", tc.name)
			}
		}
		n := e.browser()
		if p := n.post("/signin", url.Values{"email": {"ala@example.org"}, "password": {newPassword}}); p.status != http.StatusSeeOther {
			t.Errorf("sign-in with the reset password: %d", p.status)
		}
	})
}

// TestEmailVerificationLink checks the verification page: a GET only
// shows a button (mail scanners open links), the POST confirms once, and
// a forged token gets a clear 400.
func TestEmailVerificationLink(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db, nil)
		b := e.browser()
		b.post("/register", url.Values{"email": {"ala@example.org"}, "password": {testPassword}})
		link := e.lastLink("ala@example.org", "/verify-email")
		u, _ := url.Parse(link)
		if p := b.get(link); p.status != 200 || !strings.Contains(p.body, "Confirm my address") {
			t.Fatalf("verify page: %d", p.status)
		}
		if n := dbCount(t, db, "SELECT COUNT(*) FROM accounts WHERE email_verified = TRUE"); n != 0 {
			t.Fatal("opening the link verified the address without the button")
		}
		if p := b.post("/signin", url.Values{"email": {"ala@example.org"}, "password": {testPassword}}); p.status != http.StatusForbidden || !strings.Contains(p.body, "Confirm your email address first") {
			t.Errorf("sign-in before confirming: %d", p.status)
		}
		if p := b.post("/verify-email", url.Values{"token": {u.Query().Get("token")}}); p.status != 200 || !strings.Contains(p.body, "Your email address is confirmed.") {
			t.Fatalf("confirm: %d", p.status)
		}
		b.post("/register", url.Values{"email": {"bob@example.org"}, "password": {testPassword}})
		for _, tok := range []string{u.Query().Get("token"), "forged-token", ""} {
			verified := dbCount(t, db, "SELECT COUNT(*) FROM accounts WHERE email_verified = TRUE")
			p := b.post("/verify-email", url.Values{"token": {tok}})
			if dbCount(t, db, "SELECT COUNT(*) FROM accounts WHERE email_verified = TRUE") != verified {
				t.Errorf("token %q verified an address", tok)
			}
			if p.status != http.StatusBadRequest || !strings.Contains(p.body, "This link is not valid or has expired.") {
				t.Errorf("token %q: %d", tok, p.status)
			}
		}
	})
}

// sessionRows returns the session ids listed on the sessions page, and
// which of them is marked as this device.
func sessionRows(t *testing.T, body string) (ids []string, current string) {
	t.Helper()
	idRE := regexp.MustCompile(`action="/account/sessions/([0-9a-f]+)/revoke"`)
	for _, row := range strings.Split(body, "<tr>")[1:] {
		m := idRE.FindStringSubmatch(row)
		if m == nil {
			continue
		}
		ids = append(ids, m[1])
		if strings.Contains(row, "(this device)") {
			current = m[1]
		}
	}
	return ids, current
}

// TestSessionsPageListsAndSignsOut lists two sessions and signs the other
// one out.
func TestSessionsPageListsAndSignsOut(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db, nil)
		e.createUser("ala@example.org")
		e.createUser("bob@example.org")
		b := e.browser()
		b.header.Set("User-Agent", "Laptop-Browser/1.0")
		b.signIn("ala@example.org", "")
		phone := e.browser()
		phone.header.Set("User-Agent", "Phone-Browser/2.0")
		phone.signIn("ala@example.org", "")
		bob := e.browser()
		bob.signIn("bob@example.org", "")

		p := b.get("/account/sessions")
		ids, current := sessionRows(t, p.body)
		if p.status != 200 || len(ids) != 2 || current == "" {
			t.Fatalf("sessions page: %d, sessions %v, current %q", p.status, ids, current)
		}
		for _, want := range []string{"Laptop-Browser/1.0", "Phone-Browser/2.0", "127.0.0.1"} {
			if !strings.Contains(p.body, want) {
				t.Errorf("sessions page does not show %q", want)
			}
		}
		otherID := ids[0]
		if otherID == current {
			otherID = ids[1]
		}
		// Another person's session cannot be signed out from here.
		bobIDs, _ := sessionRows(t, bob.get("/account/sessions").body)
		if p := b.post("/account/sessions/"+bobIDs[0]+"/revoke", nil); p.status != http.StatusNotFound {
			t.Errorf("revoking another person's session: %d", p.status)
		}
		if p := bob.get("/account"); p.status != 200 {
			t.Errorf("bob after ala tried to revoke his session: %d", p.status)
		}
		if p := b.post("/account/sessions/"+otherID+"/revoke", nil); p.status != http.StatusSeeOther || p.header.Get("Location") != "/account/sessions" {
			t.Fatalf("revoke: %d %q", p.status, p.header.Get("Location"))
		}
		if p := phone.get("/account"); p.status != http.StatusSeeOther {
			t.Errorf("the revoked browser: %d, want signed out", p.status)
		}
		ids, _ = sessionRows(t, b.get("/account/sessions").body)
		if len(ids) != 1 || ids[0] != current {
			t.Errorf("after revoking: %v", ids)
		}
		// Signing out this device from the list.
		if p := b.post("/account/sessions/"+current+"/revoke", nil); p.status != http.StatusSeeOther || p.header.Get("Location") != "/" {
			t.Errorf("revoke own session: %d %q", p.status, p.header.Get("Location"))
		}
		if p := b.get("/account"); p.status != http.StatusSeeOther {
			t.Errorf("after signing this device out: %d", p.status)
		}
	})
}

var recoveryCodeRE = regexp.MustCompile(`<li><code>([0-9a-zA-Z]{5}-[0-9a-zA-Z]{5})</code></li>`)

func recoveryCodes(body string) []string {
	var out []string
	for _, m := range recoveryCodeRE.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

// codeStep tries a second-step code in a new sign-in and returns the page.
func codeStep(e *testEnv, email, code string) (*browser, page) {
	e.t.Helper()
	b := e.browser()
	if p := b.post("/signin", url.Values{"email": {email}, "password": {testPassword}}); !strings.HasPrefix(p.header.Get("Location"), "/signin/mfa") {
		e.t.Fatalf("password step: %d %q", p.status, p.header.Get("Location"))
	}
	return b, b.post("/signin/mfa", url.Values{"code": {code}, "next": {"/account"}})
}

// TestTwoStepSignInPages sets up TOTP through the pages and checks codes:
// a used code is refused, a recovery code works once, new recovery codes
// replace the old ones, and turning it off needs a recent sign-in.
func TestTwoStepSignInPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db, nil)
		e.createUser("ala@example.org")
		b := e.browser()
		b.signIn("ala@example.org", "")
		p := b.get("/account/mfa")
		if p.status != 200 || !strings.Contains(p.body, "Two-step sign-in is off.") {
			t.Fatalf("MFA page: %d", p.status)
		}
		b.post("/account/mfa/totp", nil)
		p = b.get("/account/mfa")
		secret := regexp.MustCompile(`<code class="secret">([A-Z2-7]+)</code>`).FindStringSubmatch(p.body)
		if secret == nil || !strings.Contains(p.body, `<img src="data:image/png;base64,`) || !strings.Contains(p.body, `alt="QR code`) {
			t.Fatalf("set-up page lacks the key or the QR code:\n%s", p.body)
		}
		// A wrong code is refused and the set-up stays pending.
		p = b.post("/account/mfa/totp/confirm", url.Values{"code": {"000000"}})
		if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "That code is wrong") || !strings.Contains(p.body, secret[1]) {
			t.Fatalf("wrong code at set-up: %d", p.status)
		}
		if !strings.Contains(inputTag(p.body, "code"), `aria-invalid="true"`) {
			t.Errorf("code field not marked invalid: %s", inputTag(p.body, "code"))
		}
		if n := dbCount(t, db, "SELECT COUNT(*) FROM totp_credentials WHERE enabled = FALSE") + dbCount(t, db, "SELECT COUNT(*) FROM recovery_codes"); n != 1 {
			t.Errorf("after a wrong set-up code: want the set-up pending and no recovery codes (%d rows)", n)
		}
		e.advance(30 * time.Second)
		p = b.post("/account/mfa/totp/confirm", url.Values{"code": {e.totpCode(secret[1])}})
		codes := recoveryCodes(p.body)
		if p.status != 200 || len(codes) != identity.RecoveryCodeCount || !strings.Contains(p.body, "Two-step sign-in is now on.") {
			t.Fatalf("confirm: %d, %d recovery codes", p.status, len(codes))
		}
		if p := b.get("/account/mfa"); !strings.Contains(p.body, "Two-step sign-in is on.") || !strings.Contains(p.body, "Unused recovery codes: 10") {
			t.Errorf("MFA page when on:\n%s", p.body)
		}

		// A code works once, even within its 30 seconds.
		e.advance(30 * time.Second)
		code := e.totpCode(secret[1])
		if _, p := codeStep(e, "ala@example.org", code); p.status != http.StatusSeeOther {
			t.Fatalf("fresh code: %d", p.status)
		}
		sessions := dbCount(t, db, "SELECT COUNT(*) FROM sessions WHERE mfa_pending = FALSE")
		_, p = codeStep(e, "ala@example.org", code)
		if dbCount(t, db, "SELECT COUNT(*) FROM sessions WHERE mfa_pending = FALSE") != sessions {
			t.Error("a replayed code started a session")
		}
		if p.status != http.StatusUnauthorized || !strings.Contains(p.body, "That code is wrong, has expired, or was already used.") {
			t.Errorf("replayed code: %d", p.status)
		}
		// An old code (three steps back) is refused too.
		old := e.totpCode(secret[1])
		e.advance(90 * time.Second)
		if _, p := codeStep(e, "ala@example.org", old); p.status != http.StatusUnauthorized {
			t.Errorf("code from 90 s ago: %d", p.status)
		}

		// A recovery code works once, typed in any case.
		rb, p := codeStep(e, "ala@example.org", strings.ToUpper(codes[0]))
		if p.status != http.StatusSeeOther {
			t.Fatalf("recovery code: %d\n%s", p.status, p.body)
		}
		if p := rb.get("/account/mfa"); !strings.Contains(p.body, "Unused recovery codes: 9") {
			t.Error("the used recovery code is not counted")
		}
		if _, p := codeStep(e, "ala@example.org", codes[0]); p.status != http.StatusUnauthorized {
			t.Errorf("recovery code used twice: %d", p.status)
		}

		// New recovery codes replace the old ones (and need a recent sign-in).
		e.advance(11 * time.Minute)
		if p := rb.post("/account/mfa/recovery-codes", nil); p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/reauth?next=") {
			t.Fatalf("new codes without a recent sign-in: %d %q", p.status, p.header.Get("Location"))
		}
		e.advance(30 * time.Second)
		rb.post("/reauth", url.Values{"password": {testPassword}, "code": {e.totpCode(secret[1])}, "next": {"/account/mfa"}})
		p = rb.post("/account/mfa/recovery-codes", nil)
		fresh := recoveryCodes(p.body)
		if p.status != 200 || len(fresh) != identity.RecoveryCodeCount {
			t.Fatalf("new codes: %d, %d codes", p.status, len(fresh))
		}
		if _, p := codeStep(e, "ala@example.org", codes[1]); p.status != http.StatusUnauthorized {
			t.Errorf("an old recovery code after regenerating: %d", p.status)
		}
		if _, p := codeStep(e, "ala@example.org", fresh[0]); p.status != http.StatusSeeOther {
			t.Errorf("a new recovery code: %d", p.status)
		}

		// Turning it off needs a recent sign-in.
		e.advance(11 * time.Minute)
		p = rb.post("/account/mfa/totp/disable", nil)
		if p.status != http.StatusSeeOther || p.header.Get("Location") != "/reauth?next="+url.QueryEscape("/account/mfa") {
			t.Fatalf("turning off without a recent sign-in: %d %q", p.status, p.header.Get("Location"))
		}
		if n := dbCount(t, db, "SELECT COUNT(*) FROM totp_credentials WHERE enabled = TRUE"); n != 1 {
			t.Fatal("turned off without a recent sign-in")
		}
		e.advance(30 * time.Second)
		if p := rb.post("/reauth", url.Values{"password": {testPassword}, "code": {e.totpCode(secret[1])}, "next": {"/account/mfa"}}); p.header.Get("Location") != "/account/mfa" {
			t.Fatalf("re-check: %d %q", p.status, p.header.Get("Location"))
		}
		if p := rb.post("/account/mfa/totp/disable", nil); p.status != 200 || !strings.Contains(p.body, "Two-step sign-in is now off.") {
			t.Fatalf("turn off: %d\n%s", p.status, p.body)
		}
		if n := dbCount(t, db, "SELECT COUNT(*) FROM totp_credentials") + dbCount(t, db, "SELECT COUNT(*) FROM recovery_codes"); n != 0 {
			t.Errorf("%d TOTP rows left after turning it off", n)
		}
		n := e.browser()
		if p := n.post("/signin", url.Values{"email": {"ala@example.org"}, "password": {testPassword}}); p.status != http.StatusSeeOther || p.header.Get("Location") != "/account" {
			t.Errorf("sign-in after turning off: %d %q", p.status, p.header.Get("Location"))
		}
	})
}

// logEntries fetches the published audit log through the public endpoints
// and returns the entry bundle bytes.
func logEntries(t *testing.T, e *testEnv, b *browser) string {
	t.Helper()
	e.sequence()
	cp := b.get("/log/checkpoint")
	lines := strings.Split(cp.body, "\n")
	if cp.status != 200 || len(lines) < 3 {
		t.Fatalf("checkpoint: %d %q", cp.status, cp.body)
	}
	size, err := strconv.Atoi(lines[1])
	if err != nil || size < 1 || size > 255 {
		t.Fatalf("checkpoint size %q", lines[1])
	}
	tile := b.get(fmt.Sprintf("/log/tile/entries/000.p/%d", size))
	if tile.status != 200 {
		t.Fatalf("entries tile: %d", tile.status)
	}
	return tile.body
}

// TestAdminGrantsRoleThroughPages has an administrator find an account,
// give it a role (after confirming their password) and take it away, with
// each change in the public audit log under pseudonyms only.
func TestAdminGrantsRoleThroughPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db, nil)
		adminID := e.createUser("admin@example.org", identity.RoleAdmin)
		alaID := e.createUser("ala@example.org")
		b := e.browser()
		b.signIn("admin@example.org", "")
		secret := b.enableMFA()
		b = e.browser()
		b.signIn("admin@example.org", secret)

		p := b.get("/admin/accounts?purpose=role_management&q=ala@example.org")
		if p.status != 200 || !strings.Contains(p.body, fmt.Sprintf(`href="/admin/accounts/%d?purpose=role_management`, alaID)) {
			t.Fatalf("search: %d\n%s", p.status, p.body)
		}
		if !strings.Contains(inputTag(p.body, "q"), `value="ala@example.org"`) {
			t.Error("the search box lost the query")
		}
		if p := b.get("/admin/accounts?purpose=role_management&q=nobody@example.org"); !strings.Contains(p.body, "No account matches.") {
			t.Error("empty search result not said")
		}
		p = b.get("/admin/accounts?purpose=role_management&q=" + url.QueryEscape("a\x01b"))
		if p.status != http.StatusUnprocessableEntity {
			t.Errorf("search with a control character: %d", p.status)
		}
		checkFieldProblem(t, p.body, "q", "Enter an email address in the correct form, like name@example.org.")

		page := fmt.Sprintf("/admin/accounts/%d", alaID)
		if p := b.get(page + "?purpose=role_management"); p.status != 200 || !strings.Contains(p.body, "ala@example.org") || inputTag(p.body, "role") == "" {
			t.Fatalf("account page: %d", p.status)
		}
		if p := b.get("/admin/accounts/999999?purpose=role_management"); p.status != http.StatusNotFound {
			t.Errorf("unknown account: %d", p.status)
		}
		if p := b.get("/admin/accounts/abc"); p.status != http.StatusNotFound {
			t.Errorf("account id that is not a number: %d", p.status)
		}
		for _, role := range []string{"emperor", "citizen", ""} {
			p = b.post(page+"/roles", url.Values{"role": {role}})
			if p.status != http.StatusUnprocessableEntity {
				t.Fatalf("role %q: %d", role, p.status)
			}
			if n := dbCount(t, db, "SELECT COUNT(*) FROM account_roles WHERE account_id = ?", alaID); n != 0 {
				t.Fatalf("role %q stored", role)
			}
		}
		checkFieldProblem(t, p.body, "role", "Choose a role from the list.")

		e.advance(11 * time.Minute)
		want := "/reauth?next=" + url.QueryEscape(page+"?purpose=role_management")
		if p := b.post(page+"/roles", url.Values{"role": {"moderator"}}); p.status != http.StatusSeeOther || p.header.Get("Location") != want {
			t.Fatalf("grant without a recent sign-in: %d %q", p.status, p.header.Get("Location"))
		}
		if n := dbCount(t, db, "SELECT COUNT(*) FROM account_roles WHERE account_id = ?", alaID); n != 0 {
			t.Fatal("granted without a recent sign-in")
		}
		e.advance(30 * time.Second)
		if p := b.post("/reauth", url.Values{"password": {testPassword}, "code": {e.totpCode(secret)}, "next": {page}}); p.header.Get("Location") != page {
			t.Fatalf("re-check: %d %q", p.status, p.header.Get("Location"))
		}
		if p := b.post(page+"/roles", url.Values{"role": {"moderator"}}); p.status != http.StatusSeeOther || p.header.Get("Location") != page+"?purpose=role_management" {
			t.Fatalf("grant: %d %q\n%s", p.status, p.header.Get("Location"), p.body)
		}
		if p := b.get(page + "?purpose=role_management"); !strings.Contains(p.body, "Moderator") || !strings.Contains(p.body, page+"/roles/moderator/revoke") {
			t.Error("the account page does not show the new role")
		}
		p = b.get("/security/events?kind=nope")
		if p.status != http.StatusUnprocessableEntity {
			t.Errorf("events with an unknown kind: %d", p.status)
		}
		checkFieldProblem(t, p.body, "kind", "Choose a kind of event from the list.")
		if p := b.get("/security/events?kind=signin_failed"); p.status != 200 || !strings.Contains(p.body, `<option value="signin_failed" selected>`) {
			t.Errorf("events filtered by kind: %d", p.status)
		}
		entries := logEntries(t, e, b)
		granted := fmt.Sprintf(`"action":"role.granted","actor":"%s","subject":"%s","detail":{"role":"moderator"}`, e.id.Pseudonym(adminID), e.id.Pseudonym(alaID))
		if !strings.Contains(entries, granted) {
			t.Errorf("the log lacks %s:\n%s", granted, entries)
		}
		if p := b.post(page+"/roles/moderator/revoke", nil); p.status != http.StatusSeeOther {
			t.Fatalf("revoke: %d", p.status)
		}
		if p := b.post(fmt.Sprintf("/admin/accounts/%d/roles/admin/revoke", adminID), nil); p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "You cannot remove your own administrator role.") {
			t.Errorf("revoking one's own admin role: %d", p.status)
		}
		entries = logEntries(t, e, b)
		if !strings.Contains(entries, `"action":"role.revoked"`) {
			t.Error("the log lacks role.revoked")
		}
		for _, personal := range []string{"@example.org", "127.0.0.1"} {
			if strings.Contains(entries, personal) {
				t.Errorf("the public log holds personal data %q", personal)
			}
		}
	})
}

// TestLanguageChoice checks how the language is chosen: Accept-Language,
// then the switcher's cookie, then the account's saved choice.
func TestLanguageChoice(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db, nil)
		e.createUser("ala@example.org")
		htmlLang := regexp.MustCompile(`<html lang="([a-z]+)">`)
		lang := func(p page) string {
			m := htmlLang.FindStringSubmatch(p.body)
			if m == nil {
				return ""
			}
			if p.header.Get("Content-Language") != m[1] {
				t.Errorf("Content-Language %q but <html lang=%q>", p.header.Get("Content-Language"), m[1])
			}
			return m[1]
		}
		for _, tc := range []struct{ accept, want string }{
			{"be", "be"}, {"be-BY,be;q=0.9", "be"}, {"ru-RU,ru;q=0.9,en;q=0.8", "ru"}, {"en-GB", "en"},
			{"de-DE,de;q=0.9", "en"}, {"", "en"}, {"pl,ru;q=0.5", "ru"}, {"en;q=0.1,be;q=0.9", "be"}, {"!!garbage", "en"},
		} {
			b := e.browser()
			b.header.Set("Accept-Language", tc.accept)
			if got := lang(b.get("/")); got != tc.want {
				t.Errorf("Accept-Language %q: %q, want %q", tc.accept, got, tc.want)
			}
		}
		// The switcher remembers the choice over Accept-Language.
		b := e.browser()
		b.header.Set("Accept-Language", "be")
		b.get("/register")
		p := b.post("/lang", url.Values{"lang": {"ru"}, "next": {"/register"}})
		if p.status != http.StatusSeeOther || p.header.Get("Location") != "/register" {
			t.Fatalf("switch: %d %q", p.status, p.header.Get("Location"))
		}
		if c := setCookies(t, p.header)[langCookie]; c == nil || c.Value != "ru" || c.MaxAge < 30*24*3600 || !c.Secure || !c.HttpOnly {
			t.Errorf("language cookie: %v", p.header.Values("Set-Cookie"))
		}
		if got := lang(b.get("/register")); got != "ru" {
			t.Errorf("after switching to ru: %q", got)
		}
		if p := b.get("/signin"); lang(p) != "ru" || !strings.Contains(p.body, `<option value="ru" lang="ru" selected>`) {
			t.Error("the switcher does not show the choice")
		}
		// Only known languages, and only back to this site.
		if p := b.post("/lang", url.Values{"lang": {"xx"}, "next": {"/"}}); p.status != http.StatusUnprocessableEntity || setCookies(t, p.header)[langCookie] != nil {
			t.Errorf("unknown language: %d %v", p.status, p.header.Values("Set-Cookie"))
		}
		for _, next := range []string{"//evil.example/", "https://evil.example/", "/\\evil.example"} {
			p := b.post("/lang", url.Values{"lang": {"en"}, "next": {next}})
			if loc := p.header.Get("Location"); p.status != http.StatusSeeOther || !strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//") || strings.HasPrefix(loc, "/\\") {
				t.Errorf("next=%q: %d %q", next, p.status, loc)
			}
		}

		// A signed-in person's choice is saved on the account and follows
		// them to a browser that never chose.
		s := e.browser()
		s.signIn("ala@example.org", "")
		if p := s.post("/lang", url.Values{"lang": {"be"}, "next": {"/account"}}); p.status != http.StatusSeeOther {
			t.Fatalf("switch while signed in: %d", p.status)
		}
		if n := dbCount(t, db, "SELECT COUNT(*) FROM accounts WHERE email_index = ? AND locale = 'be'", e.emailIndex("ala@example.org")); n != 1 {
			t.Error("the choice is not saved on the account")
		}
		elsewhere := e.browser()
		elsewhere.header.Set("Accept-Language", "en")
		elsewhere.signIn("ala@example.org", "")
		if got := lang(elsewhere.get("/account")); got != "be" {
			t.Errorf("another browser of the same person: %q, want be", got)
		}
		// Mail follows the saved choice too.
		e.browser().post("/password/forgot", url.Values{"email": {"ala@example.org"}})
		msgs := e.mails("ala@example.org")
		if len(msgs) == 0 || msgs[len(msgs)-1].Subject != i18n.T(i18n.Belarusian, "mail.reset.subject") {
			t.Error("the reset mail is not in the saved language")
		}
	})
}

// keyLike matches text that looks like an untranslated catalog key (the
// catalog returns a missing key as itself).
func keyLike() *regexp.Regexp {
	prefixes := map[string]bool{}
	for _, k := range i18n.Keys(i18n.English) {
		prefixes[k[:strings.IndexByte(k+".", '.')]] = true
	}
	var alt []string
	for p := range prefixes {
		alt = append(alt, regexp.QuoteMeta(p))
	}
	return regexp.MustCompile(`\b(?:` + strings.Join(alt, "|") + `)\.[a-z_]+(?:\.[a-z_]+)*\b`)
}

// TestEveryPageIsTranslated renders every page, in every state worth
// seeing, in the three languages, and looks for catalog keys shown as
// text and for English left in a Belarusian or Russian page.
func TestEveryPageIsTranslated(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db, nil)
		adminID := e.createUser("admin@example.org", identity.RoleAdmin)
		e.createUser("citizen@example.org")
		e.createUser("staff@example.org", identity.RoleSecurityAnalyst)
		ab := e.browser()
		ab.signIn("admin@example.org", "")
		secret := ab.enableMFA()
		// Something in every list: security events of several kinds.
		e.browser().post("/signin", url.Values{"email": {"admin@example.org"}, "password": {"not the right password"}})
		e.browser().postRaw("/register", url.Values{"email": {"x@example.org"}}, nil)
		e.browser().post("/password/reset", url.Values{"token": {"forged"}, "new_password": {testPassword}})
		keyRE := keyLike()

		type visit struct {
			name string
			do   func(lang string) page
		}
		as := func(email, secret, lang string) *browser {
			b := e.browser()
			b.header.Set("Accept-Language", lang)
			b.signIn(email, secret)
			return b
		}
		anon := func(lang string) *browser {
			b := e.browser()
			b.header.Set("Accept-Language", lang)
			return b
		}
		get := func(path string) func(string) page {
			return func(lang string) page { return anon(lang).get(path) }
		}
		post := func(path string, form url.Values) func(string) page {
			return func(lang string) page { return anon(lang).post(path, form) }
		}
		adminGet := func(path string) func(string) page {
			return func(lang string) page { return as("admin@example.org", secret, lang).get(path) }
		}
		visits := []visit{
			{"home", get("/")},
			{"not found", get("/no-such-page")},
			{"register", get("/register")},
			{"register, errors", post("/register", url.Values{"email": {""}, "password": {"short"}})},
			{"register, common password", post("/register", url.Values{"email": {"a@example.org"}, "password": {"1qaz2wsx3edc4rfv"}})},
			{"register, long address", post("/register", url.Values{"email": {strings.Repeat("a", 260)}, "password": {strings.Repeat("horse battery ", 10)}})},
			{"register, done", post("/register", url.Values{"email": {"new@example.org"}, "password": {testPassword}})},
			{"verify page", get("/verify-email?token=abc")},
			{"verify, bad token", post("/verify-email", url.Values{"token": {"abc"}})},
			{"sign-in", get("/signin?next=/account")},
			{"sign-in, failed", post("/signin", url.Values{"email": {"nobody@example.org"}, "password": {"wrong password"}})},
			{"sign-in, code", func(lang string) page {
				b := anon(lang)
				b.post("/signin", url.Values{"email": {"admin@example.org"}, "password": {testPassword}})
				return b.get("/signin/mfa?next=/account")
			}},
			{"sign-in, wrong code", func(lang string) page {
				b := anon(lang)
				b.post("/signin", url.Values{"email": {"admin@example.org"}, "password": {testPassword}})
				return b.post("/signin/mfa", url.Values{"code": {"000000"}})
			}},
			{"forgot", get("/password/forgot")},
			{"forgot, error", post("/password/forgot", url.Values{"email": {"bad"}})},
			{"forgot, done", post("/password/forgot", url.Values{"email": {"nobody@example.org"}})},
			{"reset", get("/password/reset?token=abc")},
			{"reset, bad token", post("/password/reset", url.Values{"token": {"abc"}, "new_password": {testPassword}})},
			{"reset, short password", post("/password/reset", url.Values{"token": {"abc"}, "new_password": {"short"}})},
			{"form token missing", func(lang string) page { return anon(lang).postRaw("/register", nil, nil) }},
			{"cross-site", func(lang string) page {
				b := anon(lang)
				b.get("/")
				return b.postRaw("/register", url.Values{"csrf": {b.csrf}}, map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
			}},
			{"too large", post("/register", url.Values{"pad": {strings.Repeat("a", maxBody)}})},
			{"account, citizen", func(lang string) page { return as("citizen@example.org", "", lang).get("/account") }},
			{"forbidden, citizen", func(lang string) page { return as("citizen@example.org", "", lang).get("/admin/accounts") }},
			{"account, staff without MFA", func(lang string) page { return as("staff@example.org", "", lang).get("/account") }},
			{"forbidden, staff without MFA", func(lang string) page { return as("staff@example.org", "", lang).get("/security/events") }},
			{"MFA off", func(lang string) page { return as("citizen@example.org", "", lang).get("/account/mfa") }},
			{"MFA set-up", func(lang string) page {
				b := as("citizen@example.org", "", lang)
				b.post("/account/mfa/totp", nil)
				return b.get("/account/mfa")
			}},
			{"MFA set-up, wrong code", func(lang string) page {
				b := as("citizen@example.org", "", lang)
				b.post("/account/mfa/totp", nil)
				return b.post("/account/mfa/totp/confirm", url.Values{"code": {"000000"}})
			}},
			{"MFA on", adminGet("/account/mfa")},
			{"recovery codes", func(lang string) page {
				return as("admin@example.org", secret, lang).post("/account/mfa/recovery-codes", nil)
			}},
			{"sessions", adminGet("/account/sessions")},
			{"re-check", adminGet("/reauth?next=/account/password")},
			{"re-check, wrong", func(lang string) page {
				return as("admin@example.org", secret, lang).post("/reauth", url.Values{"password": {"wrong"}})
			}},
			{"change password", adminGet("/account/password")},
			{"change password, error", func(lang string) page {
				return as("citizen@example.org", "", lang).post("/account/password", url.Values{"new_password": {"short"}})
			}},
			{"change password, done", func(lang string) page {
				email := "changer-" + lang + "@example.org"
				e.createUser(email)
				return as(email, "", lang).post("/account/password", url.Values{"new_password": {testPassword + " again"}})
			}},
			{"accounts", adminGet("/admin/accounts")},
			{"accounts, found", adminGet("/admin/accounts?purpose=role_management&q=admin@example.org")},
			{"accounts, none", adminGet("/admin/accounts?purpose=role_management&q=nobody@example.org")},
			{"accounts, bad query", adminGet("/admin/accounts?purpose=role_management&q=%01")},
			{"account", adminGet(fmt.Sprintf("/admin/accounts/%d?purpose=role_management", adminID))},
			{"account, bad role", func(lang string) page {
				return as("admin@example.org", secret, lang).post(fmt.Sprintf("/admin/accounts/%d/roles", adminID), url.Values{"role": {"x"}})
			}},
			{"account, own admin role", func(lang string) page {
				return as("admin@example.org", secret, lang).post(fmt.Sprintf("/admin/accounts/%d/roles/admin/revoke", adminID), nil)
			}},
			{"security events", adminGet("/security/events")},
			{"security events, filtered", adminGet("/security/events?kind=signin_failed")},
			{"security events, bad filter", adminGet("/security/events?kind=nope")},
		}
		// English sentences that must not be left in the other languages.
		english := map[string]bool{}
		for _, k := range i18n.Keys(i18n.English) {
			en := i18n.T(i18n.English, k)
			if len(en) >= 16 && strings.Contains(en, " ") && !strings.Contains(en, "{") && en != i18n.T(i18n.Belarusian, k) && en != i18n.T(i18n.Russian, k) {
				english[template.HTMLEscapeString(en)] = true
			}
		}
		if len(english) < 50 {
			t.Fatalf("only %d English sentences to look for", len(english))
		}
		for _, lang := range []string{"en", "be", "ru"} {
			// Each language gets fresh throttling room; the clock moves so
			// that TOTP codes are fresh too.
			for _, v := range visits {
				p := v.do(lang)
				name := v.name + " [" + lang + "]"
				if p.status >= 500 {
					t.Errorf("%s: status %d", name, p.status)
				}
				if !strings.Contains(p.body, `<html lang="`+lang+`">`) {
					t.Errorf("%s: not in %s (status %d)", name, lang, p.status)
					continue
				}
				if m := keyRE.FindAllString(p.body, -1); m != nil {
					t.Errorf("%s: untranslated keys %q", name, m)
				}
				if lang != "en" {
					for en := range english {
						if strings.Contains(p.body, en) {
							t.Errorf("%s: English text %q", name, en)
						}
					}
				}
			}
		}
	})
}

// TestHomeAndNotFoundPages checks the two pages anyone can land on.
func TestHomeAndNotFoundPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db, nil)
		b := e.browser()
		p := b.get("/")
		if p.status != 200 || !strings.Contains(p.body, "<h1>Take part in decisions that affect you</h1>") ||
			!strings.Contains(p.body, `href="/register"`) || !strings.Contains(p.body, `href="/log/checkpoint"`) {
			t.Errorf("home: %d\n%s", p.status, p.body)
		}
		if !strings.Contains(p.header.Get("Content-Type"), "text/html; charset=utf-8") {
			t.Errorf("home Content-Type %q", p.header.Get("Content-Type"))
		}
		for _, path := range []string{"/no-such-page", "/account/", "/admin", "/signout", "/static/nope.css", "/%2e%2e/etc/passwd"} {
			p := b.get(path)
			if p.status != http.StatusNotFound {
				t.Errorf("%s: %d, want 404", path, p.status)
			}
			if !strings.HasPrefix(path, "/static/") && !strings.Contains(p.body, "This page does not exist. Check the address.") {
				t.Errorf("%s: not the 404 page\n%s", path, p.body)
			}
		}
		st, out, _ := e.api().call("GET", "/api/v1/nope", nil)
		if st != http.StatusNotFound || errorCode(out) != "not_found" {
			t.Errorf("unknown API path: %d %v", st, out)
		}
		b.header.Set("Accept-Language", "be")
		if p := b.get("/no-such-page"); p.status != 404 || !strings.Contains(p.body, `<html lang="be">`) {
			t.Errorf("404 in Belarusian: %d", p.status)
		}
		// A signed-in person sees their navigation on the home page.
		e.createUser("ala@example.org")
		s := e.browser()
		s.signIn("ala@example.org", "")
		if p := s.get("/"); !strings.Contains(p.body, `href="/account"`) || strings.Contains(p.body, `href="/admin/accounts"`) {
			t.Error("home navigation for a citizen")
		}
	})
}

// TestSessionsEndAfterIdleAndAbsoluteTimeouts checks the server-side
// timeouts: 30 minutes without a request, 12 hours in all, 5 minutes for
// a sign-in waiting for its code.
func TestSessionsEndAfterIdleAndAbsoluteTimeouts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db, nil)
		e.createUser("ala@example.org")
		e.createUser("bob@example.org")

		idle := e.browser()
		idle.signIn("ala@example.org", "")
		busy := e.browser()
		busy.signIn("ala@example.org", "")
		for range 2 {
			e.advance(20 * time.Minute)
			if p := busy.get("/account"); p.status != 200 {
				t.Fatalf("a session used every 20 minutes: %d", p.status)
			}
		}
		if p := idle.get("/account"); p.status != http.StatusSeeOther {
			t.Errorf("a session idle for 40 minutes: %d", p.status)
		}
		for elapsed := 40 * time.Minute; elapsed < 12*time.Hour-20*time.Minute; elapsed += 20 * time.Minute {
			e.advance(20 * time.Minute)
			if p := busy.get("/account"); p.status != 200 {
				t.Fatalf("a session used every 20 minutes, after %v: %d", elapsed, p.status)
			}
		}
		e.advance(21 * time.Minute)
		if p := busy.get("/account"); p.status != http.StatusSeeOther {
			t.Errorf("a session older than 12 hours: %d", p.status)
		}

		b := e.browser()
		b.signIn("bob@example.org", "")
		secret := b.enableMFA()
		pending := e.browser()
		pending.post("/signin", url.Values{"email": {"bob@example.org"}, "password": {testPassword}})
		e.advance(6 * time.Minute)
		p := pending.post("/signin/mfa", url.Values{"code": {e.totpCode(secret)}, "next": {"/account"}})
		if p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/signin?next=") {
			t.Errorf("a code 6 minutes after the password: %d %q", p.status, p.header.Get("Location"))
		}
		if p := pending.get("/account"); p.status != http.StatusSeeOther {
			t.Errorf("after the lapsed code step: %d", p.status)
		}
	})
}
