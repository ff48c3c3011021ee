package web

import (
	"errors"
	"mime"
	"net/http"
	"slices"

	"github.com/veche/veche/internal/identity"
	"github.com/veche/veche/internal/secops"
)

// access says who may call a route: anyone, or a signed-in person holding
// a permission. Every route declares one; the permission test walks this
// table.
type access struct {
	signedIn bool
	perm     identity.Permission
}

var public = access{}

func needs(p identity.Permission) access { return access{signedIn: true, perm: p} }

// handler serves one route with the request context resolved.
type handler func(w http.ResponseWriter, r *http.Request, c *reqCtx)

type route struct {
	method, path string
	access       access
	h            handler
}

// routes is every page and API endpoint with its permission: the
// foundation's here, each feature area's in routes_<area>.go.
func (s *Server) routes() []route {
	return slices.Concat(s.foundationRoutes(), s.participationRoutes(), s.budgetRoutes(), s.surveyRoutes(), s.moderationRoutes(), s.notifyRoutes(), s.searchRoutes(), s.boothRoutes(), s.electionRoutes())
}

// foundationRoutes are the routes of accounts, security and privacy.
func (s *Server) foundationRoutes() []route {
	self := needs(identity.PermAccountSelf)
	return []route{
		{"GET", "/{$}", public, s.home},
		{"POST", "/lang", public, s.setLanguage},

		{"GET", "/register", public, s.registerForm},
		{"POST", "/register", public, s.register},
		{"GET", "/verify-email", public, s.verifyEmailForm},
		{"POST", "/verify-email", public, s.verifyEmail},
		{"GET", "/signin", public, s.signInForm},
		{"POST", "/signin", public, s.signIn},
		{"GET", "/signin/mfa", public, s.mfaStepForm},
		{"POST", "/signin/mfa", public, s.mfaStep},
		{"POST", "/signout", public, s.signOut},
		{"GET", "/password/forgot", public, s.forgotForm},
		{"POST", "/password/forgot", public, s.forgot},
		{"GET", "/password/reset", public, s.resetForm},
		{"POST", "/password/reset", public, s.reset},

		{"GET", "/account", self, s.accountPage},
		{"GET", "/reauth", self, s.reauthForm},
		{"POST", "/reauth", self, s.reauth},
		{"GET", "/account/password", self, s.changePasswordForm},
		{"POST", "/account/password", self, s.changePassword},
		{"GET", "/account/mfa", self, s.mfaPage},
		{"POST", "/account/mfa/totp", self, s.mfaBegin},
		{"POST", "/account/mfa/totp/confirm", self, s.mfaConfirm},
		{"POST", "/account/mfa/totp/disable", self, s.mfaDisable},
		{"POST", "/account/mfa/recovery-codes", self, s.mfaRecoveryCodes},
		{"POST", "/account/consents", self, s.setConsent},
		{"GET", "/account/consents/{id}/receipt", self, s.consentReceipt},
		{"GET", "/account/requests", self, s.myRequestsPage},
		{"POST", "/account/requests", self, s.submitRequest},
		{"GET", "/account/data", self, s.exportPage},
		{"GET", "/account/data.json", self, s.exportJSON},
		{"GET", "/account/erase", self, s.eraseAccountForm},
		{"POST", "/account/erase", self, s.eraseAccount},
		{"GET", "/account/email", self, s.emailChangeForm},
		{"POST", "/account/email", self, s.emailChange},
		{"POST", "/account/email/cancel", self, s.emailChangeCancel},
		{"GET", "/account/email/confirm", public, s.emailConfirmForm},
		{"POST", "/account/email/confirm", public, s.emailConfirm},
		{"GET", "/account/sessions", self, s.sessionsPage},
		{"POST", "/account/sessions/{id}/revoke", self, s.revokeSession},

		{"GET", "/admin/accounts", needs(identity.PermAccountsRead), s.adminAccounts},
		{"GET", "/admin/accounts/{id}", needs(identity.PermAccountsRead), s.adminAccount},
		{"POST", "/admin/accounts/{id}/roles", needs(identity.PermRolesManage), s.adminGrantRole},
		{"POST", "/admin/accounts/{id}/roles/{role}/revoke", needs(identity.PermRolesManage), s.adminRevokeRole},
		{"GET", "/security/events", needs(identity.PermSecurityEventsRead), s.securityEventsPage},
		{"GET", "/privacy", public, s.privacyNotice},
		{"GET", "/privacy/record", needs(identity.PermProcessingRecord), s.processingRecordPage},
		{"GET", "/privacy/access-review", needs(identity.PermAccessReview), s.accessReviewPage},
		{"GET", "/privacy/requests", needs(identity.PermRequestsHandle), s.requestQueuePage},
		{"POST", "/privacy/requests/{id}", needs(identity.PermRequestsHandle), s.closeRequest},
		{"POST", "/privacy/restrictions/{id}/lift", needs(identity.PermRequestsHandle), s.liftRestriction},

		{"POST", "/api/v1/accounts", public, apiCall(s, s.apiRegister)},
		{"POST", "/api/v1/accounts/verify", public, apiCall(s, s.apiVerifyEmail)},
		{"POST", "/api/v1/sessions", public, apiCall(s, s.apiSignIn)},
		{"POST", "/api/v1/sessions/mfa", public, apiCall(s, s.apiMFAStep)},
		{"POST", "/api/v1/password-resets", public, apiCall(s, s.apiForgot)},
		{"POST", "/api/v1/password-resets/confirm", public, apiCall(s, s.apiReset)},
		{"GET", "/api/v1/account", self, apiCall(s, s.apiAccount)},
		{"DELETE", "/api/v1/account", self, apiCall(s, s.apiEraseAccount)},
		{"GET", "/api/v1/account/export", self, apiCall(s, s.apiExport)},
		{"GET", "/api/v1/account/consents", self, apiCall(s, s.apiConsents)},
		{"GET", "/api/v1/account/requests", self, apiCall(s, s.apiMyRequests)},
		{"POST", "/api/v1/account/requests", self, apiCall(s, s.apiSubmitRequest)},
		{"PUT", "/api/v1/account/consents/{purpose}", self, apiCall(s, s.apiGiveConsent)},
		{"DELETE", "/api/v1/account/consents/{purpose}", self, apiCall(s, s.apiWithdrawConsent)},
		{"POST", "/api/v1/consent-receipts/verify", public, apiCall(s, s.apiVerifyReceipt)},
		{"POST", "/api/v1/account/reauth", self, apiCall(s, s.apiReauth)},
		{"POST", "/api/v1/account/password", self, apiCall(s, s.apiChangePassword)},
		{"POST", "/api/v1/account/email", self, apiCall(s, s.apiEmailChange)},
		{"DELETE", "/api/v1/account/email", self, apiCall(s, s.apiEmailChangeCancel)},
		{"POST", "/api/v1/account/email/confirm", public, apiCall(s, s.apiEmailConfirm)},
		{"POST", "/api/v1/account/mfa/totp", self, apiCall(s, s.apiMFABegin)},
		{"POST", "/api/v1/account/mfa/totp/confirm", self, apiCall(s, s.apiMFAConfirm)},
		{"DELETE", "/api/v1/account/mfa/totp", self, apiCall(s, s.apiMFADisable)},
		{"POST", "/api/v1/account/mfa/recovery-codes", self, apiCall(s, s.apiMFARecoveryCodes)},
		{"GET", "/api/v1/sessions", self, apiCall(s, s.apiSessions)},
		{"DELETE", "/api/v1/sessions/current", self, apiCall(s, s.apiSignOut)},
		{"DELETE", "/api/v1/sessions/{id}", self, apiCall(s, s.apiRevokeSession)},
		{"GET", "/api/v1/accounts", needs(identity.PermAccountsRead), apiCall(s, s.apiFindAccounts)},
		{"GET", "/api/v1/accounts/{id}", needs(identity.PermAccountsRead), apiCall(s, s.apiGetAccount)},
		{"PUT", "/api/v1/accounts/{id}/roles/{role}", needs(identity.PermRolesManage), apiCall(s, s.apiGrantRole)},
		{"DELETE", "/api/v1/accounts/{id}/roles/{role}", needs(identity.PermRolesManage), apiCall(s, s.apiRevokeRole)},
		{"GET", "/api/v1/security-events", needs(identity.PermSecurityEventsRead), apiCall(s, s.apiSecurityEvents)},
		{"GET", "/api/v1/privacy/record", needs(identity.PermProcessingRecord), apiCall(s, s.apiProcessingRecord)},
		{"GET", "/api/v1/account/access-log", self, apiCall(s, s.apiMyAccessLog)},
		{"GET", "/api/v1/privacy/break-glass", needs(identity.PermAccessReview), apiCall(s, s.apiBreakGlass)},
		{"GET", "/api/v1/privacy/requests", needs(identity.PermRequestsHandle), apiCall(s, s.apiRequestQueue)},
		{"POST", "/api/v1/privacy/requests/{id}", needs(identity.PermRequestsHandle), apiCall(s, s.apiAnswerRequest)},
		{"GET", "/api/v1/privacy/restrictions", needs(identity.PermRequestsHandle), apiCall(s, s.apiRestrictions)},
		{"POST", "/api/v1/privacy/restrictions/{id}/lift", needs(identity.PermRequestsHandle), apiCall(s, s.apiLiftRestriction)},
	}
}

// guard enforces a route's request rules before its handler runs: form
// tokens on state-changing page requests, JSON on state-changing API
// requests, then sign-in and permission.
func (s *Server) guard(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := s.requestContext(r)
		unsafe := r.Method != http.MethodGet && r.Method != http.MethodHead
		if unsafe && !c.api {
			parse := r.ParseForm
			if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
				// A file upload (the credential authority's list): ParseForm
				// leaves such a body alone, and the form token is inside it.
				// Past 1 MiB the parts go to temporary files.
				parse = func() error { return r.ParseMultipartForm(1 << 20) }
			}
			if err := parse(); err != nil {
				var mbe *http.MaxBytesError
				if errors.As(err, &mbe) {
					s.fail(w, r, c, mbe)
					return
				}
				s.fail(w, r, c, &decodeError{http.StatusBadRequest, "the form could not be read"})
				return
			}
			if !s.validFormToken(c, r.PostFormValue("csrf")) {
				s.Events.Record(r.Context(), secops.Event{Kind: secops.CrossOrigin, IP: c.ip, Route: r.URL.Path, Detail: "missing or wrong form token"})
				s.fail(w, r, c, errFormToken)
				return
			}
		}
		// A page on another site can send a body-less or form-encoded
		// request with the browser's cookie but cannot, without a CORS
		// preflight we never grant, declare JSON: so an API write that
		// rides on a cookie session must declare JSON even with no body,
		// should a browser ever omit the Origin and Sec-Fetch-Site headers
		// that the cross-origin check relies on.
		if unsafe && c.api && (r.ContentLength != 0 || (c.token != "" && !c.bearer)) {
			if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
				s.fail(w, r, c, errContentType)
				return
			}
		}
		if unsafe && c.api {
			// A ceiling on API writes per address, below the specific
			// limits of sign-in, registration and codes.
			if err := s.limit(r, c, secops.APIWritesPerIP, c.ip); err != nil {
				s.fail(w, r, c, err)
				return
			}
		}
		if rt.access.signedIn {
			if c.principal == nil {
				s.fail(w, r, c, errSignInRequired)
				return
			}
			if !c.principal.Can(rt.access.perm) {
				s.Events.Record(r.Context(), secops.Event{Kind: secops.PermissionDenied, IP: c.ip,
					Account: s.id.Pseudonym(c.principal.AccountID), Route: r.Method + " " + rt.path, Detail: "needs " + string(rt.access.perm)})
				s.fail(w, r, c, identity.ErrForbidden)
				return
			}
		}
		rt.h(w, r, c)
	})
}

// limit applies a rate-limit rule, recording a refusal.
func (s *Server) limit(r *http.Request, c *reqCtx, rule, subject string) error {
	if ok, wait := s.Limits.Allow(rule, subject); !ok {
		s.Events.Record(r.Context(), secops.Event{Kind: secops.RateLimited, IP: c.ip, Route: r.URL.Path, Detail: rule})
		return &rateLimitedError{wait: wait}
	}
	return nil
}
