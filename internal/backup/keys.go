package backup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"filippo.io/age"

	"github.com/veche/veche/internal/privacy/fieldcrypt"
	"github.com/veche/veche/internal/store"
)

// keysIntro is how fieldcrypt's key export begins; it tells a key backup
// apart from a data backup in error messages.
const keysIntro = `{"format":"veche subject keys`

// WriteKeys writes the per-person data keys (fieldcrypt.ExportKeys: the
// keys still wrapped by the key-encryption key, and the erasure markers)
// to dst, encrypted to recipients like a data backup. Key backups are kept
// apart from data backups and for less time: see docs/backup.md.
func WriteKeys(ctx context.Context, db *store.DB, dst io.Writer, recipients ...age.Recipient) error {
	if len(recipients) == 0 {
		return errors.New("backup: no recipients: give a passphrase or at least one public key")
	}
	enc, err := age.Encrypt(dst, recipients...)
	if err != nil {
		return fmt.Errorf("backup: encrypt: %w", err)
	}
	if err := fieldcrypt.ExportKeys(ctx, db, enc); err != nil {
		return err
	}
	return enc.Close()
}

// RestoreKeys decrypts a key backup read from src and imports it into db
// with fieldcrypt.ImportKeys, which never brings an erased person back.
// The whole file is decrypted and authenticated before anything is
// written, so a damaged file changes nothing.
func RestoreKeys(ctx context.Context, db *store.DB, src io.Reader, identities ...age.Identity) error {
	plain, err := decrypt(src, identities)
	if err != nil {
		return err
	}
	b, err := io.ReadAll(plain)
	if err != nil {
		return fmt.Errorf("%w: decryption failed: %v", ErrDamaged, err)
	}
	if !bytes.HasPrefix(b, []byte(keysIntro)) {
		if len(b) > 512 && string(b[:len(headerName)]) == headerName {
			return fmt.Errorf("%w: this is a data backup, not a key backup; restore it with 'veche restore'", ErrNotBackup)
		}
		return fmt.Errorf("%w: the file decrypts, but is not a key backup", ErrNotBackup)
	}
	return fieldcrypt.ImportKeys(ctx, db, bytes.NewReader(b))
}
