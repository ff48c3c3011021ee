package web

import (
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"net/url"

	"github.com/veche/veche/internal/i18n"
	"github.com/veche/veche/internal/identity"
	"github.com/veche/veche/internal/identity/totp"
	"github.com/veche/veche/internal/validate"
)

func (s *Server) accountPage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	a, err := s.id.Account(r.Context(), c.principal.AccountID)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	accesses, err := s.Access.ForSubject(r.Context(), c.principal.AccountID, 50)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	choices, err := s.consentChoices(r, c.principal.AccountID)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	data := map[string]any{"Account": a, "Accesses": accesses, "Choices": choices}
	if r.URL.Query().Get("saved") == "consent" {
		data["Notice"] = i18n.T(c.lang, "consent.saved")
	}
	s.render(w, r, c, http.StatusOK, "account", data)
}

// needRecentAuth sends the person to confirm their password first when
// the re-authentication window has closed; it reports whether it did.
func (s *Server) needRecentAuth(w http.ResponseWriter, r *http.Request, c *reqCtx, back string) bool {
	if s.id.RecentlyAuthenticated(c.principal) {
		return false
	}
	http.Redirect(w, r, "/reauth?next="+url.QueryEscape(back), http.StatusSeeOther)
	return true
}

func (s *Server) reauthForm(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	s.render(w, r, c, http.StatusOK, "reauth", map[string]any{"Next": safeNext(r.URL.Query().Get("next"))})
}

func (s *Server) reauth(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	next := safeNext(r.PostFormValue("next"))
	if err := s.reauthCore(r, c, r.PostFormValue("password"), r.PostFormValue("code")); err != nil {
		status, code := classify(err)
		if status < 500 {
			setRetryAfter(w, err)
			s.render(w, r, c, status, "reauth", map[string]any{"Next": next, "Problem": message(c.lang, err, code)})
			return
		}
		s.fail(w, r, c, err)
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) changePasswordForm(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	if s.needRecentAuth(w, r, c, "/account/password") {
		return
	}
	s.renderForm(w, r, c, http.StatusOK, "password", nil, nil, nil)
}

func (s *Server) changePassword(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	err := s.id.ChangePassword(r.Context(), c.principal, r.PostFormValue("new_password"))
	var v validate.Errors
	switch {
	case errors.As(err, &v):
		s.renderForm(w, r, c, http.StatusUnprocessableEntity, "password", nil, nil, v)
	case errors.Is(err, identity.ErrReauthRequired):
		s.needRecentAuth(w, r, c, "/account/password")
	case err != nil:
		s.fail(w, r, c, err)
	default:
		s.render(w, r, c, http.StatusOK, "account-done", map[string]any{"Notice": i18n.T(c.lang, "password.changed")})
	}
}

func (s *Server) mfaPage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	s.renderMFA(w, r, c, http.StatusOK, "")
}

func (s *Server) renderMFA(w http.ResponseWriter, r *http.Request, c *reqCtx, status int, problem string) {
	data := map[string]any{"Problem": problem}
	if c.principal.MFAEnabled {
		left, err := s.id.RecoveryCodesLeft(r.Context(), c.principal)
		if err != nil {
			s.fail(w, r, c, err)
			return
		}
		data["CodesLeft"] = left
	} else if e, err := s.id.PendingTOTP(r.Context(), c.principal); err == nil {
		png, err := totp.QRCodePNG(e.URI, 240)
		if err != nil {
			s.fail(w, r, c, err)
			return
		}
		data["Pending"] = e
		data["QR"] = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
	} else if !errors.Is(err, identity.ErrMFANotEnrolled) {
		s.fail(w, r, c, err)
		return
	}
	s.render(w, r, c, status, "mfa", data)
}

func (s *Server) mfaBegin(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	if _, err := s.id.BeginTOTP(r.Context(), c.principal); err != nil {
		s.fail(w, r, c, err)
		return
	}
	http.Redirect(w, r, "/account/mfa", http.StatusSeeOther)
}

func (s *Server) mfaConfirm(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	codes, err := s.confirmTOTPCore(r, c, r.PostFormValue("code"))
	if errors.Is(err, identity.ErrInvalidCode) {
		s.renderMFA(w, r, c, http.StatusUnprocessableEntity, i18n.T(c.lang, "error.invalid_code"))
		return
	}
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	s.render(w, r, c, http.StatusOK, "recovery-codes", map[string]any{"Codes": codes, "Notice": i18n.T(c.lang, "mfa.enabled")})
}

func (s *Server) mfaDisable(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	err := s.id.DisableTOTP(r.Context(), c.principal)
	if errors.Is(err, identity.ErrReauthRequired) {
		s.needRecentAuth(w, r, c, "/account/mfa")
		return
	}
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	s.render(w, r, c, http.StatusOK, "account-done", map[string]any{"Notice": i18n.T(c.lang, "mfa.disabled")})
}

func (s *Server) mfaRecoveryCodes(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	codes, err := s.id.RegenerateRecoveryCodes(r.Context(), c.principal)
	if errors.Is(err, identity.ErrReauthRequired) {
		s.needRecentAuth(w, r, c, "/account/mfa")
		return
	}
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	s.render(w, r, c, http.StatusOK, "recovery-codes", map[string]any{"Codes": codes})
}

func (s *Server) sessionsPage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	list, err := s.id.Sessions(r.Context(), c.principal)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	s.render(w, r, c, http.StatusOK, "sessions", map[string]any{"Sessions": list})
}

func (s *Server) revokeSession(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	id := r.PathValue("id")
	if err := s.id.RevokeSession(r.Context(), c.principal, id); err != nil {
		s.fail(w, r, c, err)
		return
	}
	if id == c.principal.SessionID {
		s.clearSessionCookie(w)
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/account/sessions", http.StatusSeeOther)
}

// eraseAccountForm explains what erasing the account removes and what
// stays, and asks for confirmation; it needs a recent sign-in.
func (s *Server) eraseAccountForm(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	if s.needRecentAuth(w, r, c, "/account/erase") {
		return
	}
	s.renderForm(w, r, c, http.StatusOK, "account-erase", nil, nil, nil)
}

func (s *Server) eraseAccount(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	if r.PostFormValue("confirm") != "yes" {
		s.renderForm(w, r, c, http.StatusUnprocessableEntity, "account-erase", nil, nil, validate.Errors{{Field: "confirm", Code: "required"}})
		return
	}
	err := s.id.EraseAccount(r.Context(), c.principal)
	if errors.Is(err, identity.ErrReauthRequired) {
		s.needRecentAuth(w, r, c, "/account/erase")
		return
	}
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	s.clearSessionCookie(w)
	c.principal = nil
	s.render(w, r, c, http.StatusOK, "account-erased", nil)
}
