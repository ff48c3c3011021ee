package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/veche/veche/internal/i18n"
	"github.com/veche/veche/internal/identity"
	"github.com/veche/veche/internal/participation"
	"github.com/veche/veche/internal/participation/consultation"
	"github.com/veche/veche/internal/validate"
)

func (s *Server) newConsultationForm(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	s.renderSpaceForm(w, r, c, http.StatusOK, "consultation-new", nil, nil)
}

// renderSpaceForm renders a form that creates a space in the process of
// the path, which offers the process's phases.
func (s *Server) renderSpaceForm(w http.ResponseWriter, r *http.Request, c *reqCtx, status int, name string, form map[string][]string, errs validate.Errors) {
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
	s.renderForm(w, r, c, status, name, map[string]any{"Process": p}, form, errs)
}

func (s *Server) createConsultation(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	process, err := pathID(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	id, err := s.sp.consultations.Create(r.Context(), c.principal.AccountID, consultation.Input{ProcessID: process,
		PhaseID: formInt(r.PostFormValue("phase_id")), Title: r.PostFormValue("title"), Document: r.PostFormValue("document"),
		Moderated: r.PostFormValue("moderated") != ""})
	var v validate.Errors
	if errors.As(err, &v) {
		s.renderSpaceForm(w, r, c, http.StatusUnprocessableEntity, "consultation-new", r.PostForm, v)
		return
	}
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	http.Redirect(w, r, spaceURL(participation.KindConsultation, id), http.StatusSeeOther)
}

func viewerID(c *reqCtx) int64 {
	if c.principal == nil {
		return 0
	}
	return c.principal.AccountID
}

// consultationFromPath is the consultation the request's {id} names.
func (s *Server) consultationFromPath(r *http.Request) (*consultation.Consultation, error) {
	id, err := pathID(r)
	if err != nil {
		return nil, err
	}
	return s.sp.consultations.Get(r.Context(), id)
}

func (s *Server) consultationPage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	s.renderConsultation(w, r, c, http.StatusOK, nil, nil)
}

func (s *Server) renderConsultation(w http.ResponseWriter, r *http.Request, c *reqCtx, status int, form map[string][]string, errs validate.Errors) {
	con, err := s.consultationFromPath(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	id := con.Space.ID
	section := formInt(r.URL.Query().Get("section"))
	page, err := s.sp.consultations.Comments(r.Context(), id, section, viewerID(c), int(formInt(r.URL.Query().Get("page"))))
	if err == nil {
		err = s.fillHiddenComments(r.Context(), page)
	}
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	ev, err := s.viewerEligibility(r, c, con.Space.ProcessID)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	data := map[string]any{"C": con, "Comments": page, "Section": section, "Eligibility": ev, "Outcomes": consultation.Outcomes,
		"Manage": c.principal != nil && c.principal.Can(identity.PermProcessesManage)}
	switch r.URL.Query().Get("posted") {
	case consultation.Pending:
		data["Notice"] = i18n.T(c.lang, "comment.held")
	case consultation.Published:
		data["Notice"] = i18n.T(c.lang, "comment.posted")
	}
	s.renderForm(w, r, c, status, "consultation", data, form, errs)
}

func (s *Server) postComment(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	com, err := s.postCommentCore(r, c, id, formInt(r.PostFormValue("section")), formInt(r.PostFormValue("parent")), r.PostFormValue("body"))
	var v validate.Errors
	if errors.As(err, &v) {
		s.renderConsultation(w, r, c, http.StatusUnprocessableEntity, r.PostForm, v)
		return
	}
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	http.Redirect(w, r, spaceURL(participation.KindConsultation, id)+"?posted="+com.Status+"#c"+strconv.FormatInt(com.ID, 10), http.StatusSeeOther)
}

// postCommentCore applies the per-space posting limit, then posts.
func (s *Server) postCommentCore(r *http.Request, c *reqCtx, space, section, parent int64, body string) (*consultation.Comment, error) {
	if err := s.limit(r, c, postsPerSpace, strconv.FormatInt(space, 10)+":"+strconv.FormatInt(c.principal.AccountID, 10)); err != nil {
		return nil, err
	}
	return s.sp.consultations.Post(r.Context(), c.principal.AccountID, space, section, parent, body)
}

// commentSpace is the consultation a comment belongs to, for redirects.
func (s *Server) commentSpace(r *http.Request, comment int64) int64 {
	var space int64
	s.sp.core.DB().QueryRow(r.Context(), "SELECT space_id FROM comments WHERE id = ?", comment).Scan(&space)
	return space
}

func (s *Server) editCommentForm(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	s.renderEditComment(w, r, c, http.StatusOK, nil, nil)
}

func (s *Server) renderEditComment(w http.ResponseWriter, r *http.Request, c *reqCtx, status int, form map[string][]string, errs validate.Errors) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	space := s.commentSpace(r, id)
	history, err := s.sp.consultations.History(r.Context(), id)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	if form == nil {
		body, err := s.sp.consultations.Body(r.Context(), id, c.principal.AccountID)
		if err != nil {
			s.fail(w, r, c, err)
			return
		}
		form = map[string][]string{"body": {body}}
	}
	s.renderForm(w, r, c, status, "comment-edit", map[string]any{"ID": id, "Space": space, "History": history}, form, errs)
}

func (s *Server) editComment(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	err = s.sp.consultations.Edit(r.Context(), c.principal.AccountID, id, r.PostFormValue("body"))
	var v validate.Errors
	if errors.As(err, &v) {
		s.renderEditComment(w, r, c, http.StatusUnprocessableEntity, r.PostForm, v)
		return
	}
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	http.Redirect(w, r, spaceURL(participation.KindConsultation, s.commentSpace(r, id))+"#c"+strconv.FormatInt(id, 10), http.StatusSeeOther)
}

func (s *Server) commentHistoryPage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	history, err := s.sp.consultations.History(r.Context(), id)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	s.render(w, r, c, http.StatusOK, "comment-history", map[string]any{"ID": id, "Space": s.commentSpace(r, id), "History": history})
}

func (s *Server) reactToComment(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	id, err := pathID(r)
	if err == nil {
		err = s.reactCore(r, c, id, r.PostFormValue("reaction"))
	}
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	http.Redirect(w, r, spaceURL(participation.KindConsultation, s.commentSpace(r, id))+"#c"+strconv.FormatInt(id, 10), http.StatusSeeOther)
}

func (s *Server) reactCore(r *http.Request, c *reqCtx, comment int64, reaction string) error {
	if reaction != "agree" && reaction != "disagree" {
		return validate.One("reaction", "invalid", nil)
	}
	return s.sp.consultations.React(r.Context(), c.principal.AccountID, comment, reaction == "agree")
}

func (s *Server) answerConsultation(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	in := consultation.AnswerInput{CommentID: formInt(r.PostFormValue("comment_id")), SectionID: formInt(r.PostFormValue("section_id")),
		Outcome: r.PostFormValue("outcome"), Body: r.PostFormValue("answer")}
	err = s.sp.consultations.Answer(r.Context(), c.principal.AccountID, id, in)
	var v validate.Errors
	if errors.As(err, &v) {
		for i := range v { // the answer's text is the form's "answer", not the comment box
			if v[i].Field == "body" {
				v[i].Field = "answer"
			}
		}
		s.renderConsultation(w, r, c, http.StatusUnprocessableEntity, r.PostForm, v)
		return
	}
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	anchor := "#s" + strconv.FormatInt(in.SectionID, 10)
	if in.CommentID != 0 {
		anchor = "#c" + strconv.FormatInt(in.CommentID, 10)
	}
	http.Redirect(w, r, spaceURL(participation.KindConsultation, id)+anchor, http.StatusSeeOther)
}

func (s *Server) reportPage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	s.renderReport(w, r, c, http.StatusOK, nil, nil)
}

func (s *Server) renderReport(w http.ResponseWriter, r *http.Request, c *reqCtx, status int, form map[string][]string, errs validate.Errors) {
	con, err := s.consultationFromPath(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	id := con.Space.ID
	outcomes, err := s.sp.consultations.Outcomes(r.Context(), id)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	if form == nil {
		form = map[string][]string{"report": {con.Report}}
	}
	s.renderForm(w, r, c, status, "consultation-report", map[string]any{"C": con, "Outcomes": outcomes,
		"Manage": c.principal != nil && c.principal.Can(identity.PermProcessesManage)}, form, errs)
}

func (s *Server) publishReport(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	err = s.sp.consultations.PublishReport(r.Context(), c.principal.AccountID, id, r.PostFormValue("report"))
	var v validate.Errors
	switch {
	case errors.As(err, &v):
		s.renderReport(w, r, c, http.StatusUnprocessableEntity, r.PostForm, v)
	case errors.Is(err, consultation.ErrNoReport):
		s.renderReport(w, r, c, http.StatusConflict, r.PostForm, validate.Errors{{Field: "report", Code: "report_too_early"}})
	case err != nil:
		s.fail(w, r, c, err)
	default:
		http.Redirect(w, r, "/consultations/"+strconv.FormatInt(id, 10)+"/report", http.StatusSeeOther)
	}
}

// API.

func (s *Server) apiCreateConsultation(r *http.Request, c *reqCtx, b *consultation.Input) (answer, error) {
	process, err := pathID(r)
	if err != nil {
		return answer{}, err
	}
	b.ProcessID = process
	id, err := s.sp.consultations.Create(r.Context(), c.principal.AccountID, *b)
	if err != nil {
		return answer{}, err
	}
	con, err := s.sp.consultations.Get(r.Context(), id)
	if err != nil {
		return answer{}, err
	}
	return answer{http.StatusCreated, map[string]any{"consultation": con}}, nil
}

func (s *Server) apiConsultation(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	con, err := s.consultationFromPath(r)
	if err != nil {
		return answer{}, err
	}
	return answer{http.StatusOK, map[string]any{"consultation": con}}, nil
}

func (s *Server) apiComments(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	id, err := pathID(r)
	if err != nil {
		return answer{}, err
	}
	q := r.URL.Query()
	page, err := s.sp.consultations.Comments(r.Context(), id, formInt(q.Get("section")), viewerID(c), int(formInt(q.Get("page"))))
	if err == nil {
		err = s.fillHiddenComments(r.Context(), page)
	}
	if err != nil {
		return answer{}, err
	}
	page.Threads = nonNil(page.Threads)
	return answer{http.StatusOK, page}, nil
}

type commentBody struct {
	SectionID int64  `json:"section_id"`
	ParentID  int64  `json:"parent_id"`
	Body      string `json:"body"`
}

func (s *Server) apiPostComment(r *http.Request, c *reqCtx, b *commentBody) (answer, error) {
	id, err := pathID(r)
	if err != nil {
		return answer{}, err
	}
	com, err := s.postCommentCore(r, c, id, b.SectionID, b.ParentID, b.Body)
	if err != nil {
		return answer{}, err
	}
	return answer{http.StatusCreated, map[string]any{"comment": com}}, nil
}

type bodyOnly struct {
	Body string `json:"body"`
}

func (s *Server) apiEditComment(r *http.Request, c *reqCtx, b *bodyOnly) (answer, error) {
	id, err := pathID(r)
	if err != nil {
		return answer{}, err
	}
	if err := s.sp.consultations.Edit(r.Context(), c.principal.AccountID, id, b.Body); err != nil {
		return answer{}, err
	}
	return status(http.StatusOK, "edited"), nil
}

func (s *Server) apiCommentHistory(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	id, err := pathID(r)
	if err != nil {
		return answer{}, err
	}
	h, err := s.sp.consultations.History(r.Context(), id)
	if err != nil {
		return answer{}, err
	}
	return answer{http.StatusOK, map[string]any{"revisions": nonNil(h)}}, nil
}

type reactionBody struct {
	Reaction string `json:"reaction"` // "agree" or "disagree"; the same again takes it back
}

func (s *Server) apiReact(r *http.Request, c *reqCtx, b *reactionBody) (answer, error) {
	id, err := pathID(r)
	if err != nil {
		return answer{}, err
	}
	if err := s.reactCore(r, c, id, b.Reaction); err != nil {
		return answer{}, err
	}
	return status(http.StatusOK, "recorded"), nil
}

func (s *Server) apiAnswer(r *http.Request, c *reqCtx, b *consultation.AnswerInput) (answer, error) {
	id, err := pathID(r)
	if err != nil {
		return answer{}, err
	}
	if err := s.sp.consultations.Answer(r.Context(), c.principal.AccountID, id, *b); err != nil {
		return answer{}, err
	}
	return status(http.StatusOK, "answered"), nil
}

type reportBody struct {
	Report string `json:"report"`
}

func (s *Server) apiPublishReport(r *http.Request, c *reqCtx, b *reportBody) (answer, error) {
	id, err := pathID(r)
	if err != nil {
		return answer{}, err
	}
	if err := s.sp.consultations.PublishReport(r.Context(), c.principal.AccountID, id, b.Report); err != nil {
		return answer{}, err
	}
	outcomes, err := s.sp.consultations.Outcomes(r.Context(), id)
	if err != nil {
		return answer{}, err
	}
	return answer{http.StatusOK, map[string]any{"report": b.Report, "outcomes": nonNil(outcomes)}}, nil
}
