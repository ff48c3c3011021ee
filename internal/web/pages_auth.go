package web

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/veche/veche/internal/i18n"
	"github.com/veche/veche/internal/identity"
	"github.com/veche/veche/internal/secops"
	"github.com/veche/veche/internal/validate"
)

func (s *Server) home(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	s.render(w, r, c, http.StatusOK, "home", nil)
}

// setLanguage remembers the chosen language in a cookie (and on the
// account, when signed in) and returns to the page it came from.
func (s *Server) setLanguage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	lang, ok := i18n.Parse(r.PostFormValue("lang"))
	if !ok {
		s.fail(w, r, c, validate.One("lang", "unknown_language", nil))
		return
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: string(lang), Path: "/", MaxAge: 365 * 24 * 3600,
		Secure: c.https, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	if c.principal != nil {
		if err := s.id.SetLocale(r.Context(), c.principal, lang); err != nil {
			s.fail(w, r, c, err)
			return
		}
	}
	next := r.PostFormValue("next")
	if next == "" {
		next = "/"
	}
	http.Redirect(w, r, safeNext(next), http.StatusSeeOther)
}

func (s *Server) registerForm(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	s.renderForm(w, r, c, http.StatusOK, "register", nil, nil, nil)
}

func (s *Server) register(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	if err := s.limit(r, c, secops.RegisterPerIP, c.ip); err != nil {
		s.fail(w, r, c, err)
		return
	}
	err := s.id.Register(r.Context(), r.PostFormValue("email"), r.PostFormValue("password"), c.lang)
	var v validate.Errors
	if errors.As(err, &v) {
		s.renderForm(w, r, c, http.StatusUnprocessableEntity, "register", nil, withoutPasswords(r.PostForm), v)
		return
	}
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	s.render(w, r, c, http.StatusOK, "check-email", map[string]any{"Email": r.PostFormValue("email")})
}

// verifyEmailForm shows a button rather than verifying on GET: mail
// scanners open links, and a GET must not change anything.
func (s *Server) verifyEmailForm(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	s.render(w, r, c, http.StatusOK, "verify-email", map[string]any{"Token": r.URL.Query().Get("token")})
}

func (s *Server) verifyEmail(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	if err := s.verifyEmailCore(r, c, r.PostFormValue("token")); err != nil {
		s.fail(w, r, c, err)
		return
	}
	s.render(w, r, c, http.StatusOK, "signin", map[string]any{"Notice": i18n.T(c.lang, "verify.done"), "Next": "/account"})
}

func (s *Server) signInForm(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	if c.principal != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	s.renderForm(w, r, c, http.StatusOK, "signin", map[string]any{"Next": safeNext(r.URL.Query().Get("next"))}, nil, nil)
}

func (s *Server) signIn(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	email, pw, next := r.PostFormValue("email"), r.PostFormValue("password"), safeNext(r.PostFormValue("next"))
	data := map[string]any{"Next": next}
	res, err := s.signInCore(r, c, email, pw, identity.KindBrowser)
	if err != nil {
		status, code := classify(err)
		if status == http.StatusUnauthorized || code == "email_not_verified" || status == http.StatusTooManyRequests {
			setRetryAfter(w, err)
			data["Problem"] = message(c.lang, err, code)
			s.renderForm(w, r, c, status, "signin", data, withoutPasswords(r.PostForm), nil)
			return
		}
		s.fail(w, r, c, err)
		return
	}
	s.endReplacedSession(r, c)
	s.setSessionCookie(w, c, res.Token, res.ExpiresAt)
	if res.MFARequired {
		http.Redirect(w, r, "/signin/mfa?next="+url.QueryEscape(next), http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, s.afterSignIn(r, res.Token, next), http.StatusSeeOther)
}

// endReplacedSession ends the session this browser held before a new
// sign-in replaces its cookie, so that it does not live on unseen until it
// times out (a person switching accounts, or a session planted in the
// browser).
func (s *Server) endReplacedSession(r *http.Request, c *reqCtx) {
	if c.token == "" || c.bearer {
		return
	}
	if err := s.id.SignOut(r.Context(), c.token); err != nil {
		s.Logger.Error("web: ending the replaced session", "err", err)
	}
}

// afterSignIn sends staff who have no second factor yet to set one up.
func (s *Server) afterSignIn(r *http.Request, token, next string) string {
	if p, _, err := s.id.Authenticate(r.Context(), token); err == nil && p.NeedsMFAEnrolment() {
		return "/account/mfa"
	}
	return next
}

func (s *Server) mfaStepForm(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	s.renderForm(w, r, c, http.StatusOK, "signin-mfa", map[string]any{"Next": safeNext(r.URL.Query().Get("next"))}, nil, nil)
}

func (s *Server) mfaStep(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	next := safeNext(r.PostFormValue("next"))
	res, err := s.mfaCore(r, c, c.token, r.PostFormValue("code"))
	if err != nil {
		status, code := classify(err)
		if code == "session_invalid" {
			s.clearSessionCookie(w)
			http.Redirect(w, r, "/signin?next="+url.QueryEscape(next), http.StatusSeeOther)
			return
		}
		if status < 500 {
			setRetryAfter(w, err)
			s.renderForm(w, r, c, status, "signin-mfa", map[string]any{"Next": next, "Problem": message(c.lang, err, code)}, nil, nil)
			return
		}
		s.fail(w, r, c, err)
		return
	}
	s.setSessionCookie(w, c, res.Token, res.ExpiresAt)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	if c.token != "" {
		if err := s.id.SignOut(r.Context(), c.token); err != nil {
			s.fail(w, r, c, err)
			return
		}
	}
	s.clearSessionCookie(w)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) forgotForm(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	s.renderForm(w, r, c, http.StatusOK, "forgot", nil, nil, nil)
}

func (s *Server) forgot(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	if err := s.forgotCore(r, c, r.PostFormValue("email")); err != nil {
		var v validate.Errors
		if errors.As(err, &v) {
			s.renderForm(w, r, c, http.StatusUnprocessableEntity, "forgot", nil, r.PostForm, v)
			return
		}
		s.fail(w, r, c, err)
		return
	}
	s.render(w, r, c, http.StatusOK, "check-email", map[string]any{"Email": r.PostFormValue("email"), "Reset": true})
}

func (s *Server) resetForm(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	s.renderForm(w, r, c, http.StatusOK, "reset", map[string]any{"Token": r.URL.Query().Get("token")}, nil, nil)
}

func (s *Server) reset(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	token := r.PostFormValue("token")
	err := s.resetCore(r, c, token, r.PostFormValue("new_password"))
	var v validate.Errors
	if errors.As(err, &v) {
		s.renderForm(w, r, c, http.StatusUnprocessableEntity, "reset", map[string]any{"Token": token}, nil, v)
		return
	}
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	s.clearSessionCookie(w)
	s.render(w, r, c, http.StatusOK, "signin", map[string]any{"Notice": i18n.T(c.lang, "reset.done"), "Next": "/account"})
}
