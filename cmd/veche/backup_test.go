package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/veche/veche/internal/app"
	"github.com/veche/veche/internal/identity"
	"github.com/veche/veche/internal/store/storetest"
)

// newInstance makes a data directory with one account and returns it with
// the account's password.
func newInstance(t *testing.T) (dir, password string) {
	t.Helper()
	dir = t.TempDir()
	code, out, errOut := runCmd(t, "", "admin", "create-user", "--data", dir, "--email", "admin@example.org", "--role", "admin")
	if code != 0 {
		t.Fatalf("create-user: %d %s", code, errOut)
	}
	m := regexp.MustCompile(`password \(shown once[^)]*\): (\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no password in %q", out)
	}
	return dir, m[1]
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func signIn(t *testing.T, dir, db, password string) {
	t.Helper()
	in, err := app.Open(context.Background(), app.Config{DataDir: dir, DB: db, Addr: "127.0.0.1:0"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("restored instance does not start: %v", err)
	}
	defer in.Close()
	if _, _, err := in.Identity.SignIn(context.Background(), "admin@example.org", password, identity.KindAPI, identity.ClientMeta{}); err != nil {
		t.Fatalf("sign in on the restored instance: %v", err)
	}
}

func TestBackupAndRestoreCommandsWithAPassphrase(t *testing.T) {
	dir, password := newInstance(t)
	pass := writeFile(t, "pass", "correct horse battery staple\n")
	file := filepath.Join(t.TempDir(), "veche.backup.age")

	code, out, errOut := runCmd(t, "", "backup", "--data", dir, "--out", file, "--passphrase-file", pass)
	if code != 0 || !strings.Contains(out, "backup written: "+file) || !strings.Contains(out, "excluded: leases") ||
		!strings.Contains(out, "not included: the instance's keys directory") {
		t.Fatalf("backup: %d\n%s%s", code, out, errOut)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v, %v; want mode 0600", fi, err)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(file), ".*tmp*")); len(leftovers) > 0 {
		t.Fatalf("temporary files left: %v", leftovers)
	}

	code, out, errOut = runCmd(t, "", "restore", "--check", "--in", file, "--passphrase-file", pass)
	if code != 0 || !strings.Contains(out, "backup verified") {
		t.Fatalf("restore --check: %d\n%s%s", code, out, errOut)
	}

	newDir := filepath.Join(t.TempDir(), "restored")
	code, out, errOut = runCmd(t, "", "restore", "--in", file, "--data", newDir, "--passphrase-file", pass)
	if code != 0 || !strings.Contains(out, "backup restored into") || !strings.Contains(out, "copy the instance's keys directory") {
		t.Fatalf("restore: %d\n%s%s", code, out, errOut)
	}
	if entries, _ := os.ReadDir(newDir); len(entries) != 1 || entries[0].Name() != "veche.db" {
		t.Fatalf("restored data directory holds %v, want only veche.db", entries)
	}

	code, _, errOut = runCmd(t, "", "restore", "--in", file, "--data", newDir, "--passphrase-file", pass)
	if code != 1 || !strings.Contains(errOut, "exists: restore into a fresh data directory, or give --force") {
		t.Fatalf("restore over a database: %d %s", code, errOut)
	}
	code, _, errOut = runCmd(t, "", "restore", "--in", file, "--data", newDir, "--passphrase-file", pass, "--force")
	if code != 0 {
		t.Fatalf("restore --force: %d %s", code, errOut)
	}

	if err := os.CopyFS(filepath.Join(newDir, "keys"), os.DirFS(filepath.Join(dir, "keys"))); err != nil {
		t.Fatal(err)
	}
	signIn(t, newDir, "", password)
}

func TestBackupAndRestoreCommandsWithKeys(t *testing.T) {
	dir, password := newInstance(t)
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	idFile := writeFile(t, "backup.key", "# veche backups\n"+id.String()+"\n")
	out := t.TempDir()
	data, keys := filepath.Join(out, "data.age"), filepath.Join(out, "keys.age")
	if code, o, e := runCmd(t, "", "backup", "--data", dir, "--out", data, "--recipient", id.Recipient().String()); code != 0 {
		t.Fatalf("backup: %d %s%s", code, o, e)
	}
	if code, o, e := runCmd(t, "", "backup", "keys", "--data", dir, "--out", keys, "--recipient", id.Recipient().String()); code != 0 || !strings.Contains(o, "key backup written") {
		t.Fatalf("backup keys: %d %s%s", code, o, e)
	}

	newDir := filepath.Join(t.TempDir(), "restored")
	if code, o, e := runCmd(t, "", "restore", "keys", "--in", keys, "--data", newDir, "--identity", idFile); code != 1 || !strings.Contains(e, "restore the data backup first") {
		t.Fatalf("restore keys before the data: %d %s%s", code, o, e)
	}
	if code, o, e := runCmd(t, "", "restore", "--in", data, "--data", newDir, "--identity", idFile); code != 0 {
		t.Fatalf("restore: %d %s%s", code, o, e)
	}
	if code, o, e := runCmd(t, "", "restore", "keys", "--in", keys, "--data", newDir, "--identity", idFile); code != 0 || !strings.Contains(o, "key backup restored") {
		t.Fatalf("restore keys: %d %s%s", code, o, e)
	}
	if code, _, e := runCmd(t, "", "restore", "keys", "--in", data, "--data", newDir, "--identity", idFile); code != 1 || !strings.Contains(e, "this is a data backup") {
		t.Fatalf("restore keys from a data backup: %d %s", code, e)
	}
	if err := os.CopyFS(filepath.Join(newDir, "keys"), os.DirFS(filepath.Join(dir, "keys"))); err != nil {
		t.Fatal(err)
	}
	signIn(t, newDir, "", password)
}

func TestRestoreCommandIntoPostgres(t *testing.T) {
	url := storetest.PostgresURL(t)
	dir, password := newInstance(t)
	pass := writeFile(t, "pass", "correct horse battery staple")
	file := filepath.Join(t.TempDir(), "b.age")
	if code, o, e := runCmd(t, "", "backup", "--data", dir, "--out", file, "--passphrase-file", pass); code != 0 {
		t.Fatalf("backup: %d %s%s", code, o, e)
	}
	newDir := t.TempDir()
	if code, o, e := runCmd(t, "", "restore", "--in", file, "--data", newDir, "--db", url, "--passphrase-file", pass); code != 0 || !strings.Contains(o, "PostgreSQL") {
		t.Fatalf("restore into PostgreSQL: %d %s%s", code, o, e)
	}
	if code, _, e := runCmd(t, "", "restore", "--in", file, "--data", newDir, "--db", url, "--passphrase-file", pass); code != 1 || !strings.Contains(e, "already holds data") {
		t.Fatalf("second restore into the same database: %d %s", code, e)
	}
	if err := os.CopyFS(filepath.Join(newDir, "keys"), os.DirFS(filepath.Join(dir, "keys"))); err != nil {
		t.Fatal(err)
	}
	signIn(t, newDir, url, password)
}

func TestBackupCommandErrors(t *testing.T) {
	dir, _ := newInstance(t)
	pass := writeFile(t, "pass", "correct horse battery staple\n")
	wrong := writeFile(t, "wrong", "not the passphrase\n")
	empty := writeFile(t, "empty", "\n")
	junk := writeFile(t, "junk", "this is not a backup at all")
	file := filepath.Join(t.TempDir(), "b.age")
	if code, _, e := runCmd(t, "", "backup", "--data", dir, "--out", file, "--passphrase-file", pass); code != 0 {
		t.Fatalf("backup: %s", e)
	}
	id, _ := age.GenerateX25519Identity()
	idFile := writeFile(t, "id", id.String()+"\n")
	fresh := t.TempDir()
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no --out", []string{"backup", "--data", dir, "--passphrase-file", pass}, 2, "--out is required"},
		{"no key", []string{"backup", "--data", dir, "--out", file}, 2, "give --passphrase-file or at least one --recipient"},
		{"passphrase and recipient", []string{"backup", "--data", dir, "--out", file, "--passphrase-file", pass, "--recipient", id.Recipient().String()}, 2, "not both"},
		{"bad recipient", []string{"backup", "--data", dir, "--out", file, "--recipient", "age1nope"}, 2, "--recipient"},
		{"empty passphrase", []string{"backup", "--data", dir, "--out", file, "--passphrase-file", empty}, 1, "first line is empty"},
		{"no database", []string{"backup", "--data", t.TempDir(), "--out", file, "--passphrase-file", pass}, 1, "no database at"},
		{"restore without --in", []string{"restore", "--data", fresh, "--passphrase-file", pass}, 2, "--in is required"},
		{"restore without --data", []string{"restore", "--in", file, "--passphrase-file", pass}, 2, "--data is required"},
		{"restore with a wrong passphrase", []string{"restore", "--in", file, "--data", fresh, "--passphrase-file", wrong}, 1, "wrong passphrase or identity"},
		{"restore with a wrong identity", []string{"restore", "--in", file, "--data", fresh, "--identity", idFile}, 1, "wrong passphrase or identity"},
		{"restore a file that is not a backup", []string{"restore", "--in", junk, "--data", fresh, "--passphrase-file", pass}, 1, "not a veche backup"},
		{"restore into a SQLite URL", []string{"restore", "--in", file, "--data", fresh, "--db", "/tmp/x.db", "--passphrase-file", pass}, 2, "postgres:// URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCmd(t, "", tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.msg) {
				t.Fatalf("exit %d, stderr %q; want exit %d containing %q", code, errOut, tt.code, tt.msg)
			}
		})
	}
	if entries, _ := os.ReadDir(fresh); len(entries) != 0 {
		t.Fatalf("failed restores left %v in the data directory", entries)
	}
	notYet := filepath.Join(t.TempDir(), "new")
	if code, _, _ := runCmd(t, "", "restore", "--in", junk, "--data", notYet, "--passphrase-file", pass); code != 1 {
		t.Fatalf("restore of junk into a new directory: exit %d", code)
	}
	if _, err := os.Stat(notYet); !os.IsNotExist(err) {
		t.Fatalf("a failed restore left the data directory it created: %v", err)
	}
}

// Open-data releases made after a data backup still count once it is
// restored with a later key backup; restored alone, or with an older key
// backup, the privacy budgets stay on hold until the operator confirms.
func TestRestoreCommandsKeepThePrivacyBudgetSpent(t *testing.T) {
	dir, _ := newInstance(t)
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	idFile := writeFile(t, "backup.key", id.String()+"\n")
	files := t.TempDir()
	run := func(want int, args ...string) (string, string) {
		t.Helper()
		code, o, e := runCmd(t, "", args...)
		if code != want {
			t.Fatalf("veche %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, want, o, e)
		}
		return o, e
	}
	export := func(want int, data, eps string) (string, string) {
		t.Helper()
		return run(want, "export", "open-data", "--data", data, "--out", filepath.Join(t.TempDir(), "o"), "--dataset", "accounts-by-month", "--epsilon", eps)
	}
	keysBefore, data, keysAfter := filepath.Join(files, "keys-1.age"), filepath.Join(files, "data.age"), filepath.Join(files, "keys-2.age")
	if o, _ := export(0, dir, "2"); !strings.Contains(o, "make a key backup now") {
		t.Fatalf("export does not remind of the key backup:\n%s", o)
	}
	run(0, "backup", "keys", "--data", dir, "--out", keysBefore, "--recipient", id.Recipient().String())
	run(0, "backup", "--data", dir, "--out", data, "--recipient", id.Recipient().String())
	export(0, dir, "1")
	if o, _ := run(0, "backup", "keys", "--data", dir, "--out", keysAfter, "--recipient", id.Recipient().String()); !strings.Contains(o, "privacy-budget ledger") {
		t.Fatalf("backup keys does not say it holds the ledger:\n%s", o)
	}

	tests := []struct {
		name    string
		keys    [][]string // each: extra arguments of one 'restore keys'
		held    string     // in stderr of the last step, "" if not held
		lifted  string     // in stdout of the last step
		eps     string     // ε a release then asks for
		refused string     // in the export's stderr, "" if it succeeds
	}{
		{name: "with the later key backup", keys: [][]string{{"--in", keysAfter}},
			lifted: "spent ε=3 (δ=0) of ε=4", eps: "2", refused: "only ε=1 δ=0.000001 remains"},
		{name: "alone", held: "privacy budgets are on hold", eps: "1/2", refused: "privacy budgets are on hold"},
		{name: "with the earlier key backup", keys: [][]string{{"--in", keysBefore}},
			held: "no key backup applied so far was made after it", eps: "1/2", refused: "privacy budgets are on hold"},
		{name: "with the earlier key backup, confirmed", keys: [][]string{{"--in", keysBefore}, {"--in", keysBefore, "--dp-ledger-complete"}},
			lifted: "operator: 'veche restore keys --dp-ledger-complete'", eps: "2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			restored := filepath.Join(t.TempDir(), "restored")
			o, e := run(0, "restore", "--in", data, "--data", restored, "--identity", idFile)
			if !strings.Contains(e, "privacy budgets are on hold") || !strings.Contains(e, "'veche restore keys'") {
				t.Fatalf("restore does not say the budgets are on hold:\n%s%s", o, e)
			}
			if err := os.CopyFS(filepath.Join(restored, "keys"), os.DirFS(filepath.Join(dir, "keys"))); err != nil {
				t.Fatal(err)
			}
			for _, k := range tt.keys {
				o, e = run(0, append([]string{"restore", "keys", "--data", restored, "--identity", idFile}, k...)...)
			}
			if tt.held != "" && !strings.Contains(e, tt.held) {
				t.Fatalf("stderr lacks %q:\n%s", tt.held, e)
			}
			if tt.lifted != "" && !strings.Contains(o, tt.lifted) {
				t.Fatalf("stdout lacks %q:\n%s", tt.lifted, o)
			}
			if tt.refused == "" {
				export(0, restored, tt.eps)
				return
			}
			if _, e := export(1, restored, tt.eps); !strings.Contains(e, tt.refused) || !strings.Contains(e, "nothing was written") {
				t.Fatalf("export after the restore: %s; want %q", e, tt.refused)
			}
		})
	}
}
