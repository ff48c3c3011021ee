package anonymize

import (
	"errors"
	"fmt"
	"math"
)

// Role says what a column is to the anonymisation.
type Role int

// Column roles. The zero Role is DirectIdentifier, so a column whose role
// was forgotten is dropped rather than published.
const (
	// DirectIdentifier columns (name, email, account number) identify a
	// person alone. They are dropped on [Table.Append].
	DirectIdentifier Role = iota
	// QuasiIdentifier columns (birth year, district, gender) identify a
	// person in combination; they are generalised.
	QuasiIdentifier
	// Sensitive columns are what must not be learnt about a person (the
	// topic they wrote on); published unchanged, protected by l-diversity.
	Sensitive
	// Other columns are published unchanged.
	Other
)

var roleNames = [...]string{"direct-identifier", "quasi-identifier", "sensitive", "other"}

// String returns the role's name, e.g. "quasi-identifier".
func (r Role) String() string {
	if r < 0 || int(r) >= len(roleNames) {
		return fmt.Sprintf("Role(%d)", int(r))
	}
	return roleNames[r]
}

// Field declares one column of a [Table].
type Field struct {
	Name string
	Role Role
}

// Table is microdata held column by column as dictionary codes. Build it
// with [NewTable] and [Table.Append]; it is not safe for concurrent
// appends.
type Table struct {
	fields []Field
	cols   []*column // kept columns, in field order
	colOf  []int     // field index → index in cols, -1 for a dropped column
	n      int
}

type column struct {
	name  string
	role  Role
	codes []uint32
	dict  []string
	index map[string]uint32
}

func (c *column) code(v string) uint32 {
	if k, ok := c.index[v]; ok {
		return k
	}
	k := uint32(len(c.dict))
	c.dict = append(c.dict, v)
	c.index[v] = k
	return k
}

// ErrSchema is matched by errors in a table's declaration or rows.
var ErrSchema = errors.New("anonymize: bad table")

// NewTable returns an empty table with the given columns. Names must be
// unique and non-empty.
func NewTable(fields ...Field) (*Table, error) {
	t := &Table{fields: append([]Field(nil), fields...), colOf: make([]int, len(fields))}
	seen := map[string]bool{}
	for i, f := range fields {
		if f.Name == "" {
			return nil, fmt.Errorf("%w: column %d has no name", ErrSchema, i+1)
		}
		if seen[f.Name] {
			return nil, fmt.Errorf("%w: column %q declared twice", ErrSchema, f.Name)
		}
		if f.Role < DirectIdentifier || f.Role > Other {
			return nil, fmt.Errorf("%w: column %q has unknown role %d", ErrSchema, f.Name, int(f.Role))
		}
		seen[f.Name] = true
		t.colOf[i] = -1
		if f.Role != DirectIdentifier {
			t.colOf[i] = len(t.cols)
			t.cols = append(t.cols, &column{name: f.Name, role: f.Role, index: map[string]uint32{}})
		}
	}
	return t, nil
}

// Grow reserves room for n more rows.
func (t *Table) Grow(n int) {
	for _, c := range t.cols {
		c.codes = append(make([]uint32, 0, len(c.codes)+n), c.codes...)
	}
}

// Append adds a row with one value per declared field, in declaration
// order. Values of direct identifiers are discarded here.
func (t *Table) Append(values ...string) error {
	if len(values) != len(t.fields) {
		return fmt.Errorf("%w: row %d has %d values, the table has %d columns", ErrSchema, t.n+1, len(values), len(t.fields))
	}
	if t.n >= math.MaxUint32-1 {
		return fmt.Errorf("%w: too many rows", ErrSchema)
	}
	for i, v := range values {
		if j := t.colOf[i]; j >= 0 {
			c := t.cols[j]
			c.codes = append(c.codes, c.code(v))
		}
	}
	t.n++
	return nil
}

// Len is the number of rows.
func (t *Table) Len() int { return t.n }

// Fields returns the declared columns, direct identifiers included.
func (t *Table) Fields() []Field { return append([]Field(nil), t.fields...) }

func (t *Table) column(name string) *column {
	for _, c := range t.cols {
		if c.name == name {
			return c
		}
	}
	return nil
}

func (t *Table) field(name string) (Field, bool) {
	for _, f := range t.fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}
