package identity

import (
	"context"
	"time"

	"github.com/veche/veche/internal/i18n"
	"github.com/veche/veche/internal/privacy"
	"github.com/veche/veche/internal/store"
)

// EraseAccount erases the caller's account (GDPR Art. 17; for public-task
// data the person's own choice to close the account). It needs a recent
// authentication. In one transaction it destroys the person's data key
// (crypto-shredding: every sealed copy, in the database, its indexes and in
// backups made earlier, becomes unreadable), deletes the account and every
// row that hangs off it, and appends an audit entry naming the person only
// by pseudonym. What must stay for integrity stays without personal data:
// the audit log, and the key's tombstone that proves the erasure.
func (s *Service) EraseAccount(ctx context.Context, p *Principal) error {
	if !s.RecentlyAuthenticated(p) {
		return ErrReauthRequired
	}
	return s.erase(ctx, p.AccountID, p.AccountID)
}

func (s *Service) erase(ctx context.Context, actor, id int64) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := s.crypt.Erase(ctx, tx, Subject(id)); err != nil {
			return err
		}
		// Queued mail is sealed under the destroyed key already; delete it
		// rather than leave undeliverable rows.
		if _, err := tx.Exec(ctx, "DELETE FROM mail_outbox WHERE subject_ref = ?", Subject(id)); err != nil {
			return err
		}
		// Sessions, second-factor secrets, recovery codes, emailed tokens,
		// roles and the access log about the person go with the account
		// (ON DELETE CASCADE); staff reads *by* the person keep the row with
		// the reader emptied (ON DELETE SET NULL).
		res, err := tx.Exec(ctx, "DELETE FROM accounts WHERE id = ?", id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return s.audit(ctx, tx, "account.erased", actor, id, nil)
	})
}

// PurgeErasedAccounts deletes accounts whose data key is erased but whose
// rows are still there: this happens when a data backup made before an
// erasure is restored (data backups never hold keys, so the person's data
// was unreadable anyway). It runs at start-up; each purge is an audit
// entry, like the erasure it completes.
func (s *Service) PurgeErasedAccounts(ctx context.Context) (int, error) {
	ids, err := store.IDs(s.db.Query(ctx, `SELECT a.id FROM accounts a JOIN subject_keys k ON k.subject = 'account:' || CAST(a.id AS TEXT)
		WHERE k.erased_at IS NOT NULL`))
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		if err := s.db.InTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.Exec(ctx, "DELETE FROM mail_outbox WHERE subject_ref = ?", Subject(id)); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "DELETE FROM accounts WHERE id = ?", id); err != nil {
				return err
			}
			return s.audit(ctx, tx, "account.erasure_completed", 0, id, nil)
		}); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// Inactivity is the rule for accounts nobody uses: after After without a
// sign-in the account is erased, and Warn before that its owner is
// emailed. Zero After turns the rule off.
type Inactivity struct {
	After time.Duration
	Warn  time.Duration
}

// EnforceInactivity warns the owners of accounts that will reach the
// inactivity limit within Warn, and erases those that reached it after a
// warning sent at least Warn ago (GDPR Art. 5(1)(e): nothing kept "just in
// case"). A sign-in in between cancels the warning. Accounts whose
// processing for the "account" purpose is restricted (package privacy's
// Restrictions) are neither warned nor erased while the restriction is in
// force. It returns how many were warned and erased.
func (s *Service) EnforceInactivity(ctx context.Context, rule Inactivity) (warned, erased int, err error) {
	if rule.After <= 0 {
		return 0, 0, nil
	}
	now := s.now()
	ids := func(q string, args ...any) ([]int64, error) {
		rows, err := s.db.Query(ctx, q, args...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return nil, err
			}
			out = append(out, id)
		}
		return out, rows.Err()
	}
	toErase, err := ids(`SELECT id FROM accounts WHERE last_active_at < ? AND inactivity_warned_at IS NOT NULL AND inactivity_warned_at <= ?`,
		store.Micros(now.Add(-rule.After)), store.Micros(now.Add(-rule.Warn)))
	if err != nil {
		return 0, 0, err
	}
	for _, id := range toErase {
		// A restriction of the account's processing (GDPR Art. 18) keeps
		// the data: erasing is processing too, and a restriction is often
		// asked for precisely so that data is kept.
		if stop, err := privacy.IsRestricted(ctx, s.db, id, "account"); err != nil {
			return warned, erased, err
		} else if stop {
			continue
		}
		if err := s.erase(ctx, 0, id); err != nil {
			return warned, erased, err
		}
		erased++
	}
	toWarn, err := ids(`SELECT id FROM accounts WHERE last_active_at < ? AND inactivity_warned_at IS NULL`,
		store.Micros(now.Add(-(rule.After - rule.Warn))))
	if err != nil {
		return warned, erased, err
	}
	for _, id := range toWarn {
		stop := false
		err := s.db.InTx(ctx, func(tx *store.Tx) error {
			if restricted, err := privacy.IsRestricted(ctx, tx, id, "account"); err != nil || restricted {
				stop = restricted
				return err
			}
			var sealed []byte
			var locale string
			var last int64
			if err := tx.QueryRow(ctx, "SELECT email_sealed, locale, last_active_at FROM accounts WHERE id = ?", id).Scan(&sealed, &locale, &last); err != nil {
				return err
			}
			email, err := s.openEmail(ctx, tx, id, sealed)
			if err != nil || email == "" {
				return err
			}
			if _, err := tx.Exec(ctx, "UPDATE accounts SET inactivity_warned_at = ? WHERE id = ?", store.Micros(now), id); err != nil {
				return err
			}
			lang, _ := i18n.Parse(locale)
			if lang == "" {
				lang = i18n.Default
			}
			// The erasure comes no earlier than Warn from now.
			when := now.Add(rule.Warn)
			if deadline := store.FromMicros(last).Add(rule.After); deadline.After(when) {
				when = deadline
			}
			if err := s.queueMail(ctx, tx, id, email, lang, "mail.inactive", "date", when.Format("2006-01-02"), "url", s.cfg.PublicURL+"/signin"); err != nil {
				return err
			}
			return s.audit(ctx, tx, "account.inactivity_warned", 0, id, nil)
		})
		if err != nil {
			return warned, erased, err
		}
		if !stop {
			warned++
		}
	}
	return warned, erased, nil
}
