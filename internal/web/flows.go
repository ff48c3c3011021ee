package web

import (
	"errors"
	"net/http"

	"github.com/veche/veche/internal/identity"
	"github.com/veche/veche/internal/secops"
)

// The steps that the pages and the JSON API share: each applies its rate
// limits, calls the identity service and records the security events of
// a failure, so both faces of veche defend the same way.

// signInCore is sign-in as both the page and the API do it: rate limits
// per address and per account, then the password, recording failures.
func (s *Server) signInCore(r *http.Request, c *reqCtx, email, pw string, kind identity.SessionKind) (*identity.SignInResult, error) {
	if err := s.limit(r, c, secops.SignInPerIP, c.ip); err != nil {
		return nil, err
	}
	normalized, _ := identity.NormalizeEmail(email)
	if err := s.limit(r, c, secops.SignInPerAccount, normalized); err != nil {
		return nil, err
	}
	res, accountID, err := s.id.SignIn(r.Context(), email, pw, kind, identity.ClientMeta{IP: c.ip, UserAgent: r.UserAgent()})
	if errors.Is(err, identity.ErrBadCredentials) {
		ev := secops.Event{Kind: secops.SignInFailed, IP: c.ip, Route: r.URL.Path}
		if accountID != 0 {
			ev.Account = s.id.Pseudonym(accountID)
		}
		s.Events.Record(r.Context(), ev)
	}
	return res, err
}

// mfaCore completes a pending sign-in with a second factor, with limits
// per address and per account, recording failures.
func (s *Server) mfaCore(r *http.Request, c *reqCtx, token, code string) (*identity.SignInResult, error) {
	if token == "" {
		return nil, identity.ErrSessionInvalid
	}
	if err := s.limit(r, c, secops.MFAPerIP, c.ip); err != nil {
		return nil, err
	}
	// Per account, not per pending sign-in: each password sign-in would
	// otherwise bring a fresh budget of code guesses.
	pendingFor, err := s.id.PendingAccount(r.Context(), token)
	if err != nil {
		return nil, err
	}
	if err := s.limit(r, c, secops.MFAPerAccount, "account:"+itoa64(pendingFor)); err != nil {
		return nil, err
	}
	res, accountID, err := s.id.CompleteMFA(r.Context(), token, code)
	if errors.Is(err, identity.ErrInvalidCode) {
		s.Events.Record(r.Context(), secops.Event{Kind: secops.MFAFailed, IP: c.ip, Account: s.id.Pseudonym(accountID), Route: r.URL.Path})
	}
	return res, err
}

func (s *Server) forgotCore(r *http.Request, c *reqCtx, email string) error {
	if err := s.limit(r, c, secops.ResetPerIP, c.ip); err != nil {
		return err
	}
	normalized, _ := identity.NormalizeEmail(email)
	if err := s.limit(r, c, secops.ResetPerAccount, normalized); err != nil {
		return err
	}
	return s.id.RequestPasswordReset(r.Context(), email, c.lang)
}

// verifyEmailCore confirms an address with an emailed token.
func (s *Server) verifyEmailCore(r *http.Request, c *reqCtx, token string) error {
	if err := s.limit(r, c, secops.EmailVerifyPerIP, c.ip); err != nil {
		return err
	}
	return s.recordBadToken(r, c, s.id.VerifyEmail(r.Context(), token))
}

// resetCore sets a new password with an emailed token. Each attempt costs
// a password hash before the token is looked up, so it is limited like the
// other uses of emailed tokens: unlimited, a stream of forged tokens would
// fill the bounded hashing queue and make everyone's sign-in answer busy.
func (s *Server) resetCore(r *http.Request, c *reqCtx, token, newPassword string) error {
	if err := s.limit(r, c, secops.EmailVerifyPerIP, c.ip); err != nil {
		return err
	}
	return s.recordBadToken(r, c, s.id.ResetPassword(r.Context(), token, newPassword))
}

func (s *Server) recordBadToken(r *http.Request, c *reqCtx, err error) error {
	if errors.Is(err, identity.ErrTokenInvalid) {
		s.Events.Record(r.Context(), secops.Event{Kind: secops.TokenInvalid, IP: c.ip, Route: r.URL.Path})
	}
	return err
}

// confirmTOTPCore turns on TOTP with a first code, limited per account.
func (s *Server) confirmTOTPCore(r *http.Request, c *reqCtx, code string) ([]string, error) {
	if err := s.limit(r, c, secops.MFAPerAccount, "account:"+itoa64(c.principal.AccountID)); err != nil {
		return nil, err
	}
	codes, err := s.id.ConfirmTOTP(r.Context(), c.principal, code)
	if errors.Is(err, identity.ErrInvalidCode) {
		s.Events.Record(r.Context(), secops.Event{Kind: secops.MFAFailed, IP: c.ip, Account: s.id.Pseudonym(c.principal.AccountID), Route: r.URL.Path})
	}
	return codes, err
}

func (s *Server) reauthCore(r *http.Request, c *reqCtx, pw, code string) error {
	if err := s.limit(r, c, secops.ReauthPerAccount, "account:"+itoa64(c.principal.AccountID)); err != nil {
		return err
	}
	err := s.id.Reauthenticate(r.Context(), c.principal, pw, code)
	if errors.Is(err, identity.ErrBadCredentials) || errors.Is(err, identity.ErrInvalidCode) {
		s.Events.Record(r.Context(), secops.Event{Kind: secops.ReauthFailed, IP: c.ip, Account: s.id.Pseudonym(c.principal.AccountID), Route: r.URL.Path})
	}
	return err
}
