package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/veche/veche/internal/i18n"
	"github.com/veche/veche/internal/participation"
	"github.com/veche/veche/internal/participation/consultation"
	"github.com/veche/veche/internal/participation/moderation"
	"github.com/veche/veche/internal/participation/petition"
	"github.com/veche/veche/internal/secops"
	"github.com/veche/veche/internal/validate"
)

// FlagsPerClient limits flags per signed-in account, or per address for
// signed-out visitors (the address is used for the limit only, as a keyed
// hash in memory, and never stored).
const FlagsPerClient = "flags-client"

func init() {
	// Shipped limits: flags, a burst of 10 then one a minute; posting (comments
	// and petitions) per space and account, a burst of 10 then one a minute.
	if _, ok := secops.DefaultLimits[FlagsPerClient]; !ok {
		secops.DefaultLimits[FlagsPerClient] = secops.Limit{Every: time.Minute, Burst: 10}
	}
	if _, ok := secops.DefaultLimits[postsPerSpace]; !ok {
		secops.DefaultLimits[postsPerSpace] = secops.Limit{Every: time.Minute, Burst: 10}
	}
}

// flagSubject is who a flag's rate limit counts against.
func flagSubject(c *reqCtx) string {
	if c.principal != nil {
		return "account:" + strconv.FormatInt(c.principal.AccountID, 10)
	}
	return "ip:" + c.ip
}

// itemURL is the page of a flaggable item.
func (s *Server) itemURL(r *http.Request, kind string, id int64) string {
	n := strconv.FormatInt(id, 10)
	if kind == moderation.KindPetition {
		return "/petitions/" + n
	}
	return spaceURL(participation.KindConsultation, s.commentSpace(r, id)) + "#c" + n
}

// fillHiddenComments puts the public reason in the place of every hidden
// comment of page.
func (s *Server) fillHiddenComments(ctx context.Context, page *consultation.Page) error {
	var hidden []*consultation.Comment
	var walk func([]*consultation.Comment)
	walk = func(list []*consultation.Comment) {
		for _, c := range list {
			if c.Status == consultation.Hidden {
				hidden = append(hidden, c)
			}
			walk(c.Replies)
		}
	}
	walk(page.Threads)
	if len(hidden) == 0 {
		return nil
	}
	ids := make([]int64, len(hidden))
	for i, c := range hidden {
		ids[i] = c.ID
	}
	reasons, err := s.sp.moderation.HiddenReasons(ctx, moderation.KindComment, ids)
	for _, c := range hidden {
		c.HiddenReason = reasons[c.ID]
	}
	return err
}

// fillHiddenPetition puts the public reason in the place of a hidden
// petition.
func (s *Server) fillHiddenPetition(ctx context.Context, p *petition.Petition) error {
	if p.Status != petition.Hidden {
		return nil
	}
	reasons, err := s.sp.moderation.HiddenReasons(ctx, moderation.KindPetition, []int64{p.ID})
	p.HiddenReason = reasons[p.ID]
	return err
}

func (s *Server) flagForm(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	q := r.URL.Query()
	form := url.Values{"kind": {q.Get("kind")}, "id": {q.Get("id")}}
	var notice string
	if q.Get("done") != "" {
		notice = i18n.T(c.lang, "moderation.flag.thanks")
	}
	s.renderFlag(w, r, c, http.StatusOK, form, nil, notice)
}

func (s *Server) renderFlag(w http.ResponseWriter, r *http.Request, c *reqCtx, status int, form url.Values, errs validate.Errors, notice string) {
	kind, id := form.Get("kind"), formInt(form.Get("id"))
	st, mine, err := s.sp.moderation.Status(r.Context(), kind, id, viewerID(c))
	if err == nil && ((st == petition.Hidden && !mine) || (st == petition.Pending && !mine && !canModerate(c))) {
		err = participation.ErrNotFound
	}
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	review := st == petition.Hidden && mine
	if review {
		form.Set("reason", moderation.ReasonReview)
	}
	data := map[string]any{"Kind": kind, "ID": id, "Back": s.itemURL(r, kind, id), "Reasons": moderation.Reasons, "Review": review,
		"Max": moderation.MaxDetails}
	if review {
		reasons, err := s.sp.moderation.HiddenReasons(r.Context(), kind, []int64{id})
		if err != nil {
			s.fail(w, r, c, err)
			return
		}
		data["HiddenReason"] = reasons[id]
	}
	if notice != "" {
		data["Notice"] = notice
		data["Sent"] = true
	}
	s.renderForm(w, r, c, status, "flag", data, form, errs)
}

func (s *Server) fileFlag(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	in := moderation.FlagInput{Kind: r.PostFormValue("kind"), ItemID: formInt(r.PostFormValue("id")), Reason: r.PostFormValue("reason"),
		Details: r.PostFormValue("details")}
	_, err := s.flagCore(r, c, in)
	var v validate.Errors
	switch {
	case errors.As(err, &v):
		s.renderFlag(w, r, c, http.StatusUnprocessableEntity, r.PostForm, v, "")
	case errors.Is(err, moderation.ErrAlreadyFlagged):
		s.renderFlag(w, r, c, http.StatusConflict, r.PostForm, nil, i18n.T(c.lang, "error.already_flagged"))
	case err != nil:
		s.fail(w, r, c, err)
	default:
		http.Redirect(w, r, "/flag?kind="+url.QueryEscape(in.Kind)+"&id="+strconv.FormatInt(in.ItemID, 10)+"&done=1", http.StatusSeeOther)
	}
}

func (s *Server) flagCore(r *http.Request, c *reqCtx, in moderation.FlagInput) (int64, error) {
	if err := s.limit(r, c, FlagsPerClient, flagSubject(c)); err != nil {
		return 0, err
	}
	return s.sp.moderation.Flag(r.Context(), viewerID(c), in)
}

func (s *Server) moderationQueuePage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	var notice string
	if a := r.URL.Query().Get("done"); a != "" {
		notice = i18n.T(c.lang, "moderation.queue.done")
	}
	s.renderModerationQueue(w, r, c, http.StatusOK, nil, nil, notice)
}

func (s *Server) renderModerationQueue(w http.ResponseWriter, r *http.Request, c *reqCtx, status int, form url.Values, errs validate.Errors, notice string) {
	items, err := s.sp.moderation.Queue(r.Context())
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	data := map[string]any{"Items": items, "Back": func(kind string, id int64) string { return s.itemURL(r, kind, id) },
		"FailedKind": "", "FailedID": int64(0)}
	if notice != "" {
		data["Notice"] = notice
	}
	if form != nil { // the form that failed keeps plain field ids, for the error summary's links
		data["FailedKind"], data["FailedID"] = form.Get("kind"), formInt(form.Get("id"))
	}
	s.renderForm(w, r, c, status, "moderation", data, form, errs)
}

func (s *Server) decide(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	d := moderation.Decision{Kind: r.PostFormValue("kind"), ItemID: formInt(r.PostFormValue("id")), Action: r.PostFormValue("action"),
		PublicReason: r.PostFormValue("public_reason")}
	_, err := s.sp.moderation.Decide(r.Context(), c.principal.AccountID, d)
	var v validate.Errors
	switch {
	case errors.As(err, &v):
		s.renderModerationQueue(w, r, c, http.StatusUnprocessableEntity, r.PostForm, v, "")
	case err != nil:
		s.fail(w, r, c, err)
	case r.PostFormValue("from") == "log":
		http.Redirect(w, r, "/moderation/log?done="+url.QueryEscape(d.Action), http.StatusSeeOther)
	default:
		http.Redirect(w, r, "/moderation?done="+url.QueryEscape(d.Action), http.StatusSeeOther)
	}
}

func (s *Server) moderationLogPage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	page := int(formInt(r.URL.Query().Get("page")))
	entries, pages, err := s.sp.moderation.Log(r.Context(), page)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	data := map[string]any{"Entries": entries, "Page": max(page, 1), "Pages": pages, "Moderate": canModerate(c)}
	if r.URL.Query().Get("done") != "" {
		data["Notice"] = i18n.T(c.lang, "moderation.queue.done")
	}
	s.render(w, r, c, http.StatusOK, "moderation-log", data)
}

func (s *Server) moderationPolicyPage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	s.render(w, r, c, http.StatusOK, "moderation-policy", map[string]any{"Reasons": moderation.Reasons})
}

// API.

func (s *Server) apiFlag(r *http.Request, c *reqCtx, b *moderation.FlagInput) (answer, error) {
	id, err := s.flagCore(r, c, *b)
	if err != nil {
		return answer{}, err
	}
	return answer{http.StatusCreated, map[string]any{"flag": map[string]any{"id": id, "status": "open"}}}, nil
}

func (s *Server) apiModerationQueue(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	items, err := s.sp.moderation.Queue(r.Context())
	if err != nil {
		return answer{}, err
	}
	return answer{http.StatusOK, map[string]any{"items": nonNil(items)}}, nil
}

func (s *Server) apiDecide(r *http.Request, c *reqCtx, b *moderation.Decision) (answer, error) {
	a, err := s.sp.moderation.Decide(r.Context(), c.principal.AccountID, *b)
	if err != nil {
		return answer{}, err
	}
	return answer{http.StatusCreated, map[string]any{"decision": a}}, nil
}

func (s *Server) apiModerationLog(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	page := max(int(formInt(r.URL.Query().Get("page"))), 1)
	entries, pages, err := s.sp.moderation.Log(r.Context(), page)
	if err != nil {
		return answer{}, err
	}
	out := make([]moderation.Action, len(entries))
	for i, e := range entries {
		out[i] = e.Action
	}
	return answer{http.StatusOK, map[string]any{"decisions": out, "page": page, "pages": pages}}, nil
}
