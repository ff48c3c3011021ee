// Package web is veche's HTTP face: server-rendered, accessible HTML pages
// that work without JavaScript, and the JSON API under /api/v1. It turns
// requests into calls on the domain services and their errors into pages
// and JSON; it decides nothing itself.
//
// Every request passes the same chain (see [Server.Handler]): panic
// recovery, security headers (strict CSP with no inline script, HSTS on
// TLS, frame-ancestors none, nosniff, Referrer-Policy, Permissions-Policy),
// a body-size limit, language choice, the session, cross-origin protection
// (net/http's CrossOriginProtection plus a per-browser form token), and the
// permission check declared for the route in routes.go. Errors map to
// statuses in one place, errors.go.
package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/veche/veche/internal/auditlog"
	"github.com/veche/veche/internal/i18n"
	"github.com/veche/veche/internal/identity"
	"github.com/veche/veche/internal/participation"
	"github.com/veche/veche/internal/privacy"
	"github.com/veche/veche/internal/secops"
)

// Cookie names. The __Host- prefix pins a cookie to this exact host, over
// HTTPS, for the whole site (RFC 6265bis §4.1.3.2).
const (
	sessionCookie = "__Host-veche_session"
	csrfCookie    = "__Host-veche_csrf"
	langCookie    = "veche_lang"
)

// maxBody bounds request bodies; veche's forms and API calls are small.
const maxBody = 64 << 10

// Deps are what the web layer calls.
type Deps struct {
	Identity    *identity.Service
	Events      *secops.Recorder
	Limits      *secops.Limiter
	Log         *auditlog.Log
	Logger      *slog.Logger
	FormKey     []byte // HMAC key for form tokens
	BehindProxy bool   // trust X-Forwarded-For/-Proto from a fronting TLS proxy
	Health      func(context.Context) error
	Controller  privacy.Controller  // the public body, named in the privacy notice
	Access      *privacy.AccessLog  // staff reads of personal data
	Consents    *privacy.Consents   // consent records and receipts
	Requests    *privacy.Requests   // data-subject requests for the DPO
	Inactivity  identity.Inactivity // when unused accounts are erased, for the notice
	// Participation is the core of the participation spaces: processes,
	// the census and eligibility; the spaces' services are built on it.
	Participation *participation.Service
}

// Server serves veche's pages and API.
type Server struct {
	Deps
	id    *identity.Service
	sp    spaces
	pages *pages
	mux   *http.ServeMux
}

// New builds a Server.
func New(d Deps) (*Server, error) {
	p, err := loadPages()
	if err != nil {
		return nil, err
	}
	s := &Server{Deps: d, id: d.Identity, sp: newSpaces(d.Participation), pages: p, mux: http.NewServeMux()}
	for _, rt := range s.routes() {
		s.mux.Handle(rt.method+" "+rt.path, s.guard(rt))
	}
	s.mux.Handle("/log/", http.StripPrefix("/log", d.Log.Handler()))
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", staticHandler()))
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("/", s.notFound)
	return s, nil
}

// Handler returns the full middleware chain around the routes.
func (s *Server) Handler() http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := s.requestContext(r)
		s.Events.Record(r.Context(), secops.Event{Kind: secops.CrossOrigin, IP: c.ip, Route: r.URL.Path,
			Detail: "Origin=" + r.Header.Get("Origin") + " Sec-Fetch-Site=" + r.Header.Get("Sec-Fetch-Site")})
		s.fail(w, r, c, errCrossOrigin)
	}))
	var h http.Handler = s.mux
	h = cop.Handler(h)
	h = s.withContext(h)
	h = s.secureHeaders(h)
	h = s.recoverPanics(h)
	return h
}

type ctxKey struct{}

// reqCtx is what the chain learned about a request.
type reqCtx struct {
	ip        string
	lang      i18n.Lang
	https     bool
	principal *identity.Principal
	token     string // session token presented
	bearer    bool   // token came from an Authorization header
	csrf      string // the browser's form-token seed (cookie value)
	api       bool
}

func (s *Server) requestContext(r *http.Request) *reqCtx {
	if c, ok := r.Context().Value(ctxKey{}).(*reqCtx); ok {
		return c
	}
	return &reqCtx{ip: s.clientIP(r), lang: i18n.Default}
}

// withContext resolves the language, client address, session and form
// token seed, and limits the body size.
func (s *Server) withContext(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := r.Body
		r.Body = http.MaxBytesReader(w, body, maxBody)
		c := &reqCtx{ip: s.clientIP(r), https: s.isHTTPS(r), api: strings.HasPrefix(r.URL.Path, "/api/")}
		if cacheable(r.URL.Path) {
			// Public responses that shared caches may keep must not carry
			// anyone's cookies: no session (a rotated token would be handed
			// to everyone behind the cache), no form-token seed.
			c.lang = i18n.Negotiate("", r.Header.Get("Accept-Language"))
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, c)))
			return
		}
		explicit := ""
		if ck, err := r.Cookie(langCookie); err == nil {
			explicit = ck.Value
		}
		// The scheme name is case-insensitive (RFC 9110 §11.1).
		if scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
			c.token, c.bearer = strings.TrimSpace(tok), true
		} else if ck, err := r.Cookie(sessionCookie); err == nil {
			c.token = ck.Value
		}
		if c.token != "" {
			p, rotated, err := s.id.Authenticate(r.Context(), c.token)
			switch {
			case err == nil:
				c.principal = p
				if rotated != "" {
					c.token = rotated
					s.setSessionCookie(w, c, rotated, time.Time{})
				}
				if explicit == "" {
					explicit = p.Locale
				}
			case !c.bearer && err == identity.ErrSessionInvalid:
				s.clearSessionCookie(w)
			}
		}
		c.lang = i18n.Negotiate(explicit, r.Header.Get("Accept-Language"))
		// The one large body: the credential authority's list of public
		// credentials, allowed only once the sender is known to be one.
		if credentialsUploadPath(r) && c.principal != nil && c.principal.Can(identity.PermElectionCredentials) {
			r.Body = http.MaxBytesReader(w, body, maxCredentialsUpload)
		}
		if ck, err := r.Cookie(csrfCookie); err == nil && len(ck.Value) == 43 {
			c.csrf = ck.Value
		} else if !c.api {
			var b [32]byte
			rand.Read(b[:])
			c.csrf = base64.RawURLEncoding.EncodeToString(b[:])
			http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: c.csrf, Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
		}
		w.Header().Set("Content-Language", string(c.lang))
		w.Header().Add("Vary", "Accept-Language, Cookie")
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, c)))
	})
}

// cacheable reports whether path is served the same to everyone and may be
// kept by shared caches: static files, the public audit log, the health
// check. Such requests need no session.
func cacheable(path string) bool {
	return strings.HasPrefix(path, "/static/") || strings.HasPrefix(path, "/log/") || path == "/healthz"
}

// formToken is the hidden-field value that a form must send back: an HMAC
// of the browser's seed cookie, so a page from another site cannot forge it.
func (s *Server) formToken(c *reqCtx) string {
	m := hmac.New(sha256.New, s.FormKey)
	m.Write([]byte(c.csrf))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (s *Server) validFormToken(c *reqCtx, got string) bool {
	if c.csrf == "" {
		return false
	}
	return hmac.Equal([]byte(got), []byte(s.formToken(c)))
}

func (s *Server) setSessionCookie(w http.ResponseWriter, c *reqCtx, token string, expires time.Time) {
	// A session cookie (no Expires) ends with the browser; the server-side
	// timeouts bound it in any case.
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

func (s *Server) clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// clientIP is the peer address, or with BehindProxy the address the proxy
// appended last to X-Forwarded-For (earlier entries are client-supplied and
// cannot be trusted).
func (s *Server) clientIP(r *http.Request) string {
	if s.BehindProxy {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			parts := strings.Split(xff, ",")
			if ip := net.ParseIP(strings.TrimSpace(parts[len(parts)-1])); ip != nil {
				return ip.String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (s *Server) isHTTPS(r *http.Request) bool {
	return r.TLS != nil || (s.BehindProxy && r.Header.Get("X-Forwarded-Proto") == "https")
}

// secureHeaders sets the headers every response carries.
func (s *Server) secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
			"font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		if s.isHTTPS(r) {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.Logger.Error("web: panic serving request", "path", r.URL.Path, "panic", v)
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if s.Health != nil {
		if err := s.Health(r.Context()); err != nil {
			s.Logger.Error("healthz: unhealthy", "err", err)
			http.Error(w, "unhealthy", http.StatusServiceUnavailable)
			return
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.fail(w, r, s.requestContext(r), errNotFound)
}
