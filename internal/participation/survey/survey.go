// Package survey owns surveys: an official writes a form of questions
// (single choice, multiple choice with an optional limit, a scale with
// labelled ends, free text with a length limit; each required or not)
// before the survey's phase opens, eligible people answer it once, and
// the results are published with counts, distributions and the free-text
// answers, under a small-count rule that protects anonymity.
//
// A survey is identified or anonymous. An identified response is linked
// to the person's account and their free text is sealed under their own
// key (erasing the account makes it unreadable). An anonymous response
// keeps no link to anyone: the response row holds a random number, the
// day (not the time) and the answers, and the record that a person has
// answered (which makes "once" hold) is a separate row with no link to
// the response and no time. Both rows are written in the same transaction,
// and the record's uniqueness in the database refuses a second answer
// whatever the timing. The audit entry of an anonymous answer names
// neither the person nor the response. docs/surveys.md explains this in
// plain words, including what it does not protect against.
package survey

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/veche/veche/internal/participation"
	"github.com/veche/veche/internal/participation/notify"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/validate"
)

// Question kinds.
const (
	Single   = "single"   // choose one option
	Multiple = "multiple" // choose any number of options, up to MaxChoices if set
	Scale    = "scale"    // a whole number from ScaleMin to ScaleMax
	Text     = "text"     // free text up to MaxLength characters
)

// Kinds lists the question kinds in the order forms show them.
var Kinds = []string{Single, Multiple, Scale, Text}

// Limits.
const (
	MaxIntro        = 20000
	MaxQuestionText = 1000
	MaxHelp         = 1000
	MaxQuestions    = 100
	MaxOptions      = 50
	MaxOptionLabel  = 200
	MaxScaleLabel   = 100
	MaxScaleSpan    = 10    // e.g. 0–10
	MaxTextLength   = 10000 // the highest limit an official may set on free text
	DefaultTextMax  = 2000
	// SuppressBelow is the small-count rule: a question's breakdown is
	// published only when at least this many people answered it, and no
	// breakdown at all while the survey has fewer responses.
	SuppressBelow = 5
)

// Errors callers branch on.
var (
	ErrAlreadyAnswered = errors.New("survey: you have already answered this survey")
	ErrQuestionsLocked = errors.New("survey: questions can be changed only before the survey opens")
	ErrResultsNotYet   = errors.New("survey: the results are published when the survey closes")
)

// Service manages surveys.
type Service struct {
	p *participation.Service
}

// New returns the survey service over the participation core.
func New(p *participation.Service) *Service { return &Service{p: p} }

// SpaceInput is what an official enters to open a survey in a process.
type SpaceInput struct {
	ProcessID int64  `json:"process_id"`
	PhaseID   int64  `json:"phase_id"`
	Title     string `json:"title"`
	Intro     string `json:"intro"`
	// Anonymous responses keep no link to the person who answered.
	Anonymous bool `json:"anonymous"`
	// LiveResults publishes the results while the survey is open.
	LiveResults bool `json:"live_results"`
	// PublicText publishes the free-text answers of an identified
	// survey (without names); otherwise only officials read them. The
	// free text of an anonymous survey is always published.
	PublicText bool `json:"public_text"`
	// Questions, if any, are added with the survey in one step.
	Questions []QuestionInput `json:"questions"`
}

// CreateSpace opens a survey in a process and returns its space number.
func (s *Service) CreateSpace(ctx context.Context, official int64, in SpaceInput) (int64, error) {
	var e validate.Errors
	validate.Text(&e, "intro", in.Intro, false, MaxIntro)
	if len(in.Questions) > MaxQuestions {
		e.Add("questions", "survey_too_many_questions", map[string]any{"max": MaxQuestions})
	}
	for i := range in.Questions {
		in.Questions[i].check(&e, fmt.Sprintf("questions.%d.", i))
	}
	if err := e.Err(); err != nil {
		return 0, err
	}
	var id int64
	err := s.p.DB().InTx(ctx, func(tx *store.Tx) error {
		var err error
		id, err = s.p.AddSpace(ctx, tx, official, in.ProcessID, participation.SpaceInput{Kind: participation.KindSurvey,
			Title: in.Title, PhaseID: in.PhaseID})
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "INSERT INTO surveys (space_id, intro, anonymous, live_results, public_text) VALUES (?, ?, ?, ?, ?)",
			id, strings.TrimSpace(in.Intro), in.Anonymous, in.LiveResults, in.PublicText && !in.Anonymous); err != nil {
			return err
		}
		for i, q := range in.Questions {
			if _, err := insertQuestion(ctx, tx, id, i+1, q); err != nil {
				return err
			}
		}
		return notify.SpaceOpened(ctx, tx, id, s.p.Now())
	})
	return id, err
}

// QuestionInput is a question as an official writes it.
type QuestionInput struct {
	Kind     string `json:"kind"`
	Text     string `json:"text"`
	Help     string `json:"help"`
	Required bool   `json:"required"`
	// Options of a single or multiple choice question, in order.
	Options []string `json:"options"`
	// MaxChoices limits a multiple choice question (0: no limit).
	MaxChoices int `json:"max_choices"`
	// ScaleMin and ScaleMax bound a scale (default 1–5); LabelLow and
	// LabelHigh name its ends ("not at all", "very much").
	ScaleMin  int    `json:"scale_min"`
	ScaleMax  int    `json:"scale_max"`
	LabelLow  string `json:"label_low"`
	LabelHigh string `json:"label_high"`
	// MaxLength limits a free-text answer (default 2000 characters).
	MaxLength int `json:"max_length"`
	// Position places the question (1 is first; 0 puts it last).
	Position int `json:"position"`
}

// check validates and normalises a question, recording problems under
// fields named prefix+field.
func (q *QuestionInput) check(e *validate.Errors, prefix string) {
	q.Text, q.Help = strings.TrimSpace(q.Text), strings.TrimSpace(q.Help)
	q.LabelLow, q.LabelHigh = strings.TrimSpace(q.LabelLow), strings.TrimSpace(q.LabelHigh)
	if !slices.Contains(Kinds, q.Kind) {
		e.Add(prefix+"kind", "survey_unknown_question_kind", nil)
	}
	validate.Text(e, prefix+"text", q.Text, true, MaxQuestionText)
	validate.Text(e, prefix+"help", q.Help, false, MaxHelp)
	if q.Position < 0 || q.Position > MaxQuestions {
		e.Add(prefix+"position", "survey_position_out_of_range", map[string]any{"max": MaxQuestions})
	}
	var opts []string
	for _, o := range q.Options {
		if o = strings.TrimSpace(o); o != "" {
			opts = append(opts, o)
		}
	}
	switch q.Kind {
	case Single, Multiple:
		q.Options = opts
		switch {
		case len(opts) < 2:
			e.Add(prefix+"options", "survey_too_few_options", map[string]any{"min": 2})
		case len(opts) > MaxOptions:
			e.Add(prefix+"options", "survey_too_many_options", map[string]any{"max": MaxOptions})
		default:
			for _, o := range opts {
				if !validate.Text(e, prefix+"options", o, true, MaxOptionLabel) {
					break
				}
			}
			seen := map[string]bool{}
			for _, o := range opts {
				if seen[strings.ToLower(o)] {
					e.Add(prefix+"options", "survey_duplicate_option", map[string]any{"option": o})
					break
				}
				seen[strings.ToLower(o)] = true
			}
		}
		if q.Kind == Multiple && (q.MaxChoices < 0 || q.MaxChoices > len(opts)) {
			e.Add(prefix+"max_choices", "survey_max_choices_out_of_range", map[string]any{"max": len(opts)})
		}
		if q.Kind == Single {
			q.MaxChoices = 1
		}
	case Scale:
		q.Options = nil
		if q.ScaleMin == 0 && q.ScaleMax == 0 {
			q.ScaleMin, q.ScaleMax = 1, 5
		}
		if q.ScaleMin < 0 || q.ScaleMax <= q.ScaleMin || q.ScaleMax-q.ScaleMin > MaxScaleSpan {
			e.Add(prefix+"scale_max", "survey_scale_out_of_range", map[string]any{"span": MaxScaleSpan})
		}
		validate.Text(e, prefix+"label_low", q.LabelLow, false, MaxScaleLabel)
		validate.Text(e, prefix+"label_high", q.LabelHigh, false, MaxScaleLabel)
	case Text:
		q.Options = nil
		if q.MaxLength == 0 {
			q.MaxLength = DefaultTextMax
		}
		if q.MaxLength < 1 || q.MaxLength > MaxTextLength {
			e.Add(prefix+"max_length", "survey_max_length_out_of_range", map[string]any{"max": MaxTextLength})
		}
	}
	if q.Kind != Multiple && q.Kind != Single {
		q.MaxChoices = 0
	}
	if q.Kind != Scale {
		q.ScaleMin, q.ScaleMax, q.LabelLow, q.LabelHigh = 0, 0, "", ""
	}
	if q.Kind != Text {
		q.MaxLength = 0
	}
}

func insertQuestion(ctx context.Context, tx *store.Tx, space int64, position int, q QuestionInput) (int64, error) {
	var id int64
	if err := tx.QueryRow(ctx, `INSERT INTO survey_questions (space_id, position, kind, text, help, required, max_choices, scale_min, scale_max,
		label_low, label_high, max_length) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, space, position, q.Kind, q.Text, q.Help,
		q.Required, q.MaxChoices, q.ScaleMin, q.ScaleMax, q.LabelLow, q.LabelHigh, q.MaxLength).Scan(&id); err != nil {
		return 0, err
	}
	for i, o := range q.Options {
		if _, err := tx.Exec(ctx, "INSERT INTO survey_options (question_id, position, label) VALUES (?, ?, ?)", id, i+1, o); err != nil {
			return 0, err
		}
	}
	return id, nil
}

// editable checks, in tx, that space is a survey whose phase has not
// opened yet, so that its questions may change.
func (s *Service) editable(ctx context.Context, tx *store.Tx, space int64) error {
	sp, err := s.p.SpaceTx(ctx, tx, space)
	if err != nil {
		return err
	}
	if sp.Kind != participation.KindSurvey {
		return participation.ErrNotFound
	}
	if sp.State != participation.Upcoming {
		return ErrQuestionsLocked
	}
	return nil
}

// AddQuestion adds a question to a survey that has not opened yet.
func (s *Service) AddQuestion(ctx context.Context, official, space int64, in QuestionInput) (int64, error) {
	var e validate.Errors
	in.check(&e, "")
	if err := e.Err(); err != nil {
		return 0, err
	}
	var id int64
	err := s.p.DB().InTx(ctx, func(tx *store.Tx) error {
		if err := s.editable(ctx, tx, space); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM survey_questions WHERE space_id = ?", space).Scan(&n); err != nil {
			return err
		}
		if n >= MaxQuestions {
			return validate.One("questions", "survey_too_many_questions", map[string]any{"max": MaxQuestions})
		}
		pos := n + 1
		if in.Position > 0 && in.Position <= n {
			pos = in.Position
			if _, err := tx.Exec(ctx, "UPDATE survey_questions SET position = position + 1 WHERE space_id = ? AND position >= ?", space, pos); err != nil {
				return err
			}
		}
		var err error
		if id, err = insertQuestion(ctx, tx, space, pos, in); err != nil {
			return err
		}
		return s.p.Audit(ctx, tx, "survey.question_added", official, "", map[string]string{"space": participation.ID(space), "question": participation.ID(id)})
	})
	return id, err
}

// questionSpace returns the survey a question belongs to, in tx.
func questionSpace(ctx context.Context, tx *store.Tx, space, question int64) (position int, err error) {
	err = tx.QueryRow(ctx, "SELECT position FROM survey_questions WHERE id = ? AND space_id = ?", question, space).Scan(&position)
	if errors.Is(err, store.ErrNotFound) {
		return 0, participation.ErrNotFound
	}
	return position, err
}

// UpdateQuestion replaces a question of a survey that has not opened yet
// (its options are replaced too).
func (s *Service) UpdateQuestion(ctx context.Context, official, space, question int64, in QuestionInput) error {
	var e validate.Errors
	in.check(&e, "")
	if err := e.Err(); err != nil {
		return err
	}
	return s.p.DB().InTx(ctx, func(tx *store.Tx) error {
		if err := s.editable(ctx, tx, space); err != nil {
			return err
		}
		old, err := questionSpace(ctx, tx, space, question)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE survey_questions SET kind = ?, text = ?, help = ?, required = ?, max_choices = ?, scale_min = ?,
			scale_max = ?, label_low = ?, label_high = ?, max_length = ? WHERE id = ?`, in.Kind, in.Text, in.Help, in.Required, in.MaxChoices,
			in.ScaleMin, in.ScaleMax, in.LabelLow, in.LabelHigh, in.MaxLength, question); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM survey_options WHERE question_id = ?", question); err != nil {
			return err
		}
		for i, o := range in.Options {
			if _, err := tx.Exec(ctx, "INSERT INTO survey_options (question_id, position, label) VALUES (?, ?, ?)", question, i+1, o); err != nil {
				return err
			}
		}
		if in.Position > 0 && in.Position != old {
			if err := move(ctx, tx, space, question, old, in.Position); err != nil {
				return err
			}
		}
		return s.p.Audit(ctx, tx, "survey.question_changed", official, "", map[string]string{"space": participation.ID(space), "question": participation.ID(question)})
	})
}

// move puts a question at position to (clamped to the list), shifting
// the others.
func move(ctx context.Context, tx *store.Tx, space, question int64, from, to int) error {
	var n int
	if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM survey_questions WHERE space_id = ?", space).Scan(&n); err != nil {
		return err
	}
	to = min(to, n)
	var err error
	if to < from {
		_, err = tx.Exec(ctx, "UPDATE survey_questions SET position = position + 1 WHERE space_id = ? AND position >= ? AND position < ?", space, to, from)
	} else {
		_, err = tx.Exec(ctx, "UPDATE survey_questions SET position = position - 1 WHERE space_id = ? AND position > ? AND position <= ?", space, from, to)
	}
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, "UPDATE survey_questions SET position = ? WHERE id = ?", to, question)
	return err
}

// DeleteQuestion removes a question from a survey that has not opened yet.
func (s *Service) DeleteQuestion(ctx context.Context, official, space, question int64) error {
	return s.p.DB().InTx(ctx, func(tx *store.Tx) error {
		if err := s.editable(ctx, tx, space); err != nil {
			return err
		}
		pos, err := questionSpace(ctx, tx, space, question)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM survey_options WHERE question_id = ?", question); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM survey_questions WHERE id = ?", question); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE survey_questions SET position = position - 1 WHERE space_id = ? AND position > ?", space, pos); err != nil {
			return err
		}
		return s.p.Audit(ctx, tx, "survey.question_removed", official, "", map[string]string{"space": participation.ID(space), "question": participation.ID(question)})
	})
}

// Close ends a survey now, before its phase ends; the results are then
// published.
func (s *Service) Close(ctx context.Context, official, space int64) error {
	sp, err := s.p.Space(ctx, space)
	if err != nil {
		return err
	}
	if sp.Kind != participation.KindSurvey {
		return participation.ErrNotFound
	}
	return s.p.CloseSpace(ctx, official, space)
}

// Option is a choice of a question.
type Option struct {
	ID       int64  `json:"id"`
	Position int    `json:"position"`
	Label    string `json:"label"`
}

// Question is a question as the form shows it.
type Question struct {
	ID         int64    `json:"id"`
	Position   int      `json:"position"`
	Kind       string   `json:"kind"`
	Text       string   `json:"text"`
	Help       string   `json:"help,omitempty"`
	Required   bool     `json:"required"`
	Options    []Option `json:"options,omitempty"`
	MaxChoices int      `json:"max_choices,omitempty"`
	ScaleMin   int      `json:"scale_min,omitempty"`
	ScaleMax   int      `json:"scale_max,omitempty"`
	LabelLow   string   `json:"label_low,omitempty"`
	LabelHigh  string   `json:"label_high,omitempty"`
	MaxLength  int      `json:"max_length,omitempty"`
}

// ScaleValues lists the values of a scale question, lowest first.
func (q *Question) ScaleValues() []int {
	var out []int
	for v := q.ScaleMin; v <= q.ScaleMax && q.Kind == Scale; v++ {
		out = append(out, v)
	}
	return out
}

// Field names the question's answer in forms and in error lists.
func (q *Question) Field() string { return "answers." + strconv.FormatInt(q.ID, 10) }

// Input is the question as an official would enter it again (for the
// edit form).
func (q *Question) Input() QuestionInput {
	in := QuestionInput{Kind: q.Kind, Text: q.Text, Help: q.Help, Required: q.Required, MaxChoices: q.MaxChoices, ScaleMin: q.ScaleMin,
		ScaleMax: q.ScaleMax, LabelLow: q.LabelLow, LabelHigh: q.LabelHigh, MaxLength: q.MaxLength, Position: q.Position}
	for _, o := range q.Options {
		in.Options = append(in.Options, o.Label)
	}
	return in
}

// Survey is a survey with its settings and questions.
type Survey struct {
	participation.Space
	Intro       string     `json:"intro"`
	Anonymous   bool       `json:"anonymous"`
	LiveResults bool       `json:"live_results"`
	PublicText  bool       `json:"public_text"`
	Questions   []Question `json:"questions"`
	// Editable is true while the questions may still change.
	Editable bool `json:"editable"`
}

// Get returns a survey with its questions.
func (s *Service) Get(ctx context.Context, space int64) (*Survey, error) {
	sp, err := s.p.Space(ctx, space)
	if err != nil {
		return nil, err
	}
	if sp.Kind != participation.KindSurvey {
		return nil, participation.ErrNotFound
	}
	sv := &Survey{Space: *sp, Editable: sp.State == participation.Upcoming}
	err = s.p.DB().QueryRow(ctx, "SELECT intro, anonymous, live_results, public_text FROM surveys WHERE space_id = ?", space).
		Scan(&sv.Intro, &sv.Anonymous, &sv.LiveResults, &sv.PublicText)
	if errors.Is(err, store.ErrNotFound) {
		return nil, participation.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if sv.Questions, err = s.questions(ctx, space); err != nil {
		return nil, err
	}
	return sv, nil
}

func (s *Service) questions(ctx context.Context, space int64) ([]Question, error) {
	rows, err := s.p.DB().Query(ctx, `SELECT id, position, kind, text, help, required, max_choices, scale_min, scale_max, label_low, label_high, max_length
		FROM survey_questions WHERE space_id = ? ORDER BY position, id`, space)
	if err != nil {
		return nil, err
	}
	var qs []Question
	for rows.Next() {
		var q Question
		if err := rows.Scan(&q.ID, &q.Position, &q.Kind, &q.Text, &q.Help, &q.Required, &q.MaxChoices, &q.ScaleMin, &q.ScaleMax,
			&q.LabelLow, &q.LabelHigh, &q.MaxLength); err != nil {
			rows.Close()
			return nil, err
		}
		qs = append(qs, q)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = s.p.DB().Query(ctx, `SELECT o.id, o.question_id, o.position, o.label FROM survey_options o
		JOIN survey_questions q ON q.id = o.question_id WHERE q.space_id = ? ORDER BY o.question_id, o.position`, space)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var o Option
		var qid int64
		if err := rows.Scan(&o.ID, &qid, &o.Position, &o.Label); err != nil {
			return nil, err
		}
		for i := range qs {
			if qs[i].ID == qid {
				qs[i].Options = append(qs[i].Options, o)
			}
		}
	}
	return qs, rows.Err()
}

// Answer is one person's answer to one question: the chosen options
// (single or multiple choice), the value (scale) or the text (free text).
// An answer with none of them is no answer.
type Answer struct {
	Options []int64 `json:"options,omitempty"`
	Value   *int    `json:"value,omitempty"`
	Text    string  `json:"text,omitempty"`
}

func (a Answer) empty() bool {
	return len(a.Options) == 0 && a.Value == nil && strings.TrimSpace(a.Text) == ""
}

// stored is an answer as the response row keeps it (free text apart).
type stored struct {
	O []int64 `json:"o,omitempty"`
	V *int    `json:"v,omitempty"`
	T bool    `json:"t,omitempty"` // a free-text answer, kept apart
}

// check validates answers against the questions and returns what to
// store: choices and values by question, and free texts by question.
func check(qs []Question, answers map[int64]Answer) (map[string]stored, map[string]string, error) {
	var e validate.Errors
	choices, texts := map[string]stored{}, map[string]string{}
	for id := range answers {
		if !slices.ContainsFunc(qs, func(q Question) bool { return q.ID == id }) {
			e.Add("answers."+strconv.FormatInt(id, 10), "survey_not_a_question", nil)
		}
	}
	for _, q := range qs {
		a, field, key := answers[q.ID], q.Field(), strconv.FormatInt(q.ID, 10)
		n := map[string]any{"question": q.Position}
		if a.empty() {
			if q.Required {
				e.Add(field, "survey_answer_required", n)
			}
			continue
		}
		switch q.Kind {
		case Single, Multiple:
			if a.Value != nil || a.Text != "" {
				e.Add(field, "survey_not_an_option", n)
				continue
			}
			var picked []int64
			ok := true
			for _, o := range a.Options {
				if !slices.ContainsFunc(q.Options, func(x Option) bool { return x.ID == o }) {
					ok = false
					break
				}
				if !slices.Contains(picked, o) {
					picked = append(picked, o)
				}
			}
			switch {
			case !ok:
				e.Add(field, "survey_not_an_option", n)
			case q.Kind == Single && len(picked) > 1:
				e.Add(field, "survey_one_choice_only", n)
			case q.Kind == Multiple && q.MaxChoices > 0 && len(picked) > q.MaxChoices:
				e.Add(field, "survey_too_many_choices", map[string]any{"question": q.Position, "max": q.MaxChoices})
			default:
				slices.Sort(picked)
				choices[key] = stored{O: picked}
			}
		case Scale:
			if a.Value == nil || len(a.Options) > 0 || a.Text != "" || *a.Value < q.ScaleMin || *a.Value > q.ScaleMax {
				e.Add(field, "survey_outside_scale", map[string]any{"question": q.Position, "min": q.ScaleMin, "max": q.ScaleMax})
				continue
			}
			v := *a.Value
			choices[key] = stored{V: &v}
		case Text:
			if len(a.Options) > 0 || a.Value != nil {
				e.Add(field, "survey_answer_text_only", n)
				continue
			}
			var te validate.Errors
			if !validate.Text(&te, field, a.Text, false, q.MaxLength) {
				code := "survey_answer_invalid_text"
				if te[0].Code == "too_long" {
					code = "survey_answer_too_long"
				}
				e.Add(field, code, map[string]any{"question": q.Position, "max": q.MaxLength})
				continue
			}
			texts[key] = strings.TrimSpace(a.Text)
			choices[key] = stored{T: true}
		}
	}
	return choices, texts, e.Err()
}

// randomID is a response number that says nothing about when or in which
// order the response came: 62 random bits, never the table's sequence.
func randomID() (int64, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return 0, err
	}
	return int64(binary.BigEndian.Uint64(b[:])>>2) | 1, nil
}

// Day is the date a response keeps: midnight UTC of the day it came.
func Day(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// Respond records account's answers to a survey while it is open and
// they are eligible. Every problem with the answers is reported at once,
// by question, and nothing is stored; a second response is refused with
// ErrAlreadyAnswered by the database, whatever the timing.
func (s *Service) Respond(ctx context.Context, account, space int64, answers map[int64]Answer) error {
	sv, err := s.Get(ctx, space)
	if err != nil {
		return err
	}
	choices, texts, err := check(sv.Questions, answers)
	if err != nil {
		return err
	}
	encoded, err := json.Marshal(choices)
	if err != nil {
		return err
	}
	return s.p.DB().InTx(ctx, func(tx *store.Tx) error {
		if _, err := s.p.Gate(ctx, tx, participation.KindSurvey, space, account); err != nil {
			return err
		}
		var anonymous bool
		if err := tx.QueryRow(ctx, "SELECT anonymous FROM surveys WHERE space_id = ?", space).Scan(&anonymous); err != nil {
			return err
		}
		id, err := randomID()
		if err != nil {
			return err
		}
		plain := ""
		if anonymous && len(texts) > 0 {
			b, _ := json.Marshal(texts)
			plain = string(b)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO survey_responses (id, space_id, day, answers, texts) VALUES (?, ?, ?, ?, ?)",
			id, space, store.Micros(Day(s.p.Now())), string(encoded), plain); err != nil {
			return err
		}
		var link any // an anonymous response is not linked to its author
		if !anonymous {
			link = id
			if len(texts) > 0 {
				b, _ := json.Marshal(texts)
				sealed, err := s.p.Seal(ctx, tx, account, "survey_responses", "texts_sealed", id, string(b))
				if err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, "UPDATE survey_responses SET texts_sealed = ? WHERE id = ?", sealed, id); err != nil {
					return err
				}
			}
		}
		if _, err := tx.Exec(ctx, "INSERT INTO survey_participants (space_id, account_id, response_id) VALUES (?, ?, ?)", space, account, link); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return ErrAlreadyAnswered
			}
			return err
		}
		if anonymous {
			// Neither the person nor the response: only that the survey
			// received an anonymous answer.
			return s.p.Audit(ctx, tx, "survey.answered_anonymously", 0, "", map[string]string{"space": participation.ID(space)})
		}
		return s.p.Audit(ctx, tx, "survey.answered", account, "", map[string]string{"space": participation.ID(space)})
	})
}

// Answered reports whether account has answered the survey.
func (s *Service) Answered(ctx context.Context, space, account int64) (bool, error) {
	if account == 0 {
		return false, nil
	}
	var n int
	err := s.p.DB().QueryRow(ctx, "SELECT COUNT(*) FROM survey_participants WHERE space_id = ? AND account_id = ?", space, account).Scan(&n)
	return n > 0, err
}

// MyResponse returns account's own answers to an identified survey, free
// text included (nil when they have not answered or the survey is
// anonymous: an anonymous response cannot be found again by anyone).
func (s *Service) MyResponse(ctx context.Context, space, account int64) (map[int64]Answer, error) {
	var id int64
	var answers string
	var sealed []byte
	err := s.p.DB().QueryRow(ctx, `SELECT r.id, r.answers, r.texts_sealed FROM survey_participants p JOIN survey_responses r ON r.id = p.response_id
		WHERE p.space_id = ? AND p.account_id = ?`, space, account).Scan(&id, &answers, &sealed)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := map[int64]Answer{}
	var choices map[string]stored
	if err := json.Unmarshal([]byte(answers), &choices); err != nil {
		return nil, err
	}
	for k, c := range choices {
		q, _ := strconv.ParseInt(k, 10, 64)
		if !c.T {
			out[q] = Answer{Options: c.O, Value: c.V}
		}
	}
	if len(sealed) > 0 {
		text, _, err := s.p.Open(ctx, account, "survey_responses", "texts_sealed", id, sealed)
		if err != nil {
			return nil, err
		}
		var texts map[string]string
		if text != "" {
			if err := json.Unmarshal([]byte(text), &texts); err != nil {
				return nil, err
			}
		}
		for k, t := range texts {
			q, _ := strconv.ParseInt(k, 10, 64)
			out[q] = Answer{Text: t}
		}
	}
	return out, nil
}

// response is a stored response read back for the results.
type response struct {
	id      int64
	account int64 // identified surveys, while the account exists
	choices map[string]stored
	texts   map[string]string
	sealed  []byte
}

func (s *Service) responses(ctx context.Context, space int64, withTexts bool) ([]response, error) {
	rows, err := s.p.DB().Query(ctx, `SELECT r.id, r.answers, r.texts, r.texts_sealed, COALESCE(p.account_id, 0) FROM survey_responses r
		LEFT JOIN survey_participants p ON p.response_id = r.id AND p.space_id = r.space_id WHERE r.space_id = ? ORDER BY r.id`, space)
	if err != nil {
		return nil, err
	}
	var out []response
	for rows.Next() {
		var r response
		var answers, texts string
		if err := rows.Scan(&r.id, &answers, &texts, &r.sealed, &r.account); err != nil {
			rows.Close()
			return nil, err
		}
		if err := json.Unmarshal([]byte(answers), &r.choices); err != nil {
			rows.Close()
			return nil, fmt.Errorf("survey: response of space %d: %w", space, err)
		}
		if texts != "" {
			if err := json.Unmarshal([]byte(texts), &r.texts); err != nil {
				rows.Close()
				return nil, err
			}
		}
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if !withTexts {
		return out, nil
	}
	for i := range out {
		r := &out[i]
		if len(r.sealed) == 0 {
			continue
		}
		text, erased, err := s.p.Open(ctx, r.account, "survey_responses", "texts_sealed", r.id, r.sealed)
		if err != nil {
			return nil, err
		}
		if !erased && text != "" {
			if err := json.Unmarshal([]byte(text), &r.texts); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// SpaceOf returns the survey a question belongs to.
func (s *Service) SpaceOf(ctx context.Context, question int64) (int64, error) {
	var space int64
	err := s.p.DB().QueryRow(ctx, "SELECT space_id FROM survey_questions WHERE id = ?", question).Scan(&space)
	if errors.Is(err, store.ErrNotFound) {
		return 0, participation.ErrNotFound
	}
	return space, err
}
