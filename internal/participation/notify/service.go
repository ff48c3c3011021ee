package notify

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/veche/veche/internal/i18n"
	"github.com/veche/veche/internal/participation"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/validate"
)

// Email modes.
const (
	EmailImmediately = "immediately"
	EmailDaily       = "daily"
	EmailNever       = "never"
)

// EmailModes lists the modes in the order forms show them.
var EmailModes = []string{EmailImmediately, EmailDaily, EmailNever}

// PageSize is how many notifications a list shows.
const PageSize = 50

// Service reads and changes follows, notifications and preferences, and
// sends the emails (see mail.go).
type Service struct {
	p *participation.Service
	// PublicURL is the instance's address that links in emails start
	// with; only the mail job needs it.
	PublicURL string
	// MailQueued, if set, is called after a transaction queued mail.
	MailQueued func()
}

// New returns the service over the participation core, whose database,
// clock, sealing and audit log it uses.
func New(p *participation.Service, publicURL string) *Service {
	return &Service{p: p, PublicURL: strings.TrimSuffix(publicURL, "/")}
}

// Follow makes account follow (on) or stop following a process. Stopping
// is remembered: taking part in the process later does not follow it
// again.
func (s *Service) Follow(ctx context.Context, account, process int64, on bool) error {
	now := s.p.Now()
	return s.p.DB().InTx(ctx, func(tx *store.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM processes WHERE id = ?", process).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return participation.ErrNotFound
		}
		res, err := tx.Exec(ctx, "UPDATE process_follows SET following = ?, source = 'chosen', created_at = ? WHERE account_id = ? AND process_id = ? AND following <> ?",
			on, store.Micros(now), account, process, on)
		if err != nil {
			return err
		}
		if k, _ := res.RowsAffected(); k == 0 {
			res, err = tx.Exec(ctx, `INSERT INTO process_follows (account_id, process_id, following, source, created_at) VALUES (?, ?, ?, 'chosen', ?)
				ON CONFLICT DO NOTHING`, account, process, on, store.Micros(now))
			if err != nil {
				return err
			}
			if k, _ := res.RowsAffected(); k == 0 {
				return nil // already as asked: nothing changed
			}
		}
		action := "process.unfollowed"
		if on {
			action = "process.followed"
		}
		return s.p.Audit(ctx, tx, action, account, "", map[string]string{"process": participation.ID(process)})
	})
}

// Following reports whether account follows process.
func (s *Service) Following(ctx context.Context, account, process int64) (bool, error) {
	if account == 0 {
		return false, nil
	}
	var on bool
	err := s.p.DB().QueryRow(ctx, "SELECT following FROM process_follows WHERE account_id = ? AND process_id = ?", account, process).Scan(&on)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return on, err
}

// Preferences are what a person wants by email. Notifications on the
// site are always kept.
type Preferences struct {
	// Email is EmailImmediately, EmailDaily (the default) or EmailNever.
	Email string `json:"email_mode"`
	// EmailOff lists the kinds whose emails the person turned off.
	EmailOff []string `json:"email_off"`
}

// EmailFor reports whether notifications of kind go out by email.
func (p Preferences) EmailFor(kind string) bool {
	return p.Email != EmailNever && !slices.Contains(p.EmailOff, kind)
}

// Preferences returns account's preferences (the defaults when they
// never chose).
func (s *Service) Preferences(ctx context.Context, account int64) (Preferences, error) {
	return preferences(ctx, s.p.DB(), account)
}

type queryer interface {
	QueryRow(ctx context.Context, query string, args ...any) *store.Row
}

func preferences(ctx context.Context, q queryer, account int64) (Preferences, error) {
	p := Preferences{Email: EmailDaily, EmailOff: []string{}}
	var off string
	err := q.QueryRow(ctx, "SELECT email_mode, email_off FROM notify_preferences WHERE account_id = ?", account).Scan(&p.Email, &off)
	if errors.Is(err, store.ErrNotFound) {
		return p, nil
	}
	if off != "" {
		p.EmailOff = strings.Split(off, ",")
	}
	return p, err
}

// SetPreferences stores account's preferences.
func (s *Service) SetPreferences(ctx context.Context, account int64, p Preferences) error {
	var e validate.Errors
	if !slices.Contains(EmailModes, p.Email) {
		e.Add("email_mode", "invalid", nil)
	}
	var off []string
	for _, k := range p.EmailOff {
		if !slices.Contains(Kinds, k) {
			e.Add("email_off", "invalid", nil)
			break
		}
		if !slices.Contains(off, k) {
			off = append(off, k)
		}
	}
	if err := e.Err(); err != nil {
		return err
	}
	slices.SortFunc(off, func(a, b string) int { return slices.Index(Kinds, a) - slices.Index(Kinds, b) })
	now := store.Micros(s.p.Now())
	return s.p.DB().InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO notify_preferences (account_id, email_mode, email_off, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (account_id) DO UPDATE SET email_mode = excluded.email_mode, email_off = excluded.email_off, updated_at = excluded.updated_at`,
			account, p.Email, strings.Join(off, ","), now); err != nil {
			return err
		}
		return s.p.Audit(ctx, tx, "notify.preferences_changed", account, "", map[string]string{"email_mode": p.Email, "email_off": strings.Join(off, " ")})
	})
}

// Item is a notification as a person reads it.
type Item struct {
	ID      int64             `json:"id"`
	Kind    string            `json:"kind"`
	Event   string            `json:"event,omitempty"`
	Process int64             `json:"process_id,omitempty"`
	Link    string            `json:"link"`
	Text    string            `json:"text"`
	Params  map[string]string `json:"params"`
	Created time.Time         `json:"created_at"`
	Read    bool              `json:"read"`
}

// render fills in the text of it in lang.
func (it *Item) render(lang i18n.Lang) {
	kv := make([]any, 0, 2*len(it.Params))
	for k, v := range it.Params {
		kv = append(kv, k, v)
	}
	it.Text = i18n.T(lang, MessageKey(it.Kind, it.Event), kv...)
}

const itemColumns = "id, kind, event, COALESCE(process_id, 0), link, params, created_at, read_at"

func scanItem(scan func(...any) error, lang i18n.Lang) (Item, error) {
	var it Item
	var params string
	var created int64
	var read sql.NullInt64
	if err := scan(&it.ID, &it.Kind, &it.Event, &it.Process, &it.Link, &params, &created, &read); err != nil {
		return it, err
	}
	it.Created, it.Read = store.FromMicros(created), read.Valid
	if err := json.Unmarshal([]byte(params), &it.Params); err != nil {
		return it, err
	}
	it.render(lang)
	return it, nil
}

// List returns account's notifications, newest first, rendered in lang:
// page 1 is the newest PageSize.
func (s *Service) List(ctx context.Context, account int64, lang i18n.Lang, page int) ([]Item, error) {
	if page < 1 {
		page = 1
	}
	rows, err := s.p.DB().Query(ctx, "SELECT "+itemColumns+" FROM notifications WHERE account_id = ? ORDER BY id DESC LIMIT ? OFFSET ?",
		account, PageSize, (page-1)*PageSize)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Item{}
	for rows.Next() {
		it, err := scanItem(rows.Scan, lang)
		if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// Unread counts account's unread notifications.
func (s *Service) Unread(ctx context.Context, account int64) (int, error) {
	var n int
	err := s.p.DB().QueryRow(ctx, "SELECT COUNT(*) FROM notifications WHERE account_id = ? AND read_at IS NULL", account).Scan(&n)
	return n, err
}

// MarkRead marks account's notifications read: all of them, or when upTo
// is above zero those numbered up to upTo (what the reader saw), and
// reports how many changed. Reading is bookkeeping of one's own inbox,
// not an act on the platform: it is not in the audit log.
func (s *Service) MarkRead(ctx context.Context, account, upTo int64) (int64, error) {
	q, args := "UPDATE notifications SET read_at = ? WHERE account_id = ? AND read_at IS NULL", []any{store.Micros(s.p.Now()), account}
	if upTo > 0 {
		q, args = q+" AND id <= ?", append(args, upTo)
	}
	res, err := s.p.DB().Exec(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
