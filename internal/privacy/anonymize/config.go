package anonymize

import (
	"errors"
	"fmt"
)

// Kind says how a quasi-identifier is generalised.
type Kind int

// Quasi-identifier kinds. The zero Kind is invalid, so that a column is
// never generalised in a way nobody chose.
const (
	// Numeric values (a birth year) generalise to ranges "1980–1989".
	Numeric Kind = iota + 1
	// Categorical values generalise up a [Hierarchy]: district → region →
	// country.
	Categorical
	// Ordered categories (education level) generalise to ranges of
	// categories "primary–secondary".
	Ordered
)

var kindNames = [...]string{"", "numeric", "categorical", "ordered"}

// String returns the kind's name, e.g. "numeric".
func (k Kind) String() string {
	if k <= 0 || int(k) >= len(kindNames) {
		return fmt.Sprintf("Kind(%d)", int(k))
	}
	return kindNames[k]
}

// Column says how to generalise one quasi-identifier.
type Column struct {
	Name string
	Kind Kind
	// Hierarchy generalises a Categorical column; every value in the data
	// must be one of its leaves. Nil means a flat hierarchy: the values
	// present, under one root "*".
	Hierarchy *Hierarchy
	// Order lists an Ordered column's categories from lowest to highest.
	Order []string
}

// Config is what Anonymize must achieve.
type Config struct {
	// K is the least number of rows in every equivalence class; at least 2.
	K int
	// L is the least number of distinct values of the Sensitive column in
	// every class (distinct l-diversity); 0 or 1 turns it off.
	L int
	// Sensitive names the column l-diversity protects.
	Sensitive string
	// QuasiIdentifiers lists every quasi-identifier column of the table
	// with its generalisation.
	QuasiIdentifiers []Column
	// Workers bounds the goroutines that split partitions; 0 means
	// GOMAXPROCS.
	Workers int
}

// ErrInvalidConfig is matched by errors in a [Config] or in values that
// do not fit it (a non-numeric birth year, a district missing from the
// hierarchy).
var ErrInvalidConfig = errors.New("anonymize: invalid configuration")

// ErrUnsatisfiable is matched by an [*UnsatisfiableError]: the data
// cannot be published with the asked k and l.
var ErrUnsatisfiable = errors.New("anonymize: the data cannot meet the privacy requirement")

// UnsatisfiableError says why the data cannot be made k-anonymous and
// l-diverse, with the numbers.
type UnsatisfiableError struct {
	Reason            string
	K, L              int
	Rows              int
	DistinctSensitive int
}

func (e *UnsatisfiableError) Error() string {
	return fmt.Sprintf("anonymize: cannot publish %d rows with k=%d, l=%d (%d distinct sensitive values): %s",
		e.Rows, e.K, e.L, e.DistinctSensitive, e.Reason)
}

// Is makes errors.Is(err, ErrUnsatisfiable) true.
func (e *UnsatisfiableError) Is(target error) bool { return target == ErrUnsatisfiable }

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, args...))
}
