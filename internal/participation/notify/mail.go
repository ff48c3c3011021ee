package notify

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/veche/veche/internal/i18n"
	"github.com/veche/veche/internal/mail"
	"github.com/veche/veche/internal/participation"
	"github.com/veche/veche/internal/privacy"
	"github.com/veche/veche/internal/privacy/fieldcrypt"
	"github.com/veche/veche/internal/store"
)

// Timing of the mail job.
const (
	// DigestAfter is how long a daily digest waits after the oldest
	// notification it carries, so a person gets at most one a day.
	DigestAfter = 24 * time.Hour
	// DeadlineAhead is how long before a space closes its followers hear.
	DeadlineAhead = 48 * time.Hour
	// staleAfter: notifications older than this are no longer emailed
	// (the job was stopped, or the person only now turned email on).
	staleAfter = 7 * 24 * time.Hour
	// batch bounds the notifications one run looks at.
	batch = 5000
)

// RunResult says what one run of the job did.
type RunResult struct {
	Deadlines int64 // deadline notifications created
	Mails     int   // emails queued
	Skipped   int   // notifications not to be emailed
}

// Run is one pass of the notification job; the caller holds a lease so
// that one node runs it at a time (package app, every five minutes). It
// tells followers of spaces closing within DeadlineAhead (once per space
// and person), then queues the emails that are due: at once for people
// who chose "immediately", and a digest for those on "daily" whose oldest
// notification not yet emailed is DigestAfter old.
func (s *Service) Run(ctx context.Context) (RunResult, error) {
	var res RunResult
	now := s.p.Now()
	n, err := s.spaceDeadlines(ctx, now)
	if err != nil {
		return res, err
	}
	res.Deadlines = n

	type pending struct {
		id, account int64
		kind        string
		created     time.Time
		prefs       Preferences
	}
	rows, err := s.p.DB().Query(ctx, `SELECT n.id, n.account_id, n.kind, n.created_at, COALESCE(p.email_mode, ?), COALESCE(p.email_off, '')
		FROM notifications n LEFT JOIN notify_preferences p ON p.account_id = n.account_id
		WHERE n.mail_state = 'pending' ORDER BY n.account_id, n.id LIMIT ?`, EmailDaily, batch)
	if err != nil {
		return res, err
	}
	var all []pending
	for rows.Next() {
		var p pending
		var created int64
		var off string
		if err := rows.Scan(&p.id, &p.account, &p.kind, &created, &p.prefs.Email, &off); err != nil {
			rows.Close()
			return res, err
		}
		p.created = store.FromMicros(created)
		if off != "" {
			p.prefs.EmailOff = strings.Split(off, ",")
		}
		all = append(all, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return res, err
	}
	var skip []int64
	type due struct {
		account int64
		ids     []int64
	}
	var send []due
	for i := 0; i < len(all); {
		j := i
		var keep []int64
		oldest := now
		for ; j < len(all) && all[j].account == all[i].account; j++ {
			p := all[j]
			if !p.prefs.EmailFor(p.kind) || now.Sub(p.created) > staleAfter {
				skip = append(skip, p.id)
				continue
			}
			keep = append(keep, p.id)
			if p.created.Before(oldest) {
				oldest = p.created
			}
		}
		if len(keep) > 0 && (all[i].prefs.Email == EmailImmediately || now.Sub(oldest) >= DigestAfter) {
			send = append(send, due{all[i].account, keep})
		}
		i = j
	}
	if err := s.mark(ctx, skip, "skipped", now); err != nil {
		return res, err
	}
	res.Skipped = len(skip)
	for _, d := range send {
		sent, err := s.sendTo(ctx, d.account, d.ids, now)
		if err != nil {
			return res, err
		}
		if sent {
			res.Mails++
		} else {
			res.Skipped += len(d.ids)
		}
	}
	return res, nil
}

// mark sets the mail state of notifications.
func (s *Service) mark(ctx context.Context, ids []int64, state string, now time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	return s.p.DB().InTx(ctx, func(tx *store.Tx) error { return markTx(ctx, tx, ids, state, now) })
}

func markTx(ctx context.Context, tx *store.Tx, ids []int64, state string, now time.Time) error {
	for len(ids) > 0 {
		part := ids[:min(len(ids), 500)]
		ids = ids[len(part):]
		args := []any{state, store.Micros(now)}
		for _, id := range part {
			args = append(args, id)
		}
		if _, err := tx.Exec(ctx, "UPDATE notifications SET mail_state = ?, mailed_at = ? WHERE id IN (?"+strings.Repeat(", ?", len(part)-1)+")", args...); err != nil {
			return err
		}
	}
	return nil
}

// sendTo queues one email to account with the notifications ids, and
// reports whether it did: someone without a confirmed address, or whose
// processing for "communication" is restricted (GDPR Art. 18), gets none,
// and the notifications stay on the site only.
func (s *Service) sendTo(ctx context.Context, account int64, ids []int64, now time.Time) (bool, error) {
	db := s.p.DB()
	var sealed []byte
	var verified bool
	var locale string
	err := db.QueryRow(ctx, "SELECT email_sealed, email_verified, locale FROM accounts WHERE id = ?", account).Scan(&sealed, &verified, &locale)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil // erased meanwhile: its notifications went with it
	}
	if err != nil {
		return false, err
	}
	to, erased := "", true
	if len(sealed) > 0 {
		if to, erased, err = s.p.Open(ctx, account, "accounts", "email", account, sealed); err != nil {
			return false, err
		}
	}
	restricted, err := privacy.IsRestricted(ctx, db, account, "communication")
	if err != nil {
		return false, err
	}
	if erased || to == "" || !verified || restricted {
		return false, s.mark(ctx, ids, "skipped", now)
	}
	lang, ok := i18n.Parse(locale)
	if !ok {
		lang = i18n.Default
	}
	var items []Item
	err = db.InTx(ctx, func(tx *store.Tx) error {
		items = items[:0]
		args := []any{account}
		for _, id := range ids {
			args = append(args, id)
		}
		rows, err := tx.Query(ctx, "SELECT "+itemColumns+" FROM notifications WHERE account_id = ? AND mail_state = 'pending' AND id IN (?"+
			strings.Repeat(", ?", len(ids)-1)+") ORDER BY id", args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			it, err := scanItem(rows.Scan, lang)
			if err != nil {
				rows.Close()
				return err
			}
			items = append(items, it)
		}
		rows.Close()
		if err := rows.Err(); err != nil || len(items) == 0 {
			return err // another run sent them
		}
		m := s.Message(lang, to, items, len(ids) > 1 || s.digest(ctx, tx, account))
		if err := mail.Enqueue(ctx, tx, coreSealer{s.p}, "account:"+strconv.FormatInt(account, 10), m); err != nil {
			return err
		}
		var sent []int64
		for _, it := range items {
			sent = append(sent, it.ID)
		}
		if s.MailQueued != nil {
			tx.AfterCommit(s.MailQueued)
		}
		return markTx(ctx, tx, sent, "sent", now)
	})
	return err == nil && len(items) > 0, err
}

// digest reports whether account gets digests (rather than single mails).
func (s *Service) digest(ctx context.Context, tx *store.Tx, account int64) bool {
	p, err := preferences(ctx, tx, account)
	return err == nil && p.Email == EmailDaily
}

// Message is the email carrying items to to, in lang: plain text, plain
// links to this instance (the same for everyone: no per-recipient tokens,
// nothing that tracks opening or clicks), the way to change what is
// emailed, and the footer on recognising genuine messages.
func (s *Service) Message(lang i18n.Lang, to string, items []Item, digest bool) mail.Message {
	var b strings.Builder
	subject, intro := "notify.mail.subject.immediate", "notify.mail.intro.immediate"
	if digest {
		subject, intro = "notify.mail.subject.digest", "notify.mail.intro.digest"
	}
	b.WriteString(i18n.T(lang, "notify.mail.greeting") + "\n\n" + i18n.T(lang, intro) + "\n\n")
	for _, it := range items {
		b.WriteString("* " + it.Text + "\n  " + s.PublicURL + it.Link + "\n\n")
	}
	b.WriteString(i18n.T(lang, "notify.mail.preferences", "url", s.PublicURL+"/account/notifications") + "\n\n-- \n")
	b.WriteString(i18n.T(lang, "notify.mail.genuine", "host", host(s.PublicURL), "url", s.PublicURL))
	return mail.Message{To: to, Subject: i18n.T(lang, subject), Body: b.String()}
}

// host is the host name of the instance's address, which genuine links
// go to.
func host(publicURL string) string {
	u, err := url.Parse(publicURL)
	if err != nil || u.Host == "" {
		return publicURL
	}
	return u.Host
}

// spaceDeadlines tells the followers of every space that is open and
// closes within DeadlineAhead, once per space and person.
func (s *Service) spaceDeadlines(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	err := s.p.DB().InTx(ctx, func(tx *store.Tx) error {
		total = 0
		rows, err := tx.Query(ctx, `SELECT s.id FROM spaces s JOIN process_phases ph ON ph.id = s.phase_id
			WHERE s.closed_at IS NULL AND ph.starts_at <= ? AND ph.ends_at > ? AND ph.ends_at <= ? ORDER BY s.id`,
			store.Micros(now), store.Micros(now), store.Micros(now.Add(DeadlineAhead)))
		if err != nil {
			return err
		}
		var spaces []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			spaces = append(spaces, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, id := range spaces {
			f, err := facts(ctx, tx, id)
			if err != nil {
				return err
			}
			var before int64
			if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM notifications WHERE once_key = ?", "space-closes:"+participation.ID(id)).Scan(&before); err != nil {
				return err
			}
			n := Notification{Kind: KindDeadline, Event: "space", Process: f.process, Link: SpaceURL(f.kind, id), At: now,
				Once: "space-closes:" + participation.ID(id), Params: map[string]string{"space": f.title, "process": f.processTitle,
					"closes": store.FromMicros(f.ends).UTC().Format("2006-01-02 15:04 UTC")}}
			if err := emitTo(ctx, tx, n, 0, followers, f.process, true); err != nil {
				return err
			}
			var after int64
			if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM notifications WHERE once_key = ?", n.Once).Scan(&after); err != nil {
				return err
			}
			total += after - before
		}
		return nil
	})
	return total, err
}

// coreSealer seals queued mail under the recipient's key through the
// participation core, so erasing the person before it is sent cancels it.
type coreSealer struct{ p *participation.Service }

func (c coreSealer) ref(subject string, f fieldcrypt.FieldRef) (account, row int64, err error) {
	account, err = strconv.ParseInt(strings.TrimPrefix(subject, "account:"), 10, 64)
	if err != nil || !strings.HasPrefix(subject, "account:") {
		return 0, 0, errors.New("notify: mail is sealed under an account's key only")
	}
	if row, err = strconv.ParseInt(f.Row, 10, 64); err != nil {
		return 0, 0, errors.New("notify: mail rows are numbered")
	}
	return account, row, nil
}

func (c coreSealer) Seal(ctx context.Context, tx *store.Tx, subject string, f fieldcrypt.FieldRef, plaintext []byte) ([]byte, error) {
	account, row, err := c.ref(subject, f)
	if err != nil {
		return nil, err
	}
	return c.p.Seal(ctx, tx, account, f.Table, f.Column, row, string(plaintext))
}

func (c coreSealer) Open(ctx context.Context, subject string, f fieldcrypt.FieldRef, ciphertext []byte) ([]byte, error) {
	account, row, err := c.ref(subject, f)
	if err != nil {
		return nil, err
	}
	text, erased, err := c.p.Open(ctx, account, f.Table, f.Column, row, ciphertext)
	if erased {
		return nil, fieldcrypt.ErrErased
	}
	return []byte(text), err
}
