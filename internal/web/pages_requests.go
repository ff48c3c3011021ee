package web

import (
	"errors"
	"net/http"
	"time"

	"github.com/veche/veche/internal/i18n"
	"github.com/veche/veche/internal/privacy"
	"github.com/veche/veche/internal/validate"
)

// requestablePurposes are the purposes one may restrict or object to.
func requestablePurposes() []privacy.Purpose {
	var out []privacy.Purpose
	for _, p := range privacy.Purposes {
		if !p.NeedsConsent() {
			out = append(out, p)
		}
	}
	return out
}

func (s *Server) myRequestsPage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	s.renderMyRequests(w, r, c, http.StatusOK, nil, nil)
}

func (s *Server) renderMyRequests(w http.ResponseWriter, r *http.Request, c *reqCtx, status int, form map[string][]string, errs validate.Errors) {
	list, err := s.Requests.ForAccount(r.Context(), c.principal.AccountID)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	restrictions, err := s.Requests.Restrictions.ForAccount(r.Context(), c.principal.AccountID)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	data := map[string]any{"Requests": list, "Kinds": privacy.RequestKinds, "Purposes": requestablePurposes(), "Restrictions": restrictions}
	if r.URL.Query().Get("sent") != "" {
		data["Notice"] = i18n.T(c.lang, "requests.sent")
	}
	s.renderForm(w, r, c, status, "account-requests", data, form, errs)
}

func (s *Server) submitRequest(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	_, err := s.Requests.Submit(r.Context(), c.principal.AccountID, privacy.RequestKind(r.PostFormValue("kind")),
		r.PostFormValue("purpose"), r.PostFormValue("details"))
	var v validate.Errors
	if errors.As(err, &v) {
		s.renderMyRequests(w, r, c, http.StatusUnprocessableEntity, r.PostForm, v)
		return
	}
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	http.Redirect(w, r, "/account/requests?sent=1", http.StatusSeeOther)
}

func (s *Server) requestQueuePage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	s.renderQueue(w, r, c, http.StatusOK, nil)
}

func (s *Server) renderQueue(w http.ResponseWriter, r *http.Request, c *reqCtx, status int, errs validate.Errors) {
	list, err := s.Requests.Queue(r.Context())
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	restrictions, err := s.Requests.Restrictions.InForce(r.Context())
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	s.renderForm(w, r, c, status, "privacy-requests", map[string]any{"Requests": list, "Restrictions": restrictions, "Now": time.Now()}, nil, errs)
}

// liftRestriction ends a restriction in force, with the reason the
// person reads.
func (s *Server) liftRestriction(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	err = s.Requests.Restrictions.Lift(r.Context(), c.principal.AccountID, id, r.PostFormValue("reason"))
	if errors.Is(err, privacy.ErrRestrictionNotFound) {
		err = errNotFound
	}
	var v validate.Errors
	switch {
	case errors.As(err, &v):
		s.renderQueue(w, r, c, http.StatusUnprocessableEntity, v)
	case err != nil:
		s.fail(w, r, c, err)
	default:
		http.Redirect(w, r, "/privacy/requests#restrictions", http.StatusSeeOther)
	}
}

// closeRequest records the DPO's answer: completed, refused or extended.
func (s *Server) closeRequest(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	err = s.Requests.Close(r.Context(), c.principal.AccountID, id, r.PostFormValue("status"), r.PostFormValue("outcome"))
	var v validate.Errors
	switch {
	case errors.As(err, &v):
		s.renderQueue(w, r, c, http.StatusUnprocessableEntity, v)
	case errors.Is(err, privacy.ErrRequestClosed):
		s.renderQueue(w, r, c, http.StatusConflict, validate.Errors{{Field: "status", Code: "request_closed"}})
	case err != nil:
		s.fail(w, r, c, err)
	default:
		http.Redirect(w, r, "/privacy/requests", http.StatusSeeOther)
	}
}

// requestBody files a data-subject request through the API.
type requestBody struct {
	Kind    string `json:"kind"`
	Purpose string `json:"purpose"`
	Details string `json:"details"`
}

func (s *Server) apiSubmitRequest(r *http.Request, c *reqCtx, b *requestBody) (answer, error) {
	req, err := s.Requests.Submit(r.Context(), c.principal.AccountID, privacy.RequestKind(b.Kind), b.Purpose, b.Details)
	if err != nil {
		return answer{}, err
	}
	return answer{http.StatusCreated, map[string]any{"request": req}}, nil
}

func (s *Server) apiMyRequests(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	list, err := s.Requests.ForAccount(r.Context(), c.principal.AccountID)
	if err != nil {
		return answer{}, err
	}
	restrictions, err := s.Requests.Restrictions.ForAccount(r.Context(), c.principal.AccountID)
	if err != nil {
		return answer{}, err
	}
	return answer{http.StatusOK, map[string]any{"requests": nonNil(list), "restrictions": nonNil(restrictions)}}, nil
}

// apiRequestQueue lists the DPO's queue: ?status= (open, extended,
// completed, refused, or pending for open and extended) and ?due_soon=1.
func (s *Server) apiRequestQueue(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	q := r.URL.Query()
	f := privacy.RequestFilter{Status: q.Get("status")}
	switch q.Get("due_soon") {
	case "", "0", "false":
	case "1", "true":
		f.DueSoon = true
	default:
		return answer{}, validate.One("due_soon", "not_a_boolean", nil)
	}
	list, err := s.Requests.Find(r.Context(), f)
	if err != nil {
		return answer{}, err
	}
	return answer{http.StatusOK, map[string]any{"requests": nonNil(list)}}, nil
}

// answerBody is the DPO's answer to a request.
type answerBody struct {
	Status  string `json:"status"`
	Outcome string `json:"outcome"`
}

// apiAnswerRequest completes, refuses or extends a request and answers
// with it as it now stands.
func (s *Server) apiAnswerRequest(r *http.Request, c *reqCtx, b *answerBody) (answer, error) {
	id, err := pathID(r)
	if err != nil {
		return answer{}, err
	}
	if err := s.Requests.Close(r.Context(), c.principal.AccountID, id, b.Status, b.Outcome); err != nil {
		return answer{}, err
	}
	req, err := s.Requests.Request(r.Context(), id)
	if err != nil {
		return answer{}, err
	}
	return answer{http.StatusOK, map[string]any{"request": req}}, nil
}

func (s *Server) apiRestrictions(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	list, err := s.Requests.Restrictions.InForce(r.Context())
	if err != nil {
		return answer{}, err
	}
	return answer{http.StatusOK, map[string]any{"restrictions": nonNil(list)}}, nil
}

// liftBody is why the DPO lifts a restriction.
type liftBody struct {
	Reason string `json:"reason"`
}

func (s *Server) apiLiftRestriction(r *http.Request, c *reqCtx, b *liftBody) (answer, error) {
	id, err := pathID(r)
	if err != nil {
		return answer{}, err
	}
	err = s.Requests.Restrictions.Lift(r.Context(), c.principal.AccountID, id, b.Reason)
	if errors.Is(err, privacy.ErrRestrictionNotFound) {
		return answer{}, errNotFound
	}
	if err != nil {
		return answer{}, err
	}
	return status(http.StatusOK, "lifted"), nil
}
