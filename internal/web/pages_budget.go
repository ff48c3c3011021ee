package web

import (
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/veche/veche/internal/i18n"
	"github.com/veche/veche/internal/identity"
	"github.com/veche/veche/internal/participation"
	"github.com/veche/veche/internal/participation/budget"
	"github.com/veche/veche/internal/validate"
)

// Pages and API of participatory budgets (package participation/budget).

func (s *Server) newBudgetForm(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	s.renderSpaceForm(w, r, c, http.StatusOK, "budget-new", map[string][]string{"currency": {"EUR"}}, nil)
}

func (s *Server) createBudget(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	process, err := pathID(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	total, _ := strconv.ParseInt(r.PostFormValue("total"), 10, 64)
	id, err := s.sp.budgets.CreateSpace(r.Context(), c.principal.AccountID, budget.SpaceInput{ProcessID: process,
		PhaseID: formInt(r.PostFormValue("phase_id")), Title: r.PostFormValue("title"), Intro: r.PostFormValue("description"),
		Total: total, Currency: r.PostFormValue("currency")})
	var v validate.Errors
	if errors.As(err, &v) {
		s.renderSpaceForm(w, r, c, http.StatusUnprocessableEntity, "budget-new", r.PostForm, v)
		return
	}
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	http.Redirect(w, r, spaceURL(participation.KindBudget, id), http.StatusSeeOther)
}

func (s *Server) loadBudget(r *http.Request) (*budget.Budget, error) {
	id, err := pathID(r)
	if err != nil {
		return nil, err
	}
	return s.sp.budgets.Get(r.Context(), id)
}

func canManage(c *reqCtx) bool {
	return c.principal != nil && c.principal.Can(identity.PermProcessesManage)
}

func (s *Server) budgetPage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	s.renderBudget(w, r, c, http.StatusOK, nil, nil, "")
}

// budgetRow is a project on the ballot form, ticked or not.
type budgetRow struct {
	budget.Project
	Checked bool
}

// renderBudget shows a budget with the reader's ballot: chosen is what to
// show ticked (the stored ballot, or what was just sent back), with its
// total computed here.
func (s *Server) renderBudget(w http.ResponseWriter, r *http.Request, c *reqCtx, status int, chosen []int64, errs validate.Errors, notice string) {
	b, err := s.loadBudget(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	mine, err := s.sp.budgets.MyBallot(r.Context(), viewerID(c), b.ID)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	ev, err := s.viewerEligibility(r, c, b.ProcessID)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	if chosen == nil && mine != nil {
		chosen = mine.Projects
	}
	var total int64
	rows := make([]budgetRow, 0, len(b.Projects))
	for _, p := range b.Projects {
		checked := slices.Contains(chosen, p.ID)
		if checked {
			total += p.Cost
		}
		rows = append(rows, budgetRow{p, checked})
	}
	data := map[string]any{"Budget": b, "Mine": mine, "Rows": rows, "ChosenTotal": total, "Eligibility": ev,
		"Manage": canManage(c), "OverBudget": total > b.Total}
	switch r.URL.Query().Get("done") {
	case "cast":
		notice = i18n.T(c.lang, "budget.ballot.saved")
	case "withdrawn":
		notice = i18n.T(c.lang, "budget.ballot.withdrawn")
	}
	if notice != "" {
		data["Notice"] = notice
	}
	s.renderForm(w, r, c, status, "budget-space", data, nil, errs)
}

// chosenProjects reads the ticked projects of the ballot form.
func chosenProjects(r *http.Request) []int64 {
	out := []int64{}
	for _, v := range r.PostForm["project"] {
		if id := formInt(v); id > 0 {
			out = append(out, id)
		}
	}
	return out
}

// castBallot stores the ballot, or with action=check only shows its total.
func (s *Server) castBallot(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	chosen := chosenProjects(r)
	if r.PostFormValue("action") == "check" {
		s.renderBudget(w, r, c, http.StatusOK, chosen, nil, i18n.T(c.lang, "budget.ballot.checked"))
		return
	}
	_, err = s.sp.budgets.Cast(r.Context(), c.principal.AccountID, id, chosen)
	var v validate.Errors
	switch {
	case errors.As(err, &v):
		s.renderBudget(w, r, c, http.StatusUnprocessableEntity, chosen, v, "")
	case errors.Is(err, participation.ErrOutsidePhase), errors.Is(err, participation.ErrNotEligible):
		st, code := classify(err)
		s.renderBudget(w, r, c, st, chosen, validate.Errors{{Field: "projects", Code: "budget_refused", Params: map[string]any{"reason": message(c.lang, err, code)}}}, "")
	case err != nil:
		s.fail(w, r, c, err)
	default:
		http.Redirect(w, r, spaceURL(participation.KindBudget, id)+"?done=cast", http.StatusSeeOther)
	}
}

func (s *Server) withdrawBallot(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	id, err := pathID(r)
	if err == nil {
		err = s.sp.budgets.Withdraw(r.Context(), c.principal.AccountID, id)
	}
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	http.Redirect(w, r, spaceURL(participation.KindBudget, id)+"?done=withdrawn", http.StatusSeeOther)
}

// Projects: officials add and change them before voting opens.

func (s *Server) newProjectForm(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	s.renderProjectForm(w, r, c, http.StatusOK, nil, nil, nil)
}

func (s *Server) renderProjectForm(w http.ResponseWriter, r *http.Request, c *reqCtx, status int, project *budget.Project, form map[string][]string, errs validate.Errors) {
	space, err := pathID(r)
	if project != nil {
		space = project.SpaceID
	}
	var b *budget.Budget
	if err == nil {
		b, err = s.sp.budgets.Get(r.Context(), space)
	}
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	if project != nil && form == nil {
		form = map[string][]string{"project_title": {project.Title}, "project_description": {project.Description},
			"cost": {strconv.FormatInt(project.Cost, 10)}, "project_district": {project.District}}
	}
	s.renderForm(w, r, c, status, "budget-project", map[string]any{"Budget": b, "Project": project}, form, errs)
}

func projectFromForm(r *http.Request) budget.ProjectInput {
	cost, _ := strconv.ParseInt(r.PostFormValue("cost"), 10, 64)
	return budget.ProjectInput{Title: r.PostFormValue("project_title"), Description: r.PostFormValue("project_description"),
		Cost: cost, District: r.PostFormValue("project_district")}
}

func (s *Server) addProject(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	_, err = s.sp.budgets.AddProject(r.Context(), c.principal.AccountID, id, projectFromForm(r))
	s.afterProjectWrite(w, r, c, id, nil, err)
}

// budgetProject resolves /budget-projects/{id}.
func (s *Server) budgetProject(r *http.Request) (*budget.Project, error) {
	id, err := pathID(r)
	if err != nil {
		return nil, err
	}
	return s.sp.budgets.Project(r.Context(), id)
}

func (s *Server) editProjectForm(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	p, err := s.budgetProject(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	s.renderProjectForm(w, r, c, http.StatusOK, p, nil, nil)
}

func (s *Server) editProject(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	p, err := s.budgetProject(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	_, err = s.sp.budgets.UpdateProject(r.Context(), c.principal.AccountID, p.ID, projectFromForm(r))
	s.afterProjectWrite(w, r, c, p.SpaceID, p, err)
}

func (s *Server) afterProjectWrite(w http.ResponseWriter, r *http.Request, c *reqCtx, space int64, p *budget.Project, err error) {
	var v validate.Errors
	switch {
	case errors.As(err, &v):
		s.renderProjectForm(w, r, c, http.StatusUnprocessableEntity, p, r.PostForm, v)
	case errors.Is(err, budget.ErrLocked):
		s.renderProjectForm(w, r, c, http.StatusConflict, p, r.PostForm, validate.Errors{{Field: "project_title", Code: "budget_locked"}})
	case err != nil:
		s.fail(w, r, c, err)
	default:
		http.Redirect(w, r, spaceURL(participation.KindBudget, space), http.StatusSeeOther)
	}
}

// Results.

func (s *Server) budgetResultsPage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	b, err := s.loadBudget(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	res, err := s.sp.budgets.Results(r.Context(), b.ID)
	if errors.Is(err, budget.ErrNotClosed) {
		s.render(w, r, c, http.StatusConflict, "budget-results", map[string]any{"Budget": b})
		return
	}
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	s.render(w, r, c, http.StatusOK, "budget-results", map[string]any{"Budget": b, "Result": res})
}

func (s *Server) budgetResultsJSON(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	res, err := s.budgetResults(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="budget-%d-results.json"`, res.SpaceID))
	writeJSON(w, http.StatusOK, resultJSON(res))
}

func (s *Server) budgetResults(r *http.Request) (*budget.Result, error) {
	b, err := s.loadBudget(r)
	if err != nil {
		return nil, err
	}
	return s.sp.budgets.Results(r.Context(), b.ID)
}

// resultJSON adds to each decision its explanation in English.
func resultJSON(res *budget.Result) map[string]any {
	type line struct {
		budget.ProjectResult
		GreedyExplanation      string `json:"greedy_explanation"`
		EqualSharesExplanation string `json:"equal_shares_explanation"`
	}
	lines := make([]line, 0, len(res.Projects))
	for _, p := range res.Projects {
		lines = append(lines, line{p, explain(i18n.English, res, p.Greedy), explain(i18n.English, res, p.EqualShares)})
	}
	out := *res
	out.Projects = nil
	return map[string]any{"result": out, "projects": lines}
}

// explain says in words why a rule did or did not fund a project.
func explain(lang i18n.Lang, res *budget.Result, d budget.Decision) string {
	return i18n.T(lang, "budget.reason."+d.Reason, "votes", d.Votes, "order", d.Order, "round", d.Round,
		"price", money(d.Price), "remaining", money(d.Remaining), "money", money(d.Money), "currency", res.Currency)
}

func money(x float64) string { return strconv.FormatFloat(x, 'f', 2, 64) }

// BudgetReason explains a rule's decision in the reader's language.
func (v *view) BudgetReason(res *budget.Result, d budget.Decision) string {
	return explain(v.Lang, res, d)
}

// BudgetMoney shows an amount of the Method of Equal Shares with cents.
func (v *view) BudgetMoney(x float64) string { return money(x) }

func (s *Server) budgetResultsCSV(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	res, err := s.budgetResults(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="budget-%d-results.csv"`, res.SpaceID))
	cw := csv.NewWriter(w)
	cw.Write([]string{"project", "title", "district", "cost", "currency", "votes", "greedy_funded", "greedy_explanation", "mes_funded", "mes_explanation"})
	for _, p := range res.Projects {
		cw.Write([]string{strconv.FormatInt(p.ID, 10), csvSafe(p.Title), csvSafe(p.District), strconv.FormatInt(p.Cost, 10), res.Currency,
			strconv.Itoa(p.Votes), strconv.FormatBool(p.Greedy.Funded), explain(i18n.English, res, p.Greedy),
			strconv.FormatBool(p.EqualShares.Funded), explain(i18n.English, res, p.EqualShares)})
	}
	cw.Flush()
}

// csvSafe keeps a spreadsheet from reading text as a formula (OWASP CSV
// injection): a cell starting with = + - @ or a control character gets a
// leading apostrophe.
func csvSafe(v string) string {
	if v != "" && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@' || v[0] == '\t' || v[0] == '\r') {
		return "'" + v
	}
	return v
}

// API.

type budgetSpaceBody struct {
	PhaseID     int64  `json:"phase_id"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Total       int64  `json:"total"`
	Currency    string `json:"currency"`
}

func (s *Server) apiCreateBudget(r *http.Request, c *reqCtx, b *budgetSpaceBody) (answer, error) {
	process, err := pathID(r)
	if err != nil {
		return answer{}, err
	}
	id, err := s.sp.budgets.CreateSpace(r.Context(), c.principal.AccountID, budget.SpaceInput{ProcessID: process, PhaseID: b.PhaseID,
		Title: b.Title, Intro: b.Description, Total: b.Total, Currency: b.Currency})
	if err != nil {
		return answer{}, err
	}
	bg, err := s.sp.budgets.Get(r.Context(), id)
	if err != nil {
		return answer{}, err
	}
	return answer{http.StatusCreated, map[string]any{"budget": budgetJSON(bg)}}, nil
}

func budgetJSON(b *budget.Budget) *budget.Budget {
	if b.Projects == nil {
		b.Projects = []budget.Project{}
	}
	return b
}

func (s *Server) apiBudget(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	b, err := s.loadBudget(r)
	if err != nil {
		return answer{}, err
	}
	out := map[string]any{"budget": budgetJSON(b)}
	if c.principal != nil {
		mine, err := s.sp.budgets.MyBallot(r.Context(), c.principal.AccountID, b.ID)
		if err != nil {
			return answer{}, err
		}
		out["ballot"] = mine
		ev, err := s.viewerEligibility(r, c, b.ProcessID)
		if err != nil {
			return answer{}, err
		}
		out["eligible"] = ev.Eligible
		if !ev.Eligible {
			out["not_eligible_reason"] = ev.Message
		}
	}
	return answer{http.StatusOK, out}, nil
}

type projectBody struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	Cost        int64  `json:"cost"`
	District    string `json:"district"`
}

func (b *projectBody) input() budget.ProjectInput {
	return budget.ProjectInput{Title: b.Title, Description: b.Description, Cost: b.Cost, District: b.District}
}

func (s *Server) apiAddProject(r *http.Request, c *reqCtx, b *projectBody) (answer, error) {
	id, err := pathID(r)
	if err != nil {
		return answer{}, err
	}
	p, err := s.sp.budgets.AddProject(r.Context(), c.principal.AccountID, id, b.input())
	if err != nil {
		return answer{}, err
	}
	return answer{http.StatusCreated, map[string]any{"project": p}}, nil
}

func (s *Server) apiEditProject(r *http.Request, c *reqCtx, b *projectBody) (answer, error) {
	p, err := s.budgetProject(r)
	if err != nil {
		return answer{}, err
	}
	p, err = s.sp.budgets.UpdateProject(r.Context(), c.principal.AccountID, p.ID, b.input())
	if err != nil {
		return answer{}, err
	}
	return answer{http.StatusOK, map[string]any{"project": p}}, nil
}

type ballotBody struct {
	Projects []int64 `json:"projects"`
}

func (s *Server) apiCastBallot(r *http.Request, c *reqCtx, b *ballotBody) (answer, error) {
	id, err := pathID(r)
	if err != nil {
		return answer{}, err
	}
	ballot, err := s.sp.budgets.Cast(r.Context(), c.principal.AccountID, id, b.Projects)
	var v validate.Errors
	if errors.As(err, &v) && v[0].Code == "budget_over" {
		// Say the total and the limit in the message too, not only in
		// the field's parameters.
		return answer{http.StatusUnprocessableEntity, map[string]any{"error": apiError{Code: "over_budget",
			Message: fieldMessage(i18n.English, v[0]), Fields: v}}}, nil
	}
	if err != nil {
		return answer{}, err
	}
	st := http.StatusCreated
	if ballot.Replaced {
		st = http.StatusOK
	}
	return answer{st, map[string]any{"ballot": ballot}}, nil
}

func (s *Server) apiWithdrawBallot(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	id, err := pathID(r)
	if err != nil {
		return answer{}, err
	}
	return answer{status: http.StatusNoContent}, s.sp.budgets.Withdraw(r.Context(), c.principal.AccountID, id)
}

func (s *Server) apiBudgetResults(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	res, err := s.budgetResults(r)
	if err != nil {
		return answer{}, err
	}
	return answer{http.StatusOK, resultJSON(res)}, nil
}
