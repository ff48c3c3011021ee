package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/veche/veche/internal/i18n"
	"github.com/veche/veche/internal/identity"
	"github.com/veche/veche/internal/participation"
	"github.com/veche/veche/internal/participation/survey"
	"github.com/veche/veche/internal/validate"
)

// isOfficial reports whether the request comes from someone who runs
// processes (and so sees results early and identified free text).
func isOfficial(c *reqCtx) bool {
	return c.principal != nil && c.principal.Can(identity.PermProcessesManage)
}

func viewer(c *reqCtx) int64 {
	if c.principal == nil {
		return 0
	}
	return c.principal.AccountID
}

func surveyPath(id int64) string { return "/surveys/" + itoa64(id) }

// ---- creating a survey ----

func (s *Server) surveyNewForm(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	s.renderSurveyNew(w, r, c, http.StatusOK, url.Values{"anonymous": {"yes"}}, nil)
}

func (s *Server) renderSurveyNew(w http.ResponseWriter, r *http.Request, c *reqCtx, status int, form url.Values, errs validate.Errors) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	p, err := s.sp.core.Process(r.Context(), id)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	s.renderForm(w, r, c, status, "survey-new", map[string]any{"Process": p}, form, errs)
}

func (s *Server) surveyCreate(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	process, err := pathID(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	f := r.PostForm
	id, err := s.sp.surveys.CreateSpace(r.Context(), c.principal.AccountID, survey.SpaceInput{ProcessID: process,
		PhaseID: formInt(f.Get("phase_id")), Title: f.Get("title"), Intro: f.Get("intro"), Anonymous: f.Get("anonymous") == "yes",
		LiveResults: f.Get("live_results") == "yes", PublicText: f.Get("public_text") == "yes"})
	var v validate.Errors
	if errors.As(err, &v) {
		s.renderSurveyNew(w, r, c, http.StatusUnprocessableEntity, f, v)
		return
	}
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	http.Redirect(w, r, surveyPath(id)+"/questions", http.StatusSeeOther)
}

// ---- questions ----

func (s *Server) surveyQuestionsPage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	s.renderQuestions(w, r, c, http.StatusOK, id, 0, url.Values{"kind": {survey.Single}}, nil)
}

// renderQuestions shows the question list with the form to add one, or
// with the form to edit question editing.
func (s *Server) renderQuestions(w http.ResponseWriter, r *http.Request, c *reqCtx, status int, id, editing int64, form url.Values, errs validate.Errors) {
	sv, err := s.sp.surveys.Get(r.Context(), id)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	data := map[string]any{"Survey": sv, "Kinds": survey.Kinds, "Editing": editing, "Action": surveyPath(id) + "/questions"}
	if editing != 0 {
		data["Action"] = "/survey-questions/" + itoa64(editing)
		if !slices.ContainsFunc(sv.Questions, func(q survey.Question) bool { return q.ID == editing }) {
			s.fail(w, r, c, participation.ErrNotFound)
			return
		}
	}
	switch r.URL.Query().Get("done") {
	case "added", "changed", "removed", "closed":
		data["Notice"] = i18n.T(c.lang, "survey.done."+r.URL.Query().Get("done"))
	}
	s.renderForm(w, r, c, status, "survey-questions", data, form, errs)
}

// questionForm reads the question form.
func questionForm(f url.Values) survey.QuestionInput {
	num := func(k string) int { n, _ := strconv.Atoi(strings.TrimSpace(f.Get(k))); return n }
	return survey.QuestionInput{Kind: f.Get("kind"), Text: f.Get("text"), Help: f.Get("help"), Required: f.Get("required") == "yes",
		Options: strings.Split(strings.ReplaceAll(f.Get("options"), "\r\n", "\n"), "\n"), MaxChoices: num("max_choices"),
		ScaleMin: num("scale_min"), ScaleMax: num("scale_max"), LabelLow: f.Get("label_low"), LabelHigh: f.Get("label_high"),
		MaxLength: num("max_length"), Position: num("position")}
}

// questionValues fills the question form from a question.
func questionValues(q survey.Question) url.Values {
	in := q.Input()
	f := url.Values{"kind": {in.Kind}, "text": {in.Text}, "help": {in.Help}, "options": {strings.Join(in.Options, "\n")},
		"label_low": {in.LabelLow}, "label_high": {in.LabelHigh}, "position": {strconv.Itoa(in.Position)}}
	if in.Required {
		f.Set("required", "yes")
	}
	for k, v := range map[string]int{"max_choices": in.MaxChoices, "scale_min": in.ScaleMin, "scale_max": in.ScaleMax, "max_length": in.MaxLength} {
		if v != 0 || (k == "scale_min" && in.Kind == survey.Scale) {
			f.Set(k, strconv.Itoa(v))
		}
	}
	return f
}

func (s *Server) surveyAddQuestion(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	_, err = s.sp.surveys.AddQuestion(r.Context(), c.principal.AccountID, id, questionForm(r.PostForm))
	s.afterQuestionChange(w, r, c, id, 0, err, "added")
}

// questionPath reads a question's number from the path and finds its
// survey.
func (s *Server) questionPath(r *http.Request) (space, question int64, err error) {
	if question, err = pathID(r); err != nil {
		return 0, 0, err
	}
	space, err = s.sp.surveys.SpaceOf(r.Context(), question)
	return space, question, err
}

func (s *Server) surveyQuestionForm(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	id, qid, err := s.questionPath(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	sv, err := s.sp.surveys.Get(r.Context(), id)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	for _, q := range sv.Questions {
		if q.ID == qid {
			s.renderQuestions(w, r, c, http.StatusOK, id, qid, questionValues(q), nil)
			return
		}
	}
	s.fail(w, r, c, participation.ErrNotFound)
}

func (s *Server) surveyUpdateQuestion(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	id, qid, err := s.questionPath(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	err = s.sp.surveys.UpdateQuestion(r.Context(), c.principal.AccountID, id, qid, questionForm(r.PostForm))
	s.afterQuestionChange(w, r, c, id, qid, err, "changed")
}

func (s *Server) surveyDeleteQuestion(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	id, qid, err := s.questionPath(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	err = s.sp.surveys.DeleteQuestion(r.Context(), c.principal.AccountID, id, qid)
	s.afterQuestionChange(w, r, c, id, 0, err, "removed")
}

func (s *Server) afterQuestionChange(w http.ResponseWriter, r *http.Request, c *reqCtx, id, editing int64, err error, done string) {
	var v validate.Errors
	switch {
	case errors.As(err, &v):
		s.renderQuestions(w, r, c, http.StatusUnprocessableEntity, id, editing, r.PostForm, v)
	case err != nil:
		s.fail(w, r, c, err)
	default:
		http.Redirect(w, r, surveyPath(id)+"/questions?done="+done, http.StatusSeeOther)
	}
}

func (s *Server) surveyClose(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	if err := s.sp.surveys.Close(r.Context(), c.principal.AccountID, id); err != nil {
		s.fail(w, r, c, err)
		return
	}
	http.Redirect(w, r, surveyPath(id)+"/results", http.StatusSeeOther)
}

// ---- answering ----

// formQuestion is a question as the answer form shows it.
type formQuestion struct {
	survey.Question
	Choices []formChoice
}

// formChoice is an option or a scale value, checked when the person
// chose it before the form came back with a problem.
type formChoice struct {
	Value   string
	Label   string
	Checked bool
}

func formQuestions(qs []survey.Question, form url.Values) []formQuestion {
	var out []formQuestion
	for _, q := range qs {
		fq := formQuestion{Question: q}
		picked := form[q.Field()]
		for _, o := range q.Options {
			v := itoa64(o.ID)
			fq.Choices = append(fq.Choices, formChoice{Value: v, Label: o.Label, Checked: slices.Contains(picked, v)})
		}
		for _, n := range q.ScaleValues() {
			v := strconv.Itoa(n)
			fq.Choices = append(fq.Choices, formChoice{Value: v, Label: v, Checked: slices.Contains(picked, v)})
		}
		out = append(out, fq)
	}
	return out
}

func (s *Server) surveyPage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	s.renderSurvey(w, r, c, http.StatusOK, nil, nil)
}

func (s *Server) renderSurvey(w http.ResponseWriter, r *http.Request, c *reqCtx, status int, form url.Values, errs validate.Errors) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	sv, err := s.sp.surveys.Get(r.Context(), id)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	answered, err := s.sp.surveys.Answered(r.Context(), id, viewer(c))
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	data := map[string]any{"Survey": sv, "Questions": formQuestions(sv.Questions, form), "Answered": answered,
		"Official": isOfficial(c), "ResultsOpen": sv.State == participation.Closed || sv.LiveResults || isOfficial(c)}
	if c.principal != nil && sv.State == participation.Open && !answered {
		if err := s.sp.core.CheckEligibility(r.Context(), sv.ProcessID, c.principal.AccountID); err != nil {
			var ne *participation.NotEligibleError
			if !errors.As(err, &ne) {
				s.fail(w, r, c, err)
				return
			}
			data["NotEligible"] = eligibilityMessage(c.lang, ne)
		}
	}
	if r.URL.Query().Get("answered") != "" && answered {
		data["Notice"] = i18n.T(c.lang, "survey.thanks")
	}
	s.renderForm(w, r, c, status, "survey", data, form, errs)
}

// answersFromForm reads the answer form: each question's field holds the
// chosen option numbers, the scale value or the text.
func answersFromForm(qs []survey.Question, f url.Values) map[int64]survey.Answer {
	out := map[int64]survey.Answer{}
	for _, q := range qs {
		vals := f[q.Field()]
		var a survey.Answer
		switch q.Kind {
		case survey.Single, survey.Multiple:
			for _, v := range vals {
				if v = strings.TrimSpace(v); v == "" {
					continue
				}
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					n = -1 // not an option: refused by the check
				}
				a.Options = append(a.Options, n)
			}
		case survey.Scale:
			if len(vals) > 0 && strings.TrimSpace(vals[0]) != "" {
				n, err := strconv.Atoi(strings.TrimSpace(vals[0]))
				if err != nil {
					n = q.ScaleMin - 1 // outside the scale: refused by the check
				}
				a.Value = &n
			}
		case survey.Text:
			if len(vals) > 0 {
				a.Text = vals[0]
			}
		}
		out[q.ID] = a
	}
	return out
}

func (s *Server) surveyRespond(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	sv, err := s.sp.surveys.Get(r.Context(), id)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	err = s.sp.surveys.Respond(r.Context(), c.principal.AccountID, id, answersFromForm(sv.Questions, r.PostForm))
	var v validate.Errors
	switch {
	case errors.As(err, &v):
		s.renderSurvey(w, r, c, http.StatusUnprocessableEntity, r.PostForm, v)
	case err != nil:
		s.fail(w, r, c, err)
	default:
		http.Redirect(w, r, surveyPath(id)+"?answered=1", http.StatusSeeOther)
	}
}

// ---- results ----

func (s *Server) surveyResults(r *http.Request, c *reqCtx) (*survey.Results, error) {
	id, err := pathID(r)
	if err != nil {
		return nil, err
	}
	return s.sp.surveys.Results(r.Context(), id, isOfficial(c))
}

func (s *Server) surveyResultsPage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	res, err := s.surveyResults(r, c)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	s.render(w, r, c, http.StatusOK, "survey-results", map[string]any{"Results": res, "Official": isOfficial(c)})
}

func (s *Server) surveyResultsCSV(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	res, err := s.surveyResults(r, c)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="survey-`+itoa64(res.SpaceID)+`-results.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	if err := res.WriteCSV(w); err != nil {
		s.Logger.Error("web: survey results CSV", "err", err)
	}
}

func (s *Server) surveyResultsJSON(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	res, err := s.surveyResults(r, c)
	if err != nil {
		c.api = true // answer the JSON download's refusal in JSON
		s.fail(w, r, c, err)
		return
	}
	w.Header().Set("Content-Disposition", `attachment; filename="survey-`+itoa64(res.SpaceID)+`-results.json"`)
	writeJSON(w, http.StatusOK, map[string]any{"results": res})
}

// ---- API ----

// surveyBody opens a survey through the API.
type surveyBody struct {
	PhaseID     int64                  `json:"phase_id"`
	Title       string                 `json:"title"`
	Intro       string                 `json:"intro"`
	Anonymous   bool                   `json:"anonymous"`
	LiveResults bool                   `json:"live_results"`
	PublicText  bool                   `json:"public_text"`
	Questions   []survey.QuestionInput `json:"questions"`
}

func (s *Server) surveyAnswer(r *http.Request, status int, id int64) (answer, error) {
	sv, err := s.sp.surveys.Get(r.Context(), id)
	if err != nil {
		return answer{}, err
	}
	sv.Questions = nonNil(sv.Questions)
	return answer{status, map[string]any{"survey": sv}}, nil
}

func (s *Server) apiCreateSurvey(r *http.Request, c *reqCtx, b *surveyBody) (answer, error) {
	process, err := pathID(r)
	if err != nil {
		return answer{}, err
	}
	id, err := s.sp.surveys.CreateSpace(r.Context(), c.principal.AccountID, survey.SpaceInput{ProcessID: process, PhaseID: b.PhaseID,
		Title: b.Title, Intro: b.Intro, Anonymous: b.Anonymous, LiveResults: b.LiveResults, PublicText: b.PublicText, Questions: b.Questions})
	if err != nil {
		return answer{}, err
	}
	return s.surveyAnswer(r, http.StatusCreated, id)
}

func (s *Server) apiSurvey(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	id, err := pathID(r)
	if err != nil {
		return answer{}, err
	}
	a, err := s.surveyAnswer(r, http.StatusOK, id)
	if err != nil || c.principal == nil {
		return a, err
	}
	answered, err := s.sp.surveys.Answered(r.Context(), id, c.principal.AccountID)
	if err != nil {
		return answer{}, err
	}
	a.body.(map[string]any)["answered"] = answered
	if answered {
		mine, err := s.sp.surveys.MyResponse(r.Context(), id, c.principal.AccountID)
		if err != nil {
			return answer{}, err
		}
		if mine != nil {
			a.body.(map[string]any)["my_answers"] = mine
		}
	}
	return a, nil
}

func (s *Server) apiAddQuestion(r *http.Request, c *reqCtx, b *survey.QuestionInput) (answer, error) {
	id, err := pathID(r)
	if err != nil {
		return answer{}, err
	}
	if _, err := s.sp.surveys.AddQuestion(r.Context(), c.principal.AccountID, id, *b); err != nil {
		return answer{}, err
	}
	return s.surveyAnswer(r, http.StatusCreated, id)
}

func (s *Server) apiUpdateQuestion(r *http.Request, c *reqCtx, b *survey.QuestionInput) (answer, error) {
	id, qid, err := s.questionPath(r)
	if err != nil {
		return answer{}, err
	}
	if err := s.sp.surveys.UpdateQuestion(r.Context(), c.principal.AccountID, id, qid, *b); err != nil {
		return answer{}, err
	}
	return s.surveyAnswer(r, http.StatusOK, id)
}

func (s *Server) apiDeleteQuestion(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	id, qid, err := s.questionPath(r)
	if err != nil {
		return answer{}, err
	}
	if err := s.sp.surveys.DeleteQuestion(r.Context(), c.principal.AccountID, id, qid); err != nil {
		return answer{}, err
	}
	return s.surveyAnswer(r, http.StatusOK, id)
}

// responseBody answers a survey: answers by question number.
type responseBody struct {
	Answers map[string]survey.Answer `json:"answers"`
}

func (s *Server) apiRespond(r *http.Request, c *reqCtx, b *responseBody) (answer, error) {
	id, err := pathID(r)
	if err != nil {
		return answer{}, err
	}
	answers := map[int64]survey.Answer{}
	var bad validate.Errors
	for k, a := range b.Answers {
		q, err := strconv.ParseInt(k, 10, 64)
		if err != nil || q <= 0 {
			bad.Add("answers."+k, "survey_not_a_question", nil)
			continue
		}
		answers[q] = a
	}
	if err := bad.Err(); err != nil {
		return answer{}, err
	}
	if err := s.sp.surveys.Respond(r.Context(), c.principal.AccountID, id, answers); err != nil {
		return answer{}, err
	}
	return status(http.StatusCreated, "answered"), nil
}

func (s *Server) apiCloseSurvey(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	id, err := pathID(r)
	if err != nil {
		return answer{}, err
	}
	if err := s.sp.surveys.Close(r.Context(), c.principal.AccountID, id); err != nil {
		return answer{}, err
	}
	return s.surveyAnswer(r, http.StatusOK, id)
}

func (s *Server) apiSurveyResults(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	res, err := s.surveyResults(r, c)
	if err != nil {
		return answer{}, err
	}
	res.Questions = nonNil(res.Questions)
	return answer{http.StatusOK, map[string]any{"results": res}}, nil
}

// surveyCode is the machine code of a survey refusal (classify).
func surveyCode(err error) string {
	switch {
	case errors.Is(err, survey.ErrAlreadyAnswered):
		return "already_answered"
	case errors.Is(err, survey.ErrQuestionsLocked):
		return "questions_locked"
	}
	return "results_not_published"
}
