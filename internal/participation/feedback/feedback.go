// Package feedback owns the feedback channel of every page: "was this
// page useful?" and "report a problem". Anyone may send it, signed in or
// not. A message keeps the page's path (never its query, which may hold a
// token), the yes or no, the optional problem text and the language, with
// the day it came: no account, no address, no time of day, so that it
// cannot be traced to a person. The problem text may still hold personal
// data that someone chose to write, so it is declared in the data map and
// deleted after a year. Officials read the messages, filtered by page and
// date, and export them as CSV.
package feedback

import (
	"context"
	"database/sql"
	"net/url"
	"strings"
	"time"

	"github.com/veche/veche/internal/participation"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/validate"
)

// Limits.
const (
	MaxProblem = 2000
	MaxPage    = 500
	MaxList    = 1000
)

// Service keeps feedback.
type Service struct {
	p *participation.Service
}

// New returns the feedback service; it uses the participation core's
// database, clock and audit log.
func New(p *participation.Service) *Service { return &Service{p: p} }

// Input is one message as a visitor sends it.
type Input struct {
	// Page is the path of the page the message is about.
	Page string `json:"page"`
	// Useful answers "was this page useful?" (nil: not answered).
	Useful *bool `json:"useful"`
	// Problem is an optional report of a problem.
	Problem string `json:"problem"`
	// Lang is the language the page was shown in.
	Lang string `json:"-"`
}

// Item is a message as officials read it.
type Item struct {
	ID      int64     `json:"id"`
	Page    string    `json:"page"`
	Useful  *bool     `json:"useful"`
	Problem string    `json:"problem,omitempty"`
	Lang    string    `json:"lang,omitempty"`
	Day     time.Time `json:"day"`
}

// CleanPage reduces what a form sent as the page to a path on this site:
// the query and fragment are dropped, since a query may carry a token.
// It returns "" for anything that is not a local path.
func CleanPage(page string) string {
	page = strings.TrimSpace(page)
	if !strings.HasPrefix(page, "/") || strings.HasPrefix(page, "//") || strings.HasPrefix(page, "/\\") {
		return ""
	}
	u, err := url.Parse(page)
	if err != nil || u.Host != "" || u.Scheme != "" {
		return ""
	}
	return u.Path
}

// Submit records a message. It needs a yes or no, a problem, or both.
func (s *Service) Submit(ctx context.Context, in Input) (*Item, error) {
	var e validate.Errors
	page := CleanPage(in.Page)
	switch {
	case page == "":
		e.Add("page", "feedback_not_a_page", nil)
	case !validate.Text(&e, "page", page, true, MaxPage):
	}
	problem := strings.TrimSpace(in.Problem)
	validate.Text(&e, "problem", problem, false, MaxProblem)
	if in.Useful == nil && problem == "" && len(e) == 0 {
		e.Add("problem", "feedback_empty", nil)
	}
	if err := e.Err(); err != nil {
		return nil, err
	}
	now := s.p.Now().UTC()
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	it := &Item{Page: page, Useful: in.Useful, Problem: problem, Lang: in.Lang, Day: day}
	var useful any
	if in.Useful != nil {
		useful = *in.Useful
	}
	err := s.p.DB().InTx(ctx, func(tx *store.Tx) error {
		if err := tx.QueryRow(ctx, "INSERT INTO feedback (page, useful, problem, lang, received_on) VALUES (?, ?, ?, ?, ?) RETURNING id",
			page, useful, problem, in.Lang, store.Micros(day)).Scan(&it.ID); err != nil {
			return err
		}
		detail := map[string]string{"useful": "unanswered", "problem": "no"}
		if in.Useful != nil && *in.Useful {
			detail["useful"] = "yes"
		} else if in.Useful != nil {
			detail["useful"] = "no"
		}
		if problem != "" {
			detail["problem"] = "yes"
		}
		return s.p.Audit(ctx, tx, "feedback.received", 0, "", detail)
	})
	if err != nil {
		return nil, err
	}
	return it, nil
}

// Filter narrows the list of messages.
type Filter struct {
	Page     string    // exact path, "" for all
	From, To time.Time // days, inclusive; zero for no bound
	// Problems lists only messages with a problem report.
	Problems bool
}

// Summary counts the answers to "was this useful?" under a filter.
type Summary struct {
	Total  int `json:"total"`
	Yes    int `json:"yes"`
	No     int `json:"no"`
	Issues int `json:"problems"`
}

// List returns the messages that match f, newest day first, at most
// MaxList, with the counts of all that match.
func (s *Service) List(ctx context.Context, f Filter) ([]Item, Summary, error) {
	where, args := []string{"1 = 1"}, []any{}
	if f.Page != "" {
		where, args = append(where, "page = ?"), append(args, f.Page)
	}
	if !f.From.IsZero() {
		where, args = append(where, "received_on >= ?"), append(args, store.Micros(f.From.UTC()))
	}
	if !f.To.IsZero() {
		where, args = append(where, "received_on < ?"), append(args, store.Micros(f.To.UTC().Add(24*time.Hour)))
	}
	if f.Problems {
		where = append(where, "problem <> ''")
	}
	cond := strings.Join(where, " AND ")
	var sum Summary
	if err := s.p.DB().QueryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN useful THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN NOT useful THEN 1 ELSE 0 END), 0), COALESCE(SUM(CASE WHEN problem <> '' THEN 1 ELSE 0 END), 0)
		FROM feedback WHERE `+cond, args...).Scan(&sum.Total, &sum.Yes, &sum.No, &sum.Issues); err != nil {
		return nil, sum, err
	}
	rows, err := s.p.DB().Query(ctx, "SELECT id, page, useful, problem, lang, received_on FROM feedback WHERE "+cond+
		" ORDER BY received_on DESC, id DESC LIMIT ?", append(args, MaxList)...)
	if err != nil {
		return nil, sum, err
	}
	defer rows.Close()
	var out []Item
	for rows.Next() {
		var it Item
		var useful sql.NullBool
		var day int64
		if err := rows.Scan(&it.ID, &it.Page, &useful, &it.Problem, &it.Lang, &day); err != nil {
			return nil, sum, err
		}
		if useful.Valid {
			v := useful.Bool
			it.Useful = &v
		}
		it.Day = store.FromMicros(day)
		out = append(out, it)
	}
	return out, sum, rows.Err()
}

// UsefulWord is the answer to "was this useful?": "yes", "no" or "".
func (it Item) UsefulWord() string {
	switch {
	case it.Useful == nil:
		return ""
	case *it.Useful:
		return "yes"
	}
	return "no"
}
