package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/veche/veche/internal/app"
	"github.com/veche/veche/internal/identity"
	"github.com/veche/veche/internal/validate"
)

func init() {
	register(command{Name: "admin", Summary: "administer an instance: 'admin create-user --email E --role admin', 'admin rotate-keys'", Run: runAdmin})
}

func runAdmin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "rotate-keys" {
		return runRotateKeys(ctx, args[1:], stdout, stderr)
	}
	if len(args) == 0 || args[0] != "create-user" {
		return fmt.Errorf("%w: veche admin create-user --email E [--role R] [--password-stdin] | veche admin rotate-keys [flags]", errUsage)
	}
	var cfg app.Config
	fs := newFlagSet("admin create-user", stderr)
	cfg.BindFlags(fs)
	email := fs.String("email", "", "email address of the new account (required)")
	roleList := fs.String("role", "", "comma-separated roles to grant, e.g. admin or official,moderator")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input instead of generating one")
	if err := parseFlags(fs, args[1:], app.ApplyEnv); err != nil {
		return err
	}
	if *email == "" {
		return fmt.Errorf("%w: --email is required", errUsage)
	}
	var roles []identity.Role
	for _, r := range strings.Split(*roleList, ",") {
		if r = strings.TrimSpace(r); r == "" {
			continue
		}
		role, ok := identity.ParseRole(r)
		if !ok {
			return fmt.Errorf("%w: unknown role %q (roles: %v)", errUsage, r, identity.Roles)
		}
		roles = append(roles, role)
	}
	pw, generated := "", false
	if *fromStdin {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read password: %w", err)
		}
		pw = strings.TrimRight(line, "\r\n")
	} else {
		pw, generated = generatePassword(), true
	}
	in, err := openQuiet(ctx, cfg)
	if err != nil {
		return err
	}
	defer in.Close()
	id, err := in.Identity.CreateAccount(ctx, *email, pw, roles)
	var v validate.Errors
	if errors.As(err, &v) {
		return fmt.Errorf("%w: %v", errUsage, v)
	}
	if err != nil {
		return err
	}
	// Sequence the audit entry now, so the log shows the account at once
	// even if no server is running.
	if _, err := in.Log.Sequence(ctx); err != nil {
		return fmt.Errorf("account created, but the audit log could not be sequenced yet: %w", err)
	}
	fmt.Fprintf(stdout, "created account %d for %s with roles %v\n", id, *email, append([]identity.Role{identity.RoleCitizen}, roles...))
	if generated {
		fmt.Fprintf(stdout, "password (shown once; change it after signing in): %s\n", pw)
	}
	if len(roles) > 0 {
		fmt.Fprintln(stdout, "staff roles take effect after the account turns on two-step sign-in at /account/mfa")
	}
	return nil
}

// generatePassword returns a random password of 26 base32 characters
// (130 bits) from crypto/rand.Text, in groups so it can be typed once and
// then changed.
func generatePassword() string {
	t := strings.ToLower(rand.Text())
	var b strings.Builder
	for i := 0; i < len(t); i += 5 {
		if i > 0 {
			b.WriteByte('-')
		}
		b.WriteString(t[i:min(i+5, len(t))])
	}
	return b.String()
}
