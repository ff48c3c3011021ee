package main

// veche trustee and the veche server: signing in, downloading the ceremony
// directory before a step and uploading the messages the step wrote after
// it, over the API of docs/api-elections.md ("The key ceremony", "Tally
// and result") and docs/api.md ("Sessions"). Without --election none of
// this runs and the steps only read and write files.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/veche/veche/internal/voting/dkg"
)

const (
	// trusteeTokenFile is where signin keeps the session in the secrets
	// directory: the token on the first line, the server it is for on
	// the second, so that it is never sent to another server.
	trusteeTokenFile = "session.token"
	// trusteeTokenEnv, when set, is the token every command uses instead
	// of the file (for a trustee who keeps it elsewhere).
	trusteeTokenEnv  = "VECHE_TOKEN"
	trusteeUserAgent = "veche-trustee/1 (veche trustee; docs/trustees.md)"
)

// trusteeMaxAnswer bounds what is read of one answer of the server: a
// ceremony directory of the largest ceremony is a few megabytes. Tests
// lower it.
var trusteeMaxAnswer int64 = 64 << 20

// trusteeHTTPClient talks to the server: TLS verified against the
// system's roots, a deadline on every request, no redirects (an API
// answer is never one, and a POST must not be re-sent elsewhere). Tests
// replace it with their TLS test server's client.
var trusteeHTTPClient = &http.Client{
	Timeout: 2 * time.Minute,
	CheckRedirect: func(req *http.Request, via []*http.Request) error {
		return http.ErrUseLastResponse
	},
}

// trusteeServer is one election on one veche server, as --election names
// it, with the session to use there ("" for public reads only).
type trusteeServer struct {
	origin   string // https://host[:port]
	id       int64
	page     string // origin/elections/ID, as commands print it
	api      string // origin/api/v1/elections/ID
	token    string
	tokenSrc string // where the token came from, for messages
}

// trusteeElectionURLForm is what --election must look like, for errors.
const trusteeElectionURLForm = "expected the election's page, https://HOST/elections/ID, or its API address, https://HOST/api/v1/elections/ID"

// parseElectionURL reads --election: the election's page or its API
// address on a veche server, over HTTPS (plain HTTP only to this machine,
// as veche serves it).
func parseElectionURL(raw string) (*trusteeServer, error) {
	bad := func(why string) error {
		return fmt.Errorf("%w: --election %q: %s; %s", errUsage, raw, why, trusteeElectionURLForm)
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, bad("not an address")
	}
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return nil, bad("not an https:// address")
	case u.Opaque != "" || u.Host == "":
		return nil, bad("no host")
	case u.User != nil:
		return nil, bad("an address with a user name or password in it")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, bad("an address with a query (?…) or fragment (#…)")
	case u.Scheme == "http" && !isLoopbackHost(u.Hostname()):
		return nil, bad("plain http:// would send your session in clear; veche serves trustees over https://")
	}
	p := strings.TrimSuffix(u.EscapedPath(), "/")
	var id string
	switch {
	case strings.HasPrefix(p, "/elections/"):
		id = strings.TrimPrefix(p, "/elections/")
	case strings.HasPrefix(p, "/api/v1/elections/"):
		id = strings.TrimPrefix(p, "/api/v1/elections/")
	default:
		return nil, bad("not the address of an election")
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 || strconv.FormatInt(n, 10) != id {
		return nil, bad("the address does not end with the election's number")
	}
	origin := u.Scheme + "://" + strings.ToLower(u.Host)
	return &trusteeServer{origin: origin, id: n,
		page: fmt.Sprintf("%s/elections/%d", origin, n), api: fmt.Sprintf("%s/api/v1/elections/%d", origin, n)}, nil
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// loadToken takes the session for s: VECHE_TOKEN if set, else the token
// signin kept in dir (none is no error; dir "" reads no file).
func (s *trusteeServer) loadToken(dir string) error {
	if t := os.Getenv(trusteeTokenEnv); t != "" {
		if !validToken(t) {
			return fmt.Errorf("%s is not a session token (43 characters of A–Z, a–z, 0–9, - and _)", trusteeTokenEnv)
		}
		s.token, s.tokenSrc = t, trusteeTokenEnv
		return nil
	}
	if dir == "" {
		return nil
	}
	name := filepath.Join(dir, trusteeTokenFile)
	b, err := os.ReadFile(name)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	t := strings.TrimSpace(lines[0])
	if !validToken(t) {
		return fmt.Errorf("%s does not hold a session token: sign in again with 'veche trustee signin'", name)
	}
	if len(lines) > 1 {
		if server := strings.TrimSpace(lines[1]); server != s.origin {
			return fmt.Errorf("%s is a sign-in to %s, not to %s: sign in to this server with 'veche trustee signin --election %s --dir %s'",
				name, server, s.origin, s.page, shellQuote(dir))
		}
	}
	s.token, s.tokenSrc = t, name
	return nil
}

// validToken accepts what can be a session token: the server's are 43
// characters of base64url; anything else is refused rather than sent in
// a header.
func validToken(t string) bool {
	if len(t) < 20 || len(t) > 128 {
		return false
	}
	for _, c := range []byte(t) {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// needToken fails when there is no session for a step that sends.
func (s *trusteeServer) needToken(dir string) error {
	if s.token != "" {
		return nil
	}
	return fmt.Errorf("not signed in to %s: run 'veche trustee signin --election %s --dir %s' first (or set %s)",
		s.origin, s.page, shellQuote(dir), trusteeTokenEnv)
}

// trusteeAPIError is a refusal of the API: its machine code and message
// (docs/api.md, "Errors").
type trusteeAPIError struct {
	Status  int
	Code    string
	Message string
}

func (e *trusteeAPIError) Error() string {
	if e.Code == "" {
		return e.Message
	}
	return e.Code + ": " + e.Message
}

// call sends one request to the server's path (absolute, or relative to
// the origin) with the session when auth is set, and returns the answer's
// body. An answer that is not 2xx is a *trusteeAPIError.
func (s *trusteeServer) call(ctx context.Context, method, target string, body []byte, auth bool, token string) ([]byte, error) {
	if !strings.HasPrefix(target, "https://") && !strings.HasPrefix(target, "http://") {
		target = s.origin + target
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", trusteeUserAgent)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token == "" && auth {
		token = s.token
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := trusteeHTTPClient.Do(req)
	if err != nil {
		return nil, explainNetwork(s.origin, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, trusteeMaxAnswer+1))
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading the answer: %w", method, target, err)
	}
	if int64(len(b)) > trusteeMaxAnswer {
		return nil, fmt.Errorf("%s %s: the answer is over %s, more than any ceremony directory or tally: refusing it", method, target, trusteeSize(trusteeMaxAnswer))
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return b, nil
	}
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(b, &e) != nil || e.Error.Code == "" {
		msg := fmt.Sprintf("%s %s: the server answered %s, not as veche's API does: is --election the address of a veche election?", method, target, resp.Status)
		if loc := resp.Header.Get("Location"); loc != "" {
			msg = fmt.Sprintf("%s %s: the server redirects to %s: give --election the address the election's page shows", method, target, loc)
		}
		return nil, &trusteeAPIError{Status: resp.StatusCode, Message: msg}
	}
	return nil, &trusteeAPIError{Status: resp.StatusCode, Code: e.Error.Code, Message: e.Error.Message}
}

func trusteeSize(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// getJSON decodes the answer to a GET into out.
func (s *trusteeServer) getJSON(ctx context.Context, target string, auth bool, out any) error {
	b, err := s.call(ctx, http.MethodGet, target, nil, auth, "")
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("GET %s: the answer is not what veche's API sends: %v", target, err)
	}
	return nil
}

// explainNetwork says what a failed request means for a person: the
// certificate is the one worth telling apart.
func explainNetwork(origin string, err error) error {
	var ue x509.UnknownAuthorityError
	var he x509.HostnameError
	var ce x509.CertificateInvalidError
	var ve *tls.CertificateVerificationError
	if errors.As(err, &ue) || errors.As(err, &he) || errors.As(err, &ce) || errors.As(err, &ve) {
		return fmt.Errorf("%s: the server's certificate does not verify, so veche trustee will not talk to it (it may not be the server you think): %w", origin, err)
	}
	return fmt.Errorf("cannot reach %s: %w", origin, err)
}

// trusteeCeremonyAnswer is what the steps read of GET …/ceremony.
type trusteeCeremonyAnswer struct {
	State   string                     `json:"state"`
	You     uint32                     `json:"you"` // the session's index, 0 if not a trustee of it
	Waiting map[string][]uint32        `json:"waiting"`
	Files   map[string]json.RawMessage `json:"files"`
}

// The ceremony directories of package dkg's layout, the only places a
// downloaded file may go.
var trusteeCeremonyDirs = []string{dkg.CommitmentsDir, dkg.SharesDir, dkg.ComplaintsDir, dkg.AnswersDir, dkg.ResultsDir}

// checkCeremonyPath accepts a file name the server sends in a ceremony
// directory only if it is one of dkg's layout: ceremony.json, or
// DIR/NAME.json with DIR one of the phase directories and NAME plain
// (letters, digits, '.', '-', '_', not starting with '.'). Anything else —
// an absolute path, "..", a backslash, another directory — is refused:
// the names come from the network.
func checkCeremonyPath(name string) error {
	if name == dkg.CeremonyFile {
		return nil
	}
	dir, file, ok := strings.Cut(name, "/")
	if !ok || !slices.Contains(trusteeCeremonyDirs, dir) {
		return fmt.Errorf("not in one of the ceremony's directories (%s, or %s)", dkg.CeremonyFile, strings.Join(trusteeCeremonyDirs, "/, ")+"/")
	}
	if len(file) > 100 || !strings.HasSuffix(file, ".json") || len(file) == len(".json") || file[0] == '.' {
		return errors.New("not a plain file name ending in .json")
	}
	for _, c := range []byte(file) {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return fmt.Errorf("the character %q has no place in a ceremony file's name", c)
		}
	}
	if !filepath.IsLocal(filepath.FromSlash(name)) { // reserved names on Windows
		return errors.New("not a name this system can keep in a directory")
	}
	return nil
}

// download fetches the ceremony directory of the election into cdir and
// reports it on w. Every name is checked before anything is written; a
// directory of another ceremony in cdir is left alone.
func (s *trusteeServer) download(ctx context.Context, cdir string, w io.Writer) (*trusteeCeremonyAnswer, error) {
	var a trusteeCeremonyAnswer
	if err := s.getJSON(ctx, s.api+"/ceremony", true, &a); err != nil {
		return nil, s.refused("download the ceremony directory", err)
	}
	cj, ok := a.Files[dkg.CeremonyFile]
	if !ok {
		if a.State == "draft" {
			return nil, fmt.Errorf("election %d at %s is a draft: the key ceremony has not started (the election officer starts it)", s.id, s.origin)
		}
		return nil, fmt.Errorf("the server sent the ceremony directory of election %d without %s", s.id, dkg.CeremonyFile)
	}
	cer, err := dkg.ParseCeremony(cj)
	if err != nil {
		return nil, fmt.Errorf("the server's %s: %w", dkg.CeremonyFile, err)
	}
	names := make([]string, 0, len(a.Files))
	folded := map[string]string{}
	for name := range a.Files {
		if err := checkCeremonyPath(name); err != nil {
			return nil, fmt.Errorf("the server sent a file named %q for the ceremony directory: %v; refusing the whole download (nothing was written)", name, err)
		}
		// Two names one file on a case-insensitive disk.
		if other, dup := folded[strings.ToLower(name)]; dup {
			return nil, fmt.Errorf("the server sent both %q and %q, which are one file on some disks; refusing the whole download (nothing was written)", other, name)
		}
		folded[strings.ToLower(name)] = name
		names = append(names, name)
	}
	slices.Sort(names)
	if old, err := os.ReadFile(filepath.Join(cdir, dkg.CeremonyFile)); err == nil {
		if oc, err := dkg.ParseCeremony(old); err == nil && oc != cer {
			return nil, fmt.Errorf("%s holds the ceremony of election %q, and the server's is now of election %q (the officer started a new ceremony): give a new --dir (or --ceremony) for the new ceremony; nothing was written",
				cdir, oc.ElectionID, cer.ElectionID)
		}
	}
	if err := os.MkdirAll(cdir, 0o755); err != nil {
		return nil, err
	}
	// The root keeps every write inside cdir, whatever links it holds.
	root, err := os.OpenRoot(cdir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	for _, name := range names {
		if err := writeInRoot(root, name, append(bytes.TrimSpace(a.Files[name]), '\n')); err != nil {
			return nil, fmt.Errorf("write %s: %w", filepath.Join(cdir, filepath.FromSlash(name)), err)
		}
	}
	files := "files"
	if len(names) == 1 {
		files = "file"
	}
	fmt.Fprintf(w, "downloaded the ceremony of election %d from %s: %d %s into %s\n", s.id, s.origin, len(names), files, cdir)
	return &a, nil
}

// writeInRoot writes name under root through a temporary file, so that a
// reader never sees half a message.
func writeInRoot(root *os.Root, name string, b []byte) error {
	if dir := path.Dir(name); dir != "." {
		if err := root.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	tmp := path.Join(path.Dir(name), "."+path.Base(name)+".download")
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = root.Rename(tmp, name)
	}
	if err != nil {
		root.Remove(tmp)
	}
	return err
}

// refused words a failed request: the server's code and message, with
// what to do about the codes a trustee meets.
func (s *trusteeServer) refused(what string, err error) error {
	var ae *trusteeAPIError
	if !errors.As(err, &ae) {
		return fmt.Errorf("%s: %w", what, err)
	}
	hint := ""
	switch ae.Code {
	case "signin_required":
		hint = "\nyour session has ended (or was never valid): sign in again with 'veche trustee signin'"
	case "forbidden":
		hint = "\nthe account lacks the trustee role, or the session did not pass two-step sign-in: sign in again with 'veche trustee signin'"
	case "not_found":
		hint = fmt.Sprintf("\nthere is no election %d at %s: check --election", s.id, s.origin)
	case "rate_limited":
		hint = "\nwait a minute and run the same command again"
	}
	return fmt.Errorf("%s: the server refused: %w%s", what, err, hint)
}

// whoIsNot explains why the server does not count the session as one of
// the election's trustees: the session has ended, or the account is
// another.
func (s *trusteeServer) whoIsNot(ctx context.Context, dir string) error {
	var acc struct {
		Account struct {
			Email string `json:"email"`
		} `json:"account"`
	}
	err := s.getJSON(ctx, "/api/v1/account", true, &acc)
	var ae *trusteeAPIError
	if errors.As(err, &ae) && ae.Status == http.StatusUnauthorized {
		again := fmt.Sprintf("sign in again with 'veche trustee signin --election %s --dir %s'", s.page, shellQuote(dir))
		if s.tokenSrc == trusteeTokenEnv {
			again = "set " + trusteeTokenEnv + " to a new session, or unset it and " + again
		}
		return fmt.Errorf("your session at %s has ended (sessions end after a while unused, and at the latest some hours after sign-in): %s", s.origin, again)
	}
	if err != nil {
		return s.refused("read your account", err)
	}
	return fmt.Errorf("you are signed in to %s as %s (%s), who is not one of the trustees of election %d: sign in with your trustee account",
		s.origin, acc.Account.Email, s.tokenSrc, s.id)
}

// trusteeUpload is the server's answer to an accepted ceremony message.
type trusteeUpload struct {
	Status string `json:"status"`
	File   string `json:"file"`
	Kind   string `json:"kind"`
	State  string `json:"state"`
}

// upload sends each message the step wrote into the ceremony directory
// and reports what the server did with it. A message the server already
// has is done: a run after a network failure sends only what is
// missing. Refusals are reported together, as one error.
func (p *trusteeRun) upload() error {
	w := p.report()
	if len(p.written) == 0 {
		return nil
	}
	var refused []string
	var fixed bool
	for _, rel := range p.written {
		name := filepath.Join(p.cdir, filepath.FromSlash(rel))
		b, err := os.ReadFile(name)
		if err != nil {
			return err
		}
		ans, err := p.srv.call(p.ctx, http.MethodPost, p.srv.api+"/ceremony/messages", bytes.TrimSpace(b), true, "")
		var ae *trusteeAPIError
		had, hadIt := p.got.Files[rel]
		switch {
		case err == nil:
			var u trusteeUpload
			json.Unmarshal(ans, &u)
			fmt.Fprintf(w, "  sent %s: accepted by %s as your %s\n", rel, p.srv.origin, u.Kind)
			fixed = fixed || u.State == "credentials"
		case errors.As(err, &ae) && ae.Code == "message_duplicate",
			// The ceremony has moved on, and the server has this message
			// from an earlier run.
			errors.As(err, &ae) && ae.Status == http.StatusConflict && hadIt:
			fmt.Fprintf(w, "  %s: already on the server, sent before (%s); nothing more to send\n", rel, ae)
			if hadIt {
				// Keep the directory as the server has it.
				if err := trusteeWriteRaw(name, had); err != nil {
					return err
				}
			}
		case errors.As(err, &ae):
			refused = append(refused, fmt.Sprintf("%s: %s", rel, ae))
		default:
			return fmt.Errorf("sending %s: %w\nwhat the server accepted is kept: run the same command again to send the rest", rel, err)
		}
	}
	if fixed {
		fmt.Fprintf(w, "the server verified the whole ceremony: the election's key is fixed\n")
	}
	if len(refused) > 0 {
		return fmt.Errorf("the server refused your message:\n  %s", strings.Join(refused, "\n  "))
	}
	return nil
}

func trusteeWriteRaw(name string, b []byte) error {
	return writeFileAtomic(name, func(w io.Writer) error {
		_, err := w.Write(append(bytes.TrimSpace(b), '\n'))
		return err
	})
}

// connect downloads the ceremony directory for a step that sends, and
// checks the session is one of the election's trustees.
func (p *trusteeRun) connect() error {
	if err := p.srv.needToken(p.dir); err != nil {
		return err
	}
	// Made here, private, before the ceremony directory inside it.
	if err := os.MkdirAll(p.dir, 0o700); err != nil {
		return err
	}
	got, err := p.srv.download(p.ctx, p.cdir, p.stdout)
	if err != nil {
		return err
	}
	if got.You == 0 {
		return p.srv.whoIsNot(p.ctx, p.dir)
	}
	p.got = got
	return nil
}

// waitFor refuses to run a step before the server has the messages of
// kind it needs from everyone (the order it accepts messages in).
func (p *trusteeRun) waitFor(kind, plural, step string) error {
	missing := p.got.Waiting[kind]
	if len(missing) == 0 {
		return nil
	}
	whose := "trustee " + trusteeIndices(missing)
	if len(missing) > 1 {
		whose = "trustees " + strings.ReplaceAll(trusteeIndices(missing), " ", ", ")
	}
	return fmt.Errorf("not yet: the server is still waiting for the %s of %s; run %s again once every one is in", plural, whose, step)
}

// command is the command that runs step for this trustee, to print as
// the next thing to do.
func (p *trusteeRun) command(step string) string {
	if p.srv == nil {
		return ""
	}
	c := "veche trustee " + step + " --election " + p.srv.page + " --dir " + shellQuote(p.dir)
	if step != "decrypt" && p.cdir != filepath.Join(p.dir, "ceremony") {
		c += " --ceremony " + shellQuote(p.cdir)
	}
	return c
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-~+:@,=", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

const trusteeSigninUsage = `veche trustee signin --election URL --dir SECRETS [--stdin]

Signs in to the veche server of the election URL (its page, such as
https://veche.example/elections/3) with your email address, password and
two-step code, asked on the terminal (or read from standard input, one a
line, with --stdin), and keeps the session in SECRETS/session.token for
the other steps' --election. The token is never a flag; VECHE_TOKEN, if
set, is used instead of the file.`

// trusteeSignin is 'veche trustee signin'.
func trusteeSignin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := newFlagSet("trustee signin", stderr)
	election := flags.String("election", "", "the election's page on the veche server, e.g. https://veche.example/elections/3 (required)")
	dir := flags.String("dir", "", "your secrets directory, where the session is kept as session.token (required; made if missing)")
	fromStdin := flags.Bool("stdin", false, "read the email address, password and two-step code from standard input, one a line, instead of the terminal")
	if err := parseFlags(flags, args, nil); err != nil {
		return err
	}
	if *election == "" || *dir == "" {
		return fmt.Errorf("%w: --election and --dir are required\n%s", errUsage, trusteeSigninUsage)
	}
	s, err := parseElectionURL(*election)
	if err != nil {
		return err
	}
	ask := trusteeAsker(ctx, *fromStdin)
	email, err := ask("Email address: ", true)
	if err != nil {
		return err
	}
	password, err := ask("Password: ", false)
	if err != nil {
		return err
	}
	email = strings.TrimSpace(email)
	if email == "" || password == "" {
		return errors.New("an email address and a password are needed to sign in")
	}
	type session struct {
		Token       string    `json:"token"`
		MFARequired bool      `json:"mfa_required"`
		ExpiresAt   time.Time `json:"expires_at"`
	}
	post := func(target string, body any, token string) (*session, error) {
		b, _ := json.Marshal(body)
		ans, err := s.call(ctx, http.MethodPost, target, b, false, token)
		if err != nil {
			return nil, s.refused("sign in to "+s.origin, err)
		}
		var out session
		if err := json.Unmarshal(ans, &out); err != nil || !validToken(out.Token) {
			return nil, fmt.Errorf("sign in to %s: the answer is not a session of veche's API", s.origin)
		}
		return &out, nil
	}
	ses, err := post("/api/v1/sessions", map[string]string{"email": email, "password": password}, "")
	if err != nil {
		return err
	}
	if !ses.MFARequired {
		// A staff role gives nothing without two-step sign-in: end the
		// session rather than keep one that cannot act.
		s.call(ctx, http.MethodDelete, "/api/v1/sessions/current", nil, false, ses.Token)
		return fmt.Errorf("the account %s has no two-step sign-in, and a trustee's permissions need it: switch it on on your account page at %s, then sign in here again", email, s.origin)
	}
	code, err := ask("Two-step code (from your authenticator app, or a recovery code): ", true)
	if err != nil {
		return err
	}
	if ses, err = post("/api/v1/sessions/mfa", map[string]string{"code": strings.TrimSpace(code)}, ses.Token); err != nil {
		return err
	}
	s.token, s.tokenSrc = ses.Token, filepath.Join(*dir, trusteeTokenFile)
	var acc struct {
		Account struct {
			Email string `json:"email"`
		} `json:"account"`
	}
	if err := s.getJSON(ctx, "/api/v1/account", true, &acc); err != nil {
		return s.refused("read your account", err)
	}
	var el struct {
		Title string `json:"title"`
		State string `json:"state"`
		You   *struct {
			Trustee uint32 `json:"trustee"`
		} `json:"you"`
	}
	if err := s.getJSON(ctx, s.api, true, &el); err != nil {
		return s.refused(fmt.Sprintf("read election %d", s.id), err)
	}
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		return err
	}
	// writeFileAtomic's temporary file, renamed into place, is 0600.
	err = writeFileAtomic(s.tokenSrc, func(w io.Writer) error {
		_, err := fmt.Fprintf(w, "%s\n%s\n", ses.Token, s.origin)
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "signed in to %s as %s\n", s.origin, acc.Account.Email)
	if el.You != nil && el.You.Trustee != 0 {
		trusteeField(stdout, "trustee", fmt.Sprintf("%d of election %d, %q (%s)", el.You.Trustee, s.id, el.Title, el.State))
	} else {
		fmt.Fprintf(stderr, "warning: %s is not one of the trustees of election %d, %q: the steps will be refused; sign in with your trustee account\n",
			acc.Account.Email, s.id, el.Title)
	}
	trusteeField(stdout, "session", s.tokenSrc+" (readable by you only; never send it)")
	if !ses.ExpiresAt.IsZero() {
		trusteeField(stdout, "ends", ses.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC")+" at the latest, sooner after a pause; then sign in again")
	}
	fmt.Fprintf(stdout, "next: run the step the election officer asks for with --election %s --dir %s\n", s.page, shellQuote(*dir))
	return nil
}

// trusteeAsker asks a person for lines: on the terminal (echo off for
// secrets), or, with fromStdin, from standard input, one a line.
func trusteeAsker(ctx context.Context, fromStdin bool) func(prompt string, echo bool) (string, error) {
	if fromStdin {
		r := bufio.NewReader(io.LimitReader(stdin, 64<<10))
		return func(prompt string, echo bool) (string, error) {
			line, err := r.ReadString('\n')
			if err != nil && (!errors.Is(err, io.EOF) || line == "") {
				what := strings.TrimSuffix(strings.SplitN(prompt, " (", 2)[0], ": ")
				return "", fmt.Errorf("--stdin: no line for the %s: give the email address, password and two-step code one a line", strings.ToLower(what))
			}
			return strings.TrimRight(line, "\r\n"), nil
		}
	}
	noTerminal := errors.New("no terminal to ask for your email address and password: give --stdin and pipe them in, one a line (email address, password, two-step code)")
	return func(prompt string, echo bool) (string, error) {
		return trusteeReadTerminal(ctx, prompt, echo, noTerminal)
	}
}
