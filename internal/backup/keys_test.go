package backup_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/veche/veche/internal/backup"
	"github.com/veche/veche/internal/privacy/fieldcrypt"
	"github.com/veche/veche/internal/store"
)

// A person erased after a data backup stays unreadable when that backup is
// restored: the data backup carries their sealed data but never a key, and
// the key backup made after the erasure carries only the erasure marker.
// Everyone else's data comes back readable.
func TestErasedPersonStaysUnreadableAfterRestore(t *testing.T) {
	for _, from := range engines {
		for _, to := range engines {
			t.Run(from.name+"_to_"+to.name, func(t *testing.T) {
				ctx := context.Background()
				src := from.open(t)
				kr, err := fieldcrypt.OpenLocalKeyring(t.TempDir())
				if err != nil {
					t.Fatal(err)
				}
				fc := fieldcrypt.New(src, kr, nil, fieldcrypt.Options{CacheSize: -1})
				secrets := map[string]string{"1": "anna's TOTP secret", "2": "boris's TOTP secret"}
				field := func(id string) fieldcrypt.FieldRef {
					return fieldcrypt.FieldRef{Table: "totp_credentials", Column: "secret_sealed", Row: id}
				}
				err = src.InTx(ctx, func(tx *store.Tx) error {
					for _, id := range []string{"1", "2"} {
						if _, err := tx.Exec(ctx, "INSERT INTO accounts (id, email, password_hash, created_at, password_changed_at) VALUES (?, ?, 'h', 1, 1)", id, "p"+id+"@example.org"); err != nil {
							return err
						}
						sealed, err := fc.Seal(ctx, tx, "account:"+id, field(id), []byte(secrets[id]))
						if err != nil {
							return err
						}
						if _, err := tx.Exec(ctx, "INSERT INTO totp_credentials (account_id, secret_sealed, created_at) VALUES (?, ?, 1)", id, sealed); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				data, _ := write(t, src)
				var keysBefore bytes.Buffer
				if err := backup.WriteKeys(ctx, src, &keysBefore, testKey.Recipient()); err != nil {
					t.Fatal(err)
				}

				// Boris is erased after the backups.
				if err := src.InTx(ctx, func(tx *store.Tx) error { return fc.Erase(ctx, tx, "account:2") }); err != nil {
					t.Fatal(err)
				}
				var keysAfter bytes.Buffer
				if err := backup.WriteKeys(ctx, src, &keysAfter, testKey.Recipient()); err != nil {
					t.Fatal(err)
				}

				open := func(db *store.DB, id string) (string, error) {
					var sealed []byte
					if err := db.QueryRow(ctx, "SELECT secret_sealed FROM totp_credentials WHERE account_id = ?", id).Scan(&sealed); err != nil {
						t.Fatal(err)
					}
					plain, err := fieldcrypt.New(db, kr, nil, fieldcrypt.Options{CacheSize: -1}).Open(ctx, "account:"+id, field(id), sealed)
					return string(plain), err
				}

				// The data backup alone opens nobody's data.
				dst := to.open(t)
				if _, err := restore(dst, data); err != nil {
					t.Fatal(err)
				}
				if _, err := open(dst, "1"); !errors.Is(err, fieldcrypt.ErrUnknownSubject) {
					t.Fatalf("data restored without keys: open = %v, want ErrUnknownSubject", err)
				}
				// With the current key backup, Anna's data is back and
				// Boris's stays erased.
				if err := backup.RestoreKeys(ctx, dst, bytes.NewReader(keysAfter.Bytes()), testKey); err != nil {
					t.Fatal(err)
				}
				if got, err := open(dst, "1"); err != nil || got != secrets["1"] {
					t.Fatalf("anna after restore: %q, %v", got, err)
				}
				if got, err := open(dst, "2"); !errors.Is(err, fieldcrypt.ErrErased) {
					t.Fatalf("boris after restore: %q, %v; want ErrErased", got, err)
				}
				// A key backup from before the erasure does not bring him
				// back into a database that knows of it.
				if err := backup.RestoreKeys(ctx, dst, bytes.NewReader(keysBefore.Bytes()), testKey); err != nil {
					t.Fatal(err)
				}
				if _, err := open(dst, "2"); !errors.Is(err, fieldcrypt.ErrErased) {
					t.Fatalf("boris after importing the older key backup: %v; want ErrErased", err)
				}

				// Into a fresh database, that older key backup would hold
				// his key: rotating and retiring the key-encryption key
				// after the erasure is what makes it useless.
				old := kr.Current()
				if _, err := kr.Rotate(); err != nil {
					t.Fatal(err)
				}
				if _, err := fc.Rewrap(ctx, 0); err != nil {
					t.Fatal(err)
				}
				if err := fc.RetireKEK(ctx, old); err != nil {
					t.Fatal(err)
				}
				stale := to.open(t)
				if _, err := restore(stale, data); err != nil {
					t.Fatal(err)
				}
				if err := backup.RestoreKeys(ctx, stale, bytes.NewReader(keysBefore.Bytes()), testKey); err != nil {
					t.Fatal(err)
				}
				if _, err := open(stale, "2"); !errors.Is(err, fieldcrypt.ErrKeyUnavailable) {
					t.Fatalf("boris from a stale key backup after the KEK was retired: %v; want ErrKeyUnavailable", err)
				}
			})
		}
	}
}

func TestKeyAndDataBackupsAreNotMixedUp(t *testing.T) {
	ctx := context.Background()
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			src := e.open(t)
			fill(t, src)
			data, _ := write(t, src)
			var keys bytes.Buffer
			if err := backup.WriteKeys(ctx, src, &keys, testKey.Recipient()); err != nil {
				t.Fatal(err)
			}
			dst := e.open(t)
			if err := backup.RestoreKeys(ctx, dst, bytes.NewReader(data), testKey); !errors.Is(err, backup.ErrNotBackup) || !strings.Contains(err.Error(), "veche restore") {
				t.Fatalf("restore keys from a data backup: %v", err)
			}
			if _, err := restore(dst, keys.Bytes()); !errors.Is(err, backup.ErrNotBackup) || !strings.Contains(err.Error(), "veche restore keys") {
				t.Fatalf("restore data from a key backup: %v", err)
			}
			cut := keys.Bytes()[:keys.Len()-1]
			if err := backup.RestoreKeys(ctx, dst, bytes.NewReader(cut), testKey); !errors.Is(err, backup.ErrDamaged) {
				t.Fatalf("restore keys from a cut file: %v", err)
			}
			checkUntouched(t, dst)
		})
	}
}
