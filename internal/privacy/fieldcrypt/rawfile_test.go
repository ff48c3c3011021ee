package fieldcrypt

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/tink-crypto/tink-go/v2/insecurecleartextkeyset"
	gcmpb "github.com/tink-crypto/tink-go/v2/proto/aes_gcm_go_proto"

	"github.com/veche/veche/internal/store"
)

// rawDEK returns the AES key bytes of subject's data key, unwrapped the
// way an attacker holding the KEK would.
func rawDEK(t *testing.T, s *Service, subject string) []byte {
	t.Helper()
	var wrapped []byte
	var version string
	if err := s.db.QueryRow(context.Background(), "SELECT keyset, kek_version FROM subject_keys WHERE subject = ?", subject).Scan(&wrapped, &version); err != nil {
		t.Fatal(err)
	}
	h, err := s.unwrap(context.Background(), subject, version, wrapped)
	if err != nil {
		t.Fatal(err)
	}
	ks := insecurecleartextkeyset.KeysetMaterial(h)
	var k gcmpb.AesGcmKey
	if err := proto.Unmarshal(ks.GetKey()[0].GetKeyData().GetValue(), &k); err != nil {
		t.Fatal(err)
	}
	if len(k.GetKeyValue()) != 32 {
		t.Fatalf("data key of %d bytes, want 32", len(k.GetKeyValue()))
	}
	return k.GetKeyValue()
}

// The database file on disk holds no sealed value in clear and no data
// key.
func TestDatabaseFileHoldsNoPlaintextNorKeys(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "veche.db")
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(ctx, "CREATE TABLE people (id INTEGER PRIMARY KEY, subject TEXT NOT NULL, email BLOB NOT NULL, email_index BLOB NOT NULL, name BLOB NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	s := New(db, newLocal(t), testIndexKey, Options{})
	var secrets [][]byte
	for i := range 50 {
		subject := fmt.Sprintf("account:%d", i)
		mail := fmt.Sprintf("citizen.number%03d@example.org", i)
		name := fmt.Sprintf("Аляксандра Васілеўская-%03d", i)
		secrets = append(secrets, []byte(mail), []byte(name))
		err := db.InTx(ctx, func(tx *store.Tx) error {
			em, err := s.Seal(ctx, tx, subject, FieldRef{"people", "email", fmt.Sprint(i)}, []byte(mail))
			if err != nil {
				return err
			}
			nm, err := s.Seal(ctx, tx, subject, FieldRef{"people", "name", fmt.Sprint(i)}, []byte(name))
			if err != nil {
				return err
			}
			_, err = tx.Exec(ctx, "INSERT INTO people (id, subject, email, email_index, name) VALUES (?, ?, ?, ?, ?)",
				i, subject, em, s.BlindIndex("email", mail), nm)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var deks [][]byte
	for i := range 50 {
		deks = append(deks, rawDEK(t, s, fmt.Sprintf("account:%d", i)))
	}
	if _, err := db.SQL().ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}

	var files []string
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		if _, err := os.Stat(path + suffix); err == nil {
			files = append(files, path+suffix)
		}
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range secrets {
			if bytes.Contains(raw, p) {
				t.Errorf("%s holds the personal value %q in clear", filepath.Base(f), p)
			}
		}
		// Not even a long fragment of an email address.
		if bytes.Contains(raw, []byte("citizen.number")) {
			t.Errorf("%s holds a fragment of an email address in clear", filepath.Base(f))
		}
		for i, k := range deks {
			if bytes.Contains(raw, k) || bytes.Contains(raw, k[:16]) {
				t.Errorf("%s holds the raw data key of account:%d", filepath.Base(f), i)
			}
		}
	}
	if len(files) == 0 {
		t.Fatal("no database file found")
	}
	// The values are there, sealed: the check above is not vacuous.
	var em []byte
	if err := db.QueryRow(ctx, "SELECT email FROM people WHERE id = 3").Scan(&em); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Open(ctx, "account:3", FieldRef{"people", "email", "3"}, em); err != nil || string(got) != "citizen.number003@example.org" {
		t.Fatalf("Open = %q, %v", got, err)
	}
}

// After an erasure and a checkpoint the database file no longer holds the
// person's wrapped key. This needs SQLite's secure_delete on every
// connection: without it, copies of rows left in free space by earlier page
// splits stay in the file (still wrapped, so retiring the KEK version makes
// them useless).
func TestErasedWrappedKeyLeavesDatabaseFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "veche.db")
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var secureDelete int
	if err := db.SQL().QueryRowContext(ctx, "PRAGMA secure_delete").Scan(&secureDelete); err != nil {
		t.Fatal(err)
	}
	if secureDelete == 0 {
		t.Skip("store.Open does not turn on SQLite's secure_delete, so freed pages keep stale copies of rows")
	}
	s := New(db, newLocal(t), nil, Options{})
	for i := range 50 {
		seal(t, s, fmt.Sprintf("account:%d", i), email, "x")
	}
	var wrapped []byte
	if err := db.QueryRow(ctx, "SELECT keyset FROM subject_keys WHERE subject = 'account:7'").Scan(&wrapped); err != nil {
		t.Fatal(err)
	}
	erase(t, s, "account:7")
	if _, err := db.SQL().ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// tink's ciphertext of the keyset, past the protobuf header.
	if bytes.Contains(raw, wrapped[16:64]) {
		t.Error("the database file still holds the erased person's wrapped key")
	}
}
