package web

import (
	"encoding/csv"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/veche/veche/internal/i18n"
	"github.com/veche/veche/internal/participation/feedback"
	"github.com/veche/veche/internal/participation/survey"
	"github.com/veche/veche/internal/secops"
	"github.com/veche/veche/internal/validate"
)

// FeedbackPerIP limits feedback messages per address: they need no
// account, so the address is the only handle on a flood. The address is
// used for the limit only (as a keyed hash in memory), never stored.
const FeedbackPerIP = "feedback-ip"

func init() {
	// The shipped limit: a burst of 10, then one every 30 seconds.
	if _, ok := secops.DefaultLimits[FeedbackPerIP]; !ok {
		secops.DefaultLimits[FeedbackPerIP] = secops.Limit{Every: 30 * time.Second, Burst: 10}
	}
	// feedbackPage is the path a page's feedback form reports: the page's
	// path without its query, which may hold a token.
	templateFuncs["feedbackPage"] = feedback.CleanPage
	// surveyArgs passes named values to a survey template.
	templateFuncs["surveyArgs"] = func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	// barWidth is the length of a result's bar, in percent of the longest.
	templateFuncs["barWidth"] = func(n, max int) string {
		if max == 0 {
			return "0%"
		}
		return strconv.FormatFloat(float64(n)*100/float64(max), 'f', 1, 64) + "%"
	}
}

func (s *Server) feedbackForm(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	q := r.URL.Query()
	data := map[string]any{"Page": feedback.CleanPage(q.Get("page"))}
	if q.Get("sent") != "" {
		data["Notice"] = i18n.T(c.lang, "feedback.thanks")
		data["Sent"] = true
	}
	s.renderForm(w, r, c, http.StatusOK, "feedback-form", data, url.Values{"page": {feedback.CleanPage(q.Get("page"))}}, nil)
}

// feedbackUseful reads "yes", "no" or nothing.
func feedbackUseful(v string) (*bool, error) {
	switch v {
	case "":
		return nil, nil
	case "yes", "no":
		b := v == "yes"
		return &b, nil
	}
	return nil, validate.One("useful", "feedback_not_yes_or_no", nil)
}

func (s *Server) feedbackSubmit(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	if err := s.limit(r, c, FeedbackPerIP, c.ip); err != nil {
		s.fail(w, r, c, err)
		return
	}
	f := r.PostForm
	useful, err := feedbackUseful(f.Get("useful"))
	if err == nil {
		_, err = s.sp.feedback.Submit(r.Context(), feedback.Input{Page: f.Get("page"), Useful: useful, Problem: f.Get("problem"), Lang: string(c.lang)})
	}
	var v validate.Errors
	if errors.As(err, &v) {
		s.renderForm(w, r, c, http.StatusUnprocessableEntity, "feedback-form", map[string]any{"Page": feedback.CleanPage(f.Get("page"))}, f, v)
		return
	}
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	http.Redirect(w, r, "/feedback/new?sent=1&page="+url.QueryEscape(feedback.CleanPage(f.Get("page"))), http.StatusSeeOther)
}

// feedbackFilter reads the list's filters: page, from and to (dates
// YYYY-MM-DD) and problems=1.
func feedbackFilter(q url.Values) (feedback.Filter, error) {
	f := feedback.Filter{Page: q.Get("page"), Problems: q.Get("problems") == "1"}
	var e validate.Errors
	for _, k := range []string{"from", "to"} {
		if v := q.Get(k); v != "" {
			t, err := time.Parse("2006-01-02", v)
			if err != nil {
				e.Add(k, "feedback_not_a_date", nil)
				continue
			}
			if k == "from" {
				f.From = t
			} else {
				f.To = t
			}
		}
	}
	return f, e.Err()
}

func (s *Server) feedbackList(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	q := r.URL.Query()
	f, err := feedbackFilter(q)
	var v validate.Errors
	if errors.As(err, &v) {
		s.renderForm(w, r, c, http.StatusUnprocessableEntity, "feedback-list", map[string]any{"Query": r.URL.RawQuery}, q, v)
		return
	}
	items, sum, err := s.sp.feedback.List(r.Context(), f)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	s.renderForm(w, r, c, http.StatusOK, "feedback-list", map[string]any{"Items": items, "Summary": sum, "Query": r.URL.RawQuery}, q, nil)
}

func (s *Server) feedbackCSV(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	f, err := feedbackFilter(r.URL.Query())
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	items, _, err := s.sp.feedback.List(r.Context(), f)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="feedback.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	cw := csv.NewWriter(w)
	cw.Write([]string{"day", "page", "useful", "problem", "lang"})
	for _, it := range items {
		useful := ""
		if it.Useful != nil {
			useful = strconv.FormatBool(*it.Useful)
		}
		cw.Write([]string{it.Day.Format("2006-01-02"), survey.CSVCell(it.Page), useful, survey.CSVCell(it.Problem), it.Lang})
	}
	cw.Flush()
}

func (s *Server) apiFeedback(r *http.Request, c *reqCtx, b *feedback.Input) (answer, error) {
	if err := s.limit(r, c, FeedbackPerIP, c.ip); err != nil {
		return answer{}, err
	}
	b.Lang = string(apiLang(r))
	if _, err := s.sp.feedback.Submit(r.Context(), *b); err != nil {
		return answer{}, err
	}
	return status(http.StatusCreated, "received"), nil
}

func (s *Server) apiFeedbackList(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	f, err := feedbackFilter(r.URL.Query())
	if err != nil {
		return answer{}, err
	}
	items, sum, err := s.sp.feedback.List(r.Context(), f)
	if err != nil {
		return answer{}, err
	}
	return answer{http.StatusOK, map[string]any{"feedback": nonNil(items), "summary": sum}}, nil
}
