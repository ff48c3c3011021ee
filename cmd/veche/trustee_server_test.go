package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	pqtotp "github.com/pquerna/otp/totp"

	"github.com/veche/veche/internal/app"
	"github.com/veche/veche/internal/election"
	"github.com/veche/veche/internal/identity"
	"github.com/veche/veche/internal/participation"
	"github.com/veche/veche/internal/voting"
	"github.com/veche/veche/internal/voting/dkg"
)

// trusteeServerEnv is a veche instance served over TLS with an election
// whose key ceremony the officer has started: three trustees (any two
// decrypt), each a staff account with TOTP on.
type trusteeServerEnv struct {
	in       *app.Instance
	srv      *httptest.Server
	el       *election.Service
	officer  int64
	voters   []int64
	id       int64
	emails   []string // by trustee index, from 1
	totp     []string // their TOTP secrets
	password string
}

const trusteeAccountPassword = "a long and unguessable password for a trustee"

func newTrusteeServerEnv(t *testing.T) *trusteeServerEnv {
	t.Helper()
	old := trusteeScryptWorkFactor
	trusteeScryptWorkFactor = 10
	t.Cleanup(func() { trusteeScryptWorkFactor = old })
	ctx := context.Background()
	in, err := app.Open(ctx, app.Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	e := &trusteeServerEnv{in: in, el: election.New(in.Participation), emails: []string{""}, totp: []string{""}, password: trusteeAccountPassword}
	e.srv = httptest.NewTLSServer(in.Web.Handler())
	t.Cleanup(e.srv.Close)
	client := trusteeHTTPClient
	trusteeHTTPClient = e.srv.Client()
	t.Cleanup(func() { trusteeHTTPClient = client })

	e.officer = e.account(t, "officer@example.org", identity.RoleElectionOfficer)
	var trustees []int64
	for i := 1; i <= 3; i++ {
		email := fmt.Sprintf("trustee%d@example.org", i)
		trustees = append(trustees, e.account(t, email, identity.RoleTrustee))
		e.emails = append(e.emails, email)
		e.totp = append(e.totp, e.enrolTOTP(t, email))
	}
	for i := range 3 {
		e.voters = append(e.voters, e.account(t, fmt.Sprintf("voter%d@example.org", i)))
	}
	now := time.Now()
	p, err := in.Participation.CreateProcess(ctx, e.officer, participation.ProcessInput{Title: "River park",
		Phases: []participation.PhaseInput{{Name: "Vote", Starts: now.Add(-time.Hour), Ends: now.Add(24 * time.Hour)}}})
	if err != nil {
		t.Fatal(err)
	}
	el, err := e.el.Create(ctx, e.officer, p.ID, election.Input{
		Title: "Referendum on the river park", Opens: now.Add(-time.Hour), Closes: now.Add(24 * time.Hour),
		Contests: []election.ContestInput{
			{Title: "Which park first?", Kind: voting.ChooseOne, Options: []string{"North", "South", "River"}},
			{Title: "Benches everywhere?", Kind: voting.YesNo, Min: 1, Options: []string{"Yes", "No"}},
		},
		Trustees: trustees, Threshold: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.id = el.ID
	if _, err := e.el.StartCeremony(ctx, e.officer, e.id); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *trusteeServerEnv) account(t *testing.T, email string, roles ...identity.Role) int64 {
	t.Helper()
	id, err := e.in.Identity.CreateAccount(context.Background(), email, e.password, roles)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// enrolTOTP switches TOTP on for the account, with a code of the step
// before this one, so that the current code is still unused for signin.
func (e *trusteeServerEnv) enrolTOTP(t *testing.T, email string) string {
	t.Helper()
	ctx := context.Background()
	res, _, err := e.in.Identity.SignIn(ctx, email, e.password, identity.KindAPI, identity.ClientMeta{})
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := e.in.Identity.Authenticate(ctx, res.Token)
	if err != nil {
		t.Fatal(err)
	}
	enr, err := e.in.Identity.BeginTOTP(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	code, err := pqtotp.GenerateCode(enr.Secret, time.Now().Add(-30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.in.Identity.ConfirmTOTP(ctx, p, code); err != nil {
		t.Fatal(err)
	}
	return enr.Secret
}

func (e *trusteeServerEnv) page() string { return fmt.Sprintf("%s/elections/%d", e.srv.URL, e.id) }

// signin signs trustee i in as they would, the password and the current
// code on standard input.
func (e *trusteeServerEnv) signin(t *testing.T, i int, dir string) string {
	t.Helper()
	code, err := pqtotp.GenerateCode(e.totp[i], time.Now())
	if err != nil {
		t.Fatal(err)
	}
	c, out, errOut := runCmd(t, e.emails[i]+"\n"+e.password+"\n"+code+"\n", "trustee", "signin", "--election", e.page(), "--dir", dir, "--stdin")
	t.Logf("veche trustee signin: exit %d\n%s%s", c, out, errOut)
	if c != 0 {
		t.Fatalf("signin of trustee %d: exit %d\n%s%s", i, c, out, errOut)
	}
	return out
}

// step runs a ceremony step with --election for the trustee of dir.
func (e *trusteeServerEnv) step(t *testing.T, step, dir string, extra ...string) (code int, out, errOut string) {
	t.Helper()
	args := append([]string{"trustee", step, "--election", e.page(), "--dir", dir, "--passphrase-stdin"}, extra...)
	code, out, errOut = runCmd(t, trusteePass+"\n", args...)
	t.Logf("veche %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	return code, out, errOut
}

func (e *trusteeServerEnv) mustStep(t *testing.T, step, dir string, extra ...string) string {
	t.Helper()
	code, out, errOut := e.step(t, step, dir, extra...)
	if code != 0 {
		t.Fatalf("trustee %s (%s): exit %d\n%s%s", step, dir, code, out, errOut)
	}
	return out
}

func (e *trusteeServerEnv) state(t *testing.T) *election.Election {
	t.Helper()
	el, err := e.el.Get(context.Background(), e.id)
	if err != nil {
		t.Fatal(err)
	}
	return el
}

// TestTrusteeCeremonyAndTallyThroughTheServer runs a whole election's key
// ceremony and decryption with 'veche trustee … --election' against a
// real server: sign-in with a two-step code, each step downloading the
// ceremony and uploading its messages, the server's refusals shown with
// its reason, re-runs that find their message already sent, the key
// fixed, and after the vote two trustees' decryptions publishing the
// result.
func TestTrusteeCeremonyAndTallyThroughTheServer(t *testing.T) {
	e := newTrusteeServerEnv(t)
	t.Setenv(trusteeTokenEnv, "")
	dirs := make([]string, 4)
	for i := 1; i <= 3; i++ {
		dirs[i] = filepath.Join(t.TempDir(), fmt.Sprintf("trustee-%d", i))
	}

	// Before signing in, a step says how to.
	if code, _, errOut := e.step(t, "init", dirs[1]); code != 1 || !strings.Contains(errOut, "not signed in to "+e.srv.URL+": run 'veche trustee signin --election "+e.page()) {
		t.Fatalf("init before signin: %d\n%s", code, errOut)
	}
	// A wrong code is refused with the server's reason, and nothing is kept.
	code, out, errOut := runCmd(t, e.emails[1]+"\n"+e.password+"\n000000\n", "trustee", "signin", "--election", e.page(), "--dir", dirs[1], "--stdin")
	if code != 1 || !strings.Contains(errOut, "invalid_code") {
		t.Fatalf("signin with a wrong code: %d\n%s%s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(dirs[1], trusteeTokenFile)); err == nil {
		t.Fatal("a failed signin kept a session")
	}
	for i := 1; i <= 3; i++ {
		out := e.signin(t, i, dirs[i])
		if !strings.Contains(out, "signed in to "+e.srv.URL+" as "+e.emails[i]) || !strings.Contains(out, fmt.Sprintf("%d of election %d", i, e.id)) ||
			!regexp.MustCompile(`ends: +\d{4}-\d\d-\d\d \d\d:\d\d UTC at the latest`).MatchString(out) {
			t.Fatalf("signin output:\n%s", out)
		}
		fi, err := os.Stat(filepath.Join(dirs[i], trusteeTokenFile))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("session file: %v %v; want mode 0600", fi, err)
		}
		if fi, err := os.Stat(dirs[i]); err != nil || fi.Mode().Perm() != 0o700 {
			t.Fatalf("secrets directory: %v %v; want mode 0700", fi, err)
		}
	}
	token := func(i int) string {
		b, err := os.ReadFile(filepath.Join(dirs[i], trusteeTokenFile))
		if err != nil {
			t.Fatal(err)
		}
		return strings.SplitN(string(b), "\n", 2)[0]
	}

	// init: the index is the server's; one given otherwise is refused.
	if code, _, errOut := e.step(t, "init", dirs[3], "--index", "2"); code != 2 || !strings.Contains(errOut, "the server has you as trustee 3") {
		t.Fatalf("init with another's index: %d\n%s", code, errOut)
	}
	fpRe := regexp.MustCompile(`fingerprint: ([0-9a-f ]{39})`)
	out = e.mustStep(t, "init", dirs[1], "--index", "1")
	fp := fpRe.FindStringSubmatch(out)
	if fp == nil || !strings.Contains(out, "downloaded the ceremony of election") || !strings.Contains(out, "sent commitments/trustee-1.json: accepted by "+e.srv.URL+" as your commitment") ||
		!strings.Contains(out, "veche trustee shares --election "+e.page()) {
		t.Fatalf("init output:\n%s", out)
	}
	// Shares before every commitment is in: not yet, and nothing made.
	if code, _, errOut := e.step(t, "shares", dirs[1]); code != 1 || !strings.Contains(errOut, "still waiting for the commitments of trustees 2, 3") {
		t.Fatalf("shares too early: %d\n%s", code, errOut)
	}
	// A second init after its upload sends the same commitment again: the
	// server has it; the fingerprint is the one printed first.
	out = e.mustStep(t, "init", dirs[1])
	if !strings.Contains(out, "your secrets were made before") || !strings.Contains(out, "commitments/trustee-1.json: already on the server, sent before (message_duplicate") ||
		!strings.Contains(out, "fingerprint: "+fp[1]) {
		t.Fatalf("init again:\n%s", out)
	}
	// The API address does as well as the page's.
	code, out, errOut = runCmd(t, trusteePass+"\n", "trustee", "init", "--election", fmt.Sprintf("%s/api/v1/elections/%d", e.srv.URL, e.id), "--dir", dirs[2], "--passphrase-stdin")
	if code != 0 || !strings.Contains(out, "trustee 2 of 3") || !strings.Contains(out, "accepted") {
		t.Fatalf("init by the API address: %d\n%s%s", code, out, errOut)
	}
	e.mustStep(t, "init", dirs[3])

	for i := 1; i <= 3; i++ {
		out := e.mustStep(t, "shares", dirs[i])
		if strings.Count(out, "accepted by "+e.srv.URL+" as your share") != 2 {
			t.Fatalf("shares of trustee %d:\n%s", i, out)
		}
	}
	// Another trustee's session: the server refuses, and says why.
	t.Setenv(trusteeTokenEnv, token(2))
	code, out, errOut = e.step(t, "shares", dirs[1])
	if code != 1 || !strings.Contains(errOut, "the server refused your message") || strings.Count(errOut, "message_not_yours") != 2 ||
		!strings.Contains(errOut, "you are trustee 2") {
		t.Fatalf("shares with another trustee's session: %d\n%s%s", code, out, errOut)
	}
	t.Setenv(trusteeTokenEnv, "")
	// The same step again, as after a network failure: done already.
	out = e.mustStep(t, "shares", dirs[1])
	if strings.Count(out, "already on the server, sent before (message_duplicate") != 2 {
		t.Fatalf("shares again:\n%s", out)
	}

	for i := 1; i <= 3; i++ {
		out := e.mustStep(t, "receive", dirs[i])
		if !strings.Contains(out, "all 2 shares sent to you match") || !strings.Contains(out, "as your complaint") {
			t.Fatalf("receive of trustee %d:\n%s", i, out)
		}
	}
	if out := e.mustStep(t, "answer", dirs[2]); !strings.Contains(out, "nothing to answer") || !strings.Contains(out, "nothing to send") {
		t.Fatalf("answer:\n%s", out)
	}
	keyRe := regexp.MustCompile(`joint public key: +([0-9a-f]{64})`)
	for i := 1; i <= 3; i++ {
		out := e.mustStep(t, "finish", dirs[i])
		k := keyRe.FindStringSubmatch(out)
		if k == nil || !strings.Contains(out, "as your result") || (i == 3) != strings.Contains(out, "the election's key is fixed") {
			t.Fatalf("finish of trustee %d:\n%s", i, out)
		}
		if i == 3 {
			el := e.state(t)
			if el.State != election.Credentials || el.JointKey == nil || fmt.Sprintf("%x", el.JointKey.Bytes()) != k[1] {
				t.Fatalf("after the ceremony: state %s, key %v; the trustees printed %s", el.State, el.JointKey, k[1])
			}
		}
	}
	// Finishing again once the ceremony is over: the server has the result.
	if out := e.mustStep(t, "finish", dirs[1]); !strings.Contains(out, "results/trustee-1.json: already on the server, sent before") {
		t.Fatalf("finish again:\n%s", out)
	}
	// Anyone can check the ceremony the server holds, signed in or not.
	observer := filepath.Join(t.TempDir(), "ceremony")
	code, out, errOut = runCmd(t, "", "trustee", "verify", "--election", e.page(), "--ceremony", observer)
	if code != 0 || !strings.Contains(out, "ceremony verified") || !regexp.MustCompile(`confirmed by: +1 2 3\n`).MatchString(out) {
		t.Fatalf("verify --election: %d\n%s%s", code, out, errOut)
	}
	if shares, _ := filepath.Glob(filepath.Join(observer, dkg.SharesDir, "*")); len(shares) != 0 {
		t.Errorf("an observer got shares: %v", shares)
	}

	// The vote: credentials, three ballots, the close and the tally.
	ctx := context.Background()
	el := e.state(t)
	list := election.CredentialList{Election: el.ManifestID}
	var creds []*voting.Credential
	for range e.voters {
		c, err := voting.NewCredential(el.ManifestID, nil)
		if err != nil {
			t.Fatal(err)
		}
		creds = append(creds, c)
		list.Credentials = append(list.Credentials, c.Public().String())
	}
	authority := e.account(t, "authority@example.org", identity.RoleCredentialAuthority)
	if _, err := e.el.AddCredentials(ctx, authority, e.id, list); err != nil {
		t.Fatal(err)
	}
	if _, err := e.el.PublishCredentials(ctx, authority, e.id, len(list.Credentials), election.CredentialsDigest(list.Credentials)); err != nil {
		t.Fatal(err)
	}
	if el, err := e.el.Open(ctx, e.officer, e.id); err != nil || el.State != election.Open {
		t.Fatalf("open: %v", err)
	}
	ve, err := e.state(t).Voting()
	if err != nil {
		t.Fatal(err)
	}
	choices := []voting.Choices{{"c1": {"o1"}, "c2": {"o1"}}, {"c1": {"o3"}, "c2": {"o1"}}, {"c1": {"o3"}, "c2": {"o2"}}}
	for v, c := range choices {
		pb, err := ve.Encrypt(creds[v], c, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, err := pb.Cast()
		if err != nil {
			t.Fatal(err)
		}
		j, err := b.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.el.Cast(ctx, e.voters[v], e.id, j); err != nil {
			t.Fatalf("voter %d: %v", v, err)
		}
	}
	if _, err := e.el.Close(ctx, e.officer, e.id); err != nil {
		t.Fatal(err)
	}
	if _, err := e.el.Tally(ctx, e.officer, e.id); err != nil {
		t.Fatal(err)
	}

	// Trustees 1 and 3 decrypt; the second publishes the result.
	for _, i := range []int{1, 3} {
		code, out, errOut := e.step(t, "decrypt", dirs[i])
		if code != 0 || !strings.Contains(out, "downloaded the encrypted tally") || !strings.Contains(out, "of the tally of 3 ballots") ||
			!strings.Contains(out, "sent: accepted by "+e.srv.URL) || (i == 3) != strings.Contains(out, "the result is published: "+e.page()+"/results") {
			t.Fatalf("decrypt of trustee %d: %d\n%s%s", i, code, out, errOut)
		}
		if _, err := os.Stat(filepath.Join(dirs[i], fmt.Sprintf("decryption-trustee-%d.json", i))); err != nil {
			t.Errorf("no copy of the partial decryption: %v", err)
		}
	}
	res := e.state(t).Result()
	if res == nil || res.Ballots != 3 || fmt.Sprint(res.Trustees) != "[1 3]" {
		t.Fatalf("result: %+v", res)
	}
	want := map[string]uint64{"c1/o1": 1, "c1/o2": 0, "c1/o3": 2, "c2/o1": 2, "c2/o2": 1}
	for _, c := range res.Contests {
		for _, o := range c.Options {
			if o.Votes != want[c.ID+"/"+o.ID] {
				t.Errorf("%s/%s: %d votes, want %d", c.ID, o.ID, o.Votes, want[c.ID+"/"+o.ID])
			}
		}
	}
	// Decrypting again after the publication finds it done.
	if out := e.mustStep(t, "decrypt", dirs[1]); !strings.Contains(out, "the server has your partial decryption, and the result is published") {
		t.Fatalf("decrypt again:\n%s", out)
	}
	// Trustee 2 comes too late: the server's refusal, with its reason.
	if code, _, errOut := e.step(t, "decrypt", dirs[2]); code != 1 || !strings.Contains(errOut, "published already, from the partial decryptions of trustees 1, 3: yours is no longer needed") {
		t.Fatalf("decrypt after the publication: %d\n%s", code, errOut)
	}
}

// TestTrusteeSigninRefusesAnAccountWithoutTwoStepSignIn: a trustee's
// permissions need TOTP, so a session without it is not kept.
func TestTrusteeSigninRefusesAnAccountWithoutTwoStepSignIn(t *testing.T) {
	e := newTrusteeServerEnv(t)
	e.account(t, "new-trustee@example.org", identity.RoleTrustee)
	dir := filepath.Join(t.TempDir(), "s")
	code, out, errOut := runCmd(t, "new-trustee@example.org\n"+e.password+"\n", "trustee", "signin", "--election", e.page(), "--dir", dir, "--stdin")
	if code != 1 || !strings.Contains(errOut, "has no two-step sign-in") {
		t.Fatalf("signin without TOTP: %d\n%s%s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, trusteeTokenFile)); err == nil {
		t.Fatal("a session was kept")
	}
	code, _, errOut = runCmd(t, "trustee1@example.org\nnot the password\n", "trustee", "signin", "--election", e.page(), "--dir", dir, "--stdin")
	if code != 1 || !strings.Contains(errOut, "bad_credentials") {
		t.Fatalf("signin with a wrong password: %d\n%s", code, errOut)
	}
	// A session of one server is not sent to another.
	tok := strings.Repeat("A", 43)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, trusteeTokenFile), []byte(tok+"\nhttps://elsewhere.example\n"), 0o600)
	t.Setenv(trusteeTokenEnv, "")
	code, _, errOut = runCmd(t, trusteePass+"\n", "trustee", "shares", "--election", e.page(), "--dir", dir, "--passphrase-stdin")
	if code != 1 || !strings.Contains(errOut, "is a sign-in to https://elsewhere.example, not to "+e.srv.URL) {
		t.Fatalf("a session of another server: %d\n%s", code, errOut)
	}
	// A session that has ended is named as such.
	os.WriteFile(filepath.Join(dir, trusteeTokenFile), []byte(tok+"\n"+e.srv.URL+"\n"), 0o600)
	code, _, errOut = runCmd(t, trusteePass+"\n", "trustee", "shares", "--election", e.page(), "--dir", dir, "--passphrase-stdin")
	if code != 1 || !strings.Contains(errOut, "your session at "+e.srv.URL+" has ended") {
		t.Fatalf("an ended session: %d\n%s", code, errOut)
	}
}

// fakeCeremonyServer answers GET /api/v1/elections/1/ceremony with files.
func fakeCeremonyServer(t *testing.T, files map[string]json.RawMessage) *httptest.Server {
	t.Helper()
	cer := dkg.Ceremony{ElectionID: "election-1-00000000", Trustees: 3, Threshold: 2}
	cj, _ := json.Marshal(cer)
	all := map[string]json.RawMessage{dkg.CeremonyFile: cj}
	for k, v := range files {
		all[k] = v
	}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/elections/1/ceremony" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"state": "ceremony", "trustees": 3, "you": 1, "files": all})
	}))
	t.Cleanup(srv.Close)
	client := trusteeHTTPClient
	trusteeHTTPClient = srv.Client()
	t.Cleanup(func() { trusteeHTTPClient = client })
	return srv
}

// TestTrusteeRefusesAMaliciousCeremonyDownload: file names from the
// server that are not dkg's layout are refused, and then nothing at all
// is written, inside the directory or out.
func TestTrusteeRefusesAMaliciousCeremonyDownload(t *testing.T) {
	t.Setenv(trusteeTokenEnv, strings.Repeat("A", 43))
	msg := json.RawMessage(`{"type":"dkg-commitment"}`)
	for _, tc := range []struct {
		name  string
		files map[string]json.RawMessage
		want  string
	}{
		{"parent directories", map[string]json.RawMessage{"../../x": msg}, `"../../x"`},
		{"absolute", map[string]json.RawMessage{"/etc/x": msg}, `"/etc/x"`},
		{"parent inside a phase", map[string]json.RawMessage{"shares/../../x.json": msg}, `"shares/../../x.json"`},
		{"deeper", map[string]json.RawMessage{"commitments/a/b.json": msg}, `"commitments/a/b.json"`},
		{"backslashes", map[string]json.RawMessage{`commitments\..\..\x.json`: msg}, "commitments"},
		{"hidden", map[string]json.RawMessage{"commitments/.x.json": msg}, `"commitments/.x.json"`},
		{"not json", map[string]json.RawMessage{"commitments/x.sh": msg}, `"commitments/x.sh"`},
		{"another directory", map[string]json.RawMessage{"keys/x.json": msg}, `"keys/x.json"`},
		{"nul", map[string]json.RawMessage{"results/x\x00.json": msg}, "results"},
		{"one file on a case-insensitive disk", map[string]json.RawMessage{"shares/A.json": msg, "shares/a.json": msg}, "one file on some disks"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := fakeCeremonyServer(t, tc.files)
			top := t.TempDir()
			dir := filepath.Join(top, "a", "b", "secrets")
			code, out, errOut := runCmd(t, trusteePass+"\n", "trustee", "init", "--election", srv.URL+"/elections/1", "--dir", dir, "--passphrase-stdin")
			if code != 1 || !strings.Contains(errOut, "refusing the whole download (nothing was written)") || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d\n%s%s", code, out, errOut)
			}
			if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
				t.Errorf("secrets directory: %v %v; want mode 0700", fi, err)
			}
			// Nothing but the (empty, private) secrets directory.
			filepath.WalkDir(top, func(p string, d fs.DirEntry, err error) error {
				if err == nil && p != top && !(d.IsDir() && (p == dir || strings.HasPrefix(dir, p+string(filepath.Separator)))) {
					t.Errorf("written: %s", p)
				}
				return nil
			})
		})
	}
	// The same for verify, which downloads without a session.
	srv := fakeCeremonyServer(t, map[string]json.RawMessage{"../x.json": msg})
	cdir := filepath.Join(t.TempDir(), "c")
	if code, _, errOut := runCmd(t, "", "trustee", "verify", "--election", srv.URL+"/elections/1", "--ceremony", cdir); code != 1 || !strings.Contains(errOut, `"../x.json"`) {
		t.Fatalf("verify of a malicious download: %d\n%s", code, errOut)
	}
	if _, err := os.Stat(cdir); err == nil {
		t.Error("the ceremony directory was made")
	}
}

func TestTrusteeRefusesAnOversizedAnswer(t *testing.T) {
	t.Setenv(trusteeTokenEnv, "")
	old := trusteeMaxAnswer
	trusteeMaxAnswer = 1 << 10
	t.Cleanup(func() { trusteeMaxAnswer = old })
	srv := fakeCeremonyServer(t, map[string]json.RawMessage{"commitments/trustee-1.json": json.RawMessage(`"` + strings.Repeat("x", 2<<10) + `"`)})
	cdir := filepath.Join(t.TempDir(), "c")
	code, _, errOut := runCmd(t, "", "trustee", "verify", "--election", srv.URL+"/elections/1", "--ceremony", cdir)
	if code != 1 || !strings.Contains(errOut, "the answer is over 1024 bytes") {
		t.Fatalf("an oversized answer: %d\n%s", code, errOut)
	}
}

func TestTrusteeElectionURLIsNormalisedOrRefused(t *testing.T) {
	for _, tc := range []struct {
		in, page, api, err string
	}{
		{in: "https://veche.example/elections/3", page: "https://veche.example/elections/3", api: "https://veche.example/api/v1/elections/3"},
		{in: "https://Veche.Example:8443/api/v1/elections/12/", page: "https://veche.example:8443/elections/12", api: "https://veche.example:8443/api/v1/elections/12"},
		{in: "http://127.0.0.1:8080/elections/1", page: "http://127.0.0.1:8080/elections/1", api: "http://127.0.0.1:8080/api/v1/elections/1"},
		{in: "http://localhost/elections/1", page: "http://localhost/elections/1", api: "http://localhost/api/v1/elections/1"},
		{in: "http://veche.example/elections/3", err: "plain http:// would send your session in clear"},
		{in: "https://veche.example/elections/3/ceremony", err: "does not end with the election's number"},
		{in: "https://veche.example/elections/03", err: "does not end with the election's number"},
		{in: "https://veche.example/elections/0", err: "does not end with the election's number"},
		{in: "https://veche.example/elections/-1", err: "does not end with the election's number"},
		{in: "https://veche.example/processes/3", err: "not the address of an election"},
		{in: "https://veche.example/x/elections/3", err: "not the address of an election"},
		{in: "https://veche.example/elections/3?lang=be", err: "query"},
		{in: "https://veche.example/elections/3#ceremony", err: "fragment"},
		{in: "https://user:pw@veche.example/elections/3", err: "user name or password"},
		{in: "ftp://veche.example/elections/3", err: "not an https:// address"},
		{in: "veche.example/elections/3", err: "not an https:// address"},
		{in: "https:///elections/3", err: "no host"},
		{in: "https://veche.example/elections%2F3", err: "not the address of an election"},
	} {
		s, err := parseElectionURL(tc.in)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), trusteeElectionURLForm) {
				t.Errorf("%q: %v, want an error saying %q and what was expected", tc.in, err, tc.err)
			}
		case err != nil:
			t.Errorf("%q: %v", tc.in, err)
		case s.page != tc.page || s.api != tc.api:
			t.Errorf("%q: page %s, api %s; want %s, %s", tc.in, s.page, s.api, tc.page, tc.api)
		}
	}
}

func TestTrusteeServerFlagsRefuseWhatDoesNotGoTogether(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"trustee", "init", "--election", "https://veche.example/elections/3"}, "--dir is required"},
		{[]string{"trustee", "init", "--election", "https://veche.example/elections/3", "--dir", "d", "--out", "-"}, "--out and --election do not go together"},
		{[]string{"trustee", "decrypt", "--election", "https://veche.example/elections/3", "--dir", "d", "--tally", "t.json"}, "leave out --tally and --manifest"},
		{[]string{"trustee", "signin", "--election", "https://veche.example/elections/3"}, "--election and --dir are required"},
		{[]string{"trustee", "verify"}, "--ceremony is required (or --election)"},
		{[]string{"trustee", "shares", "--election", "https://veche.example/p/3", "--dir", "d"}, trusteeElectionURLForm},
	} {
		if code, _, errOut := runCmd(t, "", tc.args...); code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d\n%s\nwant %q", tc.args, code, errOut, tc.want)
		}
	}
}

// FuzzCeremonyPath: a name the check lets through stays inside the
// ceremony directory, in one of dkg's layout's places.
func FuzzCeremonyPath(f *testing.F) {
	for _, s := range []string{"ceremony.json", "commitments/trustee-1.json", "shares/from-1-to-2.json", "../../x", "/etc/x",
		"shares/../x.json", "results/..json", "answers/a..b.json", `complaints\x.json`, "commitments/trustee-1.json/x", "./ceremony.json",
		"commitments//x.json", "commitments/CON.json", "shares/x.json\x00", "shares/.json", "shares/é.json"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if checkCeremonyPath(name) != nil {
			return
		}
		if name == dkg.CeremonyFile {
			return
		}
		dir, file, ok := strings.Cut(name, "/")
		if !ok || !slices.Contains(trusteeCeremonyDirs, dir) || strings.Contains(file, "/") || !strings.HasSuffix(file, ".json") || strings.HasPrefix(file, ".") {
			t.Fatalf("%q: accepted outside the layout", name)
		}
		if !filepath.IsLocal(filepath.FromSlash(name)) || path.Clean(name) != name || strings.ContainsAny(name, "\\\x00:") {
			t.Fatalf("%q: accepted, and not a plain local name", name)
		}
		rel, err := filepath.Rel("/ceremony", filepath.Join("/ceremony", filepath.FromSlash(name)))
		if err != nil || strings.HasPrefix(rel, "..") || filepath.IsAbs(rel) {
			t.Fatalf("%q: leaves the directory (%s)", name, rel)
		}
	})
}
