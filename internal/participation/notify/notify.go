// Package notify owns what veche tells a person about participation: the
// processes they follow, notifications on the site, and the emails that
// carry them (one at a time or in a daily digest), with a per-kind
// opt-out of email.
//
// A notification is inserted by [Emit] (or one of the helpers built on it)
// in the same transaction as the change it is about, so there is never a
// notification without the change and never a change whose notification
// was lost. It stores no text: a kind and an event name the catalog
// message (notify.msg.<kind>.<event>), rendered in the reader's language
// when read, with parameters that are public facts (the title of a public
// space, a petition's number). Nothing a person wrote is copied here.
//
// Following: a person follows a process by choice (the Follow button) or
// by taking part in it — commenting, filing or signing a petition follows
// the process, unless the person had chosen to stop following it, which
// taking part again does not undo. Followers hear of new spaces and of
// spaces closing within 48 hours.
//
// Email: plain text in the person's language, links that are plain
// addresses on the instance (no per-recipient tokens, no tracking), and a
// fixed footer saying how to recognise a genuine message. A person's
// preference is "immediately" (sent by the next run of the mail job,
// every five minutes), "daily" (the default: one digest, 24 hours after
// the oldest notification not yet emailed) or "never"; each kind's email
// can be turned off. Notifications on the site are always kept, for 90
// days (privacy.RetentionClocks).
package notify

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/veche/veche/internal/participation"
	"github.com/veche/veche/internal/store"
)

// Kinds of notification; each kind's email can be turned off.
const (
	KindReply      = "reply"      // someone replied to your comment
	KindAnswer     = "answer"     // an official answer or response to what you wrote or signed
	KindNewSpace   = "new_space"  // a space was added to a process you follow
	KindDeadline   = "deadline"   // a space you follow closes soon; a petition passed its deadline
	KindModeration = "moderation" // a moderator hid, restored, approved or rejected your content
)

// Kinds lists the kinds in the order forms show them.
var Kinds = []string{KindReply, KindAnswer, KindNewSpace, KindDeadline, KindModeration}

// events are the events of each kind; "" is the kind's only event.
var events = map[string][]string{
	KindReply:      {""},
	KindAnswer:     {"comment", "section", "petition", "petition_signed"},
	KindNewSpace:   {""},
	KindDeadline:   {"space", "petition"},
	KindModeration: {"hidden", "restored", "approved", "rejected"},
}

// Limits on what a notification holds.
const (
	maxParams     = 8
	maxParamValue = 300
	maxLink       = 500
)

// ErrInvalid is an Emit of a notification the catalog cannot render.
var ErrInvalid = errors.New("notify: invalid notification")

// Notification is one thing to tell one person.
type Notification struct {
	Account int64 // who is told; 0 tells nobody (an erased author)
	Kind    string
	// Event picks the message within the kind (see the catalog keys
	// notify.msg.<kind>.<event>); empty for kinds with one message.
	Event string
	// Process is the process it is about, if any (0 for none).
	Process int64
	// Link is the path on this instance to open, starting with "/".
	Link string
	// Params are the message's {name} parameters: public facts only.
	Params map[string]string
	// Once, when set, makes the event notify each person at most once.
	Once string
	// At is when it happened (the caller's clock); zero means now.
	At time.Time
}

// MessageKey is the catalog key of a notification's text.
func MessageKey(kind, event string) string {
	if event == "" {
		return "notify.msg." + kind
	}
	return "notify.msg." + kind + "." + event
}

func (n *Notification) check() error {
	evs, ok := events[n.Kind]
	if !ok || !slices.Contains(evs, n.Event) {
		return fmt.Errorf("%w: kind %q event %q", ErrInvalid, n.Kind, n.Event)
	}
	if len(n.Link) == 0 || n.Link[0] != '/' || len(n.Link) > 1 && n.Link[1] == '/' || len(n.Link) > maxLink {
		return fmt.Errorf("%w: the link must be a path on this instance", ErrInvalid)
	}
	if len(n.Params) > maxParams {
		return fmt.Errorf("%w: too many parameters", ErrInvalid)
	}
	for _, v := range n.Params {
		if len(v) > maxParamValue {
			return fmt.Errorf("%w: a parameter is too long", ErrInvalid)
		}
	}
	if n.At.IsZero() {
		n.At = time.Now()
	}
	return nil
}

// Emit notifies n.Account of n in tx, the transaction of the change it is
// about. A notification with a Once key the person already had is not
// repeated. Package moderation calls it with KindModeration.
func Emit(ctx context.Context, tx *store.Tx, n Notification) error {
	if n.Account == 0 {
		return nil
	}
	return emitTo(ctx, tx, n, 0, "SELECT CAST(? AS BIGINT) AS account", n.Account)
}

// emitTo notifies, in tx, every account that accounts (a query selecting
// one column named account) returns, except the account except (the one
// who acted) and erased ones (NULL).
func emitTo(ctx context.Context, tx *store.Tx, n Notification, except int64, accounts string, args ...any) error {
	if err := n.check(); err != nil {
		return err
	}
	params, err := json.Marshal(n.Params)
	if err != nil {
		return err
	}
	if n.Params == nil {
		params = []byte("{}")
	}
	var process, once any
	if n.Process != 0 {
		process = n.Process
	}
	if n.Once != "" {
		once = n.Once
	}
	// The casts give PostgreSQL the parameters' types, which it cannot
	// infer in a SELECT list.
	q := `INSERT INTO notifications (account_id, kind, event, process_id, link, params, once_key, created_at)
		SELECT a.account, CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS BIGINT)
		FROM (` + accounts + `) a WHERE a.account IS NOT NULL AND a.account <> ? ON CONFLICT DO NOTHING`
	all := append([]any{n.Kind, n.Event, process, n.Link, string(params), once, store.Micros(n.At)}, args...)
	_, err = tx.Exec(ctx, q, append(all, except)...)
	return err
}

// followers selects the accounts following a process.
const followers = "SELECT account_id AS account FROM process_follows WHERE process_id = ? AND following = ?"

// TookPart makes account follow the process of space, in tx, because they
// took part in it; someone who chose to stop following stays so.
func TookPart(ctx context.Context, tx *store.Tx, account, space int64, at time.Time) error {
	if account == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `INSERT INTO process_follows (account_id, process_id, following, source, created_at)
		SELECT CAST(? AS BIGINT), process_id, ?, 'took_part', CAST(? AS BIGINT) FROM spaces WHERE id = ? ON CONFLICT DO NOTHING`,
		account, true, store.Micros(at), space)
	return err
}

// spaceFacts are the public facts of a space that messages name.
type spaceFacts struct {
	kind, title, processTitle string
	process                   int64
	ends                      int64
}

func facts(ctx context.Context, tx *store.Tx, space int64) (spaceFacts, error) {
	var f spaceFacts
	err := tx.QueryRow(ctx, `SELECT s.kind, s.title, s.process_id, p.title, ph.ends_at FROM spaces s
		JOIN processes p ON p.id = s.process_id JOIN process_phases ph ON ph.id = s.phase_id WHERE s.id = ?`, space).
		Scan(&f.kind, &f.title, &f.process, &f.processTitle, &f.ends)
	return f, err
}

// SpaceURL is the path of a space's page.
func SpaceURL(kind string, space int64) string {
	n := strconv.FormatInt(space, 10)
	switch kind {
	case participation.KindConsultation:
		return "/consultations/" + n
	case participation.KindPetitions:
		return "/spaces/" + n + "/petitions"
	case participation.KindBudget:
		return "/budgets/" + n
	case participation.KindSurvey:
		return "/surveys/" + n
	}
	return "/processes"
}

// SpaceOpened tells the followers of space's process, in tx, that it was
// added. The space packages call it where they create their spaces.
func SpaceOpened(ctx context.Context, tx *store.Tx, space int64, at time.Time) error {
	f, err := facts(ctx, tx, space)
	if err != nil {
		return err
	}
	return emitTo(ctx, tx, Notification{Kind: KindNewSpace, Process: f.process, Link: SpaceURL(f.kind, space), At: at,
		Params: map[string]string{"space": f.title, "process": f.processTitle}}, 0, followers, f.process, true)
}

// CommentPosted is called in the transaction that posted comment: the
// author now follows the process, and the author of the comment replied
// to, if any, hears of the reply — unless they replied to themselves, or
// the reply waits for a moderator.
func CommentPosted(ctx context.Context, tx *store.Tx, comment int64, at time.Time) error {
	var space int64
	var author, parentAuthor sql.NullInt64
	var status string
	if err := tx.QueryRow(ctx, `SELECT c.space_id, c.author_id, c.status, p.author_id FROM comments c
		LEFT JOIN comments p ON p.id = c.parent_id WHERE c.id = ?`, comment).Scan(&space, &author, &status, &parentAuthor); err != nil {
		return err
	}
	if err := TookPart(ctx, tx, author.Int64, space, at); err != nil {
		return err
	}
	if !parentAuthor.Valid || parentAuthor.Int64 == author.Int64 || status != "published" {
		return nil
	}
	f, err := facts(ctx, tx, space)
	if err != nil {
		return err
	}
	return Emit(ctx, tx, Notification{Account: parentAuthor.Int64, Kind: KindReply, Process: f.process, At: at,
		Link: "/consultations/" + participation.ID(space) + "#c" + participation.ID(comment), Params: map[string]string{"space": f.title}})
}

// Answered is called in the transaction of an official answer in a
// consultation: to a comment (its author hears of it) or to a section
// (everyone whose published comment is on it does).
func Answered(ctx context.Context, tx *store.Tx, official, space, comment, section int64, at time.Time) error {
	f, err := facts(ctx, tx, space)
	if err != nil {
		return err
	}
	n := Notification{Kind: KindAnswer, Process: f.process, At: at, Params: map[string]string{"space": f.title}}
	if comment != 0 {
		n.Event, n.Link = "comment", "/consultations/"+participation.ID(space)+"#c"+participation.ID(comment)
		return emitTo(ctx, tx, n, official, "SELECT author_id AS account FROM comments WHERE id = ?", comment)
	}
	var heading string
	if err := tx.QueryRow(ctx, "SELECT heading FROM consultation_sections WHERE id = ?", section).Scan(&heading); err != nil {
		return err
	}
	n.Event, n.Link, n.Params["section"] = "section", "/consultations/"+participation.ID(space)+"#s"+participation.ID(section), heading
	return emitTo(ctx, tx, n, official, "SELECT DISTINCT author_id AS account FROM comments WHERE section_id = ? AND status = 'published'", section)
}

// petitionFacts returns the petition's author and process.
func petitionFacts(ctx context.Context, tx *store.Tx, petition int64) (author sql.NullInt64, process int64, err error) {
	err = tx.QueryRow(ctx, "SELECT p.author_id, s.process_id FROM petitions p JOIN spaces s ON s.id = p.space_id WHERE p.id = ?", petition).Scan(&author, &process)
	return author, process, err
}

// PetitionAnswered is called in the transaction of the public body's
// response to petition: its author and its signers hear of it.
func PetitionAnswered(ctx context.Context, tx *store.Tx, petition int64, at time.Time) error {
	author, process, err := petitionFacts(ctx, tx, petition)
	if err != nil {
		return err
	}
	n := Notification{Account: author.Int64, Kind: KindAnswer, Event: "petition", Process: process, At: at,
		Link: "/petitions/" + participation.ID(petition), Params: map[string]string{"petition": participation.ID(petition)}}
	if err := Emit(ctx, tx, n); err != nil {
		return err
	}
	n.Event = "petition_signed"
	return emitTo(ctx, tx, n, author.Int64, "SELECT account_id AS account FROM petition_signatures WHERE petition_id = ?", petition)
}

// PetitionOverdue is called in the transaction that escalates petition
// for a missed response deadline: its author and signers hear of it, once.
func PetitionOverdue(ctx context.Context, tx *store.Tx, petition int64, at time.Time) error {
	_, process, err := petitionFacts(ctx, tx, petition)
	if err != nil {
		return err
	}
	n := Notification{Kind: KindDeadline, Event: "petition", Process: process, At: at, Once: "petition-overdue:" + participation.ID(petition),
		Link: "/petitions/" + participation.ID(petition), Params: map[string]string{"petition": participation.ID(petition)}}
	return emitTo(ctx, tx, n, 0, `SELECT author_id AS account FROM petitions WHERE id = ?
		UNION SELECT account_id AS account FROM petition_signatures WHERE petition_id = ?`, petition, petition)
}
