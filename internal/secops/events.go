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
// Rate limits are token buckets (golang.org/x/time/rate) per client address
// and per account, so attacks are slowed down rather than accounts locked
// (NIST SP 800-63B-4 §3.2.2: throttle, do not lock out the real owner).
// Buckets live in each node's memory; behind a load balancer a client's
// budget is at most the per-node budget times the node count.
package secops

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

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
	ID      int64     `json:"id"`
	At      time.Time `json:"at"`
	Kind    EventKind `json:"kind"`
	IP      string    `json:"ip"`
	Account string    `json:"account,omitempty"` // pseudonym
	Route   string    `json:"route,omitempty"`
	Detail  string    `json:"detail,omitempty"`
}

// Recorder writes security events.
type Recorder struct {
	db     *store.DB
	logger *slog.Logger
	now    func() time.Time
}

// NewRecorder returns a Recorder writing to db and logger.
func NewRecorder(db *store.DB, logger *slog.Logger) *Recorder {
	return &Recorder{db: db, logger: logger, now: time.Now}
}

// Record stores e (its time is set here). Failures to store are logged and
// not returned: a full disk must not turn a refused request into a 500.
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
	_, err := r.db.Exec(context.WithoutCancel(ctx), `INSERT INTO security_events (at, kind, ip, account, route, detail)
		VALUES (?, ?, ?, ?, ?, ?)`, store.Micros(e.At), string(e.Kind), e.IP, e.Account, e.Route, e.Detail)
	if err != nil {
		r.logger.Error("secops: could not store security event", "kind", e.Kind, "err", err)
	}
}

// Filter selects events to list.
type Filter struct {
	Kind    EventKind // "" = all
	Account string    // only events about this pseudonym ("" = all)
	Before  int64     // list events with id below this ("" = newest)
	Limit   int       // default 100, at most 500
}

// Events lists events newest first.
func (r *Recorder) Events(ctx context.Context, f Filter) ([]Event, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	q := "SELECT id, at, kind, ip, account, route, detail FROM security_events WHERE 1=1"
	var args []any
	if f.Kind != "" {
		q += " AND kind = ?"
		args = append(args, string(f.Kind))
	}
	if f.Account != "" {
		q += " AND account = ?"
		args = append(args, f.Account)
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
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var at int64
		var kind string
		if err := rows.Scan(&e.ID, &at, &kind, &e.IP, &e.Account, &e.Route, &e.Detail); err != nil {
			return nil, err
		}
		e.At, e.Kind = store.FromMicros(at), EventKind(kind)
		out = append(out, e)
	}
	return out, rows.Err()
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
