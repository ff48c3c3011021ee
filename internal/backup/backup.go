// Package backup owns veche's encrypted backups of an instance's database:
// [Write] takes a consistent snapshot of every table and writes it
// encrypted, [Restore] loads one into a fresh database, and [Verify]
// checks one without a database.
//
// A backup is an age file (age-encryption.org/v1, https://age-encryption.org/v1,
// through filippo.io/age): the payload is encrypted and authenticated in
// 64 KiB chunks with ChaCha20-Poly1305 (the STREAM construction), so any
// changed, reordered or missing byte, including a cut-off end, fails
// decryption. It is encrypted either to a passphrase (scrypt) or to one or
// more age public keys (X25519 or the post-quantum hybrid), whose private
// halves can be kept offline: the machine that makes backups cannot read
// them.
//
// Inside the encryption is a POSIX tar archive in an engine-neutral form,
// so that a backup made on SQLite restores into PostgreSQL and back:
//
//	header.json                     the manifest without the per-table results
//	tables/<table>/000001.jsonl     the table's rows, one JSON array per line,
//	tables/<table>/000002.jsonl     in primary-key order, split into parts of
//	...                             about 4 MiB
//	manifest.json                   format, created_at, source dialect, the
//	                                schema_migrations versions, each table's
//	                                columns, row count, SHA-256 of its lines
//	                                and sequence, and the excluded tables
//
// Tables come in foreign-key order (a table after those it references).
// Values are typed by their column: integers as JSON numbers, text as JSON
// strings, bytes as standard base64, booleans as true/false, NULL as null.
// The header comes first so that restore refuses a wrong schema before it
// writes anything; the manifest comes last because only then are the
// counts and hashes known. Restore checks every table against it before it
// commits.
//
// Some tables are never in a data backup (see the manifest's excluded
// list): schema_migrations (re-created by the migrations), leases (runtime
// state), dp_ledger_holds (the database's own restores) and subject_keys,
// the per-person data keys. Keys are backed up separately so that erasing
// a person, which destroys their key, also makes every earlier data backup
// unreadable for that person. The instance's key files under <data>/keys
// are not in the database and not in a backup either; docs/backup.md says
// how to keep them.
//
// A key backup ([WriteKeys], [RestoreKeys]) carries what an older data
// backup must not bring back older than it is: the data keys with the
// erasure markers, and the privacy-budget ledger of package privacy/dp.
// Restoring a data backup puts the privacy budgets on hold, since releases
// made after the backup cannot be known from it; restoring a key backup
// made later merges its ledger, so that no release is forgotten and no
// budget spent twice, and lifts the hold.
package backup

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"

	"filippo.io/age"

	"github.com/veche/veche/internal/store"
)

// FormatV1 names the archive layout this package writes and reads.
const FormatV1 = "veche-backup/1"

// What can be wrong with a backup or its target; errors returned by this
// package wrap one of these and say what exactly.
var (
	// ErrNotBackup: the file is not an age file, or it decrypts to
	// something that is not a veche backup.
	ErrNotBackup = errors.New("not a veche backup")
	// ErrWrongKey: no passphrase or identity given can decrypt the file.
	ErrWrongKey = errors.New("wrong passphrase or identity")
	// ErrDamaged: the file is truncated, altered, or disagrees with its
	// own manifest.
	ErrDamaged = errors.New("backup is damaged or was altered")
	// ErrSchemaMismatch: the backup's schema differs from the target's.
	ErrSchemaMismatch = errors.New("backup does not match this veche's schema")
	// ErrNotEmpty: the target database already holds data.
	ErrNotEmpty = errors.New("target database already holds data")
)

// Manifest describes a backup.
type Manifest struct {
	Format    string        `json:"format"`
	CreatedAt time.Time     `json:"created_at"`
	Dialect   store.Dialect `json:"dialect"` // the database it was made from
	Schema    []int         `json:"schema"`  // versions in schema_migrations
	Tables    []Table       `json:"tables"`  // in foreign-key order
	Excluded  []Exclusion   `json:"excluded"`
}

// Table is one backed-up table. Rows, SHA256 and Sequence are set in the
// manifest and empty in the header.
type Table struct {
	Name    string   `json:"name"`
	Columns []Column `json:"columns"`
	Rows    int64    `json:"rows,omitempty"`
	// SHA256 is the hex SHA-256 of the table's lines, all parts in order.
	SHA256 string `json:"sha256,omitempty"`
	// Sequence is the last value the table's id sequence handed out
	// (SQLite sqlite_sequence, PostgreSQL identity), so that restored
	// instances never reuse an id that was deleted before the backup.
	Sequence int64 `json:"sequence,omitempty"`
}

// Column is a table column and its engine-neutral type.
type Column struct {
	Name string `json:"name"`
	Type Type   `json:"type"`
}

// Exclusion is a table the backup leaves out on purpose.
type Exclusion struct {
	Table  string `json:"table"`
	Reason string `json:"reason"`
}

// Rows reports the total number of rows in the backup.
func (m *Manifest) Rows() int64 {
	var n int64
	for _, t := range m.Tables {
		n += t.Rows
	}
	return n
}

const (
	headerName   = "header.json"
	manifestName = "manifest.json"
	partSize     = 4 << 20
	// maxManifest bounds header.json and manifest.json when reading.
	maxManifest = 16 << 20
)

var now = time.Now

// Write writes an encrypted backup of every table of db to dst, encrypted
// to recipients (age.NewScryptRecipient for a passphrase, or age public
// keys). It reads all tables in one read-only transaction — on PostgreSQL
// REPEATABLE READ, on SQLite a WAL read transaction — so the backup is the
// state of one moment while writers carry on. The returned manifest says
// what was written. dst receives nothing usable if Write fails; callers
// writing to a file should write to a temporary name and rename.
func Write(ctx context.Context, db *store.DB, dst io.Writer, recipients ...age.Recipient) (*Manifest, error) {
	if len(recipients) == 0 {
		return nil, errors.New("backup: no recipients: give a passphrase or at least one public key")
	}
	opts := &sql.TxOptions{ReadOnly: true}
	if db.Dialect() == store.Postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := db.SQL().BeginTx(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("backup: begin snapshot: %w", err)
	}
	defer tx.Rollback()

	// The first read fixes the snapshot; everything below sees it.
	versions, err := schemaVersions(ctx, tx)
	if err != nil {
		return nil, err
	}
	tables, excluded, err := discover(ctx, tx, db.Dialect())
	if err != nil {
		return nil, err
	}
	m := &Manifest{
		Format:    FormatV1,
		CreatedAt: now().UTC().Truncate(time.Microsecond),
		Dialect:   db.Dialect(),
		Schema:    versions,
		Excluded:  excluded,
	}
	for _, t := range tables {
		m.Tables = append(m.Tables, Table{Name: t.Name, Columns: t.Columns})
	}

	enc, err := age.Encrypt(dst, recipients...)
	if err != nil {
		return nil, fmt.Errorf("backup: encrypt: %w", err)
	}
	tw := tar.NewWriter(enc)
	if err := writeJSON(tw, headerName, m.CreatedAt, m); err != nil {
		return nil, err
	}
	for i, t := range tables {
		if err := dumpTable(ctx, tx, db.Dialect(), tw, m.CreatedAt, t, &m.Tables[i]); err != nil {
			return nil, err
		}
	}
	if err := writeJSON(tw, manifestName, m.CreatedAt, m); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	return m, tx.Commit()
}

// dumpTable writes one table's rows as parts and fills in its results.
func dumpTable(ctx context.Context, tx *sql.Tx, dialect store.Dialect, tw *tar.Writer, at time.Time, t *tableSchema, out *Table) error {
	if t.identity != "" {
		seq, err := readSequence(ctx, tx, dialect, t)
		if err != nil {
			return fmt.Errorf("backup: sequence of %s: %w", t.Name, err)
		}
		out.Sequence = seq
	}
	rows, err := tx.QueryContext(ctx, selectRows(t))
	if err != nil {
		return fmt.Errorf("backup: read %s: %w", t.Name, err)
	}
	defer rows.Close()
	p := &partWriter{tw: tw, dir: "tables/" + t.Name, at: at, sum: sha256.New()}
	sc := newRowScanner(t.Columns)
	var line []byte
	for rows.Next() {
		line, err = sc.appendRow(line[:0], rows)
		if err != nil {
			return fmt.Errorf("backup: read %s: %w", t.Name, err)
		}
		if len(line) > maxRow {
			return fmt.Errorf("backup: table %s: a row of %d bytes is larger than the %d-byte limit", t.Name, len(line), maxRow)
		}
		if err := p.add(line); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("backup: read %s: %w", t.Name, err)
	}
	if err := p.flush(true); err != nil {
		return err
	}
	out.Rows = p.rows
	out.SHA256 = hex.EncodeToString(p.sum.Sum(nil))
	return nil
}

func readSequence(ctx context.Context, tx *sql.Tx, dialect store.Dialect, t *tableSchema) (int64, error) {
	var seq sql.NullInt64
	var err error
	if dialect == store.Postgres {
		err = tx.QueryRowContext(ctx, "SELECT pg_sequence_last_value(pg_get_serial_sequence($1, $2)::regclass)", t.Name, t.identity).Scan(&seq)
	} else {
		err = tx.QueryRowContext(ctx, "SELECT seq FROM sqlite_sequence WHERE name = ?", t.Name).Scan(&seq)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return seq.Int64, err
}

// partWriter collects a table's lines into tar entries of about partSize.
type partWriter struct {
	tw    *tar.Writer
	dir   string // the parts are dir/000001.jsonl, dir/000002.jsonl, ...
	at    time.Time
	buf   []byte
	parts int
	rows  int64
	sum   hash.Hash
}

func (p *partWriter) add(line []byte) error {
	if len(p.buf) > 0 && len(p.buf)+len(line) > partSize {
		if err := p.flush(false); err != nil {
			return err
		}
	}
	p.buf = append(p.buf, line...)
	p.sum.Write(line)
	p.rows++
	return nil
}

// flush writes the collected lines as the next part. Every table has at
// least one part, empty for an empty table.
func (p *partWriter) flush(last bool) error {
	if len(p.buf) == 0 && (!last || p.parts > 0) {
		return nil
	}
	p.parts++
	if err := writeEntry(p.tw, partName(p.dir, p.parts), p.at, p.buf); err != nil {
		return err
	}
	p.buf = p.buf[:0]
	return nil
}

func partName(dir string, n int) string { return fmt.Sprintf("%s/%06d.jsonl", dir, n) }

func writeJSON(tw *tar.Writer, name string, at time.Time, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("backup: %s: %w", name, err)
	}
	return writeEntry(tw, name, at, append(b, '\n'))
}

func writeEntry(tw *tar.Writer, name string, at time.Time, b []byte) error {
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o600, Size: int64(len(b)), ModTime: at.Truncate(time.Second)}
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("backup: %s: %w", name, err)
	}
	if _, err := tw.Write(b); err != nil {
		return fmt.Errorf("backup: %s: %w", name, err)
	}
	return nil
}
