// Package participation owns participation processes: what a public body
// opens to its citizens, when, and who may take part.
//
// A [Process] has dated phases ("information", "proposals", "signing",
// "results"…) and spaces, each of one kind (a consultation, a petition
// list, a participatory budget, a survey) and each open for participation
// during one phase. Who may take part is the process's [Eligibility]:
// anyone registered, or only residents verified against a census that the
// public body imports as keyed hashes of identity numbers (see census.go),
// optionally limited to districts and a minimum age.
//
// The spaces themselves live in subpackages (consultation, petition,
// budget, survey), which call [Service.Gate] inside the transaction of
// every act of participation: the phase and the person's eligibility are
// checked at the moment of acting, and a refusal says why ([PhaseError],
// [NotEligibleError]). Every state change writes an audit-log entry in the
// same transaction; people appear in it only by pseudonym.
package participation

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"strconv"
	"time"

	"github.com/veche/veche/internal/auditlog"
	"github.com/veche/veche/internal/identity"
	"github.com/veche/veche/internal/privacy/fieldcrypt"
	"github.com/veche/veche/internal/store"
)

// Errors callers branch on.
var (
	ErrNotFound       = errors.New("participation: not found")
	ErrOutsidePhase   = errors.New("participation: not open for participation now")
	ErrNotEligible    = errors.New("participation: not eligible")
	ErrAlreadyClaimed = errors.New("participation: this identity number is already linked to another account")
	ErrNotInCensus    = errors.New("participation: no resident with these details is in the census")
)

// Service manages processes, spaces, the census and eligibility.
type Service struct {
	db        *store.DB
	log       *auditlog.Log
	crypt     *fieldcrypt.Service
	pseudonym func(account int64) string
	censusKey []byte
	handleKey []byte
	now       func() time.Time
}

// Keys are the instance secrets the service needs, each derived for one use.
type Keys struct {
	// Census keys the hashes of identity numbers (HMAC-SHA256); the public
	// body hashes its register with the same key (veche census hash).
	Census []byte
	// Handles keys the per-process handles that name participants who
	// did not choose to show their name.
	Handles []byte
}

// New returns the service over db, logging to log and sealing what people
// write with crypt. pseudonym names accounts in the audit log.
func New(db *store.DB, log *auditlog.Log, crypt *fieldcrypt.Service, pseudonym func(int64) string, keys Keys) *Service {
	if len(keys.Census) == 0 || len(keys.Handles) == 0 {
		panic("participation: New needs the census and handle keys")
	}
	return &Service{db: db, log: log, crypt: crypt, pseudonym: pseudonym, censusKey: keys.Census, handleKey: keys.Handles, now: time.Now}
}

// SetClock replaces the clock, for tests.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Now is the service's clock, truncated to the stored precision.
func (s *Service) Now() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// DB is the database the service and its spaces keep their data in.
func (s *Service) DB() *store.DB { return s.db }

// Pseudonym names an account in the audit log.
func (s *Service) Pseudonym(account int64) string {
	if account == 0 {
		return ""
	}
	return s.pseudonym(account)
}

// Audit appends an entry for a participation act in tx. actor is the
// account that acted (0 for the system); detail holds public facts such as
// the space and item numbers.
func (s *Service) Audit(ctx context.Context, tx *store.Tx, action string, actor int64, digest string, detail map[string]string) error {
	return s.AuditAt(ctx, tx, time.Time{}, action, actor, digest, detail)
}

// AuditAt is Audit with the entry stamped at, the instant the caller
// decided by, rather than when the entry is appended (zero: then).
func (s *Service) AuditAt(ctx context.Context, tx *store.Tx, at time.Time, action string, actor int64, digest string, detail map[string]string) error {
	return s.log.Append(ctx, tx, auditlog.Entry{Action: action, Actor: s.Pseudonym(actor), Digest: digest, Detail: detail, At: at})
}

// Handle is the public name of a participant in one process who has not
// chosen to show their name: stable within the process, so that a thread
// can be followed, and unlinkable across processes.
func (s *Service) Handle(process, account int64) string {
	if account == 0 {
		return ""
	}
	m := hmac.New(sha256.New, s.handleKey)
	m.Write([]byte(strconv.FormatInt(process, 10) + "\x00" + strconv.FormatInt(account, 10)))
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(m.Sum(nil)[:5])
}

// ID formats a public number for audit details and links.
func ID(id int64) string { return strconv.FormatInt(id, 10) }

// Seal encrypts text that account wrote for the field table.column of row,
// under the account's own key: erasing the account makes it unreadable.
func (s *Service) Seal(ctx context.Context, tx *store.Tx, account int64, table, column string, row int64, text string) ([]byte, error) {
	return s.crypt.Seal(ctx, tx, identity.Subject(account), fieldcrypt.FieldRef{Table: table, Column: column, Row: ID(row)}, []byte(text))
}

// Open decrypts what Seal sealed. For an author whose account was erased
// (account 0, or an erased key) it returns "" and erased true.
func (s *Service) Open(ctx context.Context, account int64, table, column string, row int64, sealed []byte) (text string, erased bool, err error) {
	if account == 0 {
		return "", true, nil
	}
	b, err := s.crypt.Open(ctx, identity.Subject(account), fieldcrypt.FieldRef{Table: table, Column: column, Row: ID(row)}, sealed)
	if errors.Is(err, fieldcrypt.ErrErased) {
		return "", true, nil
	}
	if err != nil {
		return "", false, err
	}
	return string(b), false, nil
}

// NewAccountAge is how long an account counts as new for automatic
// pre-moderation.
const NewAccountAge = 7 * 24 * time.Hour

// NewAccount reports whether account was created less than NewAccountAge
// ago.
func (s *Service) NewAccount(ctx context.Context, tx *store.Tx, account int64) (bool, error) {
	var created int64
	if err := tx.QueryRow(ctx, "SELECT created_at FROM accounts WHERE id = ?", account).Scan(&created); err != nil {
		return false, err
	}
	return s.Now().Sub(store.FromMicros(created)) < NewAccountAge, nil
}
