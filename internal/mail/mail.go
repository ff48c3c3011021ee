// Package mail owns veche's outgoing email: an outbox table written in the
// same transaction as the change that causes a message, and a background
// dispatcher that hands queued messages to a [Sender].
//
// Queuing first means a request's response time never depends on whether a
// message was sent (so the registration and password-reset forms cannot be
// used to learn which addresses have accounts), and a message is never sent
// for a change that rolled back.
//
// Two senders are built in: [FileSender], the default, writes each message
// as an RFC 5322 file under the data directory and logs where, so a local
// user can read their verification and reset links; [SMTPSender] delivers
// through an SMTP relay with STARTTLS (RFC 3207) required.
package mail

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/smtp"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/veche/veche/internal/privacy/fieldcrypt"
	"github.com/veche/veche/internal/store"
)

// Message is one plain-text email.
type Message struct {
	To      string
	Subject string
	Body    string
}

// Sender delivers one message.
type Sender interface {
	Send(ctx context.Context, from string, m Message) error
}

// Sealer seals and opens data under a person's key (package fieldcrypt).
type Sealer interface {
	Seal(ctx context.Context, tx *store.Tx, subject string, f fieldcrypt.FieldRef, plaintext []byte) ([]byte, error)
	Open(ctx context.Context, subject string, f fieldcrypt.FieldRef, ciphertext []byte) ([]byte, error)
}

// Enqueue queues m in tx, sealed under the key of subject (the person it
// is about); it is sent after the transaction commits. If the person is
// erased before it is sent, it is never sent.
func Enqueue(ctx context.Context, tx *store.Tx, crypt Sealer, subject string, m Message) error {
	if m.To == "" || strings.ContainsAny(m.To, "\r\n") || strings.ContainsAny(m.Subject, "\r\n") {
		return errors.New("mail: recipient or subject is empty or has a line break")
	}
	t := store.Micros(time.Now())
	var id int64
	if err := tx.QueryRow(ctx, `INSERT INTO mail_outbox (recipient, subject, body, subject_ref, created_at, next_attempt_at)
		VALUES ('', '', '', ?, ?, ?) RETURNING id`, subject, t, t).Scan(&id); err != nil {
		return err
	}
	b, _ := json.Marshal(m)
	sealed, err := crypt.Seal(ctx, tx, subject, messageRef(id), b)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, "UPDATE mail_outbox SET sealed = ? WHERE id = ?", sealed, id)
	return err
}

func messageRef(id int64) fieldcrypt.FieldRef {
	return fieldcrypt.FieldRef{Table: "mail_outbox", Column: "message", Row: strconv.FormatInt(id, 10)}
}

// Dispatcher sends queued mail in the background.
type Dispatcher struct {
	DB     *store.DB
	Crypt  Sealer
	Sender Sender
	From   string
	Holder string // lease holder name of this node
	Logger *slog.Logger
	wake   chan struct{}
	sent   atomic.Int64
}

// Wake asks the dispatcher to look at the outbox now.
func (d *Dispatcher) Wake() {
	if d.wake == nil {
		return
	}
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run sends mail until ctx ends.
func (d *Dispatcher) Run(ctx context.Context) {
	d.wake = make(chan struct{}, 1)
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		if _, err := d.Flush(ctx); err != nil && ctx.Err() == nil {
			d.Logger.Warn("mail: flush failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-d.wake:
		}
	}
}

// Flush sends every message that is due and reports how many were sent.
// Failed messages are retried with backoff and dropped after 10 attempts.
func (d *Dispatcher) Flush(ctx context.Context) (int, error) {
	ok, err := d.DB.AcquireLease(ctx, "mail-dispatch", d.Holder, time.Minute)
	if err != nil || !ok {
		return 0, err
	}
	type queued struct {
		id       int64
		subject  string
		sealed   []byte
		attempts int
	}
	rows, err := d.DB.Query(ctx, `SELECT id, subject_ref, sealed, attempts FROM mail_outbox
		WHERE next_attempt_at <= ? AND sealed IS NOT NULL ORDER BY id LIMIT 100`, store.Micros(time.Now()))
	if err != nil {
		return 0, err
	}
	var due []queued
	for rows.Next() {
		var q queued
		if err := rows.Scan(&q.id, &q.subject, &q.sealed, &q.attempts); err != nil {
			rows.Close()
			return 0, err
		}
		due = append(due, q)
	}
	rows.Close()
	sent := 0
	for _, q := range due {
		var m Message
		pt, err := d.Crypt.Open(ctx, q.subject, messageRef(q.id), q.sealed)
		if err == nil {
			err = json.Unmarshal(pt, &m)
		}
		if err != nil {
			// Erased person, or a message that no longer opens: never send.
			d.Logger.Warn("mail: dropping a queued message that cannot be opened", "id", q.id, "err", err)
			if _, err := d.DB.Exec(ctx, "DELETE FROM mail_outbox WHERE id = ?", q.id); err != nil {
				return sent, err
			}
			continue
		}
		err = d.Sender.Send(ctx, d.From, m)
		if err == nil || q.attempts >= 9 {
			if err != nil {
				d.Logger.Error("mail: giving up on a message after 10 attempts", "id", q.id, "err", err)
			}
			if _, err := d.DB.Exec(ctx, "DELETE FROM mail_outbox WHERE id = ?", q.id); err != nil {
				return sent, err
			}
			sent++
			continue
		}
		backoff := time.Duration(1<<q.attempts) * 10 * time.Second
		d.Logger.Warn("mail: send failed, will retry", "id", q.id, "in", backoff, "err", err)
		if _, err := d.DB.Exec(ctx, "UPDATE mail_outbox SET attempts = attempts + 1, next_attempt_at = ? WHERE id = ?",
			store.Micros(time.Now().Add(backoff)), q.id); err != nil {
			return sent, err
		}
	}
	d.sent.Add(int64(sent))
	return sent, nil
}

// format renders m as an RFC 5322 message with a UTF-8 text body.
func format(from string, m Message, now time.Time) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\n", from)
	fmt.Fprintf(&b, "To: %s\r\n", m.To)
	fmt.Fprintf(&b, "Subject: %s\r\n", mime.QEncoding.Encode("utf-8", m.Subject))
	fmt.Fprintf(&b, "Date: %s\r\n", now.UTC().Format(time.RFC1123Z))
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	b.WriteString(strings.ReplaceAll(strings.ReplaceAll(m.Body, "\r\n", "\n"), "\n", "\r\n"))
	return []byte(b.String())
}

// FileSender writes each message to Dir as <time>-<n>.eml.
type FileSender struct {
	Dir    string
	Logger *slog.Logger
	n      atomic.Int64
}

// Send writes m to a file.
func (s *FileSender) Send(ctx context.Context, from string, m Message) error {
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return err
	}
	now := time.Now()
	name := filepath.Join(s.Dir, fmt.Sprintf("%s-%d.eml", now.UTC().Format("20060102T150405.000000"), s.n.Add(1)))
	if err := os.WriteFile(name, format(from, m, now), 0o600); err != nil {
		return err
	}
	if s.Logger != nil {
		s.Logger.Info("mail: written to file (no SMTP relay configured)", "file", name, "subject", m.Subject)
	}
	return nil
}

// SMTPSender delivers through an SMTP relay. The connection must offer
// STARTTLS unless the relay is on a loopback address.
type SMTPSender struct {
	Addr     string // host:port
	Username string
	Password string
}

// Send delivers m.
func (s *SMTPSender) Send(ctx context.Context, from string, m Message) error {
	host, _, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return fmt.Errorf("mail: smtp address %q: %w", s.Addr, err)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return err
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	} else {
		conn.SetDeadline(time.Now().Add(time.Minute))
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return err
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}); err != nil {
			return err
		}
	} else if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("mail: %s does not offer STARTTLS; refusing to send in clear", s.Addr)
	}
	if s.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", s.Username, s.Password, host)); err != nil {
			return err
		}
	}
	addr := from
	if a, err := mailAddress(from); err == nil {
		addr = a
	}
	if err := c.Mail(addr); err != nil {
		return err
	}
	if err := c.Rcpt(m.To); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(format(from, m, time.Now())); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

func mailAddress(from string) (string, error) {
	if i, j := strings.LastIndex(from, "<"), strings.LastIndex(from, ">"); i >= 0 && j > i {
		return from[i+1 : j], nil
	}
	return from, nil
}

// MemorySender keeps messages in memory; tests read them back.
type MemorySender struct {
	mu   sync.Mutex
	msgs []Message
}

// Send records m.
func (s *MemorySender) Send(ctx context.Context, from string, m Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, m)
	return nil
}

// Messages returns the messages sent so far.
func (s *MemorySender) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}
