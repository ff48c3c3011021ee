package web

// The test environment shared by this package's tests: a real veche web
// server over TLS (httptest) on a real database, a browser-like client with
// a cookie jar that fills in form tokens, and an API client.

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	pqtotp "github.com/pquerna/otp/totp"

	"github.com/veche/veche/internal/auditlog"
	"github.com/veche/veche/internal/identity"
	"github.com/veche/veche/internal/identity/password"
	"github.com/veche/veche/internal/keys"
	"github.com/veche/veche/internal/mail"
	"github.com/veche/veche/internal/participation"
	"github.com/veche/veche/internal/privacy"
	"github.com/veche/veche/internal/privacy/fieldcrypt"
	"github.com/veche/veche/internal/secops"
	"github.com/veche/veche/internal/store"
)

// testPassword passes the password policy.
const testPassword = "correct horse battery staple"

// testHasherParams are cheap Argon2id parameters that keep the suite fast;
// the production parameters are tested in package password and used by the
// sign-in benchmark.
var testHasherParams = password.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

type testEnv struct {
	part      *participation.Service
	censusKey []byte
	t         testing.TB
	db        *store.DB
	srv       *httptest.Server
	web       *Server
	id        *identity.Service
	log       *auditlog.Log
	events    *secops.Recorder
	sent      *mail.MemorySender
	crypt     *fieldcrypt.Service
	outbox    *mail.Dispatcher
	logBuf    *syncBuffer

	mu  sync.Mutex
	now time.Time
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newTestEnv starts a server on db. limits nil means generous limits so
// that tests not about rate limiting never hit them.
func newTestEnv(t testing.TB, db *store.DB, limits map[string]secops.Limit) *testEnv {
	t.Helper()
	ks, err := keys.LoadOrCreate(t.TempDir(), "veche.test/log")
	if err != nil {
		t.Fatal(err)
	}
	e := &testEnv{t: t, db: db, now: time.Now(), logBuf: &syncBuffer{}}
	logger := slog.New(slog.NewTextHandler(e.logBuf, nil))
	e.log = auditlog.New(db, ks.LogSigner, ks.LogVerifier, auditlog.Options{Holder: "test", Logger: logger})
	hasher := password.NewHasher(testHasherParams, 0)
	e.srv = httptest.NewUnstartedServer(nil)
	e.srv.StartTLS()
	t.Cleanup(e.srv.Close)
	kr, err := fieldcrypt.OpenLocalKeyring(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	e.crypt = fieldcrypt.New(db, kr, ks.Derive(fieldcrypt.IndexKeyPurpose), fieldcrypt.Options{})
	e.id, err = identity.New(db, e.log, auditlog.NewPseudonymizer(ks.Derive(keys.PurposePseudonym)), hasher,
		ks.Derive(keys.PurposeSealMFA), e.crypt, identity.Config{PublicURL: e.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	e.id.SetClock(e.clock)
	access := privacy.NewAccessLog(db)
	e.id.Access = access
	e.sent = &mail.MemorySender{}
	e.outbox = &mail.Dispatcher{DB: db, Crypt: e.crypt, Sender: e.sent, From: "veche <noreply@veche.test>", Holder: "test", Logger: logger}
	e.events = secops.NewRecorder(db, logger, e.crypt)
	if limits == nil {
		limits = map[string]secops.Limit{}
		for k := range secops.DefaultLimits {
			limits[k] = secops.Limit{Every: time.Millisecond, Burst: 10000}
		}
	}
	e.web, err = New(Deps{Identity: e.id, Events: e.events, Limits: secops.NewLimiter(limits, []byte("rate")),
		Log: e.log, Logger: logger, FormKey: ks.Derive("form"), Access: access,
		Consents:      privacy.NewConsents(db, e.log, e.id.Pseudonym, ed25519.NewKeyFromSeed(ks.Derive("veche consent receipt v1"))),
		Requests:      privacy.NewRequests(db, e.log, e.crypt, e.id.Pseudonym),
		Participation: e.participation(ks)})
	if err != nil {
		t.Fatal(err)
	}
	e.srv.Config.Handler = e.web.Handler()
	return e
}

func (e *testEnv) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

// advance moves the service clock forward (TOTP steps, timeouts).
func (e *testEnv) advance(d time.Duration) {
	e.mu.Lock()
	e.now = e.now.Add(d)
	e.mu.Unlock()
}

// mails sends queued mail and returns every message sent so far to addr.
func (e *testEnv) mails(addr string) []mail.Message {
	e.t.Helper()
	if _, err := e.outbox.Flush(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	var out []mail.Message
	for _, m := range e.sent.Messages() {
		if m.To == addr {
			out = append(out, m)
		}
	}
	return out
}

var linkRE = regexp.MustCompile(`https://\S+`)

// lastLink returns the URL path and query of the first link in the newest
// message to addr whose link contains part.
func (e *testEnv) lastLink(addr, part string) string {
	e.t.Helper()
	msgs := e.mails(addr)
	for i := len(msgs) - 1; i >= 0; i-- {
		for _, l := range linkRE.FindAllString(msgs[i].Body, -1) {
			if strings.Contains(l, part) {
				u, _ := url.Parse(l)
				return u.RequestURI()
			}
		}
	}
	e.t.Fatalf("no message to %s with a link containing %q", addr, part)
	return ""
}

// emailIndex is the blind index under which an address is stored (the
// address itself is sealed).
func (e *testEnv) emailIndex(email string) []byte { return e.crypt.BlindIndex("accounts.email", email) }

// createUser makes a verified account with roles directly in the service.
func (e *testEnv) createUser(email string, roles ...identity.Role) int64 {
	e.t.Helper()
	id, err := e.id.CreateAccount(context.Background(), email, testPassword, roles)
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

// totpCode returns the current code for secret by the service clock.
func (e *testEnv) totpCode(secret string) string {
	e.t.Helper()
	code, err := pqtotp.GenerateCode(secret, e.clock())
	if err != nil {
		e.t.Fatal(err)
	}
	return code
}

// auditCount counts audit entries appended (pending or sequenced) with
// action, by reading the entries the log serves after sequencing.
func (e *testEnv) sequence() {
	e.t.Helper()
	if _, err := e.log.Sequence(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

// browser is a client that keeps cookies and fills in form tokens, as a
// person's browser would. It does not follow redirects, so tests see them.
type browser struct {
	e      *testEnv
	c      *http.Client
	csrf   string // form token from the last page
	header http.Header
}

func (e *testEnv) browser() *browser {
	jar, _ := cookiejar.New(nil)
	// A copy: e.srv.Client() is one shared client, and each browser needs
	// its own cookie jar.
	c := new(http.Client)
	*c = *e.srv.Client()
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	b := &browser{e: e, c: c, header: http.Header{}}
	return b
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

type page struct {
	status int
	header http.Header
	body   string
}

func (b *browser) do(req *http.Request) page {
	b.e.t.Helper()
	for k, v := range b.header {
		req.Header[k] = v
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if m := csrfRE.FindStringSubmatch(string(body)); m != nil {
		b.csrf = m[1]
	}
	return page{resp.StatusCode, resp.Header, string(body)}
}

func (b *browser) get(path string) page {
	b.e.t.Helper()
	req, _ := http.NewRequest("GET", b.e.srv.URL+path, nil)
	return b.do(req)
}

// post submits a form as a same-origin browser would, with the form token
// of the last page seen (fetching one first if there is none).
func (b *browser) post(path string, form url.Values) page {
	b.e.t.Helper()
	if b.csrf == "" {
		b.get("/")
	}
	f := url.Values{}
	for k, v := range form {
		f[k] = v
	}
	if _, ok := f["csrf"]; !ok {
		f.Set("csrf", b.csrf)
	}
	req, _ := http.NewRequest("POST", b.e.srv.URL+path, strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.e.srv.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

// signIn signs in with a password (and TOTP secret if given) and fails
// the test unless it ends signed in.
func (b *browser) signIn(email, secret string) {
	b.e.t.Helper()
	p := b.post("/signin", url.Values{"email": {email}, "password": {testPassword}})
	if p.status != http.StatusSeeOther {
		b.e.t.Fatalf("sign-in: status %d\n%s", p.status, p.body)
	}
	if loc := p.header.Get("Location"); strings.HasPrefix(loc, "/signin/mfa") {
		if secret == "" {
			b.e.t.Fatal("sign-in asks for a code but the test gave no TOTP secret")
		}
		b.e.advance(30 * time.Second) // a fresh step: codes are single-use
		p = b.post("/signin/mfa", url.Values{"code": {b.e.totpCode(secret)}})
		if p.status != http.StatusSeeOther {
			b.e.t.Fatalf("MFA step: status %d\n%s", p.status, p.body)
		}
	}
}

// enableMFA turns on TOTP for the signed-in browser and returns the secret.
func (b *browser) enableMFA() string {
	b.e.t.Helper()
	if p := b.post("/account/mfa/totp", nil); p.status != http.StatusSeeOther {
		b.e.t.Fatalf("begin TOTP: %d\n%s", p.status, p.body)
	}
	p := b.get("/account/mfa")
	m := regexp.MustCompile(`<code class="secret">([A-Z2-7]+)</code>`).FindStringSubmatch(p.body)
	if m == nil {
		b.e.t.Fatalf("no secret on the MFA page:\n%s", p.body)
	}
	if p := b.post("/account/mfa/totp/confirm", url.Values{"code": {b.e.totpCode(m[1])}}); p.status != http.StatusOK {
		b.e.t.Fatalf("confirm TOTP: %d\n%s", p.status, p.body)
	}
	return m[1]
}

// apiClient calls the JSON API with an optional bearer token.
type apiClient struct {
	e     *testEnv
	c     *http.Client
	token string
}

func (e *testEnv) api() *apiClient {
	c := new(http.Client)
	*c = *e.srv.Client()
	c.Jar = nil // API clients hold only their bearer token
	return &apiClient{e: e, c: c}
}

// call sends body (a value to encode, a raw string, or nil) and decodes the
// JSON answer into a map.
func (a *apiClient) call(method, path string, body any) (int, map[string]any, http.Header) {
	a.e.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = strings.NewReader(string(b))
	default:
		j, _ := json.Marshal(b)
		r = strings.NewReader(string(j))
	}
	req, _ := http.NewRequest(method, a.e.srv.URL+path, r)
	if r != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	resp, err := a.c.Do(req)
	if err != nil {
		a.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			a.e.t.Fatalf("%s %s: answer is not JSON (%d): %s", method, path, resp.StatusCode, raw)
		}
	}
	return resp.StatusCode, out, resp.Header
}

// signIn gets an API session (completing MFA when secret is given).
func (a *apiClient) signIn(email, secret string) {
	a.e.t.Helper()
	st, out, _ := a.call("POST", "/api/v1/sessions", map[string]string{"email": email, "password": testPassword})
	if st != http.StatusCreated {
		a.e.t.Fatalf("API sign-in: %d %v", st, out)
	}
	a.token = out["token"].(string)
	if out["mfa_required"] == true {
		a.e.advance(30 * time.Second)
		st, out, _ = a.call("POST", "/api/v1/sessions/mfa", map[string]string{"code": a.e.totpCode(secret)})
		if st != http.StatusCreated {
			a.e.t.Fatalf("API MFA: %d %v", st, out)
		}
		a.token = out["token"].(string)
	}
}

func errorCode(out map[string]any) string {
	if e, ok := out["error"].(map[string]any); ok {
		return fmt.Sprint(e["code"])
	}
	return ""
}
