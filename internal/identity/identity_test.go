package identity_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	pqtotp "github.com/pquerna/otp/totp"

	"github.com/veche/veche/internal/auditlog"
	"github.com/veche/veche/internal/i18n"
	"github.com/veche/veche/internal/identity"
	"github.com/veche/veche/internal/identity/password"
	"github.com/veche/veche/internal/identity/totp"
	"github.com/veche/veche/internal/keys"
	"github.com/veche/veche/internal/mail"
	"github.com/veche/veche/internal/privacy/fieldcrypt"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/store/storetest"
	"github.com/veche/veche/internal/validate"
)

const pw = "correct horse battery staple"

type fixture struct {
	t      *testing.T
	db     *store.DB
	svc    *identity.Service
	crypt  *fieldcrypt.Service
	log    *auditlog.Log
	outbox *mail.Dispatcher
	sent   *mail.MemorySender
	mu     sync.Mutex
	now    time.Time
}

func newFixture(t *testing.T, db *store.DB) *fixture {
	ks, err := keys.LoadOrCreate(t.TempDir(), "veche.test/log")
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, db: db, now: time.Now(), sent: &mail.MemorySender{}}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	f.log = auditlog.New(db, ks.LogSigner, ks.LogVerifier, auditlog.Options{Holder: "t", Logger: quiet})
	kr, err := fieldcrypt.OpenLocalKeyring(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	crypt := fieldcrypt.New(db, kr, ks.Derive(fieldcrypt.IndexKeyPurpose), fieldcrypt.Options{})
	f.crypt = crypt
	f.svc, err = identity.New(db, f.log, auditlog.NewPseudonymizer(ks.Derive(keys.PurposePseudonym)),
		password.NewHasher(password.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 4),
		ks.Derive(keys.PurposeSealMFA), crypt, identity.Config{PublicURL: "https://veche.test"})
	if err != nil {
		t.Fatal(err)
	}
	f.svc.SetClock(func() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.now })
	f.outbox = &mail.Dispatcher{DB: db, Crypt: crypt, Sender: f.sent, From: "x@veche.test", Holder: "t", Logger: quiet}
	return f
}

func (f *fixture) advance(d time.Duration) { f.mu.Lock(); f.now = f.now.Add(d); f.mu.Unlock() }

func (f *fixture) clock() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.now }

func (f *fixture) code(secret string) string {
	c, err := pqtotp.GenerateCode(secret, f.clock())
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// tokenFrom returns the token of the newest mailed link to addr containing part.
func (f *fixture) tokenFrom(addr, part string) string {
	f.t.Helper()
	f.outbox.Flush(context.Background())
	msgs := f.sent.Messages()
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].To != addr {
			continue
		}
		if j := strings.Index(msgs[i].Body, part+"?token="); j >= 0 {
			rest := msgs[i].Body[j+len(part)+len("?token="):]
			return strings.Fields(rest)[0]
		}
	}
	f.t.Fatalf("no mail to %s with a %s link", addr, part)
	return ""
}

// principal authenticates *token, following a rotation to a new token as a
// browser would.
func (f *fixture) principal(token *string) *identity.Principal {
	f.t.Helper()
	p, rotated, err := f.svc.Authenticate(context.Background(), *token)
	if err != nil {
		f.t.Fatalf("Authenticate: %v", err)
	}
	if rotated != "" {
		*token = rotated
	}
	return p
}

// signIn returns a full session token for a verified account.
func (f *fixture) signIn(email, secret string) string {
	f.t.Helper()
	res, _, err := f.svc.SignIn(context.Background(), email, pw, identity.KindBrowser, identity.ClientMeta{IP: "192.0.2.1"})
	if err != nil {
		f.t.Fatalf("SignIn: %v", err)
	}
	if !res.MFARequired {
		return res.Token
	}
	f.advance(30 * time.Second)
	res, _, err = f.svc.CompleteMFA(context.Background(), res.Token, f.code(secret))
	if err != nil {
		f.t.Fatalf("CompleteMFA: %v", err)
	}
	return res.Token
}

func (f *fixture) enableTOTP(token *string) string {
	f.t.Helper()
	p := f.principal(token)
	e, err := f.svc.BeginTOTP(context.Background(), p)
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.svc.ConfirmTOTP(context.Background(), p, f.code(e.Secret)); err != nil {
		f.t.Fatal(err)
	}
	return e.Secret
}

func (f *fixture) auditActions() []string {
	f.t.Helper()
	if _, err := f.log.Sequence(context.Background()); err != nil {
		f.t.Fatal(err)
	}
	rows, err := f.db.Query(context.Background(), "SELECT entry FROM auditlog_entries ORDER BY idx")
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var b []byte
		rows.Scan(&b)
		r, err := auditlog.ParseRecord(b)
		if err != nil {
			f.t.Fatal(err)
		}
		out = append(out, r.Action)
	}
	return out
}

func TestRegistrationIsTheSameForNewAndExistingAddresses(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		if err := f.svc.Register(ctx, "New@Example.org", pw, i18n.English); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Register(ctx, "new@example.org", "another long passphrase here", i18n.Russian); err != nil {
			t.Fatalf("second registration of the same address: %v (must look the same as the first)", err)
		}
		f.outbox.Flush(ctx)
		msgs := f.sent.Messages()
		if len(msgs) != 2 || !strings.Contains(msgs[0].Body, "/verify-email?token=") || strings.Contains(msgs[1].Body, "/verify-email") {
			t.Fatalf("want a verification mail then an already-registered mail, got %+v", msgs)
		}
		if _, _, err := f.svc.SignIn(ctx, "new@example.org", pw, identity.KindBrowser, identity.ClientMeta{}); !errors.Is(err, identity.ErrEmailNotVerified) {
			t.Fatalf("sign-in before verification: %v", err)
		}
		if err := f.svc.VerifyEmail(ctx, f.tokenFrom("new@example.org", "/verify-email")); err != nil {
			t.Fatal(err)
		}
		f.signIn("new@example.org", "")
		if got := f.auditActions(); strings.Join(got, ",") != "account.created,account.email_verified,session.created" {
			t.Fatalf("audit actions %v", got)
		}
	})
}

func TestRegisterRejectsBadInputWithoutStoring(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		tests := []struct {
			email, pw, field, code string
		}{
			{"", pw, "email", "required"},
			{"not-an-address", pw, "email", "email"},
			{"Name <a@example.org>", pw, "email", "email"},
			{strings.Repeat("a", 250) + "@example.org", pw, "email", "too_long"},
			{"a@example.org", "short", "password", "password_too_short"},
			{"a@example.org", "1qaz2wsx3edc4rfv", "password", "password_common"},
			{"a@example.org", "passwordpassword", "password", "password_repetitive"},
			{"a@example.org", "a\xffbcdefghijklmnopq", "password", "password_invalid_utf8"},
			{"a\xff@example.org", pw, "email", "invalid_utf8"},
		}
		for _, tt := range tests {
			err := f.svc.Register(context.Background(), tt.email, tt.pw, i18n.English)
			var v validate.Errors
			if !errors.As(err, &v) {
				t.Errorf("Register(%q, %q) = %v, want a field error", tt.email, tt.pw, err)
				continue
			}
			if fe, ok := v.Field(tt.field); !ok || fe.Code != tt.code {
				t.Errorf("Register(%q, %q) = %v, want %s/%s", tt.email, tt.pw, v, tt.field, tt.code)
			}
		}
		var n int
		db.QueryRow(context.Background(), "SELECT COUNT(*) FROM accounts").Scan(&n)
		if n != 0 {
			t.Fatalf("%d accounts stored from bad input", n)
		}
	})
}

func TestSignInDoesNotRevealWhichAddressesExist(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		f.svc.CreateAccount(ctx, "a@example.org", pw, nil)
		for _, tc := range []struct{ email, pw string }{
			{"nobody@example.org", pw},
			{"a@example.org", "wrong password, quite long"},
			{"not an address", pw},
		} {
			_, _, err := f.svc.SignIn(ctx, tc.email, tc.pw, identity.KindBrowser, identity.ClientMeta{})
			if !errors.Is(err, identity.ErrBadCredentials) {
				t.Errorf("SignIn(%q) = %v, want ErrBadCredentials", tc.email, err)
			}
		}
	})
}

func TestTOTPCodesAreSingleUseAndRecoveryCodesWorkOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		f.svc.CreateAccount(ctx, "a@example.org", pw, nil)
		tok := f.signIn("a@example.org", "")
		p := f.principal(&tok)
		e, err := f.svc.BeginTOTP(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.ConfirmTOTP(ctx, p, "000000"); !errors.Is(err, identity.ErrInvalidCode) {
			t.Fatalf("wrong code at enrolment: %v", err)
		}
		codes, err := f.svc.ConfirmTOTP(ctx, p, f.code(e.Secret))
		if err != nil || len(codes) != identity.RecoveryCodeCount {
			t.Fatalf("ConfirmTOTP = %d codes, %v", len(codes), err)
		}
		// The code used at enrolment cannot be used again to sign in.
		res, _, err := f.svc.SignIn(ctx, "a@example.org", pw, identity.KindBrowser, identity.ClientMeta{})
		if err != nil || !res.MFARequired {
			t.Fatalf("SignIn = %+v, %v; want MFA required", res, err)
		}
		if _, _, err := f.svc.CompleteMFA(ctx, res.Token, f.code(e.Secret)); !errors.Is(err, identity.ErrInvalidCode) {
			t.Fatalf("replayed code: %v, want ErrInvalidCode", err)
		}
		if _, _, err := f.svc.Authenticate(ctx, res.Token); !errors.Is(err, identity.ErrMFAPending) {
			t.Fatalf("pending token used as a session: %v", err)
		}
		// A recovery code (typed with spaces and capitals) works once.
		typed := strings.ToUpper(strings.ReplaceAll(codes[0], "-", " "))
		full, _, err := f.svc.CompleteMFA(ctx, res.Token, typed)
		if err != nil {
			t.Fatalf("recovery code: %v", err)
		}
		if _, _, err := f.svc.CompleteMFA(ctx, res.Token, codes[1]); !errors.Is(err, identity.ErrSessionInvalid) {
			t.Fatalf("pending token reused after completion: %v", err)
		}
		res2, _, _ := f.svc.SignIn(ctx, "a@example.org", pw, identity.KindBrowser, identity.ClientMeta{})
		if _, _, err := f.svc.CompleteMFA(ctx, res2.Token, codes[0]); !errors.Is(err, identity.ErrInvalidCode) {
			t.Fatalf("recovery code reused: %v", err)
		}
		p = f.principal(&full.Token)
		if !p.MFAVerified {
			t.Fatal("session after MFA not marked verified")
		}
		if left, _ := f.svc.RecoveryCodesLeft(ctx, p); left != identity.RecoveryCodeCount-1 {
			t.Fatalf("recovery codes left = %d", left)
		}
		// Pending sign-ins lapse.
		f.advance(6 * time.Minute)
		if _, _, err := f.svc.CompleteMFA(ctx, res2.Token, f.code(e.Secret)); !errors.Is(err, identity.ErrSessionInvalid) {
			t.Fatalf("pending token after 6 minutes: %v", err)
		}
	})
}

func TestConcurrentUseOfOneCodeSucceedsOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		f.svc.CreateAccount(ctx, "a@example.org", pw, nil)
		secret := f.enableTOTP(ptr(f.signIn("a@example.org", "")))
		f.advance(30 * time.Second)
		code := f.code(secret)
		var pending []string
		for i := 0; i < 4; i++ {
			res, _, err := f.svc.SignIn(ctx, "a@example.org", pw, identity.KindAPI, identity.ClientMeta{})
			if err != nil {
				t.Fatal(err)
			}
			pending = append(pending, res.Token)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok := 0
		for _, tok := range pending {
			wg.Go(func() {
				if _, _, err := f.svc.CompleteMFA(ctx, tok, code); err == nil {
					mu.Lock()
					ok++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if ok != 1 {
			t.Fatalf("one TOTP code completed %d sign-ins, want exactly 1", ok)
		}
	})
}

func TestSessionTimeoutsAndRevocation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		f.svc.CreateAccount(ctx, "a@example.org", pw, nil)

		idle := f.signIn("a@example.org", "")
		f.advance(29 * time.Minute)
		f.principal(&idle) // still alive, and this touch resets idleness
		f.advance(29 * time.Minute)
		f.principal(&idle)
		f.advance(31 * time.Minute)
		if _, _, err := f.svc.Authenticate(ctx, idle); !errors.Is(err, identity.ErrSessionInvalid) {
			t.Fatalf("after 31 idle minutes: %v", err)
		}

		abs := f.signIn("a@example.org", "")
		for i := 0; i < 25; i++ { // active every 29 minutes for 12+ hours
			f.advance(29 * time.Minute)
			if _, _, err := f.svc.Authenticate(ctx, abs); err != nil {
				if i < 24 {
					t.Fatalf("ended early at step %d: %v", i, err)
				}
			}
		}
		if _, _, err := f.svc.Authenticate(ctx, abs); !errors.Is(err, identity.ErrSessionInvalid) {
			t.Fatalf("past the absolute timeout: %v", err)
		}

		a, b := f.signIn("a@example.org", ""), f.signIn("a@example.org", "")
		pa := f.principal(&a)
		list, err := f.svc.Sessions(ctx, pa)
		if err != nil || len(list) != 2 {
			t.Fatalf("Sessions = %d, %v", len(list), err)
		}
		var other string
		for _, s := range list {
			if !s.Current {
				other = s.ID
			}
			if s.IP != "192.0.2.1" {
				t.Errorf("session IP %q", s.IP)
			}
		}
		if err := f.svc.RevokeSession(ctx, pa, other); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.Authenticate(ctx, b); !errors.Is(err, identity.ErrSessionInvalid) {
			t.Fatalf("revoked session still works: %v", err)
		}
		if err := f.svc.RevokeSession(ctx, pa, "no-such-session"); !errors.Is(err, identity.ErrNotFound) {
			t.Fatalf("revoking an unknown session: %v", err)
		}
		if _, _, err := f.svc.Authenticate(ctx, "forged-token"); !errors.Is(err, identity.ErrSessionInvalid) {
			t.Fatalf("forged token: %v", err)
		}
	})
}

func TestStaffPermissionsNeedMFAAndRoleChangesNeedAdmin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		f.svc.CreateAccount(ctx, "admin@example.org", pw, []identity.Role{identity.RoleAdmin})
		citizen, _ := f.svc.CreateAccount(ctx, "c@example.org", pw, nil)

		tok := f.signIn("admin@example.org", "")
		p := f.principal(&tok)
		if !p.NeedsMFAEnrolment() || p.Can(identity.PermRolesManage) {
			t.Fatal("an admin without MFA holds admin permissions")
		}
		if err := f.svc.GrantRole(ctx, p, citizen, identity.RoleModerator); !errors.Is(err, identity.ErrForbidden) {
			t.Fatalf("grant without MFA: %v", err)
		}
		secret := f.enableTOTP(&tok)
		p = f.principal(&tok)
		if !p.Can(identity.PermRolesManage) {
			t.Fatal("admin with MFA in this session lacks roles.manage")
		}
		if err := f.svc.GrantRole(ctx, p, citizen, identity.Role("emperor")); err == nil {
			t.Fatal("unknown role granted")
		}
		if err := f.svc.GrantRole(ctx, p, 9999, identity.RoleModerator); !errors.Is(err, identity.ErrNotFound) {
			t.Fatalf("grant to a missing account: %v", err)
		}
		ctok := f.signIn("c@example.org", "")
		if err := f.svc.GrantRole(ctx, p, citizen, identity.RoleModerator); err != nil {
			t.Fatal(err)
		}
		// The citizen's browser session is rotated at its next request.
		cp, rotated, err := f.svc.Authenticate(ctx, ctok)
		if err != nil || rotated == "" || !cp.HasRole(identity.RoleModerator) {
			t.Fatalf("after grant: rotated=%q err=%v roles=%v", rotated, err, cp)
		}
		if _, _, err := f.svc.Authenticate(ctx, ctok); !errors.Is(err, identity.ErrSessionInvalid) {
			t.Fatalf("old token after rotation: %v", err)
		}
		if err := f.svc.GrantRole(ctx, f.principal(&rotated), citizen, identity.RoleAdmin); !errors.Is(err, identity.ErrForbidden) {
			t.Fatalf("a moderator granted a role: %v", err)
		}
		if err := f.svc.RevokeRole(ctx, p, p.AccountID, identity.RoleAdmin); err == nil {
			t.Fatal("admin revoked their own admin role")
		}
		f.advance(11 * time.Minute)
		p = f.principal(&tok)
		if err := f.svc.RevokeRole(ctx, p, citizen, identity.RoleModerator); !errors.Is(err, identity.ErrReauthRequired) {
			t.Fatalf("role change 11 minutes after sign-in: %v", err)
		}
		f.advance(30 * time.Second)
		if err := f.svc.Reauthenticate(ctx, p, pw, f.code(secret)); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.RevokeRole(ctx, p, citizen, identity.RoleModerator); err != nil {
			t.Fatal(err)
		}
		got := strings.Join(f.auditActions(), ",")
		for _, want := range []string{"role.granted", "role.revoked", "mfa.enabled", "session.reauthenticated"} {
			if !strings.Contains(got, want) {
				t.Errorf("audit log lacks %s: %s", want, got)
			}
		}
	})
}

func TestPasswordChangeAndReset(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		f.svc.CreateAccount(ctx, "a@example.org", pw, nil)
		tok, other := f.signIn("a@example.org", ""), f.signIn("a@example.org", "")
		const newPw = "a brand new long passphrase"
		f.advance(11 * time.Minute)
		if err := f.svc.ChangePassword(ctx, f.principal(&tok), newPw); !errors.Is(err, identity.ErrReauthRequired) {
			t.Fatalf("change without recent auth: %v", err)
		}
		if err := f.svc.Reauthenticate(ctx, f.principal(&tok), "wrong wrong wrong wrong", ""); !errors.Is(err, identity.ErrBadCredentials) {
			t.Fatalf("reauth with wrong password: %v", err)
		}
		f.svc.Reauthenticate(ctx, f.principal(&tok), pw, "")
		if err := f.svc.ChangePassword(ctx, f.principal(&tok), "short"); err == nil {
			t.Fatal("short new password accepted")
		}
		if err := f.svc.ChangePassword(ctx, f.principal(&tok), newPw); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.Authenticate(ctx, other); !errors.Is(err, identity.ErrSessionInvalid) {
			t.Fatalf("other session survived a password change: %v", err)
		}
		if _, _, err := f.svc.SignIn(ctx, "a@example.org", pw, identity.KindBrowser, identity.ClientMeta{}); !errors.Is(err, identity.ErrBadCredentials) {
			t.Fatalf("old password still works: %v", err)
		}

		// Reset by emailed link: unknown addresses get nothing, the link
		// works once, a rejected password leaves it usable, and it expires.
		if err := f.svc.RequestPasswordReset(ctx, "nobody@example.org", i18n.English); err != nil {
			t.Fatal(err)
		}
		f.svc.RequestPasswordReset(ctx, "a@example.org", i18n.English)
		reset := f.tokenFrom("a@example.org", "/password/reset")
		if err := f.svc.ResetPassword(ctx, reset, "short"); err == nil {
			t.Fatal("short password accepted on reset")
		}
		if err := f.svc.ResetPassword(ctx, reset, pw); err != nil {
			t.Fatalf("reset after a rejected attempt: %v", err)
		}
		if err := f.svc.ResetPassword(ctx, reset, pw); !errors.Is(err, identity.ErrTokenInvalid) {
			t.Fatalf("reset link reused: %v", err)
		}
		if _, _, err := f.svc.Authenticate(ctx, tok); !errors.Is(err, identity.ErrSessionInvalid) {
			t.Fatal("session survived a password reset")
		}
		f.signIn("a@example.org", "")
		f.svc.RequestPasswordReset(ctx, "a@example.org", i18n.English)
		late := f.tokenFrom("a@example.org", "/password/reset")
		f.advance(31 * time.Minute)
		if err := f.svc.ResetPassword(ctx, late, newPw); !errors.Is(err, identity.ErrTokenInvalid) {
			t.Fatalf("expired reset link: %v", err)
		}
		if err := f.svc.ResetPassword(ctx, "forged", newPw); !errors.Is(err, identity.ErrTokenInvalid) {
			t.Fatalf("forged reset token: %v", err)
		}
	})
}

func TestPasswordIsRehashedWhenParametersChange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		f.svc.CreateAccount(ctx, "a@example.org", pw, nil)
		db.Exec(ctx, "UPDATE accounts SET password_hash = ?", mustHash(t, password.Params{Memory: 512, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}))
		f.signIn("a@example.org", "")
		var stored string
		db.QueryRow(ctx, "SELECT password_hash FROM accounts").Scan(&stored)
		if !strings.Contains(stored, "m=1024,") {
			t.Fatalf("hash not upgraded to the current parameters: %s", stored)
		}
	})
}

func mustHash(t *testing.T, p password.Params) string {
	h, err := password.NewHasher(p, 1).Hash(context.Background(), pw)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestTOTPSecretIsSealedAtRest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		f.svc.CreateAccount(ctx, "a@example.org", pw, nil)
		secret := f.enableTOTP(ptr(f.signIn("a@example.org", "")))
		var sealed []byte
		db.QueryRow(ctx, "SELECT secret_sealed FROM totp_credentials").Scan(&sealed)
		if strings.Contains(string(sealed), secret) || len(sealed) < 28 {
			t.Fatal("TOTP secret stored in clear")
		}
	})
}

func ptr(s string) *string { return &s }

func TestRecoveryCodesAreStoredUnderAKeyedHash(t *testing.T) {
	db := storetest.SQLite(t)
	f := newFixture(t, db)
	ctx := context.Background()
	f.svc.CreateAccount(ctx, "a@example.org", pw, nil)
	tok := f.signIn("a@example.org", "")
	p := f.principal(&tok)
	e, _ := f.svc.BeginTOTP(ctx, p)
	codes, err := f.svc.ConfirmTOTP(ctx, p, f.code(e.Secret))
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := db.Query(ctx, "SELECT code_hash FROM recovery_codes")
	defer rows.Close()
	stored := map[string]bool{}
	for rows.Next() {
		var h string
		rows.Scan(&h)
		stored[h] = true
	}
	for _, c := range codes {
		if stored[totp.HashRecoveryCode(c)] {
			t.Fatal("a recovery code is stored as its plain SHA-256, which a leaked database lets anyone search offline")
		}
	}
	if len(stored) != identity.RecoveryCodeCount {
		t.Fatalf("%d hashes stored", len(stored))
	}
}

// TestEraseAccountShredsTheKeyAndKeepsOnlyThePseudonymousRecord erases an
// account: it needs a recent sign-in; afterwards the person cannot sign
// in, their data key is destroyed (a sealed copy kept from before, as in a
// backup, no longer opens), their rows are gone, and the audit log holds
// an account.erased entry.
func TestEraseAccountShredsTheKeyAndKeepsOnlyThePseudonymousRecord(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		id, _ := f.svc.CreateAccount(ctx, "gone@example.org", pw, nil)
		keep, _ := f.svc.CreateAccount(ctx, "stays@example.org", pw, nil)
		tok := f.signIn("gone@example.org", "")
		var sealedCopy []byte // what an earlier backup would hold
		db.QueryRow(ctx, "SELECT email_sealed FROM accounts WHERE id = ?", id).Scan(&sealedCopy)

		f.advance(11 * time.Minute)
		if err := f.svc.EraseAccount(ctx, f.principal(&tok)); !errors.Is(err, identity.ErrReauthRequired) {
			t.Fatalf("erasure without a recent sign-in: %v", err)
		}
		f.svc.Reauthenticate(ctx, f.principal(&tok), pw, "")
		if err := f.svc.EraseAccount(ctx, f.principal(&tok)); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.Authenticate(ctx, tok); !errors.Is(err, identity.ErrSessionInvalid) {
			t.Fatalf("session after erasure: %v", err)
		}
		if _, _, err := f.svc.SignIn(ctx, "gone@example.org", pw, identity.KindBrowser, identity.ClientMeta{}); !errors.Is(err, identity.ErrBadCredentials) {
			t.Fatalf("sign-in after erasure: %v", err)
		}
		for _, q := range []string{"SELECT COUNT(*) FROM accounts WHERE id = ?", "SELECT COUNT(*) FROM sessions WHERE account_id = ?"} {
			var n int
			db.QueryRow(ctx, q, id).Scan(&n)
			if n != 0 {
				t.Errorf("%s: %d rows left", q, n)
			}
		}
		if _, err := f.svc.Account(ctx, keep); err != nil {
			t.Fatalf("the other account suffered: %v", err)
		}
		// The sealed copy from before can no longer be opened: the key is gone.
		if _, err := f.crypt.Open(ctx, identity.Subject(id), fieldcrypt.FieldRef{Table: "accounts", Column: "email", Row: strconv.FormatInt(id, 10)}, sealedCopy); !errors.Is(err, fieldcrypt.ErrErased) {
			t.Fatalf("opening an old sealed copy after erasure: %v, want ErrErased", err)
		}
		if got := strings.Join(f.auditActions(), ","); !strings.HasSuffix(got, "account.erased") {
			t.Fatalf("audit log ends %q, want account.erased", got)
		}
	})
}

// TestPurgeErasedAccountsCompletesAnErasureUndoneByARestore simulates a
// restore of a backup taken before an erasure: the account row is back,
// its key is still erased; the purge removes the row.
func TestPurgeErasedAccountsCompletesAnErasureUndoneByARestore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		gone, _ := f.svc.CreateAccount(ctx, "gone@example.org", pw, nil)
		stays, _ := f.svc.CreateAccount(ctx, "stays@example.org", pw, nil)
		// Erase only the key, as a restored old backup would leave things.
		if err := db.InTx(ctx, func(tx *store.Tx) error { return f.crypt.Erase(ctx, tx, identity.Subject(gone)) }); err != nil {
			t.Fatal(err)
		}
		n, err := f.svc.PurgeErasedAccounts(ctx)
		if err != nil || n != 1 {
			t.Fatalf("PurgeErasedAccounts = %d, %v; want 1", n, err)
		}
		if _, err := f.svc.Account(ctx, gone); !errors.Is(err, identity.ErrNotFound) {
			t.Fatalf("erased account still there: %v", err)
		}
		if _, err := f.svc.Account(ctx, stays); err != nil {
			t.Fatalf("the other account: %v", err)
		}
		if n, _ := f.svc.PurgeErasedAccounts(ctx); n != 0 {
			t.Fatalf("second purge removed %d", n)
		}
	})
}

// TestInactiveAccountsAreWarnedThenErased: an account unused past the
// limit is first warned by email, and erased only once the warning period
// has passed with no sign-in; a sign-in cancels the warning.
func TestInactiveAccountsAreWarnedThenErased(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		rule := identity.Inactivity{After: 365 * 24 * time.Hour, Warn: 30 * 24 * time.Hour}
		idle, _ := f.svc.CreateAccount(ctx, "idle@example.org", pw, nil)
		back, _ := f.svc.CreateAccount(ctx, "back@example.org", pw, nil)
		active, _ := f.svc.CreateAccount(ctx, "active@example.org", pw, nil)

		f.advance(200 * 24 * time.Hour)
		f.signIn("active@example.org", "")
		if w, e, err := f.svc.EnforceInactivity(ctx, rule); err != nil || w != 0 || e != 0 {
			t.Fatalf("after 200 days: warned %d erased %d, %v", w, e, err)
		}
		f.advance(140 * 24 * time.Hour) // 340 days: inside the warning window
		if w, e, err := f.svc.EnforceInactivity(ctx, rule); err != nil || w != 2 || e != 0 {
			t.Fatalf("at 340 days: warned %d erased %d, %v; want 2 warned", w, e, err)
		}
		if m := f.tokenMail("idle@example.org", "will be erased"); !m {
			t.Fatal("no warning mail to the idle account")
		}
		if w, _, _ := f.svc.EnforceInactivity(ctx, rule); w != 0 {
			t.Fatalf("warned again: %d", w)
		}
		f.signIn("back@example.org", "") // cancels the warning
		f.advance(31 * 24 * time.Hour)
		w, e, err := f.svc.EnforceInactivity(ctx, rule)
		if err != nil || e != 1 {
			t.Fatalf("after the warning period: warned %d erased %d, %v; want 1 erased", w, e, err)
		}
		if _, err := f.svc.Account(ctx, idle); !errors.Is(err, identity.ErrNotFound) {
			t.Fatalf("idle account: %v, want erased", err)
		}
		for _, id := range []int64{back, active} {
			if _, err := f.svc.Account(ctx, id); err != nil {
				t.Fatalf("account %d erased though it was used: %v", id, err)
			}
		}
		if _, _, err := f.svc.EnforceInactivity(ctx, identity.Inactivity{}); err != nil {
			t.Fatal(err)
		}
	})
}

// tokenMail reports whether a mail to addr whose subject contains part was sent.
func (f *fixture) tokenMail(addr, part string) bool {
	f.outbox.Flush(context.Background())
	for _, m := range f.sent.Messages() {
		if m.To == addr && strings.Contains(m.Subject, part) {
			return true
		}
	}
	return false
}
