package backup_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/veche/veche/internal/app"
	"github.com/veche/veche/internal/auditlog/logclient"
	"github.com/veche/veche/internal/backup"
	"github.com/veche/veche/internal/identity"
	"github.com/veche/veche/internal/secops"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/store/storetest"
)

// config returns an instance configuration on engine in a new data dir.
func config(t *testing.T, engine string) app.Config {
	cfg := app.Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0"}
	if engine == "postgres" {
		cfg.DB = storetest.PostgresURL(t)
	}
	return cfg
}

// A restored instance starts, signs people in, and serves an audit log
// that verifies against the original log key and grows on from there.
func TestRestoredInstanceStartsAndItsAuditLogVerifies(t *testing.T) {
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, from := range engines {
		for _, to := range engines {
			t.Run(from.name+"_to_"+to.name, func(t *testing.T) {
				srcCfg := config(t, from.name)
				src, err := app.Open(ctx, srcCfg, logger)
				if err != nil {
					t.Fatal(err)
				}
				defer src.Close()
				const pw = "a long enough passphrase for tests"
				var ids []int64
				for _, email := range []string{"admin@example.org", "алесь@example.by"} {
					id, err := src.Identity.CreateAccount(ctx, email, pw, []identity.Role{identity.RoleAdmin})
					if err != nil {
						t.Fatal(err)
					}
					ids = append(ids, id)
				}
				src.Events.Record(ctx, secops.Event{Kind: secops.SignInFailed, IP: "203.0.113.9", Route: "/signin", Detail: "wrong password"})
				if _, err := src.Log.Sequence(ctx); err != nil {
					t.Fatal(err)
				}
				srcLog := httptest.NewServer(http.StripPrefix("/log", src.Log.Handler()))
				defer srcLog.Close()
				before, err := logclient.Verify(ctx, srcLog.Client(), srcLog.URL+"/log", src.Keys.LogVerifier, "")
				if err != nil || before.Size < 4 {
					t.Fatalf("source log: %+v, %v", before, err)
				}
				b, m := write(t, src.DB)
				want := dump(t, src.DB, m)

				// Алесь erases his account after the data backup; the key
				// backup is made after that, as the schedule has it.
				res, _, err := src.Identity.SignIn(ctx, "алесь@example.by", pw, identity.KindAPI, identity.ClientMeta{})
				if err != nil {
					t.Fatal(err)
				}
				p, _, err := src.Identity.Authenticate(ctx, res.Token)
				if err != nil {
					t.Fatal(err)
				}
				if err := src.Identity.EraseAccount(ctx, p); err != nil {
					t.Fatal(err)
				}
				var keys bytes.Buffer
				if err := backup.WriteKeys(ctx, src.DB, &keys, testKey.Recipient()); err != nil {
					t.Fatal(err)
				}

				// The operator restores the database and the data keys, and
				// puts the keys directory, kept separately, beside them.
				dstCfg := config(t, to.name)
				if err := os.CopyFS(filepath.Join(dstCfg.DataDir, "keys"), os.DirFS(filepath.Join(srcCfg.DataDir, "keys"))); err != nil {
					t.Fatal(err)
				}
				db, err := store.Open(ctx, dstCfg.DSN())
				if err != nil {
					t.Fatal(err)
				}
				if _, err := restore(db, b); err != nil {
					t.Fatal(err)
				}
				compare(t, want, dump(t, db, m))
				if err := backup.RestoreKeys(ctx, db, bytes.NewReader(keys.Bytes()), testKey); err != nil {
					t.Fatal(err)
				}
				db.Close()

				dst, err := app.Open(ctx, dstCfg, logger)
				if err != nil {
					t.Fatalf("restored instance does not start: %v", err)
				}
				defer dst.Close()
				if _, _, err := dst.Identity.SignIn(ctx, "admin@example.org", pw, identity.KindAPI, identity.ClientMeta{}); err != nil {
					t.Fatalf("sign in on the restored instance: %v", err)
				}
				if a, err := dst.Identity.Account(ctx, ids[0]); err != nil || a.Email != "admin@example.org" {
					t.Fatalf("admin's account on the restored instance: %+v, %v", a, err)
				}
				// Алесь's row is in the older backup, but his key stays
				// erased: the restored instance purges the row at start-up
				// (identity.PurgeErasedAccounts), and he cannot sign in.
				if a, err := dst.Identity.Account(ctx, ids[1]); !errors.Is(err, identity.ErrNotFound) {
					t.Fatalf("erased account on the restored instance: %+v, %v; want it purged", a, err)
				}
				if _, _, err := dst.Identity.SignIn(ctx, "алесь@example.by", pw, identity.KindAPI, identity.ClientMeta{}); err == nil {
					t.Fatal("the erased person signed in on the restored instance")
				}
				dstLog := httptest.NewServer(http.StripPrefix("/log", dst.Log.Handler()))
				defer dstLog.Close()
				state := filepath.Join(t.TempDir(), "checkpoint")
				after, err := logclient.Verify(ctx, dstLog.Client(), dstLog.URL+"/log", src.Keys.LogVerifier, state)
				if err != nil {
					t.Fatalf("restored audit log does not verify: %v", err)
				}
				if after.Size != before.Size || after.Root != before.Root {
					t.Fatalf("restored log: %d entries, root %s; the original had %d, root %s", after.Size, after.Root, before.Size, before.Root)
				}
				// The restored log grows on from the restored tree.
				if _, err := dst.Identity.CreateAccount(ctx, "new@example.org", pw, nil); err != nil {
					t.Fatal(err)
				}
				if _, err := dst.Log.Sequence(ctx); err != nil {
					t.Fatal(err)
				}
				grown, err := logclient.Verify(ctx, dstLog.Client(), dstLog.URL+"/log", src.Keys.LogVerifier, state)
				if err != nil || grown.Size <= after.Size || grown.PreviousSize != after.Size {
					t.Fatalf("log after a new entry on the restored instance: %+v, %v", grown, err)
				}
			})
		}
	}
}

// Restoring into a data directory that has no keys leaves the audit log
// intact: its checkpoints still verify against the original key, because
// the log's entries, hashes and signed checkpoint are all in the database.
func TestRestoredLogVerifiesAgainstTheOriginalKeyOnly(t *testing.T) {
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	srcCfg := config(t, "sqlite")
	src, err := app.Open(ctx, srcCfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if _, err := src.Identity.CreateAccount(ctx, "a@example.org", "a long enough passphrase for tests", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Log.Sequence(ctx); err != nil {
		t.Fatal(err)
	}
	b, _ := write(t, src.DB)
	dstCfg := config(t, "sqlite")
	db, err := store.Open(ctx, dstCfg.DSN())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := restore(db, b); err != nil {
		t.Fatal(err)
	}
	db.Close()
	dst, err := app.Open(ctx, dstCfg, logger) // makes new keys: the mistake docs/backup.md warns of
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	srv := httptest.NewServer(http.StripPrefix("/log", dst.Log.Handler()))
	defer srv.Close()
	if _, err := logclient.Verify(ctx, srv.Client(), srv.URL+"/log", src.Keys.LogVerifier, ""); err != nil {
		t.Fatalf("restored log against the original key: %v", err)
	}
	if _, err := logclient.Verify(ctx, srv.Client(), srv.URL+"/log", dst.Keys.LogVerifier, ""); err == nil {
		t.Fatal("the restored log verified against the new instance's fresh key")
	}
}
