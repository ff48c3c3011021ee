package backup

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strconv"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/veche/veche/internal/privacy/dp"
	"github.com/veche/veche/internal/privacy/fieldcrypt"
	"github.com/veche/veche/internal/store"
)

// A key backup is an age file holding a tar archive:
//
//	key-backup.json          format, created_at, source dialect
//	keys/000001.jsonl …      fieldcrypt.ExportKeys: wrapped data keys and erasure markers
//	dp-ledger/000001.jsonl … dp.Ledger.Export: every privacy budget and release
//	manifest.json            the same plus each section's line count and SHA-256
//
// Key backups made before the ledger was added to them are the bare
// fieldcrypt export (keysIntro); they still restore, without a ledger.
const (
	// KeysFormatV2 names the key-backup layout this package writes.
	KeysFormatV2   = "veche-keys/2"
	keysHeaderName = "key-backup.json"
	keysSection    = "keys"
	ledgerSection  = "dp-ledger"
)

// keysIntro is how fieldcrypt's key export begins, and so a key backup of
// the first format.
const keysIntro = `{"format":"veche subject keys`

// keysManifest describes a key backup; Sections is set in manifest.json
// only.
type keysManifest struct {
	Format    string        `json:"format"`
	CreatedAt time.Time     `json:"created_at"`
	Dialect   store.Dialect `json:"dialect"`
	Sections  []keysPart    `json:"sections,omitempty"`
}

// keysPart is one section of a key backup with its checks.
type keysPart struct {
	Name   string `json:"name"`
	Lines  int64  `json:"lines"`
	SHA256 string `json:"sha256"`
}

// WriteKeys writes a key backup to dst, encrypted to recipients like a
// data backup: the per-person data keys (fieldcrypt.ExportKeys: the keys
// still wrapped by the key-encryption key, and the erasure markers) and
// the privacy-budget ledger (dp.Ledger.Export: every budget and release).
// Both are what a data backup must not bring back older than they are:
// an erased person's key, and the spending of budgets. Key backups are
// kept apart from data backups and for less time: see docs/backup.md.
func WriteKeys(ctx context.Context, db *store.DB, dst io.Writer, recipients ...age.Recipient) error {
	if len(recipients) == 0 {
		return errors.New("backup: no recipients: give a passphrase or at least one public key")
	}
	// Taken before anything is read: the ledger is complete up to here.
	at := now().UTC().Truncate(time.Microsecond)
	m := &keysManifest{Format: KeysFormatV2, CreatedAt: at, Dialect: db.Dialect()}
	enc, err := age.Encrypt(dst, recipients...)
	if err != nil {
		return fmt.Errorf("backup: encrypt: %w", err)
	}
	tw := tar.NewWriter(enc)
	if err := writeJSON(tw, keysHeaderName, at, m); err != nil {
		return err
	}
	sections := []struct {
		name   string
		export func(io.Writer) error
	}{
		{keysSection, func(w io.Writer) error { return fieldcrypt.ExportKeys(ctx, db, w) }},
		{ledgerSection, func(w io.Writer) error { return dp.NewLedger(db).Export(ctx, w, at) }},
	}
	for _, s := range sections {
		p := &partWriter{tw: tw, dir: s.name, at: at, sum: sha256.New()}
		lw := &lineWriter{p: p}
		if err := s.export(lw); err != nil {
			return err
		}
		if len(lw.partial) > 0 {
			return fmt.Errorf("backup: %s: the export does not end with a newline", s.name)
		}
		if lw.err != nil {
			return lw.err
		}
		if err := p.flush(true); err != nil {
			return err
		}
		m.Sections = append(m.Sections, keysPart{Name: s.name, Lines: p.rows, SHA256: hex.EncodeToString(p.sum.Sum(nil))})
	}
	if err := writeJSON(tw, manifestName, at, m); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return enc.Close()
}

// lineWriter hands whole lines to a partWriter, so that parts split
// between lines.
type lineWriter struct {
	p       *partWriter
	partial []byte
	err     error
}

func (w *lineWriter) Write(b []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	n := len(b)
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			w.partial = append(w.partial, b...)
			break
		}
		line := b[:i+1]
		if len(w.partial) > 0 {
			line = append(w.partial, line...)
			w.partial = nil
		}
		if err := w.p.add(bytes.Clone(line)); err != nil {
			w.err = err
			return 0, err
		}
		b = b[i+1:]
	}
	return n, nil
}

// RestoreKeys decrypts a key backup read from src and applies it to db.
// The whole file is decrypted and checked — every section against the
// manifest's line count and SHA-256, every ledger line and release digest
// (dp.ReadLedger) — before anything is written, so a damaged or altered
// file changes nothing. Then the ledger is merged (dp.Ledger.Merge: no
// release is ever forgotten, and a hold placed by restoring an older
// data backup is lifted), and the keys are imported
// (fieldcrypt.ImportKeys, which never brings an erased person back).
// A key backup of the first format carries no ledger: only its keys are
// imported. (A key line that is malformed although the checksums match,
// which only a faulty writer makes, is refused by ImportKeys after the
// ledger was merged; a merge never lowers a budget, so that is safe.)
func RestoreKeys(ctx context.Context, db *store.DB, src io.Reader, identities ...age.Identity) error {
	plain, err := decrypt(src, identities)
	if err != nil {
		return err
	}
	a := &archive{src: plain}
	br := bufio.NewReaderSize(plain, 4096)
	start, _ := br.Peek(len(keysIntro))
	if string(start) == keysIntro {
		b, err := io.ReadAll(br)
		if err != nil {
			return a.damaged(err)
		}
		return fieldcrypt.ImportKeys(ctx, db, bytes.NewReader(b))
	}
	sections, err := readKeyBackup(a, tar.NewReader(br))
	if err != nil {
		return err
	}
	snap, err := dp.ReadLedger(bytes.NewReader(sections[ledgerSection]))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	// Refuse malformed keys before the ledger is merged.
	if err := checkKeyExport(sections[keysSection]); err != nil {
		return err
	}
	if _, err := dp.NewLedger(db).Merge(ctx, snap); err != nil {
		if errors.Is(err, dp.ErrLedgerConflict) {
			return fmt.Errorf("%w: %w", ErrDamaged, err)
		}
		return err
	}
	return fieldcrypt.ImportKeys(ctx, db, bytes.NewReader(sections[keysSection]))
}

// readKeyBackup reads and checks a key backup's archive, returning each
// section's bytes.
func readKeyBackup(a *archive, tr *tar.Reader) (map[string][]byte, error) {
	hdr, err := tr.Next()
	if err != nil || hdr.Name != keysHeaderName {
		switch {
		case a.src.err != nil:
			return nil, fmt.Errorf("%w: decryption failed: %v", ErrDamaged, a.src.err)
		case err == nil && hdr.Name == headerName:
			return nil, fmt.Errorf("%w: this is a data backup, not a key backup; restore it with 'veche restore'", ErrNotBackup)
		}
		return nil, fmt.Errorf("%w: the file decrypts, but is not a key backup", ErrNotBackup)
	}
	head, err := readKeysManifest(a, tr, hdr)
	if err != nil {
		return nil, err
	}
	order := []string{keysSection, ledgerSection}
	type result struct {
		buf   bytes.Buffer
		sum   hash.Hash
		parts int
	}
	results := make([]result, len(order))
	for i := range results {
		results[i].sum = sha256.New()
	}
	cur := 0
	for {
		hdr, err = tr.Next()
		if err == io.EOF {
			return nil, fmt.Errorf("%w: the archive ends before its %s (cut off?)", ErrDamaged, manifestName)
		}
		if err != nil {
			return nil, a.damaged(err)
		}
		if hdr.Name == manifestName {
			break
		}
		dir, part, ok := parseSectionPart(hdr.Name)
		i := cur
		for i < len(order) && order[i] != dir {
			i++
		}
		if !ok || i == len(order) || part != results[i].parts+1 {
			return nil, fmt.Errorf("%w: unexpected or out-of-order entry %q", ErrDamaged, hdr.Name)
		}
		cur = i
		r := &results[i]
		r.parts++
		n := r.buf.Len()
		if _, err := io.Copy(&r.buf, tr); err != nil {
			return nil, a.damaged(err)
		}
		if body := r.buf.Bytes()[n:]; len(body) > 0 && body[len(body)-1] != '\n' {
			return nil, fmt.Errorf("%w: %s: %v", ErrDamaged, hdr.Name, errPartialRow)
		}
		r.sum.Write(r.buf.Bytes()[n:])
	}
	m, err := readKeysManifest(a, tr, hdr)
	if err != nil {
		return nil, err
	}
	if m.Format != head.Format || !m.CreatedAt.Equal(head.CreatedAt) || m.Dialect != head.Dialect || len(head.Sections) != 0 {
		return nil, fmt.Errorf("%w: %s disagrees with %s", ErrDamaged, manifestName, keysHeaderName)
	}
	if len(m.Sections) != len(order) {
		return nil, fmt.Errorf("%w: %s lists %d sections, want %d", ErrDamaged, manifestName, len(m.Sections), len(order))
	}
	out := map[string][]byte{}
	for i, s := range m.Sections {
		r := &results[i]
		if s.Name != order[i] {
			return nil, fmt.Errorf("%w: %s lists section %q where %q belongs", ErrDamaged, manifestName, s.Name, order[i])
		}
		if r.parts == 0 {
			return nil, fmt.Errorf("%w: section %s is missing", ErrDamaged, s.Name)
		}
		if got := hex.EncodeToString(r.sum.Sum(nil)); got != s.SHA256 {
			return nil, fmt.Errorf("%w: %s: its lines hash to SHA-256 %s, the manifest says %s", ErrDamaged, s.Name, got, s.SHA256)
		}
		if lines := int64(bytes.Count(r.buf.Bytes(), []byte("\n"))); lines != s.Lines {
			return nil, fmt.Errorf("%w: %s: %d lines, the manifest says %d", ErrDamaged, s.Name, lines, s.Lines)
		}
		out[s.Name] = r.buf.Bytes()
	}
	if _, err := tr.Next(); err != io.EOF {
		if err == nil {
			return nil, fmt.Errorf("%w: entries after %s", ErrDamaged, manifestName)
		}
		return nil, a.damaged(err)
	}
	// Reading to the end of the age stream authenticates its last chunk.
	if _, err := io.Copy(io.Discard, a.src); err != nil {
		return nil, a.damaged(err)
	}
	return out, nil
}

func readKeysManifest(a *archive, tr *tar.Reader, hdr *tar.Header) (*keysManifest, error) {
	var m keysManifest
	if err := a.decodeManifest(tr, hdr, KeysFormatV2, "veche-keys/", &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// parseSectionPart splits "keys/000001.jsonl" into its section and part.
func parseSectionPart(name string) (string, int, bool) {
	dir, file, ok := strings.Cut(name, "/")
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
	return dir, n, true
}

// checkKeyExport checks the form of a key export's first line, so that a
// key section that is not one is refused before the ledger is merged;
// fieldcrypt.ImportKeys checks every line again.
func checkKeyExport(b []byte) error {
	if !bytes.HasPrefix(b, []byte(keysIntro)) {
		return fmt.Errorf("%w: section %s is not a subject-key export", ErrDamaged, keysSection)
	}
	return nil
}
