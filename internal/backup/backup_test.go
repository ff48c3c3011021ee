package backup_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"filippo.io/age"
	"golang.org/x/mod/sumdb/note"

	"github.com/veche/veche/internal/auditlog"
	"github.com/veche/veche/internal/backup"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/store/storetest"
)

// engines opens a fresh database of each kind; PostgreSQL is skipped
// without VECHE_TEST_POSTGRES.
var engines = []struct {
	name string
	open func(testing.TB) *store.DB
}{
	{"sqlite", storetest.SQLite},
	{"postgres", storetest.Postgres},
}

// testKey is an age key pair shared by the tests.
var testKey = func() *age.X25519Identity {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		panic(err)
	}
	return id
}()

// largeText is over a megabyte of mixed scripts, so a few rows of it
// split a table into several parts.
var largeText = strings.Repeat("Вече — народны сход Полацка. Ünïcödé ✓ 𝄞 \"quoted\" \\ back\tslash\n", 18000)

// fill writes realistic rows into db: accounts with roles, sealed TOTP
// secrets (BLOBs), recovery codes with and without a use time (NULLs),
// sessions whose user agents carry quotes, control characters and emoji,
// mail with large bodies, security events, and a sequenced audit log.
// It returns the log's verifier key.
func fill(t testing.TB, db *store.DB) string {
	t.Helper()
	ctx := context.Background()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Exec(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	emails := []string{"anna@example.org", "алесь@прыклад.бел", "zoë@example.fr", "o'brien@example.ie", "user+tag@example.com"}
	for i, e := range emails {
		exec(`INSERT INTO accounts (email, email_verified, password_hash, locale, created_at, password_changed_at) VALUES (?, ?, ?, ?, ?, ?)`,
			e, i%2 == 0, "$argon2id$v=19$m=65536,t=3,p=2$c2FsdA$aGFzaA"+strconv.Itoa(i), []string{"be", "ru", "en", "", "en"}[i], 1700000000000000+int64(i), 1700000000000000+int64(i))
	}
	exec("INSERT INTO account_roles (account_id, role, granted_by, granted_at) VALUES (1, 'admin', NULL, 1), (2, 'official', 1, 2), (2, 'moderator', 1, 3)")
	secret := make([]byte, 64)
	rand.Read(secret)
	secret[0], secret[10] = 0, 0
	exec("INSERT INTO totp_credentials (account_id, secret_sealed, enabled, last_step, created_at) VALUES (1, ?, TRUE, 57000000, 5), (2, ?, FALSE, 0, 6)", secret, []byte{})
	exec("INSERT INTO recovery_codes (account_id, code_hash, used_at) VALUES (1, 'h1', NULL), (1, 'h2', 1700000000000001), (3, 'h3', NULL)")
	agents := []string{"Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0", "curl/8 \"quoted\" \\ back\\slash", "ctl\x01\x02\x1f\ttab\nnewline", "emoji 🗳️ ✅ and ру́сский", ""}
	for i, ua := range agents {
		exec(`INSERT INTO sessions (token_hash, id, account_id, kind, created_at, last_seen_at, expires_at, authenticated_at, mfa_verified, user_agent, ip)
			VALUES (?, ?, ?, 'browser', 1, 2, 3, 4, ?, ?, ?)`, fmt.Sprintf("tok%02d", i), fmt.Sprintf("sid%02d", i), i%3+1, i%2 == 1, ua, fmt.Sprintf("203.0.113.%d", i))
	}
	exec("INSERT INTO email_tokens (token_hash, account_id, purpose, expires_at, used_at) VALUES ('e1', 1, 'verify', 10, NULL), ('e2', 2, 'reset', 11, 12)")
	for i := range 4 {
		exec("INSERT INTO mail_outbox (recipient, subject, body, created_at, attempts, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?)",
			emails[i], "Тэма "+strconv.Itoa(i), largeText+strings.Repeat("!", i), 100+i, i, 200+i)
	}
	// The last mail is sent and deleted: the id sequence is now ahead of
	// the largest id, and a restore must keep it so.
	exec("DELETE FROM mail_outbox WHERE id = 4")
	err := db.InTx(ctx, func(tx *store.Tx) error {
		for i := range 300 {
			if _, err := tx.Exec(ctx, "INSERT INTO security_events (at, kind, ip, account, route, detail) VALUES (?, ?, ?, ?, ?, ?)",
				1700000000000000+int64(i), "signin_failed", fmt.Sprintf("198.51.100.%d", i%250), "account:"+strconv.Itoa(i%7), "/signin", strings.Repeat("x", i%40)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	skey, vkey, err := auditlog.GenerateKey("veche.test/log")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	l := auditlog.New(db, signer, vkey, auditlog.Options{})
	pseudonyms := auditlog.NewPseudonymizer([]byte("test pseudonym key"))
	for i := range 40 {
		err := db.InTx(ctx, func(tx *store.Tx) error {
			return l.Append(ctx, tx, auditlog.Entry{Action: "test.appended", Subject: pseudonyms.Of("account", strconv.Itoa(i)), Detail: map[string]string{"n": strconv.Itoa(i), "note": "ünïcödé"}})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := l.Sequence(ctx); err != nil {
		t.Fatal(err)
	}
	return vkey
}

// dump reads every table of the manifest, independently of the backup
// code, as one string per row, sorted.
func dump(t testing.TB, db *store.DB, m *backup.Manifest) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, tb := range m.Tables {
		var cols, nulls []string
		for _, c := range tb.Columns {
			cols = append(cols, c.Name)
			if c.Type == backup.Bytes {
				nulls = append(nulls, "("+c.Name+" IS NULL)")
			}
		}
		rows, err := db.SQL().Query("SELECT " + strings.Join(append(cols, nulls...), ", ") + " FROM " + tb.Name)
		if err != nil {
			t.Fatalf("dump %s: %v", tb.Name, err)
		}
		var lines []string
		for rows.Next() {
			var dest []any
			for _, c := range tb.Columns {
				switch c.Type {
				case backup.Integer:
					dest = append(dest, new(sql.NullInt64))
				case backup.Text:
					dest = append(dest, new(sql.NullString))
				case backup.Bytes:
					dest = append(dest, new([]byte))
				case backup.Boolean:
					dest = append(dest, new(sql.NullBool))
				case backup.Real:
					dest = append(dest, new(sql.NullFloat64))
				}
			}
			for range nulls {
				dest = append(dest, new(bool))
			}
			if err := rows.Scan(dest...); err != nil {
				t.Fatalf("dump %s: %v", tb.Name, err)
			}
			var b strings.Builder
			for _, d := range dest {
				switch v := d.(type) {
				case *[]byte:
					fmt.Fprintf(&b, "%x|", *v)
				case *bool:
					fmt.Fprintf(&b, "%v|", *v)
				default:
					fmt.Fprintf(&b, "%+v|", d)
				}
			}
			lines = append(lines, b.String())
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		slices.Sort(lines)
		out[tb.Name] = lines
	}
	return out
}

func write(t testing.TB, db *store.DB, recipients ...age.Recipient) ([]byte, *backup.Manifest) {
	t.Helper()
	if len(recipients) == 0 {
		recipients = []age.Recipient{testKey.Recipient()}
	}
	var buf bytes.Buffer
	m, err := backup.Write(context.Background(), db, &buf, recipients...)
	if err != nil {
		t.Fatalf("backup: %v", err)
	}
	return buf.Bytes(), m
}

func restore(db *store.DB, b []byte, ids ...age.Identity) (*backup.Manifest, error) {
	if len(ids) == 0 {
		ids = []age.Identity{testKey}
	}
	return backup.Restore(context.Background(), db, bytes.NewReader(b), backup.RestoreOptions{}, ids...)
}

func compare(t *testing.T, want, got map[string][]string) {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("%d tables restored, want %d", len(got), len(want))
	}
	for name, rows := range want {
		if !slices.Equal(rows, got[name]) {
			t.Errorf("table %s: %d rows restored, want %d; first difference:", name, len(got[name]), len(rows))
			for i := range max(len(rows), len(got[name])) {
				var w, g string
				if i < len(rows) {
					w = rows[i]
				}
				if i < len(got[name]) {
					g = got[name][i]
				}
				if w != g {
					t.Errorf("  want %.200q\n  got  %.200q", w, g)
					break
				}
			}
		}
	}
}

func TestRestoreBringsBackEveryRow(t *testing.T) {
	for _, from := range engines {
		for _, to := range engines {
			t.Run(from.name+"_to_"+to.name, func(t *testing.T) {
				src := from.open(t)
				fill(t, src)
				b, m := write(t, src)
				if m.Dialect != src.Dialect() || m.Format != backup.FormatV1 || len(m.Schema) == 0 {
					t.Fatalf("manifest %+v", m)
				}
				for _, tb := range m.Tables {
					if tb.Name == "mail_outbox" && (tb.Rows != 3 || tb.Sequence != 4) {
						t.Errorf("mail_outbox in the manifest: %d rows, sequence %d; want 3 and 4", tb.Rows, tb.Sequence)
					}
				}
				var excluded []string
				for _, e := range m.Excluded {
					if e.Reason == "" {
						t.Errorf("excluded table %s has no reason", e.Table)
					}
					excluded = append(excluded, e.Table)
				}
				for _, name := range []string{"schema_migrations", "leases"} {
					if !slices.Contains(excluded, name) {
						t.Errorf("excluded = %v, want %s among them", excluded, name)
					}
				}

				dst := to.open(t)
				got, err := restore(dst, b)
				if err != nil {
					t.Fatalf("restore: %v", err)
				}
				if got.Rows() != m.Rows() || got.Rows() < 400 {
					t.Fatalf("restored %d rows, backed up %d", got.Rows(), m.Rows())
				}
				compare(t, dump(t, src, m), dump(t, dst, m))

				// Ids continue after the restored ones and after the
				// deleted mail 4.
				var id int64
				err = dst.QueryRow(context.Background(), `INSERT INTO mail_outbox (recipient, subject, body, created_at, next_attempt_at)
					VALUES ('a@example.org', 's', 'b', 1, 1) RETURNING id`).Scan(&id)
				if err != nil || id != 5 {
					t.Fatalf("next mail id = %d, %v; want 5", id, err)
				}
				err = dst.QueryRow(context.Background(), `INSERT INTO security_events (at, kind, ip) VALUES (1, 'k', 'ip') RETURNING id`).Scan(&id)
				if err != nil || id != 301 {
					t.Fatalf("next security event id = %d, %v; want 301", id, err)
				}
			})
		}
	}
}

func TestBackupIsOneMomentWhileWritersCarryOn(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			src := e.open(t)
			fill(t, src)
			// Enough rows that the backup takes a while.
			err := src.InTx(ctx, func(tx *store.Tx) error {
				for i := range 20000 {
					if _, err := tx.Exec(ctx, "INSERT INTO security_events (at, kind, ip, detail) VALUES (?, 'bulk', '192.0.2.1', ?)", i, largeText[:200]); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}

			// Each writer transaction adds a mail and five events naming
			// the same batch: a consistent backup holds all six or none.
			const perBatch = 5
			var (
				committed atomic.Int64
				stop      = make(chan struct{})
				wg        sync.WaitGroup
				writeErr  error
			)
			wg.Go(func() {
				for k := 0; ; k++ {
					select {
					case <-stop:
						return
					default:
					}
					tag := "batch-" + strconv.Itoa(k)
					err := src.InTx(ctx, func(tx *store.Tx) error {
						if _, err := tx.Exec(ctx, "INSERT INTO mail_outbox (recipient, subject, body, created_at, next_attempt_at) VALUES ('w@example.org', ?, 'b', 1, 1)", tag); err != nil {
							return err
						}
						for range perBatch {
							if _, err := tx.Exec(ctx, "INSERT INTO security_events (at, kind, ip, detail) VALUES (1, 'writer', '192.0.2.2', ?)", tag); err != nil {
								return err
							}
						}
						return nil
					})
					if err != nil {
						writeErr = err
						return
					}
					committed.Add(1)
				}
			})
			for committed.Load() < 5 {
				time.Sleep(time.Millisecond)
			}
			before := committed.Load()
			b, m := write(t, src)
			after := committed.Load()
			close(stop)
			wg.Wait()
			if writeErr != nil {
				t.Fatalf("writer: %v", writeErr)
			}

			dst := e.open(t)
			if _, err := restore(dst, b); err != nil {
				t.Fatal(err)
			}
			mails := map[string]int{}
			rows, err := dst.Query(ctx, "SELECT subject FROM mail_outbox WHERE recipient = 'w@example.org'")
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var s string
				rows.Scan(&s)
				mails[s]++
			}
			rows.Close()
			events := map[string]int{}
			rows, err = dst.Query(ctx, "SELECT detail FROM security_events WHERE kind = 'writer'")
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var s string
				rows.Scan(&s)
				events[s]++
			}
			rows.Close()
			for tag, n := range events {
				if n != perBatch || mails[tag] != 1 {
					t.Errorf("%s: %d events and %d mails in the backup; want %d and 1, or none", tag, n, mails[tag], perBatch)
				}
			}
			for tag := range mails {
				if events[tag] == 0 {
					t.Errorf("%s: a mail without its events", tag)
				}
			}
			if n := int64(len(mails)); n < before || n > after {
				t.Errorf("backup holds %d writer transactions; %d had committed when it started and %d when it ended", n, before, after)
			}
			t.Logf("backup of %d rows holds %d writer transactions (%d committed before it started, %d by its end)", m.Rows(), len(mails), before, after)
		})
	}
}

// checkUntouched fails unless db holds only what its migrations made.
func checkUntouched(t *testing.T, db *store.DB) {
	t.Helper()
	for _, q := range []string{"SELECT COUNT(*) FROM accounts", "SELECT COUNT(*) FROM security_events", "SELECT COUNT(*) - 1 FROM auditlog_checkpoint", "SELECT COUNT(*) FROM auditlog_entries"} {
		var n int
		if err := db.QueryRow(context.Background(), q).Scan(&n); err != nil || n != 0 {
			t.Fatalf("%s = %d, %v; the failed restore changed the database", q, n, err)
		}
	}
}

func TestRestoreRefusesABadBackupAndChangesNothing(t *testing.T) {
	src := storetest.SQLite(t)
	fill(t, src)
	good, _ := write(t, src)
	if len(good) < 1<<20 {
		t.Fatalf("backup is %d bytes; the test wants several age chunks", len(good))
	}
	flipped := bytes.Clone(good)
	flipped[len(flipped)/2] ^= 0x01
	// Flip a byte of the header's MAC; a changed recipient stanza would
	// look like a wrong key instead.
	headerFlip := bytes.Clone(good)
	headerFlip[bytes.Index(good, []byte("\n--- "))+8] ^= 0x01

	other, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	junk := make([]byte, 100000)
	rand.Read(junk)
	var ageJunk bytes.Buffer
	w, _ := age.Encrypt(&ageJunk, testKey.Recipient())
	w.Write(junk)
	w.Close()
	var ageText bytes.Buffer
	w, _ = age.Encrypt(&ageText, testKey.Recipient())
	io.WriteString(w, "name,email\nanna,anna@example.org\n")
	w.Close()

	// A backup from a newer veche: its schema has a migration this one
	// does not know.
	newer := storetest.SQLite(t)
	if _, err := newer.Exec(context.Background(), "INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', 0)"); err != nil {
		t.Fatal(err)
	}
	newerBackup, _ := write(t, newer)

	pass, err := age.NewScryptRecipient("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	passBackup, _ := write(t, src, pass)
	wrongPass, _ := age.NewScryptIdentity("correct horse battery stapler")

	tests := []struct {
		name string
		file []byte
		ids  []age.Identity
		want error
		msg  string
	}{
		{"one byte flipped in the middle", flipped, nil, backup.ErrDamaged, "decryption failed"},
		{"one byte flipped in the header", headerFlip, nil, backup.ErrDamaged, ""},
		{"cut in half", good[:len(good)/2], nil, backup.ErrDamaged, ""},
		{"last byte missing", good[:len(good)-1], nil, backup.ErrDamaged, ""},
		{"cut after the age header", good[:200], nil, backup.ErrDamaged, ""},
		{"wrong identity", good, []age.Identity{other}, backup.ErrWrongKey, ""},
		{"wrong passphrase", passBackup, []age.Identity{wrongPass}, backup.ErrWrongKey, "incorrect passphrase"},
		{"passphrase for a key-encrypted backup", good, []age.Identity{wrongPass}, backup.ErrWrongKey, "not passphrase-encrypted"},
		{"random file", junk, nil, backup.ErrNotBackup, "not age-encrypted"},
		{"empty file", nil, nil, backup.ErrNotBackup, ""},
		{"age file holding random bytes", ageJunk.Bytes(), nil, backup.ErrNotBackup, "holds no header.json"},
		{"age file holding a CSV", ageText.Bytes(), nil, backup.ErrNotBackup, ""},
		{"backup from a newer schema", newerBackup, nil, backup.ErrSchemaMismatch, "schema version 9999"},
	}
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					dst := e.open(t)
					_, err := restore(dst, tt.file, tt.ids...)
					if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) {
						t.Fatalf("restore: %v; want %v containing %q", err, tt.want, tt.msg)
					}
					t.Logf("%v", err)
					checkUntouched(t, dst)
				})
			}
		})
	}
	// Verify finds the same damage without a database.
	if _, err := backup.Verify(bytes.NewReader(flipped), testKey); !errors.Is(err, backup.ErrDamaged) {
		t.Fatalf("Verify of a flipped backup: %v", err)
	}
	if _, err := backup.Verify(bytes.NewReader(good[:len(good)-1]), testKey); !errors.Is(err, backup.ErrDamaged) {
		t.Fatalf("Verify of a cut backup: %v", err)
	}
	if m, err := backup.Verify(bytes.NewReader(passBackup), wrongPass, testKey, mustScryptIdentity(t, "correct horse battery staple")); err != nil || m.Rows() == 0 {
		t.Fatalf("Verify of a good backup: %v", err)
	}
}

func mustScryptIdentity(t *testing.T, pass string) age.Identity {
	id, err := age.NewScryptIdentity(pass)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestRestoreRefusesADatabaseInUseUnlessForced(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			src := e.open(t)
			fill(t, src)
			b, m := write(t, src)

			dst := e.open(t)
			if _, err := dst.Exec(ctx, "INSERT INTO accounts (email, password_hash, created_at, password_changed_at) VALUES ('old@example.org', 'h', 1, 1)"); err != nil {
				t.Fatal(err)
			}
			_, err := restore(dst, b)
			if !errors.Is(err, backup.ErrNotEmpty) || !strings.Contains(err.Error(), "accounts") {
				t.Fatalf("restore over data: %v", err)
			}
			if _, err := backup.Restore(ctx, dst, bytes.NewReader(b), backup.RestoreOptions{Force: true}, testKey); err != nil {
				t.Fatalf("forced restore: %v", err)
			}
			compare(t, dump(t, src, m), dump(t, dst, m))
		})
	}
}

func TestSubjectKeysAreNeverInADataBackup(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			src := e.open(t)
			fill(t, src)
			// The table comes with migration 0005; create it where this
			// tree does not have it yet.
			blob := "BLOB"
			if src.Dialect() == store.Postgres {
				blob = "BYTEA"
			}
			if _, err := src.Exec(ctx, `CREATE TABLE IF NOT EXISTS subject_keys (subject TEXT PRIMARY KEY, keyset `+blob+` NOT NULL,
				kek_version TEXT NOT NULL, created_at BIGINT NOT NULL, erased_at BIGINT)`); err != nil {
				t.Fatal(err)
			}
			marker := "keyset-of-account-42-must-not-be-in-a-data-backup"
			if _, err := src.Exec(ctx, "INSERT INTO subject_keys (subject, keyset, kek_version, created_at) VALUES ('account:42', ?, 'v1', 1)", []byte(marker)); err != nil {
				t.Fatal(err)
			}
			b, m := write(t, src)
			var reason string
			for _, x := range m.Excluded {
				if x.Table == "subject_keys" {
					reason = x.Reason
				}
			}
			if !strings.Contains(reason, "veche backup keys") {
				t.Fatalf("subject_keys is not listed as excluded with its reason: %+v", m.Excluded)
			}
			for _, tb := range m.Tables {
				if tb.Name == "subject_keys" {
					t.Fatal("subject_keys is in the backup")
				}
			}
			r, err := age.Decrypt(bytes.NewReader(b), testKey)
			if err != nil {
				t.Fatal(err)
			}
			plain, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(plain, []byte("tables/subject_keys")) || bytes.Contains(plain, []byte("account:42\"")) ||
				bytes.Contains(plain, []byte(marker)) || bytes.Contains(plain, []byte("a2V5c2V0LW9mLWFjY291bnQtNDI")) {
				t.Fatal("the decrypted backup holds the subject key")
			}
		})
	}
}

func TestBackupNeedsARecipientAndRestoreAnIdentity(t *testing.T) {
	db := storetest.SQLite(t)
	if _, err := backup.Write(context.Background(), db, io.Discard); err == nil {
		t.Fatal("backup without recipients succeeded")
	}
	b, _ := write(t, db)
	if _, err := backup.Restore(context.Background(), storetest.SQLite(t), bytes.NewReader(b), backup.RestoreOptions{}); err == nil {
		t.Fatal("restore without identities succeeded")
	}
}

// A backup encrypted to several recipients opens with any one of their
// keys; post-quantum hybrid keys work like X25519 ones.
func TestBackupOpensWithAnyOfItsRecipients(t *testing.T) {
	src := storetest.SQLite(t)
	fill(t, src)
	second, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	b, m := write(t, src, testKey.Recipient(), second.Recipient())
	for _, id := range []age.Identity{testKey, second} {
		if got, err := backup.Verify(bytes.NewReader(b), id); err != nil || got.Rows() != m.Rows() {
			t.Fatalf("verify with one of the recipients: %v", err)
		}
	}
	pq, err := age.GenerateHybridIdentity()
	if err != nil {
		t.Fatal(err)
	}
	b, m = write(t, src, pq.Recipient())
	got, err := restore(storetest.SQLite(t), b, pq)
	if err != nil || got.Rows() != m.Rows() {
		t.Fatalf("restore of a post-quantum backup: %v", err)
	}
	if _, err := restore(storetest.SQLite(t), b, testKey); !errors.Is(err, backup.ErrWrongKey) {
		t.Fatalf("restore of a post-quantum backup with an X25519 key: %v", err)
	}
}

// entry is one file of a decrypted backup.
type entry struct {
	name string
	body []byte
}

// reseal decrypts a backup, lets edit change its files, and encrypts the
// result again: what someone holding the public key could do.
func reseal(t *testing.T, b []byte, edit func([]entry) []entry) []byte {
	t.Helper()
	r, err := age.Decrypt(bytes.NewReader(b), testKey)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(r)
	var entries []entry
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		entries = append(entries, entry{h.Name, body})
	}
	entries = edit(entries)
	var out bytes.Buffer
	w, _ := age.Encrypt(&out, testKey.Recipient())
	tw := tar.NewWriter(w)
	for _, e := range entries {
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: e.name, Mode: 0o600, Size: int64(len(e.body))})
		tw.Write(e.body)
	}
	tw.Close()
	w.Close()
	return out.Bytes()
}

func TestRestoreChecksEveryTableAgainstTheManifest(t *testing.T) {
	src := storetest.SQLite(t)
	fill(t, src)
	good, _ := write(t, src)
	find := func(es []entry, name string) int {
		for i, e := range es {
			if e.name == name {
				return i
			}
		}
		t.Fatalf("no %s in the backup", name)
		return -1
	}
	tests := []struct {
		name string
		edit func([]entry) []entry
		msg  string
	}{
		{"a row changed", func(es []entry) []entry {
			i := find(es, "tables/accounts/000001.jsonl")
			es[i].body = bytes.Replace(es[i].body, []byte("anna@example.org"), []byte("eve@example.org"), 1)
			return es
		}, "table accounts: its rows hash to SHA-256"},
		{"a row removed", func(es []entry) []entry {
			i := find(es, "tables/security_events/000001.jsonl")
			es[i].body = es[i].body[bytes.IndexByte(es[i].body, '\n')+1:]
			return es
		}, "table security_events: its rows hash to SHA-256"},
		{"a row count changed", func(es []entry) []entry {
			i := find(es, "manifest.json")
			es[i].body = bytes.Replace(es[i].body, []byte(`"rows": 300,`), []byte(`"rows": 301,`), 1)
			return es
		}, "300 rows, the manifest says 301"},
		{"a value of the wrong type", func(es []entry) []entry {
			i := find(es, "tables/account_roles/000001.jsonl")
			es[i].body = bytes.Replace(es[i].body, []byte("[1,"), []byte(`["1",`), 1)
			return es
		}, "table account_roles row 1"},
		{"a part cut inside a row", func(es []entry) []entry {
			i := find(es, "tables/sessions/000001.jsonl")
			es[i].body = es[i].body[:len(es[i].body)-3]
			return es
		}, "ends inside a row"},
		{"a table missing", func(es []entry) []entry {
			i := find(es, "tables/sessions/000001.jsonl")
			return append(es[:i], es[i+1:]...)
		}, "out of order"},
		{"the manifest missing", func(es []entry) []entry { return es[:len(es)-1] }, "ends before its manifest.json"},
		{"an extra file", func(es []entry) []entry {
			return append(es[:1], append([]entry{{"tables/../../etc/passwd", []byte("x\n")}}, es[1:]...)...)
		}, "unexpected entry"},
		{"the manifest disagrees with the header", func(es []entry) []entry {
			i := find(es, "manifest.json")
			es[i].body = bytes.Replace(es[i].body, []byte(`"dialect": "sqlite"`), []byte(`"dialect": "postgres"`), 1)
			return es
		}, "manifest.json disagrees with header.json"},
		{"a file after the manifest", func(es []entry) []entry { return append(es, entry{"notes.txt", []byte("hi")}) }, "entries after manifest.json"},
	}
	// A backup of a later format is refused as such, before any row.
	future := reseal(t, good, func(es []entry) []entry {
		es[0].body = bytes.Replace(es[0].body, []byte(`"format": "veche-backup/1",`), []byte(`"format": "veche-backup/2", "compression": "zstd",`), 1)
		return es
	})
	if _, err := restore(storetest.SQLite(t), future); !errors.Is(err, backup.ErrNotBackup) || !strings.Contains(err.Error(), `format "veche-backup/2", which is newer`) {
		t.Fatalf("restore of a later format: %v", err)
	}
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					dst := e.open(t)
					_, err := restore(dst, reseal(t, good, tt.edit))
					if !errors.Is(err, backup.ErrDamaged) || !strings.Contains(err.Error(), tt.msg) {
						t.Fatalf("restore: %v; want ErrDamaged containing %q", err, tt.msg)
					}
					checkUntouched(t, dst)
				})
			}
		})
	}
}
