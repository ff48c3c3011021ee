// Package secops owns veche's defensive operations: the security-events
// record and the rate limits that throttle abuse.
//
// Every refused attempt, failed sign-in, failed second factor and
// permission denial is a row in security_events (OWASP ASVS 5.0 V16.3),
// holding the client address, the account's pseudonym, the route and a
// reason, and never a password, code or token. Failed sign-ins and second
// factors also write one log line of a fixed, documented form (see
// [AuthFailureLogFormat]) so host tools such as fail2ban or CrowdSec can ban
// an address (ASVS V6.3.1).
//
// The address is personal data and is stored sealed (package fieldcrypt),
// under one data key per UTC day of the event ([DaySubject]) rather than
// per person: nobody owns an address seen in a refused request, and the
// day is the unit the retention job erases (package privacy), so erasing
// one key makes a whole day's addresses unreadable in the database and in
// every backup. A keyed blind index of the address ([Filter.IP]) lets
// analysts find the events of one address without it being stored in
// clear.
//
// Rate limits are token buckets (golang.org/x/time/rate) per client address
// and per account, so attacks are slowed down rather than accounts locked
// (NIST SP 800-63B-4 §3.2.2: throttle, do not lock out the real owner).
// Buckets live in each node's memory; behind a load balancer a client's
// budget is at most the per-node budget times the node count.
package secops

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/veche/veche/internal/privacy/fieldcrypt"
	"github.com/veche/veche/internal/store"
)

// EventKind classifies a security event.
type EventKind string

// Event kinds.
const (
	SignInFailed     EventKind = "signin_failed"
	MFAFailed        EventKind = "mfa_failed"
	ReauthFailed     EventKind = "reauth_failed"
	RateLimited      EventKind = "rate_limited"
	PermissionDenied EventKind = "permission_denied"
	CrossOrigin      EventKind = "cross_origin_refused"
	TokenInvalid     EventKind = "token_invalid"
)

// AuthFailureLogFormat documents the log line written for each failed
// sign-in or second factor, as printed by the text log handler:
//
//	time=... level=WARN msg=auth_failure kind=signin_failed ip=203.0.113.7 account=account:... route=/signin
//
// A fail2ban failregex: `msg=auth_failure kind=\S+ ip=<HOST> `.
const AuthFailureLogFormat = "msg=auth_failure kind=<kind> ip=<address> account=<pseudonym or -> route=<path>"

// Event is one security event.
type Event struct {
	ID   int64     `json:"id"`
	At   time.Time `json:"at"`
	Kind EventKind `json:"kind"`
	IP   string    `json:"ip"`
	// IPErased: an address was recorded, but the key of its day has been
	// erased after the retention period, so it can no longer be read.
	IPErased bool   `json:"ip_erased,omitempty"`
	Account  string `json:"account,omitempty"` // pseudonym
	Route    string `json:"route,omitempty"`
	Detail   string `json:"detail,omitempty"`
}

// DaySubjectPrefix begins the fieldcrypt subject of each day's key; the
// rest is the UTC day, YYYY-MM-DD, so the subjects sort by day.
const DaySubjectPrefix = "security-day:"

// DaySubject names the data key that seals the addresses of events
// recorded on t's UTC day.
func DaySubject(t time.Time) string { return DaySubjectPrefix + t.UTC().Format(time.DateOnly) }

// addressIndexPurpose keys the blind index of addresses apart from every
// other blind index.
const addressIndexPurpose = "security_events.ip"

// Sealer seals and opens the addresses of events and computes their blind
// index; *fieldcrypt.Service is one.
type Sealer interface {
	Seal(ctx context.Context, tx *store.Tx, subject string, f fieldcrypt.FieldRef, plaintext []byte) ([]byte, error)
	Open(ctx context.Context, subject string, f fieldcrypt.FieldRef, ciphertext []byte) ([]byte, error)
	BlindIndex(purpose, normalized string) []byte
}

// Recorder writes security events.
type Recorder struct {
	db     *store.DB
	logger *slog.Logger
	crypt  Sealer
	now    func() time.Time
}

// NewRecorder returns a Recorder writing to db and logger, sealing
// addresses with crypt.
func NewRecorder(db *store.DB, logger *slog.Logger, crypt Sealer) *Recorder {
	return &Recorder{db: db, logger: logger, crypt: crypt, now: time.Now}
}

// SetClock replaces the clock, for tests.
func (r *Recorder) SetClock(now func() time.Time) { r.now = now }

// addressRef binds a sealed address to its row.
func addressRef(id int64) fieldcrypt.FieldRef {
	return fieldcrypt.FieldRef{Table: "security_events", Column: "ip", Row: strconv.FormatInt(id, 10)}
}

// normalizeAddress writes an address the one way the blind index sees
// it: ::ffff:192.0.2.1 and 192.0.2.1 are one client, and so are the
// spellings of one IPv6 address. Anything that is not an address is only
// trimmed.
func normalizeAddress(s string) string {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone("").String()
	}
	return s
}

func (r *Recorder) addressIndex(ip string) []byte {
	return r.crypt.BlindIndex(addressIndexPurpose, normalizeAddress(ip))
}

// sealAddress stores ip, sealed under the key of at's day, and its index
// on event id, and empties the plaintext column.
func (r *Recorder) sealAddress(ctx context.Context, tx *store.Tx, id int64, at time.Time, ip string) error {
	sealed, err := r.crypt.Seal(ctx, tx, DaySubject(at), addressRef(id), []byte(ip))
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, "UPDATE security_events SET ip_sealed = ?, ip_index = ?, ip = '' WHERE id = ?", sealed, r.addressIndex(ip), id)
	return err
}

// errSeal marks a failure to seal an address, after which the event is
// stored without it.
var errSeal = errors.New("secops: could not seal the address")

// Record stores e (its time is set here). Failures to store are logged and
// not returned: a full disk must not turn a refused request into a 500.
// An address that cannot be sealed (the keyring is unreachable) is left
// out rather than stored in clear.
func (r *Recorder) Record(ctx context.Context, e Event) {
	e.At = r.now()
	e.Route = clip(e.Route, 200)
	e.Detail = clip(e.Detail, 500)
	if e.Kind == SignInFailed || e.Kind == MFAFailed || e.Kind == ReauthFailed {
		acct := e.Account
		if acct == "" {
			acct = "-"
		}
		r.logger.Warn("auth_failure", "kind", string(e.Kind), "ip", e.IP, "account", acct, "route", e.Route)
	}
	ctx = context.WithoutCancel(ctx)
	err := r.db.InTx(ctx, func(tx *store.Tx) error { return r.insert(ctx, tx, e) })
	if errors.Is(err, errSeal) {
		r.logger.Error("secops: security event stored without its address, which could not be sealed", "kind", e.Kind, "err", err)
		e.IP = ""
		err = r.db.InTx(ctx, func(tx *store.Tx) error { return r.insert(ctx, tx, e) })
	}
	if err != nil {
		r.logger.Error("secops: could not store security event", "kind", e.Kind, "err", err)
	}
}

func (r *Recorder) insert(ctx context.Context, tx *store.Tx, e Event) error {
	var id int64
	if err := tx.QueryRow(ctx, `INSERT INTO security_events (at, kind, ip, account, route, detail)
		VALUES (?, ?, '', ?, ?, ?) RETURNING id`, store.Micros(e.At), string(e.Kind), e.Account, e.Route, e.Detail).Scan(&id); err != nil {
		return err
	}
	if e.IP == "" {
		return nil
	}
	if err := r.sealAddress(ctx, tx, id, e.At, e.IP); err != nil {
		return fmt.Errorf("%w: %w", errSeal, err)
	}
	return nil
}

// Filter selects events to list.
type Filter struct {
	Kind    EventKind // "" = all
	Account string    // only events about this pseudonym ("" = all)
	// IP lists only the events from this address ("" = all), found by its
	// blind index; events whose address retention erased no longer match.
	IP     string
	Before int64 // list events with id below this ("" = newest)
	Limit  int   // default 100, at most 500
}

// Events lists events newest first, with their addresses opened. An
// address whose day's key retention erased reads as "" with IPErased set;
// one that fails to open otherwise (altered in the database, keyring
// unreachable) fails the listing, so that a wrong address is never shown.
func (r *Recorder) Events(ctx context.Context, f Filter) ([]Event, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	q := "SELECT id, at, kind, ip, ip_sealed, account, route, detail FROM security_events WHERE 1=1"
	var args []any
	if f.Kind != "" {
		q += " AND kind = ?"
		args = append(args, string(f.Kind))
	}
	if f.Account != "" {
		q += " AND account = ?"
		args = append(args, f.Account)
	}
	if f.IP != "" {
		q += " AND ip_index = ?"
		args = append(args, r.addressIndex(f.IP))
	}
	if f.Before > 0 {
		q += " AND id < ?"
		args = append(args, f.Before)
	}
	q += fmt.Sprintf(" ORDER BY id DESC LIMIT %d", f.Limit)
	rows, err := r.db.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	var out []Event
	var sealed [][]byte
	for rows.Next() {
		var e Event
		var at int64
		var kind string
		var ct []byte
		if err := rows.Scan(&e.ID, &at, &kind, &e.IP, &ct, &e.Account, &e.Route, &e.Detail); err != nil {
			rows.Close()
			return nil, err
		}
		e.At, e.Kind = store.FromMicros(at), EventKind(kind)
		out = append(out, e)
		sealed = append(sealed, ct)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Opened once the rows are read, so a page does not hold a connection
	// while it fetches keys; a day's key is unwrapped once (cached).
	for i := range out {
		if len(sealed[i]) == 0 {
			continue // no address recorded (or, before start-up sealing, a legacy one in clear)
		}
		pt, err := r.crypt.Open(ctx, DaySubject(out[i].At), addressRef(out[i].ID), sealed[i])
		switch {
		case errors.Is(err, fieldcrypt.ErrErased):
			out[i].IP, out[i].IPErased = "", true
		case err != nil:
			return nil, fmt.Errorf("secops: address of security event %d: %w", out[i].ID, err)
		default:
			out[i].IP = string(pt)
		}
	}
	return out, nil
}

// SealLegacyRows seals the addresses that versions before migration 0022
// stored in clear and empties the plaintext column, in batches of one
// transaction each. It is run at start-up and does nothing once every row
// is sealed. An address whose day's key is already erased is dropped: its
// retention period is over.
func (r *Recorder) SealLegacyRows(ctx context.Context) (int, error) {
	const batch = 500
	type legacy struct {
		id int64
		at int64
		ip string
	}
	total := 0
	for {
		rows, err := r.db.Query(ctx, "SELECT id, at, ip FROM security_events WHERE ip <> '' ORDER BY id LIMIT ?", batch)
		if err != nil {
			return total, err
		}
		var todo []legacy
		for rows.Next() {
			var l legacy
			if err := rows.Scan(&l.id, &l.at, &l.ip); err != nil {
				rows.Close()
				return total, err
			}
			todo = append(todo, l)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return total, err
		}
		if len(todo) == 0 {
			return total, nil
		}
		err = r.db.InTx(ctx, func(tx *store.Tx) error {
			for _, l := range todo {
				err := r.sealAddress(ctx, tx, l.id, store.FromMicros(l.at), l.ip)
				if errors.Is(err, fieldcrypt.ErrErased) {
					_, err = tx.Exec(ctx, "UPDATE security_events SET ip = '' WHERE id = ?", l.id)
				}
				if err != nil {
					return fmt.Errorf("secops: seal the address of security event %d: %w", l.id, err)
				}
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		total += len(todo)
	}
}

// Count counts events of kind since t.
func (r *Recorder) Count(ctx context.Context, kind EventKind, since time.Time) (int, error) {
	var n int
	err := r.db.QueryRow(ctx, "SELECT COUNT(*) FROM security_events WHERE kind = ? AND at >= ?", string(kind), store.Micros(since)).Scan(&n)
	return n, err
}

func clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
