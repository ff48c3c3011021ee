package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/veche/veche/internal/privacy/fieldcrypt"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/store/storetest"
)

// rotateKeysTarget is an instance for rotate-keys: a data directory and,
// for PostgreSQL, a database URL.
type rotateKeysTarget struct {
	dir, dsn string
	args     []string
}

func eachRotateTarget(t *testing.T, fn func(t *testing.T, tg rotateKeysTarget)) {
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		fn(t, rotateKeysTarget{dir: dir, dsn: filepath.Join(dir, "veche.db"), args: []string{"--data", dir}})
	})
	t.Run("postgres", func(t *testing.T) {
		dir, url := t.TempDir(), storetest.PostgresURL(t)
		fn(t, rotateKeysTarget{dir: dir, dsn: url, args: []string{"--data", dir, "--db", url}})
	})
}

func TestRotateKeysRewrapsWhileServerWritesAndRetires(t *testing.T) {
	eachRotateTarget(t, func(t *testing.T, tg rotateKeysTarget) {
		ctx := context.Background()
		// The "server": its own database handle and keyring on the instance.
		db, err := store.Open(ctx, tg.dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		kr, err := fieldcrypt.OpenKeyring(ctx, "local", tg.dir)
		if err != nil {
			t.Fatal(err)
		}
		srv := fieldcrypt.New(db, kr, nil, fieldcrypt.Options{})
		sealOne := func(subject, row, value string) ([]byte, error) {
			var ct []byte
			err := db.InTx(ctx, func(tx *store.Tx) error {
				var err error
				ct, err = srv.Seal(ctx, tx, subject, fieldcrypt.FieldRef{Table: "people", Column: "email", Row: row}, []byte(value))
				return err
			})
			return ct, err
		}
		type sealed struct {
			subject, row, value string
			ct                  []byte
		}
		var (
			mu  sync.Mutex
			all []sealed
		)
		for i := range 40 {
			sub := fmt.Sprintf("account:%d", i)
			ct, err := sealOne(sub, "1", "v"+sub)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, sealed{sub, "1", "v" + sub, ct})
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		errs := make(chan error, 1)
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				sub, row := fmt.Sprintf("account:%d", i%60), fmt.Sprint(i+2)
				ct, err := sealOne(sub, row, "w"+row)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				all = append(all, sealed{sub, row, "w" + row, ct})
				mu.Unlock()
			}
		})

		code, out, errOut := runCmd(t, "", append([]string{"rotate-keys", "--batch", "7"}, tg.args...)...)
		close(stop)
		wg.Wait()
		select {
		case err := <-errs:
			t.Fatalf("server write during rotation: %v", err)
		default:
		}
		if code != 0 {
			t.Fatalf("rotate-keys exit %d: %s\n%s", code, errOut, out)
		}
		for _, want := range []string{"data keys before: local-1: ", "new key-encryption key version: local-2 (was local-1)", "re-wrapped"} {
			if !strings.Contains(out, want) {
				t.Fatalf("output lacks %q:\n%s", want, out)
			}
		}
		// A second run finishes anything the server wrapped under local-1
		// in the moment of the rotation, and retires local-1.
		code, out, errOut = runCmd(t, "", append([]string{"rotate-keys", "--no-new-version", "--retire"}, tg.args...)...)
		if code != 0 {
			t.Fatalf("rotate-keys --retire exit %d: %s\n%s", code, errOut, out)
		}
		if !strings.Contains(out, "retired: local-1") || !strings.Contains(out, "data keys after: local-2: ") {
			t.Fatalf("output:\n%s", out)
		}
		if _, err := os.Stat(filepath.Join(tg.dir, "keys", "kek", "local-1.json")); !os.IsNotExist(err) {
			t.Fatalf("local-1 key file still there: %v", err)
		}
		// Everything still opens, with a cold cache, with local-1 gone.
		cold := fieldcrypt.New(db, kr, nil, fieldcrypt.Options{})
		for _, v := range all {
			got, err := cold.Open(ctx, v.subject, fieldcrypt.FieldRef{Table: "people", Column: "email", Row: v.row}, v.ct)
			if err != nil || string(got) != v.value {
				t.Fatalf("%s row %s after rotation: %q, %v", v.subject, v.row, got, err)
			}
		}
	})
}

func TestRotateKeysErrors(t *testing.T) {
	dir := t.TempDir()
	if code, _, errOut := runCmd(t, "", "rotate-keys", "--data", dir); code != 2 || !strings.Contains(errOut, "no veche database") {
		t.Fatalf("empty data dir: exit %d, %s", code, errOut)
	}
	db, err := store.Open(context.Background(), filepath.Join(dir, "veche.db"))
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if code, _, errOut := runCmd(t, "", "rotate-keys", "--data", dir, "--keyring", "kms://x"); code != 2 || !strings.Contains(errOut, "unknown keyring") {
		t.Fatalf("bad keyring: exit %d, %s", code, errOut)
	}
	t.Setenv(fieldcrypt.EnvVaultToken, "")
	if code, _, errOut := runCmd(t, "", "rotate-keys", "--data", dir, "--keyring", "vault-transit://127.0.0.1:1/veche"); code != 2 || !strings.Contains(errOut, fieldcrypt.EnvVaultToken) {
		t.Fatalf("no Vault token: exit %d, %s", code, errOut)
	}
	// A keyring that cannot open the instance's keys: refused, nothing changes.
	db, err = store.Open(context.Background(), filepath.Join(dir, "veche.db"))
	if err != nil {
		t.Fatal(err)
	}
	kr, err := fieldcrypt.OpenKeyring(context.Background(), "local", dir)
	if err != nil {
		t.Fatal(err)
	}
	err = db.InTx(context.Background(), func(tx *store.Tx) error {
		_, err := fieldcrypt.New(db, kr, nil, fieldcrypt.Options{}).Seal(context.Background(), tx, "account:1",
			fieldcrypt.FieldRef{Table: "t", Column: "c", Row: "1"}, []byte("x"))
		return err
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	kekDir := filepath.Join(dir, "keys", "kek")
	good, _ := os.ReadFile(filepath.Join(kekDir, "local-1.json"))
	wrong, err := fieldcrypt.OpenLocalKeyring(filepath.Join(t.TempDir(), "wrong"))
	if err != nil {
		t.Fatal(err)
	}
	wrongKey, _ := os.ReadFile(filepath.Join(wrong.Dir(), "local-1.json"))
	os.WriteFile(filepath.Join(kekDir, "local-1.json"), wrongKey, 0o600)
	code, out, errOut := runCmd(t, "", "rotate-keys", "--data", dir)
	if code != 1 || !strings.Contains(errOut, "cannot open the data keys wrapped under local-1") {
		t.Fatalf("wrong keyring: exit %d, %s\n%s", code, errOut, out)
	}
	if _, err := os.Stat(filepath.Join(kekDir, "local-2.json")); !os.IsNotExist(err) {
		t.Fatal("a refused rotation made a new version")
	}
	os.WriteFile(filepath.Join(kekDir, "local-1.json"), good, 0o600)

	// Nothing to do is fine, and says so.
	code, out, errOut = runCmd(t, "", "rotate-keys", "--data", dir, "--no-new-version", "--retire")
	if code != 0 || !strings.Contains(out, "re-wrapped 0 data keys") || !strings.Contains(out, "retired: none") {
		t.Fatalf("exit %d: %s\n%s", code, errOut, out)
	}
}
