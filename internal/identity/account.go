package identity

import (
	"context"
	"errors"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/veche/veche/internal/i18n"
	"github.com/veche/veche/internal/identity/password"
	vmail "github.com/veche/veche/internal/mail"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/validate"
)

// Account is what the service tells about an account.
type Account struct {
	ID            int64
	Email         string
	EmailVerified bool
	Locale        string
	CreatedAt     time.Time
	Roles         []Role // granted roles, always including citizen
	MFAEnabled    bool
}

// NormalizeEmail trims, NFC-normalises and lowercases an address and checks
// its form. The field name in errors is "email".
func NormalizeEmail(s string) (string, error) {
	// Check the bytes before transforming them: ToLower would silently
	// turn invalid UTF-8 into U+FFFD.
	if !utf8.ValidString(s) {
		return "", validate.One("email", "invalid_utf8", nil)
	}
	s = strings.ToLower(norm.NFC.String(strings.TrimSpace(s)))
	switch {
	case s == "":
		return "", validate.One("email", "required", nil)
	case len(s) > 254:
		return "", validate.One("email", "too_long", map[string]any{"max": 254})
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" || !strings.Contains(s[strings.LastIndex(s, "@")+1:], ".") {
		return "", validate.One("email", "email", nil)
	}
	return s, nil
}

// checkPassword applies the password policy, translating its error into a
// field error on field.
func (s *Service) checkPassword(field, pw, email string) error {
	context := []string{"veche", s.cfg.Issuer}
	if at := strings.IndexByte(email, '@'); at > 0 {
		context = append(context, email[:at])
	}
	err := s.policy.Check(pw, context...)
	var pe *password.PolicyError
	if errors.As(err, &pe) {
		return validate.One(field, "password_"+pe.Code, map[string]any{"min": pe.Min, "max": pe.Max})
	}
	return err
}

// Register starts a registration. Whether or not the address already has an
// account, the result and the time taken are the same: a message goes to the
// address, either with a verification link or saying that it is already
// registered (with a reset link). Only input errors are returned.
func (s *Service) Register(ctx context.Context, email, pw string, lang i18n.Lang) error {
	email, err := NormalizeEmail(email)
	if err != nil {
		return err
	}
	if err := s.checkPassword("password", pw, email); err != nil {
		return err
	}
	hash, err := s.hashPassword(ctx, pw)
	if err != nil {
		return err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		var existing int64
		err := tx.QueryRow(ctx, "SELECT id FROM accounts WHERE email_index = ?", s.emailIndex(email)).Scan(&existing)
		if err == nil {
			return s.queueMail(ctx, tx, existing, email, lang, "mail.already_registered", "link", s.cfg.PublicURL+"/password/forgot")
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		id, err := s.insertAccount(ctx, tx, email, hash, string(lang), false)
		if err != nil {
			return err
		}
		token, err := s.issueEmailToken(ctx, tx, id, "verify", s.cfg.VerifyTokenTTL)
		if err != nil {
			return err
		}
		return s.queueMail(ctx, tx, id, email, lang, "mail.verify", "link", s.cfg.PublicURL+"/verify-email?token="+token)
	})
	if errors.Is(err, store.ErrConflict) {
		return nil // a concurrent registration of the same address won the race
	}
	return err
}

// CreateAccount creates a verified account with the given roles, for the
// administrator's command line. It returns the new account's id.
func (s *Service) CreateAccount(ctx context.Context, email, pw string, roles []Role) (int64, error) {
	email, err := NormalizeEmail(email)
	if err != nil {
		return 0, err
	}
	if err := s.checkPassword("password", pw, email); err != nil {
		return 0, err
	}
	hash, err := s.hashPassword(ctx, pw)
	if err != nil {
		return 0, err
	}
	var id int64
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		id, err = s.insertAccount(ctx, tx, email, hash, "", true)
		if err != nil {
			return err
		}
		for _, r := range roles {
			if r == RoleCitizen {
				continue
			}
			if err := s.grant(ctx, tx, 0, id, r); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, store.ErrConflict) {
		return 0, validate.One("email", "taken", nil)
	}
	return id, err
}

func (s *Service) insertAccount(ctx context.Context, tx *store.Tx, email, hash, locale string, verified bool) (int64, error) {
	t := store.Micros(s.now())
	var id int64
	// The blind index is written first so that its uniqueness settles a
	// race between two registrations; the sealed address needs the row id
	// (it is bound to the row).
	err := tx.QueryRow(ctx, `INSERT INTO accounts (email, email_index, email_verified, password_hash, locale, created_at, password_changed_at, last_active_at)
		VALUES ('', ?, ?, ?, ?, ?, ?, ?) RETURNING id`, s.emailIndex(email), verified, hash, locale, t, t, t).Scan(&id)
	if err != nil {
		return 0, err
	}
	if err := s.sealEmail(ctx, tx, id, email); err != nil {
		return 0, err
	}
	return id, s.audit(ctx, tx, "account.created", id, id, nil)
}

// VerifyEmail marks the address behind a verification token as verified.
func (s *Service) VerifyEmail(ctx context.Context, token string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		id, err := s.useEmailToken(ctx, tx, token, "verify")
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE accounts SET email_verified = TRUE WHERE id = ?", id); err != nil {
			return err
		}
		return s.audit(ctx, tx, "account.email_verified", id, id, nil)
	})
}

// issueEmailToken stores a single-use token for purpose and returns it.
func (s *Service) issueEmailToken(ctx context.Context, tx *store.Tx, accountID int64, purpose string, ttl time.Duration) (string, error) {
	token, hash := newToken()
	_, err := tx.Exec(ctx, "INSERT INTO email_tokens (token_hash, account_id, purpose, expires_at) VALUES (?, ?, ?, ?)",
		hash, accountID, purpose, store.Micros(s.now().Add(ttl)))
	return token, err
}

// useEmailToken consumes a token, returning its account. A token is usable
// once; a wrong, used or expired one is [ErrTokenInvalid].
func (s *Service) useEmailToken(ctx context.Context, tx *store.Tx, token, purpose string) (int64, error) {
	if token == "" || len(token) > 128 {
		return 0, ErrTokenInvalid
	}
	var id int64
	err := tx.QueryRow(ctx, `UPDATE email_tokens SET used_at = ?
		WHERE token_hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > ? RETURNING account_id`,
		store.Micros(s.now()), hashToken(token), purpose, store.Micros(s.now())).Scan(&id)
	if errors.Is(err, store.ErrNotFound) {
		return 0, ErrTokenInvalid
	}
	return id, err
}

// queueMail queues a message to account's owner whose subject and body are
// the catalog entries key+".subject" and key+".body", followed by the
// anti-phishing footer. It is sealed under the owner's key.
func (s *Service) queueMail(ctx context.Context, tx *store.Tx, account int64, to string, lang i18n.Lang, key string, kv ...any) error {
	body := i18n.T(lang, key+".body", kv...) + "\n\n-- \n" + i18n.T(lang, "mail.footer", "url", s.cfg.PublicURL)
	if err := vmail.Enqueue(ctx, tx, s.crypt, Subject(account), vmail.Message{To: to, Subject: i18n.T(lang, key+".subject"), Body: body}); err != nil {
		return err
	}
	if s.MailQueued != nil {
		tx.AfterCommit(s.MailQueued)
	}
	return nil
}

// Account returns an account by id.
func (s *Service) Account(ctx context.Context, id int64) (*Account, error) {
	a := &Account{ID: id}
	var created int64
	var sealed []byte
	err := s.db.QueryRow(ctx, `SELECT a.email_sealed, a.email_verified, a.locale, a.created_at,
		COALESCE((SELECT enabled FROM totp_credentials t WHERE t.account_id = a.id), FALSE)
		FROM accounts a WHERE a.id = ?`, id).Scan(&sealed, &a.EmailVerified, &a.Locale, &created, &a.MFAEnabled)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if a.Email, err = s.openEmail(ctx, nil, id, sealed); err != nil {
		return nil, err
	}
	a.CreatedAt = store.FromMicros(created)
	a.Roles, err = s.roles(ctx, s.db.Query, id)
	return a, err
}

// SetLocale saves the account's preferred language.
func (s *Service) SetLocale(ctx context.Context, p *Principal, lang i18n.Lang) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, "UPDATE accounts SET locale = ? WHERE id = ?", string(lang), p.AccountID); err != nil {
			return err
		}
		return s.audit(ctx, tx, "account.locale_changed", p.AccountID, p.AccountID, map[string]string{"locale": string(lang)})
	})
}
