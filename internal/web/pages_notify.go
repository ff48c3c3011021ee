package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/veche/veche/internal/i18n"
	"github.com/veche/veche/internal/participation/notify"
	"github.com/veche/veche/internal/validate"
)

// Pages and API of notifications (package participation/notify).

func (s *Server) notificationsPage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	items, err := s.sp.notify.List(r.Context(), c.principal.AccountID, c.lang, page)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	data := map[string]any{"Items": items, "Unread": false}
	for _, it := range items {
		if !it.Read {
			data["Unread"] = true
		}
	}
	if len(items) > 0 {
		data["Newest"] = items[0].ID
	}
	if r.URL.Query().Get("done") == "read" {
		data["Notice"] = i18n.T(c.lang, "notify.page.marked")
	}
	s.render(w, r, c, http.StatusOK, "notifications", data)
}

func (s *Server) markNotificationsRead(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	// up_to is the newest notification the page showed: one that arrived
	// since stays unread.
	if _, err := s.sp.notify.MarkRead(r.Context(), c.principal.AccountID, formInt(r.PostFormValue("up_to"))); err != nil {
		s.fail(w, r, c, err)
		return
	}
	http.Redirect(w, r, "/notifications?done=read", http.StatusSeeOther)
}

func (s *Server) notifyPreferencesForm(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	p, err := s.sp.notify.Preferences(r.Context(), c.principal.AccountID)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	form := url.Values{"email_mode": {p.Email}}
	for _, k := range notify.Kinds {
		if p.EmailFor(k) || p.Email == notify.EmailNever {
			form.Add("email_on", k)
		}
	}
	s.renderNotifyPreferences(w, r, c, http.StatusOK, form, nil, r.URL.Query().Get("done") == "saved")
}

func (s *Server) renderNotifyPreferences(w http.ResponseWriter, r *http.Request, c *reqCtx, status int, form url.Values, errs validate.Errors, saved bool) {
	on := map[string]bool{}
	for _, k := range form["email_on"] {
		on[k] = true
	}
	data := map[string]any{"Modes": notify.EmailModes, "Kinds": notify.Kinds, "On": on, "Host": r.Host}
	if saved {
		data["Notice"] = i18n.T(c.lang, "notify.prefs.saved")
	}
	s.renderForm(w, r, c, status, "notifications-preferences", data, form, errs)
}

// The form ticks the kinds to email; the service stores those turned off.
func (s *Server) saveNotifyPreferences(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	p := notify.Preferences{Email: r.PostFormValue("email_mode"), EmailOff: []string{}}
	for _, k := range notify.Kinds {
		if !contains(r.PostForm["email_on"], k) {
			p.EmailOff = append(p.EmailOff, k)
		}
	}
	err := s.sp.notify.SetPreferences(r.Context(), c.principal.AccountID, p)
	var v validate.Errors
	if errors.As(err, &v) {
		s.renderNotifyPreferences(w, r, c, http.StatusUnprocessableEntity, r.PostForm, v, false)
		return
	}
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	http.Redirect(w, r, "/account/notifications?done=saved", http.StatusSeeOther)
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func (s *Server) followProcess(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	id, err := pathID(r)
	if err == nil {
		err = s.sp.notify.Follow(r.Context(), c.principal.AccountID, id, r.PostFormValue("follow") != "0")
	}
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	http.Redirect(w, r, "/processes/"+strconv.FormatInt(id, 10)+"#follow", http.StatusSeeOther)
}

// Following reports whether the viewer follows process, for the Follow
// button on the process page.
func (v *view) Following(process int64) bool {
	if v.Principal == nil || v.s == nil || v.s.sp.notify == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	on, err := v.s.sp.notify.Following(ctx, v.Principal.AccountID, process)
	return err == nil && on
}

// UnreadNotifications counts the viewer's unread notifications, for the
// header.
func (v *view) UnreadNotifications() int {
	if v.Principal == nil || v.s == nil || v.s.sp.notify == nil {
		return 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n, err := v.s.sp.notify.Unread(ctx, v.Principal.AccountID)
	if err != nil {
		return 0
	}
	return n
}

// API.

type markReadBody struct {
	UpTo int64 `json:"up_to"`
}

func (s *Server) apiNotifications(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	items, err := s.sp.notify.List(r.Context(), c.principal.AccountID, c.lang, page)
	if err != nil {
		return answer{}, err
	}
	unread, err := s.sp.notify.Unread(r.Context(), c.principal.AccountID)
	if err != nil {
		return answer{}, err
	}
	return answer{http.StatusOK, map[string]any{"notifications": items, "unread": unread}}, nil
}

func (s *Server) apiMarkNotificationsRead(r *http.Request, c *reqCtx, b *markReadBody) (answer, error) {
	if b.UpTo < 0 {
		return answer{}, validate.One("up_to", "invalid", nil)
	}
	n, err := s.sp.notify.MarkRead(r.Context(), c.principal.AccountID, b.UpTo)
	if err != nil {
		return answer{}, err
	}
	return answer{http.StatusOK, map[string]any{"marked": n}}, nil
}

func (s *Server) apiNotifyPreferences(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	p, err := s.sp.notify.Preferences(r.Context(), c.principal.AccountID)
	if err != nil {
		return answer{}, err
	}
	return answer{http.StatusOK, map[string]any{"preferences": p, "modes": notify.EmailModes, "kinds": notify.Kinds}}, nil
}

func (s *Server) apiSetNotifyPreferences(r *http.Request, c *reqCtx, b *notify.Preferences) (answer, error) {
	if b.EmailOff == nil {
		b.EmailOff = []string{}
	}
	if err := s.sp.notify.SetPreferences(r.Context(), c.principal.AccountID, *b); err != nil {
		return answer{}, err
	}
	return s.apiNotifyPreferences(r, c, nil)
}

func (s *Server) apiFollow(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	return s.apiSetFollow(r, c, true)
}

func (s *Server) apiUnfollow(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	return s.apiSetFollow(r, c, false)
}

func (s *Server) apiSetFollow(r *http.Request, c *reqCtx, on bool) (answer, error) {
	id, err := pathID(r)
	if err != nil {
		return answer{}, err
	}
	if err := s.sp.notify.Follow(r.Context(), c.principal.AccountID, id, on); err != nil {
		return answer{}, err
	}
	return answer{http.StatusOK, map[string]any{"process_id": id, "following": on}}, nil
}
