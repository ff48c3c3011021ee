package backup

import (
	"bytes"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxRow bounds one encoded row, on writing and on reading, so that a
// backup that could be written can always be read back and a hostile
// file cannot make restore allocate without limit.
const maxRow = 64 << 20

// selectRows returns the query that reads a table for a backup: every
// column in order and, after them, an IS NULL flag for each bytes column
// (the SQLite driver returns an empty BLOB as nil, like NULL), ordered by
// the primary key so that the output is the same on every run.
func selectRows(t *tableSchema) string {
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, c := range t.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quote(c.Name))
	}
	for _, c := range t.Columns {
		if c.Type == Bytes {
			fmt.Fprintf(&b, ", (%s IS NULL)", quote(c.Name))
		}
	}
	b.WriteString(" FROM ")
	b.WriteString(quote(t.Name))
	if len(t.keys) > 0 {
		b.WriteString(" ORDER BY ")
		for i, k := range t.keys {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(quote(k))
		}
	}
	return b.String()
}

func quote(name string) string { return `"` + name + `"` }

// rowScanner holds the scan destinations for one table's query.
type rowScanner struct {
	cols  []Column
	dest  []any
	nulls []bool // per bytes column, in order
}

func newRowScanner(cols []Column) *rowScanner {
	s := &rowScanner{cols: cols}
	nbytes := 0
	for _, c := range cols {
		switch c.Type {
		case Integer:
			s.dest = append(s.dest, new(sql.NullInt64))
		case Text:
			s.dest = append(s.dest, new(sql.NullString))
		case Bytes:
			s.dest = append(s.dest, new([]byte))
			nbytes++
		case Boolean:
			s.dest = append(s.dest, new(sql.NullBool))
		case Real:
			s.dest = append(s.dest, new(sql.NullFloat64))
		}
	}
	s.nulls = make([]bool, nbytes)
	for i := range s.nulls {
		s.dest = append(s.dest, &s.nulls[i])
	}
	return s
}

// appendRow scans the current row and appends it to buf as one JSON array
// and a newline.
func (s *rowScanner) appendRow(buf []byte, rows *sql.Rows) ([]byte, error) {
	if err := rows.Scan(s.dest...); err != nil {
		return buf, err
	}
	buf = append(buf, '[')
	nb := 0
	for i, c := range s.cols {
		if i > 0 {
			buf = append(buf, ',')
		}
		switch v := s.dest[i].(type) {
		case *sql.NullInt64:
			if !v.Valid {
				buf = append(buf, "null"...)
			} else {
				buf = strconv.AppendInt(buf, v.Int64, 10)
			}
		case *sql.NullString:
			if !v.Valid {
				buf = append(buf, "null"...)
			} else {
				buf = appendText(buf, v.String)
			}
		case *[]byte:
			if s.nulls[nb] {
				buf = append(buf, "null"...)
			} else {
				buf = append(buf, '"')
				buf = base64.StdEncoding.AppendEncode(buf, *v)
				buf = append(buf, '"')
			}
			nb++
		case *sql.NullBool:
			switch {
			case !v.Valid:
				buf = append(buf, "null"...)
			case v.Bool:
				buf = append(buf, "true"...)
			default:
				buf = append(buf, "false"...)
			}
		case *sql.NullFloat64:
			switch {
			case !v.Valid:
				buf = append(buf, "null"...)
			case math.IsInf(v.Float64, 0) || math.IsNaN(v.Float64):
				return buf, fmt.Errorf("column %s holds %v, which JSON cannot carry", c.Name, v.Float64)
			default:
				buf = strconv.AppendFloat(buf, v.Float64, 'g', -1, 64)
			}
		}
	}
	return append(buf, ']', '\n'), nil
}

// appendText appends s as a JSON string. Text that is not valid UTF-8
// (SQLite does not check) is written as {"b64":"..."} so that it survives
// byte for byte; a JSON string would turn it into U+FFFD.
func appendText(buf []byte, s string) []byte {
	if !utf8.ValidString(s) {
		buf = append(buf, `{"b64":"`...)
		buf = base64.StdEncoding.AppendEncode(buf, []byte(s))
		return append(buf, `"}`...)
	}
	const hex = "0123456789abcdef"
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		buf = append(buf, s[start:i]...)
		switch c {
		case '"', '\\':
			buf = append(buf, '\\', c)
		case '\n':
			buf = append(buf, '\\', 'n')
		case '\r':
			buf = append(buf, '\\', 'r')
		case '\t':
			buf = append(buf, '\\', 't')
		default:
			buf = append(buf, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}

// errRow marks a row that does not decode; the caller adds where it is.
var errRow = errors.New("malformed row")

// decodeRow parses one line written by appendRow into values ready to bind:
// int64, string, []byte, bool, float64 or nil. encoding/json checks the
// line's syntax once; the values are then read from their raw JSON.
func decodeRow(line []byte, cols []Column) ([]any, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal(line, &raw); err != nil {
		return nil, fmt.Errorf("%w: %v", errRow, err)
	}
	if len(raw) != len(cols) {
		return nil, fmt.Errorf("%w: %d values for %d columns", errRow, len(raw), len(cols))
	}
	out := make([]any, len(raw))
	for i, v := range raw {
		if string(v) == "null" {
			continue
		}
		c := cols[i]
		var err error
		switch c.Type {
		case Integer:
			if !isNumber(v) {
				return nil, fmt.Errorf("%w: column %s: want an integer, got %.20s", errRow, c.Name, v)
			}
			out[i], err = strconv.ParseInt(string(v), 10, 64)
		case Real:
			if !isNumber(v) {
				return nil, fmt.Errorf("%w: column %s: want a number, got %.20s", errRow, c.Name, v)
			}
			out[i], err = strconv.ParseFloat(string(v), 64)
		case Boolean:
			switch string(v) {
			case "true":
				out[i] = true
			case "false":
				out[i] = false
			default:
				return nil, fmt.Errorf("%w: column %s: want true or false, got %.20s", errRow, c.Name, v)
			}
		case Text:
			switch v[0] {
			case '"':
				out[i], err = jsonString(v)
			case '{':
				var o map[string]string
				if err = json.Unmarshal(v, &o); err == nil {
					enc, ok := o["b64"]
					if !ok || len(o) != 1 {
						return nil, fmt.Errorf("%w: column %s: want text", errRow, c.Name)
					}
					var b []byte
					b, err = base64.StdEncoding.Strict().DecodeString(enc)
					out[i] = string(b)
				}
			default:
				return nil, fmt.Errorf("%w: column %s: want text, got %.20s", errRow, c.Name, v)
			}
		case Bytes:
			if v[0] != '"' {
				return nil, fmt.Errorf("%w: column %s: want base64 bytes, got %.20s", errRow, c.Name, v)
			}
			var s string
			if s, err = jsonString(v); err == nil {
				b := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
				var n int
				n, err = base64.StdEncoding.Strict().Decode(b, []byte(s))
				out[i] = b[:n]
			}
		default:
			return nil, fmt.Errorf("%w: column %s has unknown type %q", errRow, c.Name, c.Type)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: column %s: %v", errRow, c.Name, err)
		}
	}
	return out, nil
}

// isNumber reports whether a raw JSON value (already checked to be valid
// JSON) is a number.
func isNumber(v []byte) bool { return v[0] == '-' || (v[0] >= '0' && v[0] <= '9') }

// jsonString decodes a raw JSON string (already checked to be valid
// JSON); one without escapes is its own content.
func jsonString(v []byte) (string, error) {
	inner := v[1 : len(v)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner), nil
	}
	var s string
	err := json.Unmarshal(v, &s)
	return s, err
}
