// Package results publishes the results of closed participation spaces
// as open data: `veche export open-data` writes them through package
// opendata, beside the anonymised datasets, as CSV and JSON with a data
// dictionary.
//
// The datasets hold the totals that each closed space's public results
// page already shows — comments and answers per consultation section,
// signatures and responses per petition, votes and decisions per budget
// project, counts per survey option — and nothing more. They name no one
// and carry no text a citizen wrote (a petition's title goes with its
// author's account when it is erased; an export, once published, cannot
// be erased), so they are released exactly, with no noise. Content hidden
// by moderation is not in them, and survey breakdowns follow the survey's
// small-count rule, as on its page.
package results

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/veche/veche/internal/participation"
	"github.com/veche/veche/internal/participation/budget"
	"github.com/veche/veche/internal/participation/consultation"
	"github.com/veche/veche/internal/participation/petition"
	"github.com/veche/veche/internal/participation/survey"
	"github.com/veche/veche/internal/privacy/anonymize"
	"github.com/veche/veche/internal/privacy/opendata"
	"github.com/veche/veche/internal/store"
)

// Datasets are the results datasets of the spaces of p.
func Datasets(p *participation.Service) []opendata.Dataset {
	return []opendata.Dataset{
		consultations(p),
		petitions(p),
		budgets(p),
		surveys(p),
	}
}

// Register adds the datasets to r.
func Register(r *opendata.Registry, p *participation.Service) {
	for _, d := range Datasets(p) {
		r.MustRegister(d)
	}
}

// col documents a published column; every column here is a public total
// or label, so its role is Other.
func col(name, description, unit, typ string) opendata.ColumnDoc {
	return opendata.ColumnDoc{Name: name, Description: description, Unit: unit, Type: typ, Role: anonymize.Other}
}

var spaceColumns = []opendata.ColumnDoc{
	col("process_id", "number of the participation process", "", "integer"),
	col("space_id", "number of the space within veche; its page is /consultations/N, /spaces/N/petitions, /budgets/N or /surveys/N", "", "integer"),
	col("space_title", "title of the space, as the public body wrote it", "", "string"),
	col("closed_at", "when the space closed (UTC)", "", "date-time (RFC 3339)"),
}

// closedSpaces lists the closed spaces of kind, oldest first.
func closedSpaces(ctx context.Context, db *store.DB, p *participation.Service, kind string) ([]*participation.Space, error) {
	ids, err := store.IDs(db.Query(ctx, "SELECT id FROM spaces WHERE kind = ? ORDER BY id", kind))
	if err != nil {
		return nil, err
	}
	var out []*participation.Space
	for _, id := range ids {
		sp, err := p.Space(ctx, id)
		if err != nil {
			return nil, err
		}
		if sp.State == participation.Closed {
			out = append(out, sp)
		}
	}
	return out, nil
}

func spaceCells(sp *participation.Space) []string {
	return []string{itoa(sp.ProcessID), itoa(sp.ID), sp.Title, sp.Closes().UTC().Format(time.RFC3339)}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func optTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// eachClosedSpace is a Results loader: the rows of every closed space of
// kind, in order, each space's rows made by rows and prefixed with the
// space's own columns. what names a space of the kind in the window.
func eachClosedSpace(p *participation.Service, kind, what string, numeric []bool,
	rows func(ctx context.Context, sp *participation.Space) ([][]string, error)) func(context.Context, *store.DB, time.Time) (opendata.Table, error) {
	return func(ctx context.Context, db *store.DB, now time.Time) (opendata.Table, error) {
		t := opendata.Table{Numeric: append([]bool{true, true, false, false}, numeric...)}
		spaces, err := closedSpaces(ctx, db, p, kind)
		if err != nil {
			return t, err
		}
		for _, sp := range spaces {
			rs, err := rows(ctx, sp)
			if err != nil {
				return t, fmt.Errorf("%s %d: %w", what, sp.ID, err)
			}
			for _, r := range rs {
				t.Rows = append(t.Rows, append(spaceCells(sp), r...))
			}
		}
		t.Window = fmt.Sprintf("every %s closed by the time of the export (%d)", what, len(spaces))
		return t, nil
	}
}

func consultations(p *participation.Service) opendata.Dataset {
	svc := consultation.New(p)
	cols := append(append([]opendata.ColumnDoc{}, spaceColumns...),
		col("section_id", "number of the section of the draft; empty for comments on the whole draft", "", "integer"),
		col("section", "heading of the section, as the public body wrote it; empty for the whole draft", "", "string"),
		col("comments", "published comments and replies on the section (hidden ones are not counted)", "comments", "integer"),
		col("agree", "agree marks on those comments", "marks", "integer"),
		col("disagree", "disagree marks on those comments", "marks", "integer"),
		col("comments_answered", "comments of the section that received an official answer", "comments", "integer"),
		col("section_outcome", "the official answer to the section as a whole: accepted, partly, rejected or noted; empty if none", "", "string"),
	)
	return opendata.Dataset{
		Name:        "consultation-results",
		Title:       "Results of closed consultations",
		Description: "For every section of every closed consultation: how many comments it received, their agree and disagree marks, and the official answers. No comment text and no author.",
		Columns:     cols,
		Results: &opendata.Results{Source: "the page and the results export of each closed consultation (/consultations/N)",
			Load: eachClosedSpace(p, participation.KindConsultation, "consultation", []bool{true, false, true, true, true, true, false},
				func(ctx context.Context, sp *participation.Space) ([][]string, error) {
					res, err := svc.Results(ctx, sp.ID)
					if err != nil {
						return nil, err
					}
					type totals struct{ comments, agree, disagree, answered int }
					by := map[int64]*totals{0: {}}
					for _, s := range res.Sections {
						by[s.ID] = &totals{}
					}
					for _, c := range res.Comments {
						tt, ok := by[c.SectionID]
						if !ok {
							tt = &totals{}
							by[c.SectionID] = tt
						}
						tt.comments++
						tt.agree += c.Agree
						tt.disagree += c.Disagree
						if c.Outcome != "" {
							tt.answered++
						}
					}
					row := func(id, heading, outcome string, tt *totals) []string {
						return []string{id, heading, strconv.Itoa(tt.comments), strconv.Itoa(tt.agree), strconv.Itoa(tt.disagree), strconv.Itoa(tt.answered), outcome}
					}
					out := [][]string{row("", "", "", by[0])}
					for _, s := range res.Sections {
						outcome := ""
						if s.Answer != nil {
							outcome = s.Answer.Outcome
						}
						out = append(out, row(itoa(s.ID), s.Heading, outcome, by[s.ID]))
					}
					return out, nil
				})},
	}
}

func petitions(p *participation.Service) opendata.Dataset {
	svc := petition.New(p)
	cols := append(append([]opendata.ColumnDoc{}, spaceColumns...),
		col("petition_id", "number of the petition or proposal; its page is /petitions/N", "", "integer"),
		col("kind", "petition or proposal", "", "string"),
		col("status", "published, or answered once the public body responded", "", "string"),
		col("signatures", "signatures when the space closed, withdrawn ones not counted", "signatures", "integer"),
		col("threshold", "signatures needed for an official response", "signatures", "integer"),
		col("published_at", "when it was published (UTC)", "", "date-time (RFC 3339)"),
		col("threshold_reached_at", "when it reached the threshold (UTC); empty if it did not", "", "date-time (RFC 3339)"),
		col("response_due_at", "the deadline for the official response (UTC); empty if none", "", "date-time (RFC 3339)"),
		col("responded_at", "when the public body responded (UTC); empty if it has not", "", "date-time (RFC 3339)"),
	)
	return opendata.Dataset{
		Name:        "petition-results",
		Title:       "Results of closed petition spaces",
		Description: "For every published petition and proposal of every closed space: signatures, the threshold, and the dates of the official response. No title, no text, no signer and no author: titles are the authors' own words.",
		Columns:     cols,
		Results: &opendata.Results{Source: "the page and the results export of each closed petition space (/spaces/N/petitions)",
			Load: eachClosedSpace(p, participation.KindPetitions, "petition space", []bool{true, false, false, true, true, false, false, false, false},
				func(ctx context.Context, sp *participation.Space) ([][]string, error) {
					res, err := svc.Results(ctx, sp.ID)
					if err != nil {
						return nil, err
					}
					var out [][]string
					for _, r := range res.Petitions {
						out = append(out, []string{itoa(r.ID), r.Kind, r.Status, itoa(r.Signatures), strconv.Itoa(r.Threshold),
							optTime(r.Published), optTime(r.Reached), optTime(r.ResponseDue), optTime(r.Responded)})
					}
					return out, nil
				})},
	}
}

func budgets(p *participation.Service) opendata.Dataset {
	svc := budget.New(p)
	cols := append(append([]opendata.ColumnDoc{}, spaceColumns...),
		col("voters", "people who voted in the budget", "people", "integer"),
		col("project_id", "number of the project", "", "integer"),
		col("project", "title of the project, as the public body published it", "", "string"),
		col("district", "district of the project; empty for the whole city", "", "string"),
		col("cost", "cost of the project, in the budget's currency", "currency units", "integer"),
		col("currency", "currency of the budget", "", "string"),
		col("votes", "voters who approved the project", "votes", "integer"),
		col("funded_greedy", "funded by the greedy rule (most votes first, while money lasts)", "", "boolean"),
		col("funded_equal_shares", "funded by the Method of Equal Shares", "", "boolean"),
	)
	return opendata.Dataset{
		Name:        "budget-results",
		Title:       "Results of closed participatory budgets",
		Description: "For every project of every closed budget: its cost, its votes, and whether the greedy rule and the Method of Equal Shares fund it (docs/participatory-budgeting.md explains both).",
		Columns:     cols,
		Results: &opendata.Results{Source: "the results page of each closed budget (/budgets/N/results)",
			Load: eachClosedSpace(p, participation.KindBudget, "budget", []bool{true, true, false, false, true, false, true, true, true},
				func(ctx context.Context, sp *participation.Space) ([][]string, error) {
					res, err := svc.Results(ctx, sp.ID)
					if err != nil {
						return nil, err
					}
					var out [][]string
					for _, pr := range res.Projects {
						out = append(out, []string{strconv.Itoa(res.Voters), itoa(pr.ID), pr.Title, pr.District, itoa(pr.Cost), res.Currency,
							strconv.Itoa(pr.Votes), strconv.FormatBool(pr.Greedy.Funded), strconv.FormatBool(pr.EqualShares.Funded)})
					}
					return out, nil
				})},
	}
}

func surveys(p *participation.Service) opendata.Dataset {
	svc := survey.New(p)
	cols := append(append([]opendata.ColumnDoc{}, spaceColumns...),
		col("responses", "people who responded to the survey", "people", "integer"),
		col("question_id", "number of the question", "", "integer"),
		col("question", "the question, as the public body wrote it", "", "string"),
		col("answered", "people who answered the question", "people", "integer"),
		col("answer", "the option's label, or the value of a scale", "", "string"),
		col("count", "people who chose this answer", "people", "integer"),
	)
	return opendata.Dataset{
		Name:  "survey-results",
		Title: "Results of closed surveys",
		Description: "For every choice and scale question of every closed survey: how many people chose each answer. Free-text answers are not included. " +
			"A survey or question with fewer responses than its small-count rule allows shows no breakdown, as on its results page.",
		Columns: cols,
		Results: &opendata.Results{Source: "the results page of each closed survey (/surveys/N/results)",
			Load: eachClosedSpace(p, participation.KindSurvey, "survey", []bool{true, true, false, true, false, true},
				func(ctx context.Context, sp *participation.Space) ([][]string, error) {
					res, err := svc.Results(ctx, sp.ID, false)
					if err != nil || res.Suppressed {
						return nil, err
					}
					var out [][]string
					for _, q := range res.Questions {
						if q.Suppressed {
							continue
						}
						cells := []string{strconv.Itoa(res.Responses), itoa(q.ID), q.Text, strconv.Itoa(q.Answered)}
						for _, o := range q.Options {
							out = append(out, append(cells[:len(cells):len(cells)], o.Label, strconv.Itoa(o.Count)))
						}
						for _, v := range q.Scale {
							out = append(out, append(cells[:len(cells):len(cells)], strconv.Itoa(v.Value), strconv.Itoa(v.Count)))
						}
					}
					return out, nil
				})},
	}
}
