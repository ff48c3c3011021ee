package moderation

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/veche/veche/internal/i18n"
	"github.com/veche/veche/internal/mail"
	"github.com/veche/veche/internal/participation"
	"github.com/veche/veche/internal/participation/notify"
	"github.com/veche/veche/internal/privacy/fieldcrypt"
	"github.com/veche/veche/internal/store"
)

// tellAuthor queues, in tx, a message to the author of it about decision
// a, in the language of their account, with the public reason and how to
// ask for a review. The message is sealed under the author's key like all
// outgoing mail, so erasing the account before it is sent cancels it.
func (s *Service) tellAuthor(ctx context.Context, tx *store.Tx, it *item, a *Action) error {
	var sealed []byte
	var locale string
	err := tx.QueryRow(ctx, "SELECT email_sealed, locale FROM accounts WHERE id = ?", it.author).Scan(&sealed, &locale)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil || len(sealed) == 0 {
		return err
	}
	to, erased, err := s.p.Open(ctx, it.author, "accounts", "email", it.author, sealed)
	if err != nil || erased || to == "" {
		return err
	}
	lang, ok := i18n.Parse(locale)
	if !ok {
		lang = i18n.Default
	}
	base := strings.TrimSuffix(s.PublicURL, "/")
	id := strconv.FormatInt(it.id, 10)
	link := base + "/comments/" + id
	if it.kind == KindPetition {
		link = base + "/petitions/" + id
	}
	key := "moderation.mail." + a.Action
	body := i18n.T(lang, key+".body", "kind", i18n.T(lang, "moderation.kind."+it.kind), "reason", a.PublicReason, "link", link,
		"review", base+"/flag?kind="+it.kind+"&id="+id, "policy", base+"/moderation/policy", "log", base+"/moderation/log") +
		"\n\n-- \n" + i18n.T(lang, "mail.footer", "url", base)
	if err := mail.Enqueue(ctx, tx, coreSealer{s.p}, "account:"+strconv.FormatInt(it.author, 10),
		mail.Message{To: to, Subject: i18n.T(lang, key+".subject"), Body: body}); err != nil {
		return err
	}
	if s.MailQueued != nil {
		tx.AfterCommit(s.MailQueued)
	}
	return nil
}

// notifyAuthor tells the author of it, on the site (package notify), that
// their item was hidden, restored or published after review; the page it
// links to shows the public reason and, for a hidden item, the form to ask
// for a review.
func (s *Service) notifyAuthor(ctx context.Context, tx *store.Tx, it *item, a *Action) error {
	event := map[string]string{Hide: "hidden", Restore: "restored", Approve: "approved"}[a.Action]
	if event == "" || it.author == 0 {
		return nil
	}
	id := strconv.FormatInt(it.id, 10)
	link := "/petitions/" + id
	switch {
	case a.Action == Hide:
		link = "/flag?kind=" + it.kind + "&id=" + id
	case it.kind == KindComment:
		link = "/consultations/" + strconv.FormatInt(it.space, 10) + "#c" + id
	}
	return notify.Emit(ctx, tx, notify.Notification{Account: it.author, Kind: notify.KindModeration, Event: event,
		Process: it.process, Link: link, At: a.Decided})
}

// coreSealer seals outgoing mail under an account's key through the
// participation core, which holds the field encryption.
type coreSealer struct{ p *participation.Service }

func (c coreSealer) account(subject string, f fieldcrypt.FieldRef) (int64, int64, error) {
	account, err := strconv.ParseInt(strings.TrimPrefix(subject, "account:"), 10, 64)
	if err != nil || !strings.HasPrefix(subject, "account:") {
		return 0, 0, errors.New("moderation: mail is sealed under an account's key only")
	}
	row, err := strconv.ParseInt(f.Row, 10, 64)
	if err != nil {
		return 0, 0, errors.New("moderation: mail rows are numbered")
	}
	return account, row, nil
}

func (c coreSealer) Seal(ctx context.Context, tx *store.Tx, subject string, f fieldcrypt.FieldRef, plaintext []byte) ([]byte, error) {
	account, row, err := c.account(subject, f)
	if err != nil {
		return nil, err
	}
	return c.p.Seal(ctx, tx, account, f.Table, f.Column, row, string(plaintext))
}

func (c coreSealer) Open(ctx context.Context, subject string, f fieldcrypt.FieldRef, ciphertext []byte) ([]byte, error) {
	account, row, err := c.account(subject, f)
	if err != nil {
		return nil, err
	}
	text, erased, err := c.p.Open(ctx, account, f.Table, f.Column, row, ciphertext)
	if erased {
		return nil, fieldcrypt.ErrErased
	}
	return []byte(text), err
}
