package participation

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/validate"
)

// The census: the public body's register of residents, imported as a CSV
// file with the header "hash,district,birth_year". Each hash is the
// lowercase hex HMAC-SHA256, under the instance's census key, of the
// string "veche census v1" NUL <normalised identity number> (see
// [NormalizeIdentityNumber]). The body computes the file on its own
// machine with `veche census hash`, so raw identity numbers never reach
// veche: a resident who verifies types their number, which is hashed in
// memory and compared, and only the hash is kept as the link.

// MaxCensusRows bounds one import (a country-sized register fits).
const MaxCensusRows = 20_000_000

// CensusImport is the result of an import.
type CensusImport struct {
	ID       int64     `json:"id"`
	Entries  int64     `json:"entries"`
	Digest   string    `json:"digest"`
	Imported time.Time `json:"imported_at"`
}

// Residence is a person's verified residence.
type Residence struct {
	District  string    `json:"district"`
	BirthYear int       `json:"birth_year"`
	Verified  time.Time `json:"verified_at"`
	InCensus  bool      `json:"in_census"` // false once a newer census no longer lists them
}

// NormalizeIdentityNumber returns the canonical form of an identity
// number: letters upper-cased, spaces and hyphens removed. It fails for
// anything but 4 to 32 Latin letters and digits.
func NormalizeIdentityNumber(s string) (string, error) {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch {
		case r == ' ' || r == '-' || r == '\t':
		case r >= 'A' && r <= 'Z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			return "", validate.One("identity_number", "identity_number", nil)
		}
	}
	if b.Len() < 4 || b.Len() > 32 {
		return "", validate.One("identity_number", "identity_number", nil)
	}
	return b.String(), nil
}

// CensusHash is the keyed hash of a normalised identity number.
func CensusHash(key []byte, normalized string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("veche census v1\x00" + normalized))
	return m.Sum(nil)
}

// HashCensus turns the body's register, a CSV with the header
// "identity_number,district,birth_year", into the importable file, hashing
// each number under key. It runs on the body's side (veche census hash).
func HashCensus(w io.Writer, r io.Reader, key []byte) (int, error) {
	rd := csv.NewReader(bufio.NewReader(r))
	rd.FieldsPerRecord = 3
	rd.ReuseRecord = true
	head, err := rd.Read()
	if err != nil {
		return 0, fmt.Errorf("census: read the header: %w", err)
	}
	if strings.Join(head, ",") != "identity_number,district,birth_year" {
		return 0, fmt.Errorf("census: the header must be identity_number,district,birth_year, not %q", strings.Join(head, ","))
	}
	out := csv.NewWriter(w)
	if err := out.Write([]string{"hash", "district", "birth_year"}); err != nil {
		return 0, err
	}
	n := 0
	for {
		rec, err := rd.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return n, fmt.Errorf("census: %w", err)
		}
		line, _ := rd.FieldPos(0)
		id, err := NormalizeIdentityNumber(rec[0])
		if err != nil {
			return n, fmt.Errorf("census: line %d: the identity number is not 4 to 32 letters and digits", line)
		}
		if _, _, err := censusAttributes(rec[1], rec[2]); err != nil {
			return n, fmt.Errorf("census: line %d: %w", line, err)
		}
		if err := out.Write([]string{hex.EncodeToString(CensusHash(key, id)), strings.TrimSpace(rec[1]), strings.TrimSpace(rec[2])}); err != nil {
			return n, err
		}
		n++
	}
	out.Flush()
	return n, out.Error()
}

func censusAttributes(district, birthYear string) (string, int, error) {
	district = strings.TrimSpace(district)
	if district == "" || len(district) > 100 || strings.ContainsAny(district, ",\n\r") {
		return "", 0, errors.New("the district must be 1 to 100 characters without commas")
	}
	year, err := strconv.Atoi(strings.TrimSpace(birthYear))
	if err != nil || year < 1880 || year > 2200 {
		return "", 0, errors.New("the birth year must be a year such as 1984")
	}
	return district, year, nil
}

// CensusError says which line of a census file is wrong and why; nothing
// of the file is imported.
type CensusError struct {
	Line   int
	Reason string
}

func (e *CensusError) Error() string {
	if e.Line == 0 {
		return "census: " + e.Reason
	}
	return fmt.Sprintf("census: line %d: %s", e.Line, e.Reason)
}

// Is makes errors.Is(err, validate.ErrInvalid) true: a bad file is bad input.
func (e *CensusError) Is(target error) bool { return target == validate.ErrInvalid }

type censusRow struct {
	hash     []byte
	district string
	year     int
}

// ImportCensus replaces the census with the file read from r, in one
// transaction: a file with any bad line changes nothing. People verified
// against an earlier census stay linked; whether they are still eligible
// is decided against the new census when they next act.
func (s *Service) ImportCensus(ctx context.Context, official int64, r io.Reader) (*CensusImport, error) {
	sum := sha256.New()
	rd := csv.NewReader(bufio.NewReader(io.TeeReader(r, sum)))
	rd.FieldsPerRecord = 3
	head, err := rd.Read()
	if err != nil {
		return nil, &CensusError{Reason: "the file is empty or not CSV"}
	}
	if strings.Join(head, ",") != "hash,district,birth_year" {
		return nil, &CensusError{Line: 1, Reason: `the header must be "hash,district,birth_year" (make the file with veche census hash)`}
	}
	var rows []censusRow
	seen := map[string]bool{}
	for {
		rec, err := rd.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, &CensusError{Line: pe.Line, Reason: pe.Err.Error()}
			}
			return nil, err
		}
		line, _ := rd.FieldPos(0)
		h, err := hex.DecodeString(rec[0])
		if err != nil || len(h) != sha256.Size || rec[0] != strings.ToLower(rec[0]) {
			return nil, &CensusError{Line: line, Reason: "the hash must be 64 lowercase hexadecimal digits"}
		}
		if seen[rec[0]] {
			return nil, &CensusError{Line: line, Reason: "this hash appears twice"}
		}
		seen[rec[0]] = true
		district, year, err := censusAttributes(rec[1], rec[2])
		if err != nil {
			return nil, &CensusError{Line: line, Reason: err.Error()}
		}
		if len(rows) == MaxCensusRows {
			return nil, &CensusError{Line: line, Reason: fmt.Sprintf("the file has more than %d entries", MaxCensusRows)}
		}
		rows = append(rows, censusRow{h, district, year})
	}
	imp := &CensusImport{Entries: int64(len(rows)), Digest: "sha256:" + hex.EncodeToString(sum.Sum(nil)), Imported: s.Now()}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, "DELETE FROM census_entries"); err != nil {
			return err
		}
		const batch = 500
		for i := 0; i < len(rows); i += batch {
			part := rows[i:min(i+batch, len(rows))]
			args := make([]any, 0, 3*len(part))
			for _, row := range part {
				args = append(args, row.hash, row.district, row.year)
			}
			q := "INSERT INTO census_entries (hash, district, birth_year) VALUES " + strings.TrimSuffix(strings.Repeat("(?, ?, ?), ", len(part)), ", ")
			if _, err := tx.Exec(ctx, q, args...); err != nil {
				return err
			}
		}
		if err := tx.QueryRow(ctx, `INSERT INTO census_imports (entries, digest, imported_by, imported_at) VALUES (?, ?, ?, ?) RETURNING id`,
			imp.Entries, imp.Digest, nullAccount(official), store.Micros(imp.Imported)).Scan(&imp.ID); err != nil {
			return err
		}
		return s.Audit(ctx, tx, "census.imported", official, imp.Digest, map[string]string{"entries": strconv.FormatInt(imp.Entries, 10)})
	})
	if err != nil {
		return nil, err
	}
	return imp, nil
}

// LastCensusImport returns the latest import, or nil if there is none.
func (s *Service) LastCensusImport(ctx context.Context) (*CensusImport, error) {
	imp := &CensusImport{}
	var at int64
	err := s.db.QueryRow(ctx, "SELECT id, entries, digest, imported_at FROM census_imports ORDER BY id DESC LIMIT 1").Scan(&imp.ID, &imp.Entries, &imp.Digest, &at)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	imp.Imported = store.FromMicros(at)
	return imp, nil
}

// VerifyResidence links account to the census entry of the identity
// number they give, if the birth year they give matches it. The number is
// hashed in memory and never stored. An entry can be claimed by one
// account only.
func (s *Service) VerifyResidence(ctx context.Context, account int64, identityNumber string, birthYear int) (*Residence, error) {
	id, err := NormalizeIdentityNumber(identityNumber)
	if err != nil {
		return nil, err
	}
	h := CensusHash(s.censusKey, id)
	now := s.Now()
	res := &Residence{Verified: now, InCensus: true}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		err := tx.QueryRow(ctx, "SELECT district, birth_year FROM census_entries WHERE hash = ?", h).Scan(&res.District, &res.BirthYear)
		if errors.Is(err, store.ErrNotFound) || (err == nil && res.BirthYear != birthYear) {
			return ErrNotInCensus
		}
		if err != nil {
			return err
		}
		var holder int64
		err = tx.QueryRow(ctx, "SELECT account_id FROM residents WHERE census_hash = ?", h).Scan(&holder)
		switch {
		case err == nil && holder != account:
			return ErrAlreadyClaimed
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM residents WHERE account_id = ?", account); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "INSERT INTO residents (account_id, census_hash, verified_at) VALUES (?, ?, ?)", account, h, store.Micros(now)); err != nil {
			if errors.Is(err, store.ErrConflict) { // claimed by someone else meanwhile
				return ErrAlreadyClaimed
			}
			return err
		}
		return s.Audit(ctx, tx, "resident.verified", account, "", nil)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// Residence returns account's verified residence, or nil if they have not
// verified.
func (s *Service) Residence(ctx context.Context, account int64) (*Residence, error) {
	return s.residence(ctx, s.db, account)
}

func (s *Service) residence(ctx context.Context, q queryer, account int64) (*Residence, error) {
	res := &Residence{}
	var at int64
	var district *string
	var year *int
	err := q.QueryRow(ctx, `SELECT r.verified_at, c.district, c.birth_year FROM residents r
		LEFT JOIN census_entries c ON c.hash = r.census_hash WHERE r.account_id = ?`, account).Scan(&at, &district, &year)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	res.Verified = store.FromMicros(at)
	if district != nil && year != nil {
		res.District, res.BirthYear, res.InCensus = *district, *year, true
	}
	return res, nil
}

// nullAccount stores account 0 (the system, e.g. a command-line import)
// as NULL.
func nullAccount(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}
