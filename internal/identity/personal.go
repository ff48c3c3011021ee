package identity

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/veche/veche/internal/privacy/fieldcrypt"
	"github.com/veche/veche/internal/store"
)

// Personal data of accounts is sealed under each person's own key (package
// fieldcrypt): erasing the person destroys the key and every copy becomes
// unreadable. The address is found by a keyed blind index, never by its
// plaintext.

// Subject names an account's owner for per-person keys.
func Subject(accountID int64) string { return "account:" + strconv.FormatInt(accountID, 10) }

func rowRef(table, column string, row any) fieldcrypt.FieldRef {
	switch r := row.(type) {
	case int64:
		return fieldcrypt.FieldRef{Table: table, Column: column, Row: strconv.FormatInt(r, 10)}
	default:
		return fieldcrypt.FieldRef{Table: table, Column: column, Row: r.(string)}
	}
}

// emailIndex is the blind index of a normalised address.
func (s *Service) emailIndex(email string) []byte { return s.crypt.BlindIndex("accounts.email", email) }

// sealEmail stores the sealed address and its index on account id.
func (s *Service) sealEmail(ctx context.Context, tx *store.Tx, id int64, email string) error {
	sealed, err := s.crypt.Seal(ctx, tx, Subject(id), rowRef("accounts", "email", id), []byte(email))
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, "UPDATE accounts SET email_sealed = ?, email_index = ?, email = '' WHERE id = ?", sealed, s.emailIndex(email), id)
	return err
}

// openSealed reads a sealed field, inside tx when one is given. A field of
// an erased person reads as nil: their key is gone and so is the data.
func (s *Service) openSealed(ctx context.Context, tx *store.Tx, subject string, ref fieldcrypt.FieldRef, sealed []byte) ([]byte, error) {
	var pt []byte
	var err error
	if tx != nil {
		pt, err = s.crypt.OpenTx(ctx, tx, subject, ref, sealed)
	} else {
		pt, err = s.crypt.Open(ctx, subject, ref, sealed)
	}
	if errors.Is(err, fieldcrypt.ErrErased) {
		return nil, nil
	}
	return pt, err
}

// openEmail reads a sealed address; an erased person's address reads as
// "" (their account is being removed).
func (s *Service) openEmail(ctx context.Context, tx *store.Tx, id int64, sealed []byte) (string, error) {
	pt, err := s.openSealed(ctx, tx, Subject(id), rowRef("accounts", "email", id), sealed)
	return string(pt), err
}

// clientInfo is what a session remembers about the device, sealed.
type clientInfo struct {
	IP        string `json:"ip"`
	UserAgent string `json:"ua"`
}

func (s *Service) sealClient(ctx context.Context, tx *store.Tx, accountID int64, sessionID string, c clientInfo) ([]byte, error) {
	b, _ := json.Marshal(c)
	return s.crypt.Seal(ctx, tx, Subject(accountID), rowRef("sessions", "client", sessionID), b)
}

func (s *Service) openClient(ctx context.Context, tx *store.Tx, accountID int64, sessionID string, sealed []byte) (clientInfo, error) {
	var c clientInfo
	if len(sealed) == 0 {
		return c, nil
	}
	pt, err := s.openSealed(ctx, tx, Subject(accountID), rowRef("sessions", "client", sessionID), sealed)
	if err != nil || pt == nil {
		return c, err
	}
	return c, json.Unmarshal(pt, &c)
}

// SealLegacyRows seals personal data that instances from before migration
// 0008 stored in clear, and empties the plaintext columns. It is run at
// start-up and does nothing once every row is sealed.
func (s *Service) SealLegacyRows(ctx context.Context) (int, error) {
	type acct struct {
		id    int64
		email string
	}
	var todo []acct
	rows, err := s.db.Query(ctx, "SELECT id, email FROM accounts WHERE email <> ''")
	if err != nil {
		return 0, err
	}
	for rows.Next() {
		var a acct
		if err := rows.Scan(&a.id, &a.email); err != nil {
			rows.Close()
			return 0, err
		}
		todo = append(todo, a)
	}
	rows.Close()
	for _, a := range todo {
		if err := s.db.InTx(ctx, func(tx *store.Tx) error { return s.sealEmail(ctx, tx, a.id, a.email) }); err != nil {
			return 0, err
		}
	}
	// Sessions and queued mail are short-lived: clearing the plaintext of
	// older ones loses only a device description and unsent messages.
	res, err := s.db.Exec(ctx, "UPDATE sessions SET ip = '', user_agent = '' WHERE ip <> '' OR user_agent <> ''")
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	res, err = s.db.Exec(ctx, "DELETE FROM mail_outbox WHERE sealed IS NULL")
	if err != nil {
		return 0, err
	}
	m, _ := res.RowsAffected()
	return len(todo) + int(n) + int(m), nil
}
