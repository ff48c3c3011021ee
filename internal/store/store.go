// Package store owns veche's connection to its SQL database and the schema.
//
// veche runs on two databases with one code path: SQLite through the pure-Go
// driver modernc.org/sqlite (the embedded default: one file under the data
// directory, WAL journal, foreign keys on) and PostgreSQL through pgx (for
// production and for more than one app node). Queries are written once with
// `?` placeholders; [DB] and [Tx] rewrite them to PostgreSQL's `$n` form.
//
// The schema is an ordered list of migrations embedded from migrations/*.sql,
// each applied in its own transaction and recorded in schema_migrations.
// Migrations may use a few tokens that expand per dialect ({{ID}}, {{BLOB}});
// everything else is SQL that both databases accept.
//
// Times are stored as BIGINT microseconds since the Unix epoch (see [Micros])
// so that comparisons and ordering behave the same on both databases.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialect names the SQL database behind a [DB].
type Dialect string

// The supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// ErrNotFound is returned when a looked-up row does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when a write violates a uniqueness constraint.
var ErrConflict = errors.New("conflict")

// ErrMissingReference is returned when a write names a row that does not
// exist (a foreign-key violation).
var ErrMissingReference = errors.New("missing referenced row")

// DB is an open database with veche's schema applied.
type DB struct {
	sql     *sql.DB
	dialect Dialect
	// writeMu serialises write transactions on SQLite, which allows one
	// writer at a time anyway: waiting on a Go mutex is fair and wakes at
	// once, where SQLite's busy handler polls with growing sleeps and can
	// starve a steady writer such as the audit-log sequencer.
	writeMu sync.Mutex
	// stmts are SQLite's prepared statements by query text (see prepared).
	stmts  sync.Map // string → *sql.Stmt
	nstmts atomic.Int32
}

// maxPreparedStatements bounds the statement cache: queries built with a
// varying number of placeholders (IN lists) would otherwise grow it
// without end. Past it, queries are prepared each time, as before.
const maxPreparedStatements = 1024

// prepared returns the prepared statement of query on SQLite, or nil to
// run it unprepared. modernc.org/sqlite compiles a query anew at every
// call, which costs a busy request more than running it; database/sql
// keeps a Stmt prepared on each connection it has run on, and a
// transaction reuses its connection's. PostgreSQL's driver (pgx) has a
// statement cache of its own per connection, so it gets nil; so does a
// text of several statements, which a prepared statement would cut
// short, and a query that fails to prepare, so that running it reports
// the error as before.
func (db *DB) prepared(ctx context.Context, query string) *sql.Stmt {
	if db.dialect != SQLite || strings.Contains(query, ";") {
		return nil
	}
	if st, ok := db.stmts.Load(query); ok {
		return st.(*sql.Stmt)
	}
	if db.nstmts.Load() >= maxPreparedStatements {
		return nil
	}
	st, err := db.sql.PrepareContext(context.WithoutCancel(ctx), query)
	if err != nil {
		return nil
	}
	if have, loaded := db.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		return have.(*sql.Stmt)
	}
	db.nstmts.Add(1)
	return st
}

// Open connects to the database named by dsn and applies pending migrations.
// A dsn starting with postgres:// or postgresql:// selects PostgreSQL; any
// other value is the path of a SQLite database file, created if missing.
func Open(ctx context.Context, dsn string) (*DB, error) {
	return open(ctx, dsn, true)
}

// ErrSchemaVersion is returned by [OpenExisting] when the database's schema
// is not the one this build expects.
var ErrSchemaVersion = errors.New("store: the database schema is not at this build's version")

// OpenExisting opens a database without changing it: no migration is
// applied, and a schema older or newer than this build's is refused with
// [ErrSchemaVersion]. Tools that only read an instance (backups) use it,
// so that running a newer build against a production database never
// migrates it as a side effect.
func OpenExisting(ctx context.Context, dsn string) (*DB, error) {
	db, err := open(ctx, dsn, false)
	if err != nil {
		return nil, err
	}
	ms, err := loadMigrations()
	if err != nil {
		db.Close()
		return nil, err
	}
	want := ms[len(ms)-1].version
	var have int
	if err := db.sql.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&have); err != nil {
		db.Close()
		return nil, fmt.Errorf("%w: no schema_migrations table (%v)", ErrSchemaVersion, err)
	}
	if have != want {
		db.Close()
		return nil, fmt.Errorf("%w: the database is at version %d and this veche at %d; use the release that runs the instance", ErrSchemaVersion, have, want)
	}
	return db, nil
}

func open(ctx context.Context, dsn string, migrate bool) (*DB, error) {
	var (
		db      *sql.DB
		dialect Dialect
		err     error
	)
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		dialect = Postgres
		db, err = sql.Open("pgx", dsn)
		if err == nil {
			db.SetMaxOpenConns(32)
			db.SetMaxIdleConns(16)
			db.SetConnMaxIdleTime(5 * time.Minute)
		}
	} else {
		dialect = SQLite
		if dir := filepath.Dir(dsn); dir != "" {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, fmt.Errorf("store: create database directory: %w", err)
			}
		}
		q := url.Values{}
		// busy_timeout makes concurrent writers wait instead of failing;
		// _txlock=immediate takes the write lock at BEGIN, so two writers
		// never deadlock upgrading read locks; secure_delete overwrites
		// deleted rows, so erased or expired personal data does not linger
		// in free pages of the file.
		for _, p := range []string{"journal_mode(WAL)", "foreign_keys(1)", "busy_timeout(10000)", "synchronous(NORMAL)", "secure_delete(1)"} {
			q.Add("_pragma", p)
		}
		q.Set("_txlock", "immediate")
		db, err = sql.Open("sqlite", "file:"+dsn+"?"+q.Encode())
		if err == nil {
			// SQLite has one writer at a time; a small pool keeps readers
			// concurrent under WAL without piling up lock waits. Every
			// connection is kept open: opening one runs its pragmas, and
			// its prepared statements (see prepared) live with it.
			db.SetMaxOpenConns(8)
			db.SetMaxIdleConns(8)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", dialect, err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: connect to %s: %w", dialect, err)
	}
	s := &DB{sql: db, dialect: dialect}
	if migrate {
		if err := s.migrate(ctx); err != nil {
			db.Close()
			return nil, err
		}
	}
	return s, nil
}

// Dialect reports which database this is.
func (db *DB) Dialect() Dialect { return db.dialect }

// Close closes the connection pool.
func (db *DB) Close() error { return db.sql.Close() }

// SQL returns the underlying pool, for tools that need database/sql directly
// (backups, benchmarks). Queries through it are not rewritten.
func (db *DB) SQL() *sql.DB { return db.sql }

// Exec runs a statement outside a transaction. On SQLite it queues with
// the write transactions (see writeMu): a statement run through Exec is a
// write, and left to SQLite's busy handler it could wait for seconds behind
// a steady stream of transactions.
func (db *DB) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if db.dialect == SQLite {
		db.writeMu.Lock()
		defer db.writeMu.Unlock()
	}
	var res sql.Result
	var err error
	if st := db.prepared(ctx, query); st != nil {
		res, err = st.ExecContext(ctx, args...)
	} else {
		res, err = db.sql.ExecContext(ctx, db.Rebind(query), args...)
	}
	return res, db.classify(err)
}

// Query runs a query outside a transaction.
func (db *DB) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	var rows *sql.Rows
	var err error
	if st := db.prepared(ctx, query); st != nil {
		rows, err = st.QueryContext(ctx, args...)
	} else {
		rows, err = db.sql.QueryContext(ctx, db.Rebind(query), args...)
	}
	return rows, db.classify(err)
}

// QueryRow runs a query expected to return at most one row.
func (db *DB) QueryRow(ctx context.Context, query string, args ...any) *Row {
	if st := db.prepared(ctx, query); st != nil {
		return &Row{row: st.QueryRowContext(ctx, args...), db: db}
	}
	return &Row{row: db.sql.QueryRowContext(ctx, db.Rebind(query), args...), db: db}
}

// InTx runs fn in a read-write transaction, committing if fn returns nil and
// rolling back otherwise. On SQLite the write lock is taken at the start,
// and transactions of one DB queue for it in order. InTx must not be
// called from inside fn.
func (db *DB) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	if db.dialect == SQLite {
		db.writeMu.Lock()
		defer db.writeMu.Unlock()
	}
	sqlTx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", db.classify(err))
	}
	tx := &Tx{tx: sqlTx, db: db}
	if err := fn(tx); err != nil {
		sqlTx.Rollback()
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", db.classify(err))
	}
	for _, f := range tx.afterCommit {
		f()
	}
	return nil
}

// Tx is a transaction. Every write that belongs to one state change (the
// data, its audit entry, its outbox message) goes through the same Tx.
type Tx struct {
	tx          *sql.Tx
	db          *DB
	afterCommit []func()
}

// Dialect reports which database this is.
func (tx *Tx) Dialect() Dialect { return tx.db.dialect }

// stmt is the transaction's use of query's prepared statement (the one
// its connection already has, or prepared on it now), or nil.
func (tx *Tx) stmt(ctx context.Context, query string) *sql.Stmt {
	if st := tx.db.prepared(ctx, query); st != nil {
		return tx.tx.StmtContext(ctx, st)
	}
	return nil
}

// Exec runs a statement in the transaction.
func (tx *Tx) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	var res sql.Result
	var err error
	if st := tx.stmt(ctx, query); st != nil {
		res, err = st.ExecContext(ctx, args...)
	} else {
		res, err = tx.tx.ExecContext(ctx, tx.db.Rebind(query), args...)
	}
	return res, tx.db.classify(err)
}

// Query runs a query in the transaction.
func (tx *Tx) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	var rows *sql.Rows
	var err error
	if st := tx.stmt(ctx, query); st != nil {
		rows, err = st.QueryContext(ctx, args...)
	} else {
		rows, err = tx.tx.QueryContext(ctx, tx.db.Rebind(query), args...)
	}
	return rows, tx.db.classify(err)
}

// QueryRow runs a query expected to return at most one row.
func (tx *Tx) QueryRow(ctx context.Context, query string, args ...any) *Row {
	if st := tx.stmt(ctx, query); st != nil {
		return &Row{row: st.QueryRowContext(ctx, args...), db: tx.db}
	}
	return &Row{row: tx.tx.QueryRowContext(ctx, tx.db.Rebind(query), args...), db: tx.db}
}

// AfterCommit registers f to run once the transaction has committed, for
// work that must not happen if it rolls back (waking a background worker).
func (tx *Tx) AfterCommit(f func()) { tx.afterCommit = append(tx.afterCommit, f) }

// Row is the result of QueryRow; Scan reports [ErrNotFound] for no row.
type Row struct {
	row *sql.Row
	db  *DB
}

// Scan copies the row's columns into dest.
func (r *Row) Scan(dest ...any) error {
	err := r.row.Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return r.db.classify(err)
}

// Rebind rewrites `?` placeholders into the dialect's form. Question marks
// inside single-quoted literals are left alone.
func (db *DB) Rebind(query string) string {
	if db.dialect != Postgres || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 8)
	n, quoted := 0, false
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'':
			quoted = !quoted
			b.WriteByte(c)
		case c == '?' && !quoted:
			n++
			b.WriteByte('$')
			b.WriteString(fmt.Sprint(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// classify maps driver errors that callers branch on to [ErrConflict].
func (db *DB) classify(err error) error {
	if err == nil {
		return nil
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505":
			return fmt.Errorf("%w: %s", ErrConflict, pgErr.ConstraintName)
		case "23503":
			return fmt.Errorf("%w: %s", ErrMissingReference, pgErr.ConstraintName)
		}
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		switch liteErr.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w: %v", ErrConflict, err)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return fmt.Errorf("%w: %v", ErrMissingReference, err)
		}
	}
	return err
}

// Micros converts t to the stored form: microseconds since the Unix epoch.
func Micros(t time.Time) int64 { return t.UnixMicro() }

// FromMicros converts a stored time back to a time.Time in UTC.
func FromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// IDs reads a query's single int64 column, closing rows, for the
// common "which rows" query before a loop over them:
//
//	ids, err := store.IDs(db.Query(ctx, "SELECT id FROM t WHERE ...", args...))
func IDs(rows *sql.Rows, err error) ([]int64, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
