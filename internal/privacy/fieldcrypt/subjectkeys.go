package fieldcrypt

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/tink-crypto/tink-go/v2/keyset"

	"github.com/veche/veche/internal/store"
)

// Erase destroys subject's data key in tx (crypto-shredding): the wrapped
// keyset is overwritten with nothing and the row stays with erased_at set,
// so every value ever sealed for the subject, wherever a copy of it went
// (other tables, search indexes, data backups), can no longer be opened,
// and Open says [ErrErased]. Erasing an unknown subject records them as
// erased, so no key is ever made for them afterwards; erasing twice is
// harmless. The cache forgets the key when tx commits; other nodes forget
// it within their CacheTTL.
func (s *Service) Erase(ctx context.Context, tx *store.Tx, subject string) error {
	if subject == "" {
		return errors.New("fieldcrypt: Erase needs a subject")
	}
	if tx.Dialect() == store.SQLite {
		// Zero the freed bytes of the old row in the database file rather
		// than leaving them in a free block of the page; put the
		// connection's setting back afterwards.
		var was int
		if err := tx.QueryRow(ctx, "PRAGMA secure_delete").Scan(&was); err != nil {
			return fmt.Errorf("fieldcrypt: erase %s: %w", subject, err)
		}
		if was == 0 {
			if _, err := tx.Exec(ctx, "PRAGMA secure_delete = ON"); err != nil {
				return fmt.Errorf("fieldcrypt: erase %s: %w", subject, err)
			}
			defer tx.Exec(context.WithoutCancel(ctx), "PRAGMA secure_delete = OFF")
		}
	}
	now := store.Micros(s.now())
	res, err := tx.Exec(ctx, "UPDATE subject_keys SET keyset = ?, kek_version = '', erased_at = ? WHERE subject = ? AND erased_at IS NULL",
		[]byte{}, now, subject)
	if err != nil {
		return fmt.Errorf("fieldcrypt: erase %s: %w", subject, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		if _, err := tx.Exec(ctx, `INSERT INTO subject_keys (subject, keyset, kek_version, created_at, erased_at) VALUES (?, ?, '', ?, ?)
			ON CONFLICT (subject) DO NOTHING`, subject, []byte{}, now, now); err != nil {
			return fmt.Errorf("fieldcrypt: erase %s: %w", subject, err)
		}
	}
	s.cache.invalidate(subject) // drops a key this transaction may have cached
	tx.AfterCommit(func() { s.cache.invalidate(subject) })
	return nil
}

// Erased reports whether subject's key was destroyed.
func (s *Service) Erased(ctx context.Context, subject string) (bool, error) {
	var erased *int64
	err := s.db.QueryRow(ctx, "SELECT erased_at FROM subject_keys WHERE subject = ?", subject).Scan(&erased)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("fieldcrypt: %w", err)
	}
	return erased != nil, nil
}

// KEKUsage counts the live data keys wrapped under each key-encryption key
// version, and the erased subjects.
func (s *Service) KEKUsage(ctx context.Context) (versions map[string]int, erased int, err error) {
	rows, err := s.db.Query(ctx, "SELECT kek_version, erased_at IS NOT NULL, COUNT(*) FROM subject_keys GROUP BY kek_version, erased_at IS NOT NULL")
	if err != nil {
		return nil, 0, fmt.Errorf("fieldcrypt: %w", err)
	}
	defer rows.Close()
	versions = map[string]int{}
	for rows.Next() {
		var (
			v   string
			e   bool
			cnt int
		)
		if err := rows.Scan(&v, &e, &cnt); err != nil {
			return nil, 0, err
		}
		if e {
			erased += cnt
		} else {
			versions[v] += cnt
		}
	}
	return versions, erased, rows.Err()
}

// rewrapLease names the lease that keeps two re-wraps from running at once.
const rewrapLease = "fieldcrypt-rewrap"

// Rewrap wraps every live data key that is not under the keyring's current
// version again under it, batch keys per transaction, and returns how many
// it re-wrapped. It runs beside a serving instance: keys are unwrapped and
// wrapped outside the transaction (no keyring call holds a lock), and each
// row is updated only if it is still under the version it was read under,
// so a concurrent erasure wins. A lease keeps a second node's Rewrap out
// ([ErrRewrapRunning]). Keys that fail are skipped and reported in the
// error after the rest are done.
func (s *Service) Rewrap(ctx context.Context, batch int) (int, error) {
	if batch <= 0 {
		batch = 100
	}
	holder := "rewrap-" + rand.Text()
	const leaseTTL = 2 * time.Minute
	ok, err := s.db.AcquireLease(ctx, rewrapLease, holder, leaseTTL)
	if err != nil {
		return 0, fmt.Errorf("fieldcrypt: rewrap lease: %w", err)
	}
	if !ok {
		return 0, ErrRewrapRunning
	}
	defer s.db.ReleaseLease(context.WithoutCancel(ctx), rewrapLease, holder)

	target := s.kr.Current()
	if _, err := s.kr.AEAD(ctx, target); err != nil {
		return 0, err
	}
	type rewrapped struct {
		subject, from string
		wrapped       []byte
	}
	var (
		total  int
		after  string
		failed []error
	)
	for {
		rows, err := s.db.Query(ctx, `SELECT subject, keyset, kek_version FROM subject_keys
			WHERE subject > ? AND erased_at IS NULL AND kek_version <> ? ORDER BY subject LIMIT ?`, after, target, batch)
		if err != nil {
			return total, fmt.Errorf("fieldcrypt: rewrap: %w", err)
		}
		var todo []rewrapped
		for rows.Next() {
			var r rewrapped
			if err := rows.Scan(&r.subject, &r.wrapped, &r.from); err != nil {
				rows.Close()
				return total, err
			}
			todo = append(todo, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return total, err
		}
		if len(todo) == 0 {
			break
		}
		after = todo[len(todo)-1].subject
		handles := make([]*keyset.Handle, 0, len(todo))
		ready := todo[:0]
		for _, r := range todo {
			h, err := s.unwrap(ctx, r.subject, r.from, r.wrapped)
			if err == nil {
				var v string
				v, r.wrapped, err = s.wrap(ctx, r.subject, h)
				if err == nil && v != target {
					err = fmt.Errorf("fieldcrypt: the current version changed from %s to %s during the re-wrap; run it again", target, v)
				}
			}
			if err != nil {
				if ctx.Err() != nil {
					return total, ctx.Err()
				}
				failed = append(failed, err)
				continue
			}
			ready = append(ready, r)
			handles = append(handles, h)
		}
		var done []string
		err = s.db.InTx(ctx, func(tx *store.Tx) error {
			done = done[:0]
			for i, r := range ready {
				res, err := tx.Exec(ctx, `UPDATE subject_keys SET keyset = ?, kek_version = ?
					WHERE subject = ? AND kek_version = ? AND erased_at IS NULL`, r.wrapped, target, r.subject, r.from)
				if err != nil {
					return err
				}
				if n, _ := res.RowsAffected(); n == 1 {
					if err := s.confirmWrap(ctx, tx, r.subject, handles[i], target); err != nil {
						return err
					}
					done = append(done, r.subject)
				}
			}
			tx.AfterCommit(func() { s.cache.invalidate(done...) })
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("fieldcrypt: rewrap: %w", err)
		}
		total += len(done)
		if ok, err := s.db.AcquireLease(ctx, rewrapLease, holder, leaseTTL); err != nil || !ok {
			return total, fmt.Errorf("fieldcrypt: rewrap lost its lease (%v); run it again", err)
		}
	}
	if len(failed) > 0 {
		return total, fmt.Errorf("fieldcrypt: %d data keys could not be re-wrapped (they stay under their old version): %w", len(failed), errors.Join(failed...))
	}
	return total, nil
}

// RetireKEK retires an old key-encryption key version once no data key is
// wrapped under it. Only a [LocalKeyring] (or a [Chain] led by one) can
// retire versions; for Vault, raise the key's min_decryption_version in
// Vault once [Service.KEKUsage] shows the version unused.
func (s *Service) RetireKEK(ctx context.Context, version string) error {
	k, ok := s.kr.(*LocalKeyring)
	if !ok {
		if c, isChain := s.kr.(chain); isChain {
			k, ok = c[0].(*LocalKeyring)
		}
	}
	if !ok {
		return fmt.Errorf("fieldcrypt: this keyring cannot retire versions here; retire %s in the key service", version)
	}
	return k.Retire(ctx, s.db, version)
}

// Check proves that the keyring can unwrap the data keys in the database:
// for every key-encryption key version in use, it unwraps one key. Call it
// at start-up, so that a node given the wrong keyring (or none: a new
// LocalKeyring directory makes a fresh key) stops with a clear error
// instead of failing on every read and wrapping new keys that no other
// node can open.
func (s *Service) Check(ctx context.Context) error {
	rows, err := s.db.Query(ctx, `SELECT kek_version, MIN(subject) FROM subject_keys
		WHERE erased_at IS NULL GROUP BY kek_version ORDER BY kek_version`)
	if err != nil {
		return fmt.Errorf("fieldcrypt: check keyring: %w", err)
	}
	type sample struct{ version, subject string }
	var samples []sample
	for rows.Next() {
		var sm sample
		if err := rows.Scan(&sm.version, &sm.subject); err != nil {
			rows.Close()
			return err
		}
		samples = append(samples, sm)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, sm := range samples {
		var wrapped []byte
		if err := s.db.QueryRow(ctx, "SELECT keyset FROM subject_keys WHERE subject = ?", sm.subject).Scan(&wrapped); err != nil {
			return fmt.Errorf("fieldcrypt: check keyring: %w", err)
		}
		if _, err := s.unwrap(ctx, sm.subject, sm.version, wrapped); err != nil {
			return fmt.Errorf("this keyring cannot open the data keys wrapped under %s (give every node the instance's keyring, e.g. a copy of <data>/keys/kek): %w", sm.version, err)
		}
	}
	return nil
}
