package backup

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"filippo.io/age"

	"github.com/veche/veche/internal/privacy/dp"
	"github.com/veche/veche/internal/store"
)

// RestoreOptions tune [Restore]; the zero value restores only into a
// database that holds no data yet, and puts its privacy budgets on hold.
type RestoreOptions struct {
	// Force replaces the data the target already holds.
	Force bool
	// DPLedgerComplete is an operator's word that no differential-privacy
	// release was made after the backup, so that its privacy-budget
	// ledger is complete and releases may go on at once. Without it the
	// restored ledger is on hold (see [Restore]).
	DPLedgerComplete bool
}

// Restore decrypts the backup read from src with identities
// (age.NewScryptIdentity for a passphrase, or age private keys) and loads
// it into db, which store.Open has migrated. The backup's schema versions
// must equal db's. Everything happens in one transaction that commits
// only after every table matched the manifest's row count and SHA-256 and
// the file's end was authenticated, so a failed restore leaves db as it
// was. Unless opts.Force is set, db must hold no data beyond what the
// migrations create. Identity sequences are set past the restored ids.
//
// The restore also puts the privacy budgets on hold (dp.PlaceHold, in the
// same transaction): the backup's ledger knows only the releases made
// before it, and spending the budget of a release made later a second
// time would publish more about people than the budget allows. Releases
// are refused until [RestoreKeys] merges a ledger made after the backup,
// or an operator confirms that none is missing (opts.DPLedgerComplete,
// or dp.Ledger.Confirm later).
func Restore(ctx context.Context, db *store.DB, src io.Reader, opts RestoreOptions, identities ...age.Identity) (*Manifest, error) {
	a, err := openArchive(src, identities)
	if err != nil {
		return nil, err
	}
	have, err := schemaVersions(ctx, db.SQL())
	if err != nil {
		return nil, err
	}
	if err := sameSchema(a.header.Schema, have); err != nil {
		return nil, err
	}
	target, _, err := discover(ctx, db.SQL(), db.Dialect())
	if err != nil {
		return nil, err
	}
	byName, err := matchTables(a.header, target)
	if err != nil {
		return nil, err
	}
	var m *Manifest
	err = db.InTx(ctx, func(tx *store.Tx) error {
		if db.Dialect() == store.SQLite {
			// Checked at commit instead of per row; the order of tables
			// already satisfies them, this covers rows referencing rows
			// of their own table further down.
			if _, err := tx.Exec(ctx, "PRAGMA defer_foreign_keys = ON"); err != nil {
				return err
			}
		}
		if !opts.Force {
			if err := checkEmpty(ctx, tx, target); err != nil {
				return err
			}
		}
		for _, t := range slices.Backward(target) {
			if _, err := tx.Exec(ctx, "DELETE FROM "+quote(t.Name)); err != nil {
				return fmt.Errorf("backup: clear %s: %w", t.Name, err)
			}
		}
		ins := &inserter{ctx: ctx, tx: tx, tables: byName}
		m, err = a.walk(ins)
		if err != nil {
			return err
		}
		for _, t := range m.Tables {
			if err := resetSequence(ctx, tx, byName[t.Name], t.Sequence); err != nil {
				return err
			}
		}
		hold := dp.Hold{PlacedAt: now().UTC(), KnownUntil: m.CreatedAt}
		if opts.DPLedgerComplete {
			hold.LiftedAt, hold.LiftedBy = hold.PlacedAt, "operator: confirmed at the restore that no release was made after the backup"
		}
		return dp.PlaceHold(ctx, tx, hold)
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// Verify decrypts the backup read from src and checks all of it — the
// archive, every row's form, each table's row count and SHA-256, and the
// authenticated end — without a database. It returns the manifest.
func Verify(src io.Reader, identities ...age.Identity) (*Manifest, error) {
	a, err := openArchive(src, identities)
	if err != nil {
		return nil, err
	}
	return a.walk(nil)
}

func sameSchema(backup, have []int) error {
	if slices.Equal(backup, have) {
		return nil
	}
	top := func(v []int) int {
		if len(v) == 0 {
			return 0
		}
		return v[len(v)-1]
	}
	switch b, h := top(backup), top(have); {
	case b > h:
		return fmt.Errorf("%w: the backup is from schema version %d and this veche has schema version %d: restore it with the veche release that made it, or a newer one",
			ErrSchemaMismatch, b, h)
	case b < h:
		return fmt.Errorf("%w: the backup is from schema version %d and this veche has schema version %d: restore it with the veche release that made it, then upgrade",
			ErrSchemaMismatch, b, h)
	default:
		return fmt.Errorf("%w: the backup's migrations %v differ from the database's %v", ErrSchemaMismatch, backup, have)
	}
}

// matchTables checks that the backup holds exactly the target's tables,
// with the same columns, in an order the target's foreign keys accept.
func matchTables(h *Manifest, target []*tableSchema) (map[string]*tableSchema, error) {
	byName := map[string]*tableSchema{}
	for _, t := range target {
		byName[t.Name] = t
	}
	seen := map[string]bool{}
	for _, bt := range h.Tables {
		t, ok := byName[bt.Name]
		if !ok {
			return nil, fmt.Errorf("%w: the backup has table %s, which this database does not", ErrSchemaMismatch, bt.Name)
		}
		if !slices.Equal(bt.Columns, t.Columns) {
			return nil, fmt.Errorf("%w: table %s has columns %v in the backup and %v in this database", ErrSchemaMismatch, bt.Name, bt.Columns, t.Columns)
		}
		for p := range t.parents {
			if _, inTarget := byName[p]; inTarget && !seen[p] {
				return nil, fmt.Errorf("%w: the backup lists table %s before %s, which it references", ErrDamaged, bt.Name, p)
			}
		}
		seen[bt.Name] = true
	}
	for _, t := range target {
		if !seen[t.Name] {
			return nil, fmt.Errorf("%w: this database has table %s, which the backup does not", ErrSchemaMismatch, t.Name)
		}
	}
	return byName, nil
}

// checkEmpty refuses a target holding more rows than a freshly migrated
// database (migrations seed a few rows, such as the empty audit-log
// checkpoint).
func checkEmpty(ctx context.Context, tx *store.Tx, tables []*tableSchema) error {
	counts := map[string]int64{}
	someRows := false
	for _, t := range tables {
		var n int64
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM "+quote(t.Name)).Scan(&n); err != nil {
			return fmt.Errorf("backup: count %s: %w", t.Name, err)
		}
		counts[t.Name] = n
		someRows = someRows || n > 0
	}
	if !someRows {
		return nil
	}
	fresh, err := freshCounts(ctx)
	if err != nil {
		return err
	}
	for _, t := range tables {
		if counts[t.Name] != fresh[t.Name] {
			return fmt.Errorf("%w: table %s has %d rows; restore into a fresh database, or force it to replace the data", ErrNotEmpty, t.Name, counts[t.Name])
		}
	}
	return nil
}

// freshCounts counts the rows the migrations alone put in each table, in a
// throw-away SQLite database.
func freshCounts(ctx context.Context) (map[string]int64, error) {
	dir, err := os.MkdirTemp("", "veche-fresh-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	db, err := store.Open(ctx, filepath.Join(dir, "fresh.db"))
	if err != nil {
		return nil, err
	}
	defer db.Close()
	tables, _, err := discover(ctx, db.SQL(), db.Dialect())
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, t := range tables {
		var n int64
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM "+quote(t.Name)).Scan(&n); err != nil {
			return nil, err
		}
		out[t.Name] = n
	}
	return out, nil
}

// resetSequence moves the table's id sequence past both the restored ids
// and the sequence the backup recorded.
func resetSequence(ctx context.Context, tx *store.Tx, t *tableSchema, seq int64) error {
	if t.identity == "" {
		return nil
	}
	var err error
	if tx.Dialect() == store.Postgres {
		_, err = tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence(?, ?), GREATEST(m, 1), m > 0)
			FROM (SELECT GREATEST(COALESCE(MAX(`+quote(t.identity)+`), 0), ?) AS m FROM `+quote(t.Name)+`) s`,
			t.Name, t.identity, seq)
	} else if seq > 0 {
		// SQLite already moved sqlite_sequence past the inserted ids.
		_, err = tx.Exec(ctx, `INSERT INTO sqlite_sequence (name, seq) SELECT ?, 0
			WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = ?)`, t.Name, t.Name)
		if err == nil {
			_, err = tx.Exec(ctx, "UPDATE sqlite_sequence SET seq = MAX(seq, ?) WHERE name = ?", seq, t.Name)
		}
	}
	if err != nil {
		return fmt.Errorf("backup: reset the id sequence of %s: %w", t.Name, err)
	}
	return nil
}

// inserter loads rows with multi-row INSERTs.
type inserter struct {
	ctx    context.Context
	tx     *store.Tx
	tables map[string]*tableSchema

	table *tableSchema
	args  []any
	n     int // rows in args
	size  int // bytes of the lines in args
	full  string
}

const (
	maxBatchRows   = 500
	maxBatchParams = 10000 // under SQLite's 32766 and PostgreSQL's 65535
	maxBatchBytes  = 8 << 20
)

func (ins *inserter) row(name string, values []any, size int) error {
	if ins.table == nil || ins.table.Name != name {
		ins.table, ins.full = ins.tables[name], ""
	}
	ins.args = append(ins.args, values...)
	ins.n++
	ins.size += size
	if ins.n >= min(maxBatchRows, maxBatchParams/len(values)) || ins.size >= maxBatchBytes {
		return ins.flush()
	}
	return nil
}

func (ins *inserter) flush() error {
	if ins.n == 0 {
		return nil
	}
	var q string
	if ins.n == min(maxBatchRows, maxBatchParams/len(ins.table.Columns)) && ins.full != "" {
		q = ins.full
	} else {
		q = insertStatement(ins.table, ins.n)
		if ins.n == min(maxBatchRows, maxBatchParams/len(ins.table.Columns)) {
			ins.full = q
		}
	}
	if _, err := ins.tx.Exec(ins.ctx, q, ins.args...); err != nil {
		return fmt.Errorf("backup: load %s: %w", ins.table.Name, err)
	}
	clear(ins.args)
	ins.args, ins.n, ins.size = ins.args[:0], 0, 0
	return nil
}

func insertStatement(t *tableSchema, n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO ")
	b.WriteString(quote(t.Name))
	b.WriteString(" (")
	for i, c := range t.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quote(c.Name))
	}
	b.WriteString(")")
	if t.always {
		b.WriteString(" OVERRIDING SYSTEM VALUE")
	}
	b.WriteString(" VALUES ")
	row := "(" + strings.Repeat("?, ", len(t.Columns)-1) + "?)"
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	return b.String()
}

// archive reads a decrypted backup.
type archive struct {
	src    *authReader
	tr     *tar.Reader
	header *Manifest
}

// ageIntro is how every binary age file begins.
const ageIntro = "age-encryption.org/v1\n"

// decrypt opens the age file read from src, telling a file that is not
// age apart from a wrong key and from a damaged header.
func decrypt(src io.Reader, identities []age.Identity) (*authReader, error) {
	if len(identities) == 0 {
		return nil, errors.New("backup: no passphrase or identity to decrypt with")
	}
	br := bufio.NewReader(src)
	intro, _ := br.Peek(len(ageIntro))
	if string(intro) != ageIntro {
		switch {
		case len(intro) == 0:
			return nil, fmt.Errorf("%w: the file is empty", ErrNotBackup)
		case bytes.HasPrefix(intro, []byte("-----BEGIN AGE")):
			return nil, fmt.Errorf("%w: the file is ASCII-armored age; veche backups are binary (de-armor it with 'age -d' first)", ErrNotBackup)
		}
		return nil, fmt.Errorf("%w: the file is not age-encrypted (it does not start with %q)", ErrNotBackup, strings.TrimSpace(ageIntro))
	}
	r, err := age.Decrypt(br, identities...)
	if err != nil {
		var noMatch *age.NoIdentityMatchError
		if errors.As(err, &noMatch) {
			return nil, fmt.Errorf("%w: %v", ErrWrongKey, err)
		}
		return nil, fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	return &authReader{r: r}, nil
}

func openArchive(src io.Reader, identities []age.Identity) (*archive, error) {
	plain, err := decrypt(src, identities)
	if err != nil {
		return nil, err
	}
	a := &archive{src: plain}
	peek := bufio.NewReaderSize(plain, 4096)
	start, _ := peek.Peek(len(keysIntro))
	a.tr = tar.NewReader(peek)
	hdr, err := a.tr.Next()
	if err != nil || hdr.Name != headerName {
		if a.src.err != nil {
			return nil, fmt.Errorf("%w: %v", ErrDamaged, a.src.err)
		}
		if string(start) == keysIntro || (err == nil && hdr.Name == keysHeaderName) {
			return nil, fmt.Errorf("%w: this is a key backup; restore it with 'veche restore keys'", ErrNotBackup)
		}
		return nil, fmt.Errorf("%w: the file decrypts, but holds no %s", ErrNotBackup, headerName)
	}
	h, err := a.readManifest(hdr)
	if err != nil {
		return nil, err
	}
	if err := checkHeader(h); err != nil {
		return nil, err
	}
	a.header = h
	return a, nil
}

func (a *archive) readManifest(hdr *tar.Header) (*Manifest, error) {
	var m Manifest
	if err := a.decodeManifest(a.tr, hdr, FormatV1, "veche-backup/", &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// decodeManifest reads the manifest hdr names from r into m, strictly
// (unknown fields are damage), once its format is want. The format is
// read first, on its own: a later format of the same family (a name
// starting with family) may have fields this one lacks, and is refused as
// newer rather than as damaged.
func (a *archive) decodeManifest(r io.Reader, hdr *tar.Header, want, family string, m any) error {
	if hdr.Size > maxManifest {
		return fmt.Errorf("%w: %s is %d bytes", ErrDamaged, hdr.Name, hdr.Size)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return a.damaged(err)
	}
	var f struct{ Format string }
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrDamaged, hdr.Name, err)
	}
	if f.Format != want {
		if strings.HasPrefix(f.Format, family) {
			return fmt.Errorf("%w: it has format %q, which is newer than this veche reads (%s)", ErrNotBackup, f.Format, want)
		}
		return fmt.Errorf("%w: %s names format %q", ErrNotBackup, hdr.Name, f.Format)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(m); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrDamaged, hdr.Name, err)
	}
	return nil
}

// checkHeader rejects names and types that restore would have to trust.
func checkHeader(h *Manifest) error {
	seen := map[string]bool{}
	for _, t := range h.Tables {
		if !validName(t.Name) || seen[t.Name] {
			return fmt.Errorf("%w: bad or repeated table name %q", ErrDamaged, t.Name)
		}
		seen[t.Name] = true
		if len(t.Columns) == 0 {
			return fmt.Errorf("%w: table %s has no columns", ErrDamaged, t.Name)
		}
		for _, c := range t.Columns {
			switch c.Type {
			case Integer, Text, Bytes, Boolean, Real:
			default:
				return fmt.Errorf("%w: table %s column %s has unknown type %q", ErrDamaged, t.Name, c.Name, c.Type)
			}
		}
	}
	return nil
}

// damaged wraps a read error: decryption failures come from the age
// stream (authentication failed, truncated), anything else from the
// archive.
func (a *archive) damaged(err error) error {
	if a.src.err != nil {
		return fmt.Errorf("%w: decryption failed: %v", ErrDamaged, a.src.err)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: the archive ends early", ErrDamaged)
	}
	return fmt.Errorf("%w: %v", ErrDamaged, err)
}

// walk reads every table part in order, hands each row to ins (nil to
// only check), and returns the manifest once everything matched it.
func (a *archive) walk(ins *inserter) (*Manifest, error) {
	h := a.header
	type result struct {
		rows  int64
		parts int
		sum   hash.Hash
	}
	results := make([]result, len(h.Tables))
	for i := range results {
		results[i].sum = sha256.New()
	}
	index := map[string]int{}
	for i, t := range h.Tables {
		index[t.Name] = i
	}
	cur := -1
	br := bufio.NewReaderSize(nil, 1<<20)
	var hdr *tar.Header
	for {
		var err error
		hdr, err = a.tr.Next()
		if err == io.EOF {
			return nil, fmt.Errorf("%w: the archive ends before its %s (cut off?)", ErrDamaged, manifestName)
		}
		if err != nil {
			return nil, a.damaged(err)
		}
		if hdr.Name == manifestName {
			break
		}
		table, part, ok := parsePartName(hdr.Name)
		i, known := index[table]
		if !ok || !known {
			return nil, fmt.Errorf("%w: unexpected entry %q", ErrDamaged, hdr.Name)
		}
		if i != cur && i != cur+1 || part != results[i].parts+1 {
			return nil, fmt.Errorf("%w: entry %q is out of order", ErrDamaged, hdr.Name)
		}
		if i != cur && ins != nil {
			if err := ins.flush(); err != nil {
				return nil, err
			}
		}
		cur = i
		r := &results[i]
		r.parts++
		t := &h.Tables[i]
		br.Reset(a.tr)
		for {
			line, err := readLine(br)
			if err == io.EOF {
				break
			}
			if err != nil {
				if errors.Is(err, errLongLine) || errors.Is(err, errPartialRow) {
					return nil, fmt.Errorf("%w: %s: %v", ErrDamaged, hdr.Name, err)
				}
				return nil, a.damaged(err)
			}
			r.sum.Write(line)
			r.rows++
			values, err := decodeRow(line, t.Columns)
			if err != nil {
				return nil, fmt.Errorf("%w: table %s row %d: %v", ErrDamaged, t.Name, r.rows, err)
			}
			if ins != nil {
				if err := ins.row(t.Name, values, len(line)); err != nil {
					return nil, err
				}
			}
		}
	}
	if ins != nil {
		if err := ins.flush(); err != nil {
			return nil, err
		}
	}
	if cur != len(h.Tables)-1 {
		return nil, fmt.Errorf("%w: table %s is missing", ErrDamaged, h.Tables[cur+1].Name)
	}
	m, err := a.readManifest(hdr)
	if err != nil {
		return nil, err
	}
	if err := sameHeader(h, m); err != nil {
		return nil, err
	}
	for i, t := range m.Tables {
		r := results[i]
		if got := hex.EncodeToString(r.sum.Sum(nil)); got != t.SHA256 {
			return nil, fmt.Errorf("%w: table %s: its rows hash to SHA-256 %s, the manifest says %s", ErrDamaged, t.Name, got, t.SHA256)
		}
		if r.rows != t.Rows {
			return nil, fmt.Errorf("%w: table %s: %d rows, the manifest says %d", ErrDamaged, t.Name, r.rows, t.Rows)
		}
	}
	if _, err := a.tr.Next(); err != io.EOF {
		if err == nil {
			return nil, fmt.Errorf("%w: entries after %s", ErrDamaged, manifestName)
		}
		return nil, a.damaged(err)
	}
	// The tar reader stops at the end-of-archive marker; reading on to the
	// end of the age stream authenticates its last chunk, which is what
	// proves the file was not cut short.
	if _, err := io.Copy(io.Discard, a.src); err != nil {
		return nil, a.damaged(err)
	}
	return m, nil
}

// sameHeader checks that the manifest describes the same backup as the
// header read at the start.
func sameHeader(h, m *Manifest) error {
	same := h.Format == m.Format && h.CreatedAt.Equal(m.CreatedAt) && h.Dialect == m.Dialect &&
		slices.Equal(h.Schema, m.Schema) && slices.Equal(h.Excluded, m.Excluded) && len(h.Tables) == len(m.Tables)
	for i := 0; same && i < len(h.Tables); i++ {
		same = h.Tables[i].Name == m.Tables[i].Name && slices.Equal(h.Tables[i].Columns, m.Tables[i].Columns)
	}
	if !same {
		return fmt.Errorf("%w: %s disagrees with %s", ErrDamaged, manifestName, headerName)
	}
	return nil
}

func parsePartName(name string) (table string, part int, ok bool) {
	rest, ok := strings.CutPrefix(name, "tables/")
	if !ok {
		return "", 0, false
	}
	table, file, ok := strings.Cut(rest, "/")
	if !ok {
		return "", 0, false
	}
	num, ok := strings.CutSuffix(file, ".jsonl")
	if !ok || len(num) != 6 {
		return "", 0, false
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 1 {
		return "", 0, false
	}
	return table, n, true
}

var (
	errLongLine   = errors.New("a row is longer than the limit")
	errPartialRow = errors.New("a part ends inside a row")
)

// readLine returns the next line with its newline; a part must end with
// one. The slice is valid until the next call.
func readLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if err == nil {
		return line, nil
	}
	if err == io.EOF {
		if len(line) > 0 {
			return nil, errPartialRow
		}
		return nil, io.EOF
	}
	if err != bufio.ErrBufferFull {
		return nil, err
	}
	long := append([]byte(nil), line...)
	for {
		line, err = br.ReadSlice('\n')
		long = append(long, line...)
		if len(long) > maxRow {
			return nil, errLongLine
		}
		switch err {
		case nil:
			return long, nil
		case bufio.ErrBufferFull:
			continue
		case io.EOF:
			return nil, errPartialRow
		default:
			return nil, err
		}
	}
}

// authReader remembers the first error of the age stream, so that errors
// the tar reader reports can be told apart from failed decryption.
type authReader struct {
	r   io.Reader
	err error
}

func (a *authReader) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	if err != nil && err != io.EOF && a.err == nil {
		a.err = err
	}
	return n, err
}
