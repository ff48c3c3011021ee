package survey

import (
	"context"
	"encoding/csv"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/veche/veche/internal/participation"
)

// Results are a survey's published results.
type Results struct {
	SpaceID   int64  `json:"space_id"`
	Title     string `json:"title"`
	State     string `json:"state"`
	Anonymous bool   `json:"anonymous"`
	Responses int    `json:"responses"`
	// SuppressBelow is the small-count rule in force; Suppressed is true
	// when the survey has fewer responses, and then no breakdown is given.
	SuppressBelow int              `json:"suppress_below"`
	Suppressed    bool             `json:"suppressed"`
	Questions     []QuestionResult `json:"questions"`
}

// QuestionResult is the breakdown of one question.
type QuestionResult struct {
	ID       int64  `json:"id"`
	Position int    `json:"position"`
	Kind     string `json:"kind"`
	Text     string `json:"text"`
	// Answered counts the people who answered the question.
	Answered int `json:"answered"`
	// Suppressed: fewer than SuppressBelow answered, so nothing more is
	// shown about this question.
	Suppressed bool           `json:"suppressed"`
	Options    []OptionResult `json:"options,omitempty"`
	Scale      []ScaleResult  `json:"scale,omitempty"`
	LabelLow   string         `json:"label_low,omitempty"`
	LabelHigh  string         `json:"label_high,omitempty"`
	Mean       *float64       `json:"mean,omitempty"`
	Median     *float64       `json:"median,omitempty"`
	Texts      []string       `json:"texts,omitempty"`
	// TextsHidden: the free-text answers of an identified survey are
	// read by officials only, unless the survey publishes them.
	TextsHidden bool `json:"texts_hidden,omitempty"`
}

// OptionResult counts one option.
type OptionResult struct {
	ID      int64   `json:"id"`
	Label   string  `json:"label"`
	Count   int     `json:"count"`
	Percent float64 `json:"percent"` // of the people who answered the question
}

// ScaleResult counts one value of a scale.
type ScaleResult struct {
	Value   int     `json:"value"`
	Count   int     `json:"count"`
	Percent float64 `json:"percent"`
}

// Max is the highest count among the options or scale values (for
// drawing bars to scale).
func (q *QuestionResult) Max() int {
	m := 0
	for _, o := range q.Options {
		m = max(m, o.Count)
	}
	for _, v := range q.Scale {
		m = max(m, v.Count)
	}
	return m
}

// Results returns a survey's results as viewer sees them: anyone once
// the survey is closed, or while it is open if it publishes live results;
// officials (official true) at any time, with the free text of identified
// surveys. Breakdowns follow the small-count rule (SuppressBelow) for
// everyone.
func (s *Service) Results(ctx context.Context, space int64, official bool) (*Results, error) {
	sv, err := s.Get(ctx, space)
	if err != nil {
		return nil, err
	}
	if sv.State != participation.Closed && !sv.LiveResults && !official {
		return nil, ErrResultsNotYet
	}
	showTexts := sv.Anonymous || sv.PublicText || official
	rs, err := s.responses(ctx, space, showTexts && !sv.Anonymous)
	if err != nil {
		return nil, err
	}
	res := &Results{SpaceID: space, Title: sv.Title, State: sv.State, Anonymous: sv.Anonymous, Responses: len(rs),
		SuppressBelow: SuppressBelow, Suppressed: len(rs) < SuppressBelow}
	for _, q := range sv.Questions {
		key := strconv.FormatInt(q.ID, 10)
		qr := QuestionResult{ID: q.ID, Position: q.Position, Kind: q.Kind, Text: q.Text, LabelLow: q.LabelLow, LabelHigh: q.LabelHigh}
		var values []int
		var texts []string
		counts := map[int64]int{}
		for _, r := range rs {
			c, ok := r.choices[key]
			if !ok {
				continue
			}
			qr.Answered++
			if c.V != nil {
				values = append(values, *c.V)
			}
			for _, o := range c.O {
				counts[o]++
			}
			if t, ok := r.texts[key]; ok {
				texts = append(texts, t)
			}
		}
		if qr.Answered < SuppressBelow || res.Suppressed {
			qr.Suppressed = true
			if q.Kind == Text && !showTexts {
				qr.TextsHidden = true
			}
			res.Questions = append(res.Questions, qr)
			continue
		}
		pct := func(n int) float64 { return float64(int(float64(n)*1000/float64(qr.Answered)+0.5)) / 10 }
		switch q.Kind {
		case Single, Multiple:
			for _, o := range q.Options {
				qr.Options = append(qr.Options, OptionResult{ID: o.ID, Label: o.Label, Count: counts[o.ID], Percent: pct(counts[o.ID])})
			}
		case Scale:
			byValue := map[int]int{}
			sum := 0
			for _, v := range values {
				byValue[v]++
				sum += v
			}
			for _, v := range q.ScaleValues() {
				qr.Scale = append(qr.Scale, ScaleResult{Value: v, Count: byValue[v], Percent: pct(byValue[v])})
			}
			mean := round2(float64(sum) / float64(len(values)))
			slices.Sort(values)
			median := float64(values[len(values)/2])
			if len(values)%2 == 0 {
				median = (float64(values[len(values)/2-1]) + float64(values[len(values)/2])) / 2
			}
			qr.Mean, qr.Median = &mean, &median
		case Text:
			if showTexts {
				// Sorted, so that the list says nothing about the order
				// in which people answered.
				slices.Sort(texts)
				qr.Texts = texts
			} else {
				qr.TextsHidden = true
			}
		}
		res.Questions = append(res.Questions, qr)
	}
	return res, nil
}

func round2(f float64) float64 { return float64(int(f*100+0.5)) / 100 }

// CSVHeader is the first row of the results export.
var CSVHeader = []string{"question", "position", "kind", "answer", "count", "percent"}

// WriteCSV writes the results as CSV: one row per option or scale value,
// the mean and median of scales, one row per published free-text answer,
// and one row saying so for a suppressed question. Cells that a
// spreadsheet would read as a formula are prefixed with an apostrophe.
func (r *Results) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	for _, q := range r.Questions {
		row := func(answer, count, percent string) error {
			return cw.Write([]string{CSVCell(q.Text), strconv.Itoa(q.Position), q.Kind, CSVCell(answer), count, percent})
		}
		if err := row("(answered)", strconv.Itoa(q.Answered), ""); err != nil {
			return err
		}
		if q.Suppressed {
			if err := row("(suppressed: fewer than "+strconv.Itoa(r.SuppressBelow)+" answers)", "", ""); err != nil {
				return err
			}
			continue
		}
		for _, o := range q.Options {
			if err := row(o.Label, strconv.Itoa(o.Count), f(o.Percent)); err != nil {
				return err
			}
		}
		for _, v := range q.Scale {
			if err := row(strconv.Itoa(v.Value), strconv.Itoa(v.Count), f(v.Percent)); err != nil {
				return err
			}
		}
		if q.Mean != nil {
			if err := row("(mean)", f(*q.Mean), ""); err != nil {
				return err
			}
			if err := row("(median)", f(*q.Median), ""); err != nil {
				return err
			}
		}
		for _, t := range q.Texts {
			if err := row(t, "1", ""); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// CSVCell makes text safe to open in a spreadsheet: a cell starting with
// =, +, -, @, a tab or a carriage return would be read as a formula
// (CSV injection), so it is prefixed with an apostrophe.
func CSVCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// MeanValue is the mean of a scale (0 when not given), for pages.
func (q *QuestionResult) MeanValue() float64 {
	if q.Mean == nil {
		return 0
	}
	return *q.Mean
}

// MedianValue is the median of a scale (0 when not given), for pages.
func (q *QuestionResult) MedianValue() float64 {
	if q.Median == nil {
		return 0
	}
	return *q.Median
}
