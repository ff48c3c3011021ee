package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"testing"

	"github.com/veche/veche/internal/app"
	"github.com/veche/veche/internal/identity"
)

func runCmd(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestAdminCreateUserMakesAnAccountThatCanSignIn(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := runCmd(t, "", "admin", "create-user", "--data", dir, "--email", "Admin@Example.org", "--role", "admin")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	m := regexp.MustCompile(`password \(shown once[^)]*\): (\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no generated password in output:\n%s", out)
	}
	in, err := app.Open(context.Background(), app.Config{DataDir: dir, Addr: "127.0.0.1:0"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	res, _, err := in.Identity.SignIn(context.Background(), "admin@example.org", m[1], identity.KindAPI, identity.ClientMeta{})
	if err != nil {
		t.Fatalf("sign in with the printed password: %v", err)
	}
	p, _, err := in.Identity.Authenticate(context.Background(), res.Token)
	if err != nil || !p.HasRole(identity.RoleAdmin) {
		t.Fatalf("principal %+v, %v", p, err)
	}
	cp, err := in.Log.Checkpoint(context.Background())
	if err != nil || !bytes.Contains(cp, []byte("\n2\n")) {
		t.Fatalf("checkpoint after create-user should cover 2 entries (account.created, role.granted):\n%s", cp)
	}
}

func TestAdminCreateUserErrors(t *testing.T) {
	dir := t.TempDir()
	if code, _, e := runCmd(t, "", "admin", "create-user", "--data", dir, "--email", "a@example.org"); code != 0 {
		t.Fatalf("first create: %d %s", code, e)
	}
	tests := []struct {
		name, stdin string
		args        []string
		code        int
		msg         string
	}{
		{"no subcommand", "", []string{"admin"}, 2, "create-user"},
		{"no email", "", []string{"admin", "create-user", "--data", dir}, 2, "--email is required"},
		{"unknown role", "", []string{"admin", "create-user", "--data", dir, "--email", "b@example.org", "--role", "king"}, 2, `unknown role "king"`},
		{"taken email", "", []string{"admin", "create-user", "--data", dir, "--email", "A@example.org"}, 2, "email: taken"},
		{"weak stdin password", "password\n", []string{"admin", "create-user", "--data", dir, "--email", "c@example.org", "--password-stdin"}, 2, "password_too_short"},
		{"unknown flag", "", []string{"admin", "create-user", "--nope"}, 2, "flag provided but not defined"},
		{"unknown command", "", []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCmd(t, tt.stdin, tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.msg) {
				t.Fatalf("exit %d, stderr %q; want exit %d containing %q", code, errOut, tt.code, tt.msg)
			}
		})
	}
	code, out, _ := runCmd(t, "a good long passphrase for c\n", "admin", "create-user", "--data", dir, "--email", "c@example.org", "--password-stdin")
	if code != 0 || strings.Contains(out, "shown once") {
		t.Fatalf("stdin password: exit %d, output %q", code, out)
	}
}

func TestHelpListsCommands(t *testing.T) {
	code, out, _ := runCmd(t, "", "help")
	for _, c := range []string{"serve", "admin", "verify-log"} {
		if code != 0 || !strings.Contains(out, c) {
			t.Errorf("help lacks %s:\n%s", c, out)
		}
	}
}

func TestAdminRotateKeysRewrapsEveryDataKey(t *testing.T) {
	dir := t.TempDir()
	if code, _, e := runCmd(t, "", "admin", "create-user", "--data", dir, "--email", "a@example.org"); code != 0 {
		t.Fatalf("create-user: %s", e)
	}
	code, out, errOut := runCmd(t, "", "admin", "rotate-keys", "--data", dir)
	if code != 0 {
		t.Fatalf("admin rotate-keys: exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "1") {
		t.Fatalf("output does not count the re-wrapped key:\n%s", out)
	}
	// The instance still opens and reads the address with the new version.
	in, err := app.Open(context.Background(), app.Config{DataDir: dir, Addr: "127.0.0.1:0"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if _, _, err := in.Identity.SignIn(context.Background(), "a@example.org", "x", identity.KindAPI, identity.ClientMeta{}); !errors.Is(err, identity.ErrBadCredentials) {
		t.Fatalf("sign-in lookup after rotation: %v", err)
	}
}
