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
	"github.com/veche/veche/internal/privacy"
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

// answer is what an API handler produces: a status and a value to send as
// JSON (nil for no body).
type answer struct {
	status int
	body   any
}

// status answers with {"status": word}.
func status(code int, word string) answer {
	return answer{code, map[string]string{"status": word}}
}

// apiCall turns fn, which takes the decoded request body, into a route
// handler: it decodes strictly (an endpoint with body type emptyBody takes
// an empty body or {}), calls fn, and writes its answer or its error.
func apiCall[B any](s *Server, fn func(r *http.Request, c *reqCtx, b *B) (answer, error)) handler {
	return apiCallFailing(s.fail, fn)
}

// apiCallFailing is apiCall with the errors answered by fail, for an area
// whose errors have answers of their own (elections).
func apiCallFailing[B any](fail func(w http.ResponseWriter, r *http.Request, c *reqCtx, err error), fn func(r *http.Request, c *reqCtx, b *B) (answer, error)) handler {
	return func(w http.ResponseWriter, r *http.Request, c *reqCtx) {
		var b B
		var err error
		if _, none := any(&b).(*emptyBody); none {
			err = decodeNoBody(r)
		} else {
			err = decodeJSON(r, &b)
		}
		var a answer
		if err == nil {
			a, err = fn(r, c, &b)
		}
		switch {
		case err != nil:
			fail(w, r, c, err)
		case a.body == nil:
			w.WriteHeader(a.status)
		default:
			writeJSON(w, a.status, a.body)
		}
	}
}

func (s *Server) apiRegister(r *http.Request, c *reqCtx, b *credentialsBody) (answer, error) {
	if err := s.limit(r, c, secops.RegisterPerIP, c.ip); err != nil {
		return answer{}, err
	}
	if err := s.id.Register(r.Context(), b.Email, b.Password, apiLang(r)); err != nil {
		return answer{}, err
	}
	// 202 whether or not the address had an account: nothing here tells.
	return status(http.StatusAccepted, "verification_sent"), nil
}

func (s *Server) apiVerifyEmail(r *http.Request, c *reqCtx, b *tokenBody) (answer, error) {
	if err := s.verifyEmailCore(r, c, b.Token); err != nil {
		return answer{}, err
	}
	return status(http.StatusOK, "verified"), nil
}

type sessionJSON struct {
	Token       string    `json:"token"`
	MFARequired bool      `json:"mfa_required"`
	ExpiresAt   time.Time `json:"expires_at"`
}

func (s *Server) apiSignIn(r *http.Request, c *reqCtx, b *credentialsBody) (answer, error) {
	res, err := s.signInCore(r, c, b.Email, b.Password, identity.KindAPI)
	if err != nil {
		return answer{}, err
	}
	return answer{http.StatusCreated, sessionJSON{Token: res.Token, MFARequired: res.MFARequired, ExpiresAt: res.ExpiresAt}}, nil
}

// apiMFAStep completes a sign-in; the pending token is the bearer token.
func (s *Server) apiMFAStep(r *http.Request, c *reqCtx, b *codeBody) (answer, error) {
	res, err := s.mfaCore(r, c, c.token, b.Code)
	if err != nil {
		return answer{}, err
	}
	return answer{http.StatusCreated, sessionJSON{Token: res.Token, ExpiresAt: res.ExpiresAt}}, nil
}

func (s *Server) apiForgot(r *http.Request, c *reqCtx, b *emailBody) (answer, error) {
	if err := s.forgotCore(r, c, b.Email); err != nil {
		return answer{}, err
	}
	return status(http.StatusAccepted, "reset_sent_if_registered"), nil
}

func (s *Server) apiReset(r *http.Request, c *reqCtx, b *resetBody) (answer, error) {
	if err := s.resetCore(r, c, b.Token, b.NewPassword); err != nil {
		return answer{}, err
	}
	return status(http.StatusOK, "password_reset"), nil
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

func accountAnswer(a *identity.Account) answer {
	return answer{http.StatusOK, map[string]any{"account": toAccountJSON(a)}}
}

func toAccountJSON(a *identity.Account) accountJSON {
	return accountJSON{a.ID, a.Email, a.EmailVerified, a.Locale, a.CreatedAt, a.Roles, a.MFAEnabled}
}

func (s *Server) apiAccount(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	a, err := s.id.Account(r.Context(), c.principal.AccountID)
	if err != nil {
		return answer{}, err
	}
	var perms []identity.Permission
	for _, p := range identity.Permissions {
		if c.principal.Can(p) {
			perms = append(perms, p)
		}
	}
	out := map[string]any{"account": toAccountJSON(a), "permissions": perms,
		"session": map[string]any{"id": c.principal.SessionID, "mfa_verified": c.principal.MFAVerified,
			"authenticated_at": c.principal.AuthenticatedAt, "recently_authenticated": s.id.RecentlyAuthenticated(c.principal)}}
	pending, err := s.id.PendingEmailChange(r.Context(), c.principal)
	if err != nil {
		return answer{}, err
	}
	if pending != nil {
		out["email_change"] = pending
	}
	return answer{http.StatusOK, out}, nil
}

// apiEraseAccount erases the caller's account; it needs a recent
// re-authentication (POST /api/v1/account/reauth).
func (s *Server) apiEraseAccount(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	return answer{status: http.StatusNoContent}, s.id.EraseAccount(r.Context(), c.principal)
}

func (s *Server) apiReauth(r *http.Request, c *reqCtx, b *reauthBody) (answer, error) {
	if err := s.reauthCore(r, c, b.Password, b.Code); err != nil {
		return answer{}, err
	}
	return status(http.StatusOK, "reauthenticated"), nil
}

func (s *Server) apiChangePassword(r *http.Request, c *reqCtx, b *newPasswordBody) (answer, error) {
	if err := s.id.ChangePassword(r.Context(), c.principal, b.NewPassword); err != nil {
		return answer{}, err
	}
	return status(http.StatusOK, "password_changed"), nil
}

func (s *Server) apiMFABegin(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	e, err := s.id.BeginTOTP(r.Context(), c.principal)
	if err != nil {
		return answer{}, err
	}
	return answer{http.StatusCreated, map[string]string{"secret": e.Secret, "uri": e.URI}}, nil
}

func (s *Server) apiMFAConfirm(r *http.Request, c *reqCtx, b *codeBody) (answer, error) {
	codes, err := s.confirmTOTPCore(r, c, b.Code)
	if err != nil {
		return answer{}, err
	}
	return answer{http.StatusOK, map[string]any{"status": "mfa_enabled", "recovery_codes": codes}}, nil
}

func (s *Server) apiMFADisable(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	if err := s.id.DisableTOTP(r.Context(), c.principal); err != nil {
		return answer{}, err
	}
	return status(http.StatusOK, "mfa_disabled"), nil
}

func (s *Server) apiMFARecoveryCodes(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	codes, err := s.id.RegenerateRecoveryCodes(r.Context(), c.principal)
	if err != nil {
		return answer{}, err
	}
	return answer{http.StatusOK, map[string]any{"recovery_codes": codes}}, nil
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

func (s *Server) apiSessions(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	list, err := s.id.Sessions(r.Context(), c.principal)
	if err != nil {
		return answer{}, err
	}
	out := make([]sessionInfoJSON, 0, len(list))
	for _, x := range list {
		out = append(out, sessionInfoJSON{x.ID, string(x.Kind), x.CreatedAt, x.LastSeenAt, x.ExpiresAt, x.UserAgent, x.IP, x.MFAVerified, x.Current})
	}
	return answer{http.StatusOK, map[string]any{"sessions": out}}, nil
}

func (s *Server) apiSignOut(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	return answer{status: http.StatusNoContent}, s.id.SignOut(r.Context(), c.token)
}

func (s *Server) apiRevokeSession(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	return answer{status: http.StatusNoContent}, s.id.RevokeSession(r.Context(), c.principal, r.PathValue("id"))
}

func (s *Server) apiFindAccounts(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	purpose, why := statedPurpose(r)
	list, err := s.id.FindAccounts(r.Context(), c.principal, r.URL.Query().Get("q"), purpose, why)
	if err != nil {
		return answer{}, err
	}
	out := make([]accountJSON, 0, len(list))
	for i := range list {
		out = append(out, toAccountJSON(&list[i]))
	}
	return answer{http.StatusOK, map[string]any{"accounts": out}}, nil
}

func (s *Server) apiGetAccount(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	id, err := pathID(r)
	if err != nil {
		return answer{}, err
	}
	purpose, why := statedPurpose(r)
	a, err := s.id.AccountFor(r.Context(), c.principal, id, purpose, why)
	if err != nil {
		return answer{}, err
	}
	return accountAnswer(a), nil
}

func (s *Server) apiGrantRole(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	return s.apiRoleChange(r, c, s.id.GrantRole)
}

func (s *Server) apiRevokeRole(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	return s.apiRoleChange(r, c, s.id.RevokeRole)
}

// apiRoleChange applies a grant or revocation and answers with the account.
func (s *Server) apiRoleChange(r *http.Request, c *reqCtx,
	change func(ctx context.Context, p *identity.Principal, id int64, role identity.Role) error) (answer, error) {
	id, err := pathID(r)
	if err != nil {
		return answer{}, err
	}
	if err := change(r.Context(), c.principal, id, identity.Role(r.PathValue("role"))); err != nil {
		return answer{}, err
	}
	a, err := s.id.AccountFor(r.Context(), c.principal, id, privacy.AccessRoleManagement, "")
	if err != nil {
		return answer{}, err
	}
	return accountAnswer(a), nil
}

func (s *Server) apiSecurityEvents(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	events, _, err := s.readSecurityEvents(r, c)
	if err != nil {
		return answer{}, err
	}
	return answer{http.StatusOK, map[string]any{"events": nonNil(events)}}, nil
}
