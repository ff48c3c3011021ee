package backup

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/veche/veche/internal/store"
)

// Type is the engine-neutral type of a column, which fixes how its values
// are written: integer as a JSON number, text as a JSON string, bytes as
// standard base64, boolean as true/false, real as a JSON number; NULL is
// null in every type.
type Type string

// The column types a backup knows. A column of any other type stops the
// backup with an error rather than being left out.
const (
	Integer Type = "integer"
	Text    Type = "text"
	Bytes   Type = "bytes"
	Boolean Type = "boolean"
	Real    Type = "real"
)

// Tables that are never in a data backup, and why. Everything else the
// database holds is backed up; the manifest lists these exclusions.
var excludedTables = map[string]string{
	"schema_migrations": "schema history: restore re-creates it by running the migrations, and the manifest's schema field records the versions",
	"leases":            "runtime state: background-job leases held by running nodes",
	"subject_keys":      "per-person data keys: backed up separately with 'veche backup keys', so that erasing a person also makes earlier data backups unreadable for that person",
	"sqlite_sequence":   "SQLite's internal id counters: recorded per table as its sequence",
	"dp_ledger_holds":   "this database's own restores (package privacy/dp): every restore puts the privacy budgets on hold anew, from the backup's time",
	// The search index copies public text that is sealed elsewhere; a
	// backup holding it would keep erased people's words readable. It is
	// rebuilt after a restore (veche search reindex, or the housekeeping job).
	"search_documents":   "search index (package participation/search): plaintext copies of public text sealed elsewhere, rebuilt from the sealed content after a restore",
	"search_fts":         "search index: SQLite FTS5 table over search_documents",
	"search_fts_data":    "search index: SQLite FTS5 shadow table",
	"search_fts_idx":     "search index: SQLite FTS5 shadow table",
	"search_fts_docsize": "search index: SQLite FTS5 shadow table",
	"search_fts_config":  "search index: SQLite FTS5 shadow table",
}

// tableSchema is what restore and backup need to know about one table of
// a live database.
type tableSchema struct {
	Table
	keys     []string        // primary-key columns, in key order
	parents  map[string]bool // tables its foreign keys reference (itself excluded)
	identity string          // the column fed by a sequence, if any
	always   bool            // PostgreSQL GENERATED ALWAYS: inserts need OVERRIDING SYSTEM VALUE
}

// querier is what schema discovery reads through: a pool, a connection or
// a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// discover lists the tables of the database's current schema in an order
// where every table comes after the tables its foreign keys reference, and
// the tables it leaves out with the reason.
func discover(ctx context.Context, q querier, dialect store.Dialect) ([]*tableSchema, []Exclusion, error) {
	var names []string
	var err error
	if dialect == store.Postgres {
		names, err = queryStrings(ctx, q, `SELECT table_name FROM information_schema.tables
			WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`)
	} else {
		names, err = queryStrings(ctx, q, `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("backup: list tables: %w", err)
	}
	var (
		tables   []*tableSchema
		excluded []Exclusion
	)
	for _, name := range names {
		if reason, ok := excludedTables[name]; ok {
			excluded = append(excluded, Exclusion{Table: name, Reason: reason})
			continue
		}
		if dialect == store.SQLite && strings.HasPrefix(name, "sqlite_") {
			excluded = append(excluded, Exclusion{Table: name, Reason: "SQLite internal table"})
			continue
		}
		if !validName(name) {
			return nil, nil, fmt.Errorf("backup: table %q: name is not a plain lower-case identifier", name)
		}
		var t *tableSchema
		if dialect == store.Postgres {
			t, err = describePostgres(ctx, q, name)
		} else {
			t, err = describeSQLite(ctx, q, name)
		}
		if err != nil {
			return nil, nil, err
		}
		tables = append(tables, t)
	}
	tables, err = dependencyOrder(tables)
	return tables, excluded, err
}

func describeSQLite(ctx context.Context, q querier, name string) (*tableSchema, error) {
	t := &tableSchema{Table: Table{Name: name}, parents: map[string]bool{}}
	rows, err := q.QueryContext(ctx, "SELECT name, type, pk FROM pragma_table_info(?) ORDER BY cid", name)
	if err != nil {
		return nil, fmt.Errorf("backup: columns of %s: %w", name, err)
	}
	type keyCol struct {
		name string
		pos  int
	}
	var keys []keyCol
	for rows.Next() {
		var col, decl string
		var pk int
		if err := rows.Scan(&col, &decl, &pk); err != nil {
			rows.Close()
			return nil, err
		}
		typ, ok := sqliteType(decl)
		if !ok {
			rows.Close()
			return nil, fmt.Errorf("backup: table %s column %s has type %q, which backups do not know", name, col, decl)
		}
		if !validName(col) {
			rows.Close()
			return nil, fmt.Errorf("backup: table %s column %q: name is not a plain lower-case identifier", name, col)
		}
		t.Columns = append(t.Columns, Column{Name: col, Type: typ})
		if pk > 0 {
			keys = append(keys, keyCol{col, pk})
		}
	}
	if err := closeRows(rows); err != nil {
		return nil, err
	}
	slices.SortFunc(keys, func(a, b keyCol) int { return a.pos - b.pos })
	for _, k := range keys {
		t.keys = append(t.keys, k.name)
	}
	parents, err := queryStrings(ctx, q, `SELECT DISTINCT "table" FROM pragma_foreign_key_list(?)`, name)
	if err != nil {
		return nil, fmt.Errorf("backup: foreign keys of %s: %w", name, err)
	}
	for _, p := range parents {
		if p != name {
			t.parents[p] = true
		}
	}
	// An INTEGER PRIMARY KEY AUTOINCREMENT column draws its values from
	// sqlite_sequence.
	ddl, err := queryStrings(ctx, q, "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", name)
	if err != nil {
		return nil, err
	}
	if len(ddl) == 1 && strings.Contains(strings.ToUpper(ddl[0]), "AUTOINCREMENT") && len(t.keys) == 1 {
		t.identity = t.keys[0]
	}
	return t, nil
}

// sqliteType maps a declared column type to a backup type, following
// SQLite's affinity rules (https://sqlite.org/datatype3.html, 3.1) except
// that BOOLEAN, which SQLite stores as an integer, stays boolean so that it
// restores as a PostgreSQL boolean.
func sqliteType(decl string) (Type, bool) {
	d := strings.ToUpper(decl)
	switch {
	case d == "BOOLEAN" || d == "BOOL":
		return Boolean, true
	case strings.Contains(d, "INT"):
		return Integer, true
	case strings.Contains(d, "CHAR") || strings.Contains(d, "CLOB") || strings.Contains(d, "TEXT"):
		return Text, true
	case d == "BLOB" || d == "BYTEA":
		return Bytes, true
	case strings.Contains(d, "REAL") || strings.Contains(d, "FLOA") || strings.Contains(d, "DOUB"):
		return Real, true
	}
	return "", false
}

func describePostgres(ctx context.Context, q querier, name string) (*tableSchema, error) {
	t := &tableSchema{Table: Table{Name: name}, parents: map[string]bool{}}
	rows, err := q.QueryContext(ctx, `SELECT column_name, data_type, is_identity, COALESCE(identity_generation, ''),
			COALESCE(column_default, '') LIKE 'nextval(%'
		FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, name)
	if err != nil {
		return nil, fmt.Errorf("backup: columns of %s: %w", name, err)
	}
	for rows.Next() {
		var col, dataType, isIdentity, generation string
		var serial bool
		if err := rows.Scan(&col, &dataType, &isIdentity, &generation, &serial); err != nil {
			rows.Close()
			return nil, err
		}
		typ, ok := postgresType(dataType)
		if !ok {
			rows.Close()
			return nil, fmt.Errorf("backup: table %s column %s has type %q, which backups do not know", name, col, dataType)
		}
		if !validName(col) {
			rows.Close()
			return nil, fmt.Errorf("backup: table %s column %q: name is not a plain lower-case identifier", name, col)
		}
		t.Columns = append(t.Columns, Column{Name: col, Type: typ})
		if isIdentity == "YES" || serial {
			t.identity = col
			t.always = generation == "ALWAYS"
		}
	}
	if err := closeRows(rows); err != nil {
		return nil, err
	}
	t.keys, err = queryStrings(ctx, q, `SELECT a.attname FROM pg_index i
		JOIN pg_class c ON c.oid = i.indrelid
		JOIN pg_namespace n ON n.oid = c.relnamespace
		JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) ON true
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
		WHERE i.indisprimary AND n.nspname = current_schema() AND c.relname = $1
		ORDER BY k.ord`, name)
	if err != nil {
		return nil, fmt.Errorf("backup: primary key of %s: %w", name, err)
	}
	parents, err := queryStrings(ctx, q, `SELECT DISTINCT ref.relname FROM pg_constraint con
		JOIN pg_class c ON c.oid = con.conrelid
		JOIN pg_class ref ON ref.oid = con.confrelid
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE con.contype = 'f' AND n.nspname = current_schema() AND c.relname = $1`, name)
	if err != nil {
		return nil, fmt.Errorf("backup: foreign keys of %s: %w", name, err)
	}
	for _, p := range parents {
		if p != name {
			t.parents[p] = true
		}
	}
	return t, nil
}

func postgresType(dataType string) (Type, bool) {
	switch dataType {
	case "bigint", "integer", "smallint":
		return Integer, true
	case "text", "character varying", "character":
		return Text, true
	case "bytea":
		return Bytes, true
	case "boolean":
		return Boolean, true
	case "double precision", "real":
		return Real, true
	}
	return "", false
}

// dependencyOrder sorts tables so that each comes after those it
// references (Kahn's algorithm, ties by name so the order is stable).
func dependencyOrder(tables []*tableSchema) ([]*tableSchema, error) {
	byName := map[string]*tableSchema{}
	for _, t := range tables {
		byName[t.Name] = t
	}
	done := map[string]bool{}
	var out []*tableSchema
	for len(out) < len(tables) {
		progressed := false
		for _, t := range tables { // tables is sorted by name
			if done[t.Name] {
				continue
			}
			ready := true
			for p := range t.parents {
				if _, known := byName[p]; known && !done[p] {
					ready = false
					break
				}
			}
			if ready {
				done[t.Name] = true
				out = append(out, t)
				progressed = true
				break
			}
		}
		if !progressed {
			var cycle []string
			for _, t := range tables {
				if !done[t.Name] {
					cycle = append(cycle, t.Name)
				}
			}
			return nil, fmt.Errorf("backup: foreign keys form a cycle among tables %v; backups cannot order them", cycle)
		}
	}
	return out, nil
}

// validName accepts the identifiers veche's migrations use, so that a name
// can be quoted into SQL without escaping.
func validName(s string) bool {
	if s == "" || len(s) > 63 {
		return false
	}
	for i, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c == '_':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

func queryStrings(ctx context.Context, q querier, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, s)
	}
	return out, closeRows(rows)
}

func closeRows(rows *sql.Rows) error {
	err := rows.Err()
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	return err
}

// schemaVersions reads the applied migration versions.
func schemaVersions(ctx context.Context, q querier) ([]int, error) {
	rows, err := q.QueryContext(ctx, "SELECT version FROM schema_migrations ORDER BY version")
	if err != nil {
		return nil, fmt.Errorf("backup: read schema_migrations: %w", err)
	}
	var out []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, v)
	}
	return out, closeRows(rows)
}
