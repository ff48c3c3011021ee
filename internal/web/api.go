package web

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/veche/veche/internal/i18n"
	"github.com/veche/veche/internal/identity"
	"github.com/veche/veche/internal/secops"
)

// API request bodies. Unknown fields are refused.
type (
	credentialsBody struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	tokenBody struct {
		Token string `json:"token"`
	}
	codeBody struct {
		Code string `json:"code"`
	}
	emailBody struct {
		Email string `json:"email"`
	}
	resetBody struct {
		Token       string `json:"token"`
		NewPassword string `json:"new_password"`
	}
	reauthBody struct {
		Password string `json:"password"`
		Code     string `json:"code"`
	}
	newPasswordBody struct {
		NewPassword string `json:"new_password"`
	}
)

// emptyBody is the body of endpoints that take none.
type emptyBody struct{}

// decodeNoBody accepts an empty body or an empty JSON object for endpoints
// that take no input, and refuses anything else as [decodeJSON] would, so
// a client that sends fields it believes are read learns that they are not.
func decodeNoBody(r *http.Request) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return mbe
		}
		return &decodeError{http.StatusBadRequest, "the request body could not be read"}
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	return decodeJSONBytes(body, &emptyBody{})
}

// apiLang is the language for messages the API queues (emails).
func apiLang(r *http.Request) i18n.Lang { return i18n.Negotiate("", r.Header.Get("Accept-Language")) }

// accepted is the answer to requests whose outcome must not tell whether an
// account exists.
func accepted(w http.ResponseWriter, status string) {
	writeJSON(w, http.StatusAccepted, map[string]string{"status": status})
}

func (s *Server) apiRegister(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	var b credentialsBody
	if err := decodeJSON(r, &b); err != nil {
		s.fail(w, r, c, err)
		return
	}
	if err := s.limit(r, c, secops.RegisterPerIP, c.ip); err != nil {
		s.fail(w, r, c, err)
		return
	}
	if err := s.id.Register(r.Context(), b.Email, b.Password, apiLang(r)); err != nil {
		s.fail(w, r, c, err)
		return
	}
	accepted(w, "verification_sent")
}

func (s *Server) apiVerifyEmail(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	var b tokenBody
	if err := decodeJSON(r, &b); err != nil {
		s.fail(w, r, c, err)
		return
	}
	if err := s.limit(r, c, secops.EmailVerifyPerIP, c.ip); err != nil {
		s.fail(w, r, c, err)
		return
	}
	if err := s.id.VerifyEmail(r.Context(), b.Token); err != nil {
		if errors.Is(err, identity.ErrTokenInvalid) {
			s.Events.Record(r.Context(), secops.Event{Kind: secops.TokenInvalid, IP: c.ip, Route: r.URL.Path})
		}
		s.fail(w, r, c, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "verified"})
}

type sessionJSON struct {
	Token       string    `json:"token"`
	MFARequired bool      `json:"mfa_required"`
	ExpiresAt   time.Time `json:"expires_at"`
}

func (s *Server) apiSignIn(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	var b credentialsBody
	if err := decodeJSON(r, &b); err != nil {
		s.fail(w, r, c, err)
		return
	}
	res, err := s.signInCore(r, c, b.Email, b.Password, identity.KindAPI)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	writeJSON(w, http.StatusCreated, sessionJSON{Token: res.Token, MFARequired: res.MFARequired, ExpiresAt: res.ExpiresAt})
}

// apiMFAStep completes a sign-in; the pending token is the bearer token.
func (s *Server) apiMFAStep(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	var b codeBody
	if err := decodeJSON(r, &b); err != nil {
		s.fail(w, r, c, err)
		return
	}
	res, err := s.mfaCore(r, c, c.token, b.Code)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	writeJSON(w, http.StatusCreated, sessionJSON{Token: res.Token, ExpiresAt: res.ExpiresAt})
}

func (s *Server) apiForgot(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	var b emailBody
	if err := decodeJSON(r, &b); err != nil {
		s.fail(w, r, c, err)
		return
	}
	if err := s.forgotCore(r, c, b.Email); err != nil {
		s.fail(w, r, c, err)
		return
	}
	accepted(w, "reset_sent_if_registered")
}

func (s *Server) apiReset(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	var b resetBody
	if err := decodeJSON(r, &b); err != nil {
		s.fail(w, r, c, err)
		return
	}
	// Each attempt costs a password hash before the token is looked up, so
	// it is limited like the other uses of emailed tokens: unlimited, a
	// stream of forged tokens would fill the bounded hashing queue and make
	// everyone's sign-in answer busy.
	if err := s.limit(r, c, secops.EmailVerifyPerIP, c.ip); err != nil {
		s.fail(w, r, c, err)
		return
	}
	if err := s.id.ResetPassword(r.Context(), b.Token, b.NewPassword); err != nil {
		if errors.Is(err, identity.ErrTokenInvalid) {
			s.Events.Record(r.Context(), secops.Event{Kind: secops.TokenInvalid, IP: c.ip, Route: r.URL.Path})
		}
		s.fail(w, r, c, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "password_reset"})
}

type accountJSON struct {
	ID            int64           `json:"id"`
	Email         string          `json:"email"`
	EmailVerified bool            `json:"email_verified"`
	Locale        string          `json:"locale,omitempty"`
	CreatedAt     time.Time       `json:"created_at"`
	Roles         []identity.Role `json:"roles"`
	MFAEnabled    bool            `json:"mfa_enabled"`
}

func toAccountJSON(a *identity.Account) accountJSON {
	return accountJSON{a.ID, a.Email, a.EmailVerified, a.Locale, a.CreatedAt, a.Roles, a.MFAEnabled}
}

func (s *Server) apiAccount(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	a, err := s.id.Account(r.Context(), c.principal.AccountID)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	var perms []identity.Permission
	for _, p := range identity.Permissions {
		if c.principal.Can(p) {
			perms = append(perms, p)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"account": toAccountJSON(a), "permissions": perms,
		"session": map[string]any{"id": c.principal.SessionID, "mfa_verified": c.principal.MFAVerified,
			"authenticated_at": c.principal.AuthenticatedAt, "recently_authenticated": s.id.RecentlyAuthenticated(c.principal)}})
}

func (s *Server) apiReauth(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	var b reauthBody
	if err := decodeJSON(r, &b); err != nil {
		s.fail(w, r, c, err)
		return
	}
	if err := s.reauthCore(r, c, b.Password, b.Code); err != nil {
		s.fail(w, r, c, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "reauthenticated"})
}

func (s *Server) apiChangePassword(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	var b newPasswordBody
	if err := decodeJSON(r, &b); err != nil {
		s.fail(w, r, c, err)
		return
	}
	if err := s.id.ChangePassword(r.Context(), c.principal, b.NewPassword); err != nil {
		s.fail(w, r, c, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "password_changed"})
}

func (s *Server) apiMFABegin(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	if err := decodeNoBody(r); err != nil {
		s.fail(w, r, c, err)
		return
	}
	e, err := s.id.BeginTOTP(r.Context(), c.principal)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"secret": e.Secret, "uri": e.URI})
}

func (s *Server) apiMFAConfirm(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	var b codeBody
	if err := decodeJSON(r, &b); err != nil {
		s.fail(w, r, c, err)
		return
	}
	if err := s.limit(r, c, secops.MFAPerAccount, "account:"+itoa64(c.principal.AccountID)); err != nil {
		s.fail(w, r, c, err)
		return
	}
	codes, err := s.id.ConfirmTOTP(r.Context(), c.principal, b.Code)
	if err != nil {
		if errors.Is(err, identity.ErrInvalidCode) {
			s.Events.Record(r.Context(), secops.Event{Kind: secops.MFAFailed, IP: c.ip, Account: s.id.Pseudonym(c.principal.AccountID), Route: r.URL.Path})
		}
		s.fail(w, r, c, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "mfa_enabled", "recovery_codes": codes})
}

func (s *Server) apiMFADisable(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	if err := decodeNoBody(r); err != nil {
		s.fail(w, r, c, err)
		return
	}
	if err := s.id.DisableTOTP(r.Context(), c.principal); err != nil {
		s.fail(w, r, c, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "mfa_disabled"})
}

func (s *Server) apiMFARecoveryCodes(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	if err := decodeNoBody(r); err != nil {
		s.fail(w, r, c, err)
		return
	}
	codes, err := s.id.RegenerateRecoveryCodes(r.Context(), c.principal)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"recovery_codes": codes})
}

type sessionInfoJSON struct {
	ID          string    `json:"id"`
	Kind        string    `json:"kind"`
	CreatedAt   time.Time `json:"created_at"`
	LastSeenAt  time.Time `json:"last_seen_at"`
	ExpiresAt   time.Time `json:"expires_at"`
	UserAgent   string    `json:"user_agent"`
	IP          string    `json:"ip"`
	MFAVerified bool      `json:"mfa_verified"`
	Current     bool      `json:"current"`
}

func (s *Server) apiSessions(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	list, err := s.id.Sessions(r.Context(), c.principal)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	out := make([]sessionInfoJSON, 0, len(list))
	for _, x := range list {
		out = append(out, sessionInfoJSON{x.ID, string(x.Kind), x.CreatedAt, x.LastSeenAt, x.ExpiresAt, x.UserAgent, x.IP, x.MFAVerified, x.Current})
	}
	writeJSON(w, http.StatusOK, map[string]any{"sessions": out})
}

func (s *Server) apiSignOut(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	if err := decodeNoBody(r); err != nil {
		s.fail(w, r, c, err)
		return
	}
	if err := s.id.SignOut(r.Context(), c.token); err != nil {
		s.fail(w, r, c, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiRevokeSession(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	if err := decodeNoBody(r); err != nil {
		s.fail(w, r, c, err)
		return
	}
	if err := s.id.RevokeSession(r.Context(), c.principal, r.PathValue("id")); err != nil {
		s.fail(w, r, c, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiFindAccounts(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	list, err := s.id.FindAccounts(r.Context(), c.principal, r.URL.Query().Get("q"))
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	out := make([]accountJSON, 0, len(list))
	for i := range list {
		out = append(out, toAccountJSON(&list[i]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"accounts": out})
}

func (s *Server) apiGetAccount(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	a, err := s.id.AccountFor(r.Context(), c.principal, id)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"account": toAccountJSON(a)})
}

func (s *Server) apiGrantRole(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	s.apiRoleChange(w, r, c, s.id.GrantRole)
}

func (s *Server) apiRevokeRole(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	s.apiRoleChange(w, r, c, s.id.RevokeRole)
}

func (s *Server) apiRoleChange(w http.ResponseWriter, r *http.Request, c *reqCtx,
	change func(ctx context.Context, p *identity.Principal, id int64, role identity.Role) error) {
	if err := decodeNoBody(r); err != nil {
		s.fail(w, r, c, err)
		return
	}
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	if err := change(r.Context(), c.principal, id, identity.Role(r.PathValue("role"))); err != nil {
		s.fail(w, r, c, err)
		return
	}
	a, err := s.id.AccountFor(r.Context(), c.principal, id)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"account": toAccountJSON(a)})
}

func (s *Server) apiSecurityEvents(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	f, err := eventFilter(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	events, err := s.Events.Events(r.Context(), f)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	if events == nil {
		events = []secops.Event{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": events})
}
