package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/veche/veche/internal/i18n"
	"github.com/veche/veche/internal/identity"
	"github.com/veche/veche/internal/participation"
	"github.com/veche/veche/internal/participation/petition"
	"github.com/veche/veche/internal/validate"
)

func (s *Server) newPetitionSpaceForm(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	s.renderSpaceForm(w, r, c, http.StatusOK, "petition-space-new", map[string][]string{"threshold": {"1000"}, "response_days": {"90"}}, nil)
}

func (s *Server) createPetitionSpace(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	process, err := pathID(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	id, err := s.sp.petitions.CreateSpace(r.Context(), c.principal.AccountID, petition.SpaceInput{ProcessID: process,
		PhaseID: formInt(r.PostFormValue("phase_id")), Title: r.PostFormValue("title"), Moderated: r.PostFormValue("moderated") != "",
		Threshold: int(formInt(r.PostFormValue("threshold"))), ResponseDays: int(formInt(r.PostFormValue("response_days")))})
	var v validate.Errors
	if errors.As(err, &v) {
		s.renderSpaceForm(w, r, c, http.StatusUnprocessableEntity, "petition-space-new", r.PostForm, v)
		return
	}
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	http.Redirect(w, r, spaceURL(participation.KindPetitions, id), http.StatusSeeOther)
}

func (s *Server) petitionSpace(r *http.Request) (*participation.Space, error) {
	id, err := pathID(r)
	if err != nil {
		return nil, err
	}
	sp, err := s.sp.core.Space(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if sp.Kind != participation.KindPetitions {
		return nil, participation.ErrNotFound
	}
	return sp, nil
}

func canModerate(c *reqCtx) bool {
	return c.principal != nil && c.principal.Can(identity.PermContentModerate)
}

func (s *Server) petitionsPage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	sp, err := s.petitionSpace(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	page := int(formInt(r.URL.Query().Get("page")))
	list, total, err := s.sp.petitions.List(r.Context(), sp.ID, viewerID(c), "", page)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	var pending []*petition.Petition
	if canModerate(c) {
		if pending, _, err = s.sp.petitions.List(r.Context(), sp.ID, 0, petition.Pending, 1); err != nil {
			s.fail(w, r, c, err)
			return
		}
	}
	settings, err := s.sp.petitions.Settings(r.Context(), sp.ID)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	ev, err := s.viewerEligibility(r, c, sp.ProcessID)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	s.render(w, r, c, http.StatusOK, "petitions", map[string]any{"Space": sp, "Petitions": list, "Total": total, "Pending": pending,
		"Settings": settings, "Eligibility": ev, "Page": max(page, 1), "Pages": max(1, (total+petition.PageSize-1)/petition.PageSize),
		"Manage": c.principal != nil && c.principal.Can(identity.PermProcessesManage)})
}

func (s *Server) newPetitionForm(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	s.renderNewPetition(w, r, c, http.StatusOK, nil, nil)
}

func (s *Server) renderNewPetition(w http.ResponseWriter, r *http.Request, c *reqCtx, status int, form map[string][]string, errs validate.Errors) {
	sp, err := s.petitionSpace(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	ev, err := s.viewerEligibility(r, c, sp.ProcessID)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	s.renderForm(w, r, c, status, "petition-new", map[string]any{"Space": sp, "Eligibility": ev}, form, errs)
}

func (s *Server) filePetition(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	sp, err := s.petitionSpace(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	p, err := s.filePetitionCore(r, c, sp.ID, petition.Input{Kind: r.PostFormValue("kind"), Title: r.PostFormValue("title"), Body: r.PostFormValue("body")})
	var v validate.Errors
	if errors.As(err, &v) {
		s.renderNewPetition(w, r, c, http.StatusUnprocessableEntity, r.PostForm, v)
		return
	}
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	http.Redirect(w, r, "/petitions/"+strconv.FormatInt(p.ID, 10), http.StatusSeeOther)
}

func (s *Server) filePetitionCore(r *http.Request, c *reqCtx, space int64, in petition.Input) (*petition.Petition, error) {
	if err := s.limit(r, c, postsPerSpace, strconv.FormatInt(space, 10)+":"+strconv.FormatInt(c.principal.AccountID, 10)); err != nil {
		return nil, err
	}
	return s.sp.petitions.File(r.Context(), c.principal.AccountID, space, in)
}

func (s *Server) petitionPage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	s.renderPetition(w, r, c, http.StatusOK, nil, nil)
}

func (s *Server) renderPetition(w http.ResponseWriter, r *http.Request, c *reqCtx, status int, form map[string][]string, errs validate.Errors) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	p, err := s.sp.petitions.Get(r.Context(), id, viewerID(c), canModerate(c))
	if err == nil {
		err = s.fillHiddenPetition(r.Context(), p)
	}
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	sp, err := s.sp.core.Space(r.Context(), p.SpaceID)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	signers, err := s.sp.petitions.PublicSigners(r.Context(), id, 100)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	ev, err := s.viewerEligibility(r, c, sp.ProcessID)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	data := map[string]any{"P": p, "Space": sp, "Signers": signers, "Eligibility": ev, "Overdue": p.Overdue(s.sp.core.Now()),
		"Moderate": canModerate(c), "Manage": c.principal != nil && c.principal.Can(identity.PermProcessesManage)}
	switch r.URL.Query().Get("done") {
	case "signed":
		data["Notice"] = i18n.T(c.lang, "petition.signed")
	case "withdrawn":
		data["Notice"] = i18n.T(c.lang, "petition.withdrawn")
	}
	s.renderForm(w, r, c, status, "petition", data, form, errs)
}

// signCore records consent to show a name, if asked, then signs.
func (s *Server) signCore(r *http.Request, c *reqCtx, petitionID int64, publicName string, method string) (int64, error) {
	if publicName != "" {
		if _, err := s.Consents.Set(r.Context(), c.principal.AccountID, "public_name", true, method); err != nil {
			return 0, err
		}
	}
	return s.sp.petitions.Sign(r.Context(), c.principal.AccountID, petitionID, publicName)
}

func (s *Server) signPetition(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	name := ""
	if r.PostFormValue("show_name") != "" {
		name = r.PostFormValue("public_name")
		if name == "" {
			s.renderPetition(w, r, c, http.StatusUnprocessableEntity, r.PostForm, validate.Errors{{Field: "public_name", Code: "required"}})
			return
		}
	}
	_, err = s.signCore(r, c, id, name, "web_form")
	var v validate.Errors
	switch {
	case errors.As(err, &v):
		s.renderPetition(w, r, c, http.StatusUnprocessableEntity, r.PostForm, v)
	case err != nil:
		s.fail(w, r, c, err)
	default:
		http.Redirect(w, r, "/petitions/"+strconv.FormatInt(id, 10)+"?done=signed", http.StatusSeeOther)
	}
}

func (s *Server) withdrawSignature(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	id, err := pathID(r)
	if err == nil {
		_, err = s.sp.petitions.Withdraw(r.Context(), c.principal.AccountID, id)
	}
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	http.Redirect(w, r, "/petitions/"+strconv.FormatInt(id, 10)+"?done=withdrawn", http.StatusSeeOther)
}

func (s *Server) reviewPetition(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	err = s.sp.petitions.Review(r.Context(), c.principal.AccountID, id, r.PostFormValue("decision") == "publish", r.PostFormValue("reason"))
	var v validate.Errors
	switch {
	case errors.As(err, &v):
		s.renderPetition(w, r, c, http.StatusUnprocessableEntity, r.PostForm, v)
	case err != nil:
		s.fail(w, r, c, err)
	default:
		http.Redirect(w, r, "/petitions/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
	}
}

func (s *Server) respondPetition(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	err = s.sp.petitions.Respond(r.Context(), c.principal.AccountID, id, r.PostFormValue("response"))
	var v validate.Errors
	switch {
	case errors.As(err, &v):
		s.renderPetition(w, r, c, http.StatusUnprocessableEntity, r.PostForm, v)
	case err != nil:
		s.fail(w, r, c, err)
	default:
		http.Redirect(w, r, "/petitions/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
	}
}

// API.

func (s *Server) apiCreatePetitionSpace(r *http.Request, c *reqCtx, b *petition.SpaceInput) (answer, error) {
	process, err := pathID(r)
	if err != nil {
		return answer{}, err
	}
	b.ProcessID = process
	id, err := s.sp.petitions.CreateSpace(r.Context(), c.principal.AccountID, *b)
	if err != nil {
		return answer{}, err
	}
	sp, err := s.sp.core.Space(r.Context(), id)
	if err != nil {
		return answer{}, err
	}
	return answer{http.StatusCreated, map[string]any{"space": sp}}, nil
}

func (s *Server) apiPetitions(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	sp, err := s.petitionSpace(r)
	if err != nil {
		return answer{}, err
	}
	status := r.URL.Query().Get("status")
	if status == petition.Pending && !canModerate(c) {
		return answer{}, identity.ErrForbidden
	}
	list, total, err := s.sp.petitions.List(r.Context(), sp.ID, viewerID(c), status, int(formInt(r.URL.Query().Get("page"))))
	if err != nil {
		return answer{}, err
	}
	return answer{http.StatusOK, map[string]any{"space": sp, "petitions": nonNil(list), "total": total}}, nil
}

func (s *Server) apiFilePetition(r *http.Request, c *reqCtx, b *petition.Input) (answer, error) {
	sp, err := s.petitionSpace(r)
	if err != nil {
		return answer{}, err
	}
	p, err := s.filePetitionCore(r, c, sp.ID, *b)
	if err != nil {
		return answer{}, err
	}
	return answer{http.StatusCreated, map[string]any{"petition": p}}, nil
}

func (s *Server) apiPetition(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	id, err := pathID(r)
	if err != nil {
		return answer{}, err
	}
	p, err := s.sp.petitions.Get(r.Context(), id, viewerID(c), canModerate(c))
	if err == nil {
		err = s.fillHiddenPetition(r.Context(), p)
	}
	if err != nil {
		return answer{}, err
	}
	signers, err := s.sp.petitions.PublicSigners(r.Context(), id, 100)
	if err != nil {
		return answer{}, err
	}
	return answer{http.StatusOK, map[string]any{"petition": p, "public_signers": nonNil(signers), "overdue": p.Overdue(s.sp.core.Now())}}, nil
}

type signatureBody struct {
	PublicName string `json:"public_name"` // optional; showing it gives consent to the purpose public_name
}

func (s *Server) apiSign(r *http.Request, c *reqCtx, b *signatureBody) (answer, error) {
	id, err := pathID(r)
	if err != nil {
		return answer{}, err
	}
	total, err := s.signCore(r, c, id, b.PublicName, "api")
	if err != nil {
		return answer{}, err
	}
	if total < 0 {
		if total, err = s.sp.petitions.Count(r.Context(), id); err != nil {
			return answer{}, err
		}
	}
	return answer{http.StatusCreated, map[string]any{"status": "signed", "signatures": total}}, nil
}

func (s *Server) apiWithdrawSignature(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	id, err := pathID(r)
	if err != nil {
		return answer{}, err
	}
	total, err := s.sp.petitions.Withdraw(r.Context(), c.principal.AccountID, id)
	if err != nil {
		return answer{}, err
	}
	return answer{http.StatusOK, map[string]any{"status": "withdrawn", "signatures": total}}, nil
}

type reviewBody struct {
	Decision string `json:"decision"` // "publish" or "reject"
	Reason   string `json:"reason"`
}

func (s *Server) apiReviewPetition(r *http.Request, c *reqCtx, b *reviewBody) (answer, error) {
	id, err := pathID(r)
	if err != nil {
		return answer{}, err
	}
	if b.Decision != "publish" && b.Decision != "reject" {
		return answer{}, validate.One("decision", "invalid", nil)
	}
	if err := s.sp.petitions.Review(r.Context(), c.principal.AccountID, id, b.Decision == "publish", b.Reason); err != nil {
		return answer{}, err
	}
	return status(http.StatusOK, "reviewed"), nil
}

type petitionResponseBody struct {
	Response string `json:"response"`
}

func (s *Server) apiRespondPetition(r *http.Request, c *reqCtx, b *petitionResponseBody) (answer, error) {
	id, err := pathID(r)
	if err != nil {
		return answer{}, err
	}
	if err := s.sp.petitions.Respond(r.Context(), c.principal.AccountID, id, b.Response); err != nil {
		return answer{}, err
	}
	return status(http.StatusOK, "answered"), nil
}
