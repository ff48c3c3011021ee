package identity

import (
	"context"
	"errors"

	"github.com/veche/veche/internal/i18n"
	"github.com/veche/veche/internal/store"
)

// ChangePassword sets a new password for p. It needs a recent
// authentication; every other session of the account is ended and the
// current one gets a new token.
func (s *Service) ChangePassword(ctx context.Context, p *Principal, newPassword string) error {
	if !s.RecentlyAuthenticated(p) {
		return ErrReauthRequired
	}
	if err := s.checkPassword("new_password", newPassword, p.Email); err != nil {
		return err
	}
	hash, err := s.hashPassword(ctx, newPassword)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, "UPDATE accounts SET password_hash = ?, password_changed_at = ? WHERE id = ?",
			hash, store.Micros(s.now()), p.AccountID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM sessions WHERE account_id = ? AND id <> ?", p.AccountID, p.SessionID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE sessions SET rotate = TRUE WHERE id = ?", p.SessionID); err != nil {
			return err
		}
		if err := s.queueMail(ctx, tx, p.AccountID, p.Email, i18n.Lang(p.Locale), "mail.password_changed"); err != nil {
			return err
		}
		return s.audit(ctx, tx, "account.password_changed", p.AccountID, p.AccountID, nil)
	})
}

// RequestPasswordReset emails a reset link if the address has an account.
// The answer is the same either way.
func (s *Service) RequestPasswordReset(ctx context.Context, email string, lang i18n.Lang) error {
	email, err := NormalizeEmail(email)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		var id int64
		var locale string
		err := tx.QueryRow(ctx, "SELECT id, locale FROM accounts WHERE email_index = ?", s.emailIndex(email)).Scan(&id, &locale)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if l, ok := i18n.Parse(locale); ok {
			lang = l
		}
		token, err := s.issueEmailToken(ctx, tx, id, "reset", s.cfg.ResetTokenTTL)
		if err != nil {
			return err
		}
		return s.queueMail(ctx, tx, id, email, lang, "mail.reset", "link", s.cfg.PublicURL+"/password/reset?token="+token,
			"minutes", int(s.cfg.ResetTokenTTL.Minutes()))
	})
}

// ResetPassword sets a new password with an emailed reset token and ends
// every session of the account. Using the link also proves the address.
func (s *Service) ResetPassword(ctx context.Context, token, newPassword string) error {
	if err := s.policy.Check(newPassword); err != nil {
		// Check the policy before consuming the token, so a rejected
		// password leaves the link usable.
		return s.checkPassword("new_password", newPassword, "")
	}
	hash, err := s.hashPassword(ctx, newPassword)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		id, err := s.useEmailToken(ctx, tx, token, "reset")
		if err != nil {
			return err
		}
		var sealed []byte
		if err := tx.QueryRow(ctx, "SELECT email_sealed FROM accounts WHERE id = ?", id).Scan(&sealed); err != nil {
			return err
		}
		email, err := s.openEmail(ctx, tx, id, sealed)
		if err != nil {
			return err
		}
		if err := s.checkPassword("new_password", newPassword, email); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE accounts SET password_hash = ?, password_changed_at = ?, email_verified = TRUE WHERE id = ?",
			hash, store.Micros(s.now()), id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM sessions WHERE account_id = ?", id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE email_tokens SET used_at = ? WHERE account_id = ? AND purpose = 'reset' AND used_at IS NULL",
			store.Micros(s.now()), id); err != nil {
			return err
		}
		return s.audit(ctx, tx, "account.password_reset", id, id, nil)
	})
}
