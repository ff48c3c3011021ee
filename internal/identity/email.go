package identity

import (
	"context"
	"errors"
	"time"

	"github.com/veche/veche/internal/i18n"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/validate"
)

// EmailChangeTTL is how long a requested change of address waits for the
// new address to be confirmed.
const EmailChangeTTL = 24 * time.Hour

// EmailChange is a change of address waiting for confirmation.
type EmailChange struct {
	Email     string    `json:"email"`
	ExpiresAt time.Time `json:"expires_at"`
}

// RequestEmailChange starts changing p's address to newEmail. It needs a
// recent authentication. The new address gets a confirmation link valid
// for [EmailChangeTTL] and the current address a notice, so that the owner
// learns of a change they did not make; the account's address changes only
// when the link is used ([Service.ConfirmEmailChange]). The new address
// is kept sealed under the person's key meanwhile. A new request replaces
// an earlier one, whose link stops working.
//
// When the new address already belongs to another account the answer is
// the same (nothing here tells who has an account, as with registration);
// the new address is told instead that it has an account and nothing
// changed.
func (s *Service) RequestEmailChange(ctx context.Context, p *Principal, newEmail string, lang i18n.Lang) error {
	if !s.RecentlyAuthenticated(p) {
		return ErrReauthRequired
	}
	email, err := NormalizeEmail(newEmail)
	if err != nil {
		return err
	}
	if email == p.Email {
		return validate.One("email", "unchanged", nil)
	}
	now := s.now()
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		sealed, err := s.crypt.Seal(ctx, tx, Subject(p.AccountID), rowRef("email_changes", "email", p.AccountID), []byte(email))
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM email_changes WHERE account_id = ?", p.AccountID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "INSERT INTO email_changes (account_id, email_sealed, requested_at, expires_at) VALUES (?, ?, ?, ?)",
			p.AccountID, sealed, store.Micros(now), store.Micros(now.Add(EmailChangeTTL))); err != nil {
			return err
		}
		if err := s.retireEmailChangeTokens(ctx, tx, p.AccountID); err != nil {
			return err
		}
		var other int64
		err = tx.QueryRow(ctx, "SELECT id FROM accounts WHERE email_index = ?", s.emailIndex(email)).Scan(&other)
		switch {
		case err == nil:
			// Sealed under the key of the address's owner, as registration's
			// "already registered" message is.
			if err := s.queueMail(ctx, tx, other, email, lang, "mail.email_change_taken", "url", s.cfg.PublicURL+"/password/forgot"); err != nil {
				return err
			}
		case errors.Is(err, store.ErrNotFound):
			token, err := s.issueEmailToken(ctx, tx, p.AccountID, "email_change", EmailChangeTTL)
			if err != nil {
				return err
			}
			if err := s.queueMail(ctx, tx, p.AccountID, email, lang, "mail.email_change_verify",
				"link", s.cfg.PublicURL+"/account/email/confirm?token="+token, "hours", int(EmailChangeTTL.Hours())); err != nil {
				return err
			}
		default:
			return err
		}
		if err := s.queueMail(ctx, tx, p.AccountID, p.Email, lang, "mail.email_change_notice", "url", s.cfg.PublicURL+"/account/email"); err != nil {
			return err
		}
		return s.audit(ctx, tx, "account.email_change_requested", p.AccountID, p.AccountID, nil)
	})
}

// retireEmailChangeTokens makes the account's unused change links unusable.
func (s *Service) retireEmailChangeTokens(ctx context.Context, tx *store.Tx, id int64) error {
	_, err := tx.Exec(ctx, "UPDATE email_tokens SET used_at = ? WHERE account_id = ? AND purpose = 'email_change' AND used_at IS NULL",
		store.Micros(s.now()), id)
	return err
}

// PendingEmailChange returns p's change of address waiting for
// confirmation, or nil when there is none (or it has expired).
func (s *Service) PendingEmailChange(ctx context.Context, p *Principal) (*EmailChange, error) {
	var sealed []byte
	var expires int64
	err := s.db.QueryRow(ctx, "SELECT email_sealed, expires_at FROM email_changes WHERE account_id = ? AND expires_at > ?",
		p.AccountID, store.Micros(s.now())).Scan(&sealed, &expires)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	pt, err := s.openSealed(ctx, nil, Subject(p.AccountID), rowRef("email_changes", "email", p.AccountID), sealed)
	if err != nil || pt == nil {
		return nil, err
	}
	return &EmailChange{Email: string(pt), ExpiresAt: store.FromMicros(expires)}, nil
}

// CancelEmailChange withdraws p's pending change of address; its link
// stops working. Cancelling when nothing is pending succeeds.
func (s *Service) CancelEmailChange(ctx context.Context, p *Principal) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, "DELETE FROM email_changes WHERE account_id = ?", p.AccountID)
		if err != nil {
			return err
		}
		if err := s.retireEmailChangeTokens(ctx, tx, p.AccountID); err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return s.audit(ctx, tx, "account.email_change_cancelled", p.AccountID, p.AccountID, nil)
	})
}

// ConfirmEmailChange completes a change of address with the token mailed
// to the new address: the address is sealed again under the person's key,
// its blind index replaced, and it counts as verified. A wrong, used or
// expired token is [ErrTokenInvalid]. Should the new address have been
// taken by another account meanwhile, the answer is a field error on
// "email" (code "taken") and the token stays usable: whoever holds it
// has proved they own the address, so this tells them nothing new.
func (s *Service) ConfirmEmailChange(ctx context.Context, token string) error {
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		id, err := s.useEmailToken(ctx, tx, token, "email_change")
		if err != nil {
			return err
		}
		var sealed, oldSealed []byte
		var locale string
		err = tx.QueryRow(ctx, `SELECT c.email_sealed, a.email_sealed, a.locale FROM email_changes c JOIN accounts a ON a.id = c.account_id
			WHERE c.account_id = ? AND c.expires_at > ?`, id, store.Micros(s.now())).Scan(&sealed, &oldSealed, &locale)
		if errors.Is(err, store.ErrNotFound) {
			return ErrTokenInvalid // cancelled, or replaced by a later request
		}
		if err != nil {
			return err
		}
		pt, err := s.openSealed(ctx, tx, Subject(id), rowRef("email_changes", "email", id), sealed)
		if err != nil {
			return err
		}
		if pt == nil {
			return ErrTokenInvalid // the account is being erased
		}
		email := string(pt)
		old, err := s.openEmail(ctx, tx, id, oldSealed)
		if err != nil {
			return err
		}
		var other int64
		err = tx.QueryRow(ctx, "SELECT id FROM accounts WHERE email_index = ? AND id <> ?", s.emailIndex(email), id).Scan(&other)
		if err == nil {
			return validate.One("email", "taken", nil)
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err := s.sealEmail(ctx, tx, id, email); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE accounts SET email_verified = TRUE WHERE id = ?", id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM email_changes WHERE account_id = ?", id); err != nil {
			return err
		}
		if old != "" {
			lang, _ := i18n.Parse(locale)
			if lang == "" {
				lang = i18n.Default
			}
			if err := s.queueMail(ctx, tx, id, old, lang, "mail.email_changed", "url", s.cfg.PublicURL+"/password/forgot"); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, "account.email_changed", id, id, nil)
	})
	if errors.Is(err, store.ErrConflict) {
		// Another account took the address between the check and the
		// update.
		return validate.One("email", "taken", nil)
	}
	return err
}
