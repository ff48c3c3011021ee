package fieldcrypt

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/veche/veche/internal/store"
)

// keyExportFormat is the first line of a key export.
const keyExportFormat = "veche subject keys v1"

// keyLine is one line of a key export: a subject's wrapped keyset (never a
// key in clear) or their erasure marker.
type keyLine struct {
	Format     string `json:"format,omitempty"` // header line only
	Subject    string `json:"subject,omitempty"`
	Keyset     []byte `json:"keyset,omitempty"` // wrapped; base64 in JSON
	KEKVersion string `json:"kek_version,omitempty"`
	CreatedAt  int64  `json:"created_at,omitempty"`
	ErasedAt   *int64 `json:"erased_at,omitempty"`
}

// ExportKeys writes every row of subject_keys to w as JSON lines, after a
// header line: the wrapped keysets as stored (so no key leaves in clear,
// and the export is useless without the key-encryption keys) and the
// erasure markers. Data backups leave subject_keys out, so an erasure
// reaches every data backup made before it; this export is kept apart,
// for `veche backup keys`, and should be kept no longer than needed: a
// copy made before an erasure still holds that person's key until its
// key-encryption key version is retired.
func ExportKeys(ctx context.Context, db *store.DB, w io.Writer) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	if err := enc.Encode(keyLine{Format: keyExportFormat}); err != nil {
		return err
	}
	rows, err := db.Query(ctx, "SELECT subject, keyset, kek_version, created_at, erased_at FROM subject_keys ORDER BY subject")
	if err != nil {
		return fmt.Errorf("fieldcrypt: export keys: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var l keyLine
		if err := rows.Scan(&l.Subject, &l.Keyset, &l.KEKVersion, &l.CreatedAt, &l.ErasedAt); err != nil {
			return fmt.Errorf("fieldcrypt: export keys: %w", err)
		}
		if err := enc.Encode(l); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("fieldcrypt: export keys: %w", err)
	}
	return bw.Flush()
}

// ImportKeys reads an export written by ExportKeys into db. It never
// brings a person back: an erasure marker in the export erases the
// subject in db, and a subject erased in db stays erased whatever the
// export holds. A live key already in db is kept (it may be wrapped under
// a newer version). The whole import is one transaction: a malformed line
// changes nothing.
func ImportKeys(ctx context.Context, db *store.DB, r io.Reader) error {
	dec := json.NewDecoder(bufio.NewReader(r))
	var head keyLine
	if err := dec.Decode(&head); err != nil || head.Format != keyExportFormat {
		return fmt.Errorf("fieldcrypt: import keys: not a veche subject-key export (want first line {\"format\":%q})", keyExportFormat)
	}
	var lines []keyLine
	for n := 2; ; n++ {
		var l keyLine
		err := dec.Decode(&l)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("fieldcrypt: import keys: line %d: %w", n, err)
		}
		if l.Subject == "" || l.Format != "" || (l.ErasedAt == nil && (len(l.Keyset) == 0 || l.KEKVersion == "")) {
			return fmt.Errorf("fieldcrypt: import keys: line %d: incomplete entry", n)
		}
		lines = append(lines, l)
	}
	return db.InTx(ctx, func(tx *store.Tx) error {
		for _, l := range lines {
			var err error
			if l.ErasedAt != nil {
				// Erase whatever db holds, and record the marker if it holds nothing.
				_, err = tx.Exec(ctx, `INSERT INTO subject_keys (subject, keyset, kek_version, created_at, erased_at) VALUES (?, ?, '', ?, ?)
					ON CONFLICT (subject) DO UPDATE SET keyset = excluded.keyset, kek_version = '', erased_at = excluded.erased_at
					WHERE subject_keys.erased_at IS NULL`, l.Subject, []byte{}, l.CreatedAt, *l.ErasedAt)
			} else {
				_, err = tx.Exec(ctx, `INSERT INTO subject_keys (subject, keyset, kek_version, created_at) VALUES (?, ?, ?, ?)
					ON CONFLICT (subject) DO NOTHING`, l.Subject, l.Keyset, l.KEKVersion, l.CreatedAt)
			}
			if err != nil {
				return fmt.Errorf("fieldcrypt: import keys: %s: %w", l.Subject, err)
			}
		}
		return nil
	})
}
