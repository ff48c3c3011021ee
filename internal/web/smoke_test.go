package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/veche/veche/internal/identity"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/store/storetest"
)

// TestRegisterVerifySignInWithMFA walks the main flow a person takes, in
// pages: register, confirm the address from the email, sign in, turn on
// two-step sign-in, sign out, and sign in again with a code.
func TestRegisterVerifySignInWithMFA(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db, nil)
		b := e.browser()
		if p := b.get("/register"); p.status != 200 || !strings.Contains(p.body, `name="password"`) {
			t.Fatalf("register page: %d", p.status)
		}
		p := b.post("/register", url.Values{"email": {"Ala@Example.org"}, "password": {testPassword}})
		if p.status != 200 || !strings.Contains(p.body, "Ala@Example.org") {
			t.Fatalf("register: %d\n%s", p.status, p.body)
		}
		link := e.lastLink("ala@example.org", "/verify-email")
		if p := b.get(link); p.status != 200 {
			t.Fatalf("verify page: %d", p.status)
		}
		u, _ := url.Parse(link)
		if p := b.post("/verify-email", url.Values{"token": {u.Query().Get("token")}}); p.status != 200 {
			t.Fatalf("verify: %d\n%s", p.status, p.body)
		}
		b.signIn("ala@example.org", "")
		if p := b.get("/account"); p.status != 200 || !strings.Contains(p.body, "ala@example.org") {
			t.Fatalf("account page: %d", p.status)
		}
		secret := b.enableMFA()
		if p := b.post("/signout", nil); p.status != http.StatusSeeOther {
			t.Fatalf("sign out: %d", p.status)
		}
		if p := b.get("/account"); p.status != http.StatusSeeOther {
			t.Fatalf("account after sign-out: %d, want redirect to sign-in", p.status)
		}
		b.signIn("ala@example.org", secret)
		if p := b.get("/account"); p.status != 200 {
			t.Fatalf("account after MFA sign-in: %d", p.status)
		}
		var n int
		db.QueryRow(t.Context(), "SELECT COUNT(*) FROM accounts").Scan(&n)
		if n != 1 {
			t.Fatalf("%d accounts", n)
		}
		_ = identity.RoleAdmin
	})
}
