package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/veche/veche/internal/election"
	"github.com/veche/veche/internal/i18n"
	"github.com/veche/veche/internal/participation"
	"github.com/veche/veche/internal/validate"
)

// phaseRows is how many phase rows the process form offers; empty rows
// are ignored, so the form works without JavaScript.
const phaseRows = 4

// formTime is the value format of <input type="datetime-local">, read as UTC.
const formTime = "2006-01-02T15:04"

func (s *Server) processesPage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	list, err := s.sp.core.Processes(r.Context())
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	s.render(w, r, c, http.StatusOK, "processes", map[string]any{"Processes": list})
}

func (s *Server) newProcessForm(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	s.renderForm(w, r, c, http.StatusOK, "process-new", map[string]any{"Rows": make([]struct{}, phaseRows)}, nil, nil)
}

// processFromForm reads the process form; malformed dates are field errors.
func processFromForm(r *http.Request) (participation.ProcessInput, validate.Errors) {
	var errs validate.Errors
	in := participation.ProcessInput{Title: r.PostFormValue("title"), Description: r.PostFormValue("description")}
	in.Eligibility.ResidentsOnly = r.PostFormValue("residents_only") != ""
	for _, d := range strings.FieldsFunc(r.PostFormValue("districts"), func(r rune) bool { return r == '\n' || r == ',' }) {
		if d = strings.TrimSpace(d); d != "" {
			in.Eligibility.Districts = append(in.Eligibility.Districts, d)
		}
	}
	if v := strings.TrimSpace(r.PostFormValue("min_age")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			errs.Add("eligibility.min_age", "number", nil)
		}
		in.Eligibility.MinAge = n
	}
	for i := range phaseRows {
		name := r.PostFormValue(fmt.Sprintf("phase_name_%d", i))
		starts, ends := r.PostFormValue(fmt.Sprintf("phase_starts_%d", i)), r.PostFormValue(fmt.Sprintf("phase_ends_%d", i))
		if strings.TrimSpace(name+starts+ends) == "" {
			continue
		}
		ph := participation.PhaseInput{Name: name}
		var err error
		n := len(in.Phases)
		if ph.Starts, err = time.Parse(formTime, starts); err != nil {
			errs.Add(fmt.Sprintf("phases.%d.starts", n), "datetime", nil)
		}
		if ph.Ends, err = time.Parse(formTime, ends); err != nil {
			errs.Add(fmt.Sprintf("phases.%d.ends", n), "datetime", nil)
		}
		in.Phases = append(in.Phases, ph)
	}
	return in, errs
}

func (s *Server) createProcess(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	in, errs := processFromForm(r)
	var p *participation.Process
	err := errs.Err()
	if err == nil {
		p, err = s.sp.core.CreateProcess(r.Context(), c.principal.AccountID, in)
	}
	var v validate.Errors
	if errors.As(err, &v) {
		s.renderForm(w, r, c, http.StatusUnprocessableEntity, "process-new", map[string]any{"Rows": make([]struct{}, phaseRows)}, r.PostForm, v)
		return
	}
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	http.Redirect(w, r, "/processes/"+strconv.FormatInt(p.ID, 10), http.StatusSeeOther)
}

// eligibilityView is what the process page says about the reader.
type eligibilityView struct {
	SignedIn  bool
	Eligible  bool
	Message   string
	NeedProof bool // verifying residence would help
}

func (s *Server) viewerEligibility(r *http.Request, c *reqCtx, process int64) (eligibilityView, error) {
	if c.principal == nil {
		return eligibilityView{}, nil
	}
	ev := eligibilityView{SignedIn: true, Eligible: true}
	err := s.sp.core.CheckEligibility(r.Context(), process, c.principal.AccountID)
	var ne *participation.NotEligibleError
	if errors.As(err, &ne) {
		ev.Eligible, ev.Message = false, eligibilityMessage(c.lang, ne)
		ev.NeedProof = ne.Reason == participation.ReasonResidentRequired || ne.Reason == participation.ReasonNotInCensus
		return ev, nil
	}
	return ev, err
}

func (s *Server) processPage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
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
	ev, err := s.viewerEligibility(r, c, id)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	elections, err := election.New(s.sp.core).List(r.Context(), p.ID)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	current, _ := p.CurrentPhase(s.sp.core.Now())
	s.render(w, r, c, http.StatusOK, "process", map[string]any{"Process": p, "Current": current, "Eligibility": ev,
		"Kinds": participation.Kinds, "Now": s.sp.core.Now(), "Elections": elections})
}

func (s *Server) closeSpace(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	id, err := pathID(r)
	if err == nil {
		err = s.sp.core.CloseSpace(r.Context(), c.principal.AccountID, id)
	}
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	sp, err := s.sp.core.Space(r.Context(), id)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	http.Redirect(w, r, spaceURL(sp.Kind, id), http.StatusSeeOther)
}

// Residence: a person verifies that they are in the census.

func (s *Server) residencePage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	s.renderResidence(w, r, c, http.StatusOK, nil, nil)
}

func (s *Server) renderResidence(w http.ResponseWriter, r *http.Request, c *reqCtx, status int, form map[string][]string, errs validate.Errors) {
	res, err := s.sp.core.Residence(r.Context(), c.principal.AccountID)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	next := r.URL.Query().Get("next")
	if r.Method == http.MethodPost {
		next = r.PostFormValue("next")
	}
	data := map[string]any{"Residence": res, "Next": next}
	if r.URL.Query().Get("verified") != "" {
		data["Notice"] = i18n.T(c.lang, "residence.verified")
	}
	s.renderForm(w, r, c, status, "residence", data, form, errs)
}

func (s *Server) verifyResidence(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	err := s.verifyResidenceCore(r, c, r.PostFormValue("identity_number"), r.PostFormValue("birth_year"))
	var v validate.Errors
	switch {
	case errors.As(err, &v):
		s.renderResidence(w, r, c, http.StatusUnprocessableEntity, nil, v) // never echo the identity number
	case errors.Is(err, participation.ErrNotInCensus):
		s.renderResidence(w, r, c, http.StatusUnprocessableEntity, nil, validate.Errors{{Field: "identity_number", Code: "not_in_census"}})
	case errors.Is(err, participation.ErrAlreadyClaimed):
		s.renderResidence(w, r, c, http.StatusConflict, nil, validate.Errors{{Field: "identity_number", Code: "residence_claimed"}})
	case err != nil:
		s.fail(w, r, c, err)
	default:
		next := safeNext(r.PostFormValue("next"))
		if next == "/" {
			next = "/account/residence?verified=1"
		}
		http.Redirect(w, r, next, http.StatusSeeOther)
	}
}

// verifyResidenceCore is the step shared by the page and the API, with its
// own rate limit: identity numbers must not be guessable by trying.
func (s *Server) verifyResidenceCore(r *http.Request, c *reqCtx, number, birthYear string) error {
	if err := s.limit(r, c, residencePerAccount, strconv.FormatInt(c.principal.AccountID, 10)); err != nil {
		return err
	}
	year, err := strconv.Atoi(strings.TrimSpace(birthYear))
	if err != nil {
		return validate.One("birth_year", "number", nil)
	}
	_, err = s.sp.core.VerifyResidence(r.Context(), c.principal.AccountID, number, year)
	return err
}

// Rate-limit rules of participation (secops.Limiter; defaults in
// participationLimits).
const (
	residencePerAccount = "residence-account"
	postsPerSpace       = "posts-space-account"
)

// censusPage shows the state of the census; imports run from the command
// line (veche census import), since a register is larger than a form post.
func (s *Server) censusPage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	imp, err := s.sp.core.LastCensusImport(r.Context())
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	s.render(w, r, c, http.StatusOK, "census", map[string]any{"Import": imp})
}

// API.

func (s *Server) apiProcesses(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	list, err := s.sp.core.Processes(r.Context())
	if err != nil {
		return answer{}, err
	}
	return answer{http.StatusOK, map[string]any{"processes": nonNil(list)}}, nil
}

func (s *Server) apiCreateProcess(r *http.Request, c *reqCtx, b *participation.ProcessInput) (answer, error) {
	p, err := s.sp.core.CreateProcess(r.Context(), c.principal.AccountID, *b)
	if err != nil {
		return answer{}, err
	}
	return answer{http.StatusCreated, map[string]any{"process": p}}, nil
}

func (s *Server) apiProcess(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	id, err := pathID(r)
	if err != nil {
		return answer{}, err
	}
	p, err := s.sp.core.Process(r.Context(), id)
	if err != nil {
		return answer{}, err
	}
	body := map[string]any{"process": p}
	if c.principal != nil {
		ev, err := s.viewerEligibility(r, c, id)
		if err != nil {
			return answer{}, err
		}
		body["eligible"] = ev.Eligible
		if !ev.Eligible {
			body["eligibility_message"] = ev.Message
		}
	}
	return answer{http.StatusOK, body}, nil
}

func (s *Server) apiCloseSpace(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	id, err := pathID(r)
	if err != nil {
		return answer{}, err
	}
	if err := s.sp.core.CloseSpace(r.Context(), c.principal.AccountID, id); err != nil {
		return answer{}, err
	}
	sp, err := s.sp.core.Space(r.Context(), id)
	if err != nil {
		return answer{}, err
	}
	return answer{http.StatusOK, map[string]any{"space": sp}}, nil
}

type residenceBody struct {
	IdentityNumber string `json:"identity_number"`
	BirthYear      int    `json:"birth_year"`
}

func (s *Server) apiVerifyResidence(r *http.Request, c *reqCtx, b *residenceBody) (answer, error) {
	if err := s.verifyResidenceCore(r, c, b.IdentityNumber, strconv.Itoa(b.BirthYear)); err != nil {
		return answer{}, err
	}
	return s.apiResidence(r, c, nil)
}

func (s *Server) apiResidence(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	res, err := s.sp.core.Residence(r.Context(), c.principal.AccountID)
	if err != nil {
		return answer{}, err
	}
	return answer{http.StatusOK, map[string]any{"residence": res}}, nil
}
