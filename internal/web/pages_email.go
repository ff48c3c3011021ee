package web

import (
	"errors"
	"net/http"

	"github.com/veche/veche/internal/i18n"
	"github.com/veche/veche/internal/identity"
	"github.com/veche/veche/internal/secops"
	"github.com/veche/veche/internal/validate"
)

// Changing one's email address: the form (after a password re-check), the
// link mailed to the new address, and cancelling a pending change.

func (s *Server) emailChangeForm(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	if s.needRecentAuth(w, r, c, "/account/email") {
		return
	}
	s.renderEmailChange(w, r, c, http.StatusOK, nil, nil)
}

func (s *Server) renderEmailChange(w http.ResponseWriter, r *http.Request, c *reqCtx, status int, form map[string][]string, errs validate.Errors) {
	pending, err := s.id.PendingEmailChange(r.Context(), c.principal)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	s.renderForm(w, r, c, status, "account-email", map[string]any{"Pending": pending}, form, errs)
}

// emailChangeCore starts a change of address, limited per account: each
// request mails two addresses.
func (s *Server) emailChangeCore(r *http.Request, c *reqCtx, email string) error {
	if err := s.limit(r, c, secops.EmailChangePerAccount, "account:"+itoa64(c.principal.AccountID)); err != nil {
		return err
	}
	return s.id.RequestEmailChange(r.Context(), c.principal, email, c.lang)
}

func (s *Server) emailChange(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	email := r.PostFormValue("email")
	err := s.emailChangeCore(r, c, email)
	var v validate.Errors
	switch {
	case errors.Is(err, identity.ErrReauthRequired):
		s.needRecentAuth(w, r, c, "/account/email")
	case errors.As(err, &v):
		s.renderEmailChange(w, r, c, http.StatusUnprocessableEntity, r.PostForm, v)
	case err != nil:
		s.fail(w, r, c, err)
	default:
		normalized, _ := identity.NormalizeEmail(email)
		s.render(w, r, c, http.StatusOK, "account-done", map[string]any{"Notice": i18n.T(c.lang, "email_change.sent", "email", normalized)})
	}
}

func (s *Server) emailChangeCancel(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	if err := s.id.CancelEmailChange(r.Context(), c.principal); err != nil {
		s.fail(w, r, c, err)
		return
	}
	s.render(w, r, c, http.StatusOK, "account-done", map[string]any{"Notice": i18n.T(c.lang, "email_change.cancelled")})
}

// emailConfirmForm shows a button rather than changing on GET: mail
// scanners open links, and a GET must not change anything.
func (s *Server) emailConfirmForm(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	s.render(w, r, c, http.StatusOK, "account-email-confirm", map[string]any{"Token": r.URL.Query().Get("token")})
}

// emailConfirmCore completes a change with the mailed token, limited per
// client address like the other uses of emailed tokens.
func (s *Server) emailConfirmCore(r *http.Request, c *reqCtx, token string) error {
	if err := s.limit(r, c, secops.EmailVerifyPerIP, c.ip); err != nil {
		return err
	}
	return s.recordBadToken(r, c, s.id.ConfirmEmailChange(r.Context(), token))
}

func (s *Server) emailConfirm(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	token := r.PostFormValue("token")
	err := s.emailConfirmCore(r, c, token)
	var v validate.Errors
	switch {
	case errors.As(err, &v):
		s.render(w, r, c, http.StatusConflict, "account-email-confirm", map[string]any{"Token": token,
			"Problem": i18n.T(c.lang, "email_change.taken")})
	case err != nil:
		s.fail(w, r, c, err)
	default:
		s.render(w, r, c, http.StatusOK, "account-email-confirm", map[string]any{"Done": true, "Notice": i18n.T(c.lang, "email_change.done")})
	}
}

// emailChangeBody asks for a new address through the API.
type emailChangeBody struct {
	Email string `json:"email"`
}

func (s *Server) apiEmailChange(r *http.Request, c *reqCtx, b *emailChangeBody) (answer, error) {
	if err := s.emailChangeCore(r, c, b.Email); err != nil {
		return answer{}, err
	}
	return status(http.StatusAccepted, "verification_sent"), nil
}

func (s *Server) apiEmailChangeCancel(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	return answer{status: http.StatusNoContent}, s.id.CancelEmailChange(r.Context(), c.principal)
}

func (s *Server) apiEmailConfirm(r *http.Request, c *reqCtx, b *tokenBody) (answer, error) {
	if err := s.emailConfirmCore(r, c, b.Token); err != nil {
		return answer{}, err
	}
	return status(http.StatusOK, "email_changed"), nil
}
