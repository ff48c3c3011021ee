package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/veche/veche/internal/i18n"
	"github.com/veche/veche/internal/identity"
	"github.com/veche/veche/internal/participation/budget"
	"github.com/veche/veche/internal/participation/consultation"
	"github.com/veche/veche/internal/participation/moderation"
	"github.com/veche/veche/internal/participation/petition"
	"github.com/veche/veche/internal/participation/survey"
	"github.com/veche/veche/internal/privacy"
	"github.com/veche/veche/internal/validate"
)

// webError is an error the web layer raises itself.
type webError struct {
	status int
	code   string // stable machine code for API clients
}

func (e *webError) Error() string { return e.code }

var (
	errNotFound       = &webError{http.StatusNotFound, "not_found"}
	errCrossOrigin    = &webError{http.StatusForbidden, "cross_origin"}
	errFormToken      = &webError{http.StatusForbidden, "form_token"}
	errSignInRequired = &webError{http.StatusUnauthorized, "signin_required"}
	errContentType    = &webError{http.StatusUnsupportedMediaType, "content_type"}
	errBadID          = &webError{http.StatusNotFound, "not_found"}
)

// rateLimitedError carries how long the client should wait.
type rateLimitedError struct{ wait time.Duration }

func (e *rateLimitedError) Error() string { return "rate_limited" }

// decodeError is malformed API input: what was wrong, for the client.
type decodeError struct {
	status int
	msg    string
}

func (e *decodeError) Error() string { return e.msg }

// classify is the one mapping from errors to HTTP status and machine code.
func classify(err error) (status int, code string) {
	var we *webError
	var rl *rateLimitedError
	var de *decodeError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &we):
		return we.status, we.code
	case errors.As(err, &rl):
		return http.StatusTooManyRequests, "rate_limited"
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge, "body_too_large"
	case errors.As(err, &de):
		return de.status, "bad_request"
	case errors.Is(err, validate.ErrInvalid):
		return http.StatusUnprocessableEntity, "invalid_input"
	case errors.Is(err, identity.ErrBadCredentials):
		return http.StatusUnauthorized, "bad_credentials"
	case errors.Is(err, identity.ErrInvalidCode):
		return http.StatusUnauthorized, "invalid_code"
	case errors.Is(err, identity.ErrSessionInvalid):
		return http.StatusUnauthorized, "session_invalid"
	case errors.Is(err, identity.ErrMFAPending):
		return http.StatusUnauthorized, "mfa_pending"
	case errors.Is(err, identity.ErrEmailNotVerified):
		return http.StatusForbidden, "email_not_verified"
	case errors.Is(err, identity.ErrReauthRequired):
		return http.StatusForbidden, "reauth_required"
	case errors.Is(err, identity.ErrForbidden):
		return http.StatusForbidden, "forbidden"
	case errors.Is(err, identity.ErrTokenInvalid):
		return http.StatusBadRequest, "token_invalid"
	case errors.Is(err, identity.ErrNotFound):
		return http.StatusNotFound, "not_found"
	case errors.Is(err, identity.ErrMFANotEnrolled):
		return http.StatusConflict, "mfa_not_enrolled"
	case errors.Is(err, identity.ErrMFAAlreadyEnabled):
		return http.StatusConflict, "mfa_already_enabled"
	case errors.Is(err, privacy.ErrRequestNotFound):
		return http.StatusNotFound, "not_found"
	case errors.Is(err, privacy.ErrRequestClosed):
		return http.StatusConflict, "request_closed"
	case errors.Is(err, privacy.ErrReceiptInvalid):
		return http.StatusUnprocessableEntity, "receipt_invalid"
	case errors.Is(err, identity.ErrBusy):
		return http.StatusServiceUnavailable, "busy"
	case errors.Is(err, survey.ErrAlreadyAnswered), errors.Is(err, survey.ErrQuestionsLocked), errors.Is(err, survey.ErrResultsNotYet):
		return http.StatusConflict, surveyCode(err)
	case errors.Is(err, budget.ErrLocked), errors.Is(err, budget.ErrNoBallot), errors.Is(err, budget.ErrNotClosed):
		return http.StatusConflict, budget.Code(err)
	case errors.Is(err, moderation.ErrAlreadyFlagged):
		return http.StatusConflict, "already_flagged"
	case errors.Is(err, moderation.ErrNotApplicable):
		return http.StatusConflict, "decision_not_applicable"
	case errors.Is(err, consultation.ErrNotClosed), errors.Is(err, petition.ErrNotClosed):
		return http.StatusConflict, "results_not_closed"
	}
	if status, code, ok := classifyParticipation(err); ok {
		return status, code
	}
	return http.StatusInternalServerError, "internal"
}

// message is the reader-facing text for an error.
func message(lang i18n.Lang, err error, code string) string {
	var de *decodeError
	if errors.As(err, &de) {
		return i18n.T(lang, "error.bad_request") + ": " + de.msg
	}
	var rl *rateLimitedError
	if errors.As(err, &rl) {
		return i18n.T(lang, "error.rate_limited", "seconds", retrySeconds(rl.wait))
	}
	if msg, ok := participationMessage(lang, err); ok {
		return msg
	}
	return i18n.T(lang, "error."+code)
}

func retrySeconds(d time.Duration) int { return int(math.Ceil(d.Seconds())) }

// fail answers a request with err: JSON for the API, a page otherwise.
// Server errors are logged with detail and shown without it.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, c *reqCtx, err error) {
	status, code := classify(err)
	if status >= 500 {
		s.Logger.Error("web: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	setRetryAfter(w, err)
	if c.api {
		body := apiError{Code: code, Message: message(i18n.English, err, code)}
		var v validate.Errors
		if errors.As(err, &v) {
			body.Fields = v
		}
		writeJSON(w, status, map[string]any{"error": body})
		return
	}
	if status == http.StatusUnauthorized && code == "signin_required" {
		http.Redirect(w, r, "/signin?next="+url.QueryEscape(returnTo(r)), http.StatusSeeOther)
		return
	}
	s.render(w, r, c, status, "error", map[string]any{"Status": status, "Code": code, "Message": message(c.lang, err, code)})
}

// returnTo is where a person asked to sign in comes back to: the page they
// asked for, or for a form sent after their session ended (which cannot be
// repeated by a redirect) the page the form was on.
func returnTo(r *http.Request) string {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return safeNext(r.URL.RequestURI())
	}
	if ref, err := url.Parse(r.Referer()); err == nil && ref.Host == r.Host && ref.Path != "" {
		return safeNext(ref.RequestURI())
	}
	return safeNext("")
}

// setRetryAfter tells the client when to try again after a refusal that
// passes with time (a rate limit, or a busy password hasher). Pages that
// show such a refusal on their own form call it too.
func setRetryAfter(w http.ResponseWriter, err error) {
	var rl *rateLimitedError
	switch status, _ := classify(err); {
	case errors.As(err, &rl):
		w.Header().Set("Retry-After", strconv.Itoa(retrySeconds(rl.wait)))
	case status == http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", "1")
	}
}

type apiError struct {
	Code    string          `json:"code"`
	Message string          `json:"message"`
	Fields  validate.Errors `json:"fields,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		fmt.Fprintln(w)
	}
}
