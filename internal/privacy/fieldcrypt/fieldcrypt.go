package fieldcrypt

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/tink"

	"github.com/veche/veche/internal/store"
)

// Errors callers branch on. Messages name the field and the subject but
// never a plaintext or a key.
var (
	// ErrErased: the subject's data key was destroyed (crypto-shredded);
	// their data is gone for good.
	ErrErased = errors.New("fieldcrypt: the person's data was erased (their key is destroyed)")
	// ErrTampered: a ciphertext failed authentication: it was altered,
	// truncated, or moved from another field, row or person.
	ErrTampered = errors.New("fieldcrypt: ciphertext failed authentication (altered, truncated, or moved from another field, row or person)")
	// ErrUnknownSubject: the subject never had a data key, so nothing was
	// ever sealed for them.
	ErrUnknownSubject = errors.New("fieldcrypt: no data key for this person")
	// ErrKeyUnavailable: the key-encryption key that wraps a data key is
	// missing, wrong, or its keyring (Vault) cannot be reached.
	ErrKeyUnavailable = errors.New("fieldcrypt: key-encryption key unavailable or wrong")
	// ErrKEKInUse: a key-encryption key version cannot be retired yet.
	ErrKEKInUse = errors.New("fieldcrypt: key-encryption key version still in use")
	// ErrRewrapRunning: another process holds the re-wrap lease.
	ErrRewrapRunning = errors.New("fieldcrypt: a re-wrap is already running on another node or process")
)

// FormatV1 is the first byte of every ciphertext Seal returns: the format
// version, followed by a tink AEAD ciphertext (5-byte key prefix, 12-byte
// nonce, ciphertext, 16-byte GCM tag).
const FormatV1 byte = 1

// Overhead is how many bytes Seal adds to a plaintext.
const Overhead = 1 + 5 + 12 + 16

// IndexKeyPurpose is the [keys.Set.Derive] purpose of the key that New
// takes as indexKey.
const IndexKeyPurpose = "veche blind index v1"

// FieldRef names where a sealed value is stored. It is bound into the
// ciphertext as associated data together with the subject, so a ciphertext
// opens only for the same person, table, column and row it was sealed for.
type FieldRef struct {
	Table, Column string
	// Row is the row's stable identity, usually its primary key. For a
	// table with one row per person, use the subject.
	Row string
}

func (f FieldRef) String() string { return f.Table + "." + f.Column + "[" + f.Row + "]" }

// Options tune a Service; the zero value is the default.
type Options struct {
	// CacheTTL is how long an unwrapped data key is kept (default 2m). It
	// also bounds how long another node keeps a key after an erasure.
	CacheTTL time.Duration
	// CacheSize is how many unwrapped data keys are kept (default 10000);
	// negative turns the cache off.
	CacheSize int
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Service seals and opens personal-data fields with per-subject keys.
type Service struct {
	db       *store.DB
	kr       Keyring
	indexKey []byte
	now      func() time.Time
	cache    *dekCache
	subkeys  sync.Map // blind-index purpose -> []byte
}

// New returns a Service over db (which must have the subject_keys table)
// wrapping data keys with kr. indexKey (32 bytes, from keys.Set.Derive(
// IndexKeyPurpose)) keys the blind indexes; it may be nil for tools that
// do not compute them.
func New(db *store.DB, kr Keyring, indexKey []byte, opts Options) *Service {
	if opts.CacheTTL <= 0 {
		opts.CacheTTL = 2 * time.Minute
	}
	if opts.CacheSize == 0 {
		opts.CacheSize = 10000
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Service{db: db, kr: kr, indexKey: bytes.Clone(indexKey), now: opts.Now,
		cache: newDEKCache(opts.CacheTTL, opts.CacheSize, opts.Now)}
}

// Keyring returns the keyring the service wraps keys with.
func (s *Service) Keyring() Keyring { return s.kr }

// Seal encrypts plaintext for subject's field f, creating the subject's
// data key in tx if they have none. It fails with [ErrErased] for an
// erased subject.
func (s *Service) Seal(ctx context.Context, tx *store.Tx, subject string, f FieldRef, plaintext []byte) ([]byte, error) {
	if tx == nil {
		return nil, errors.New("fieldcrypt: Seal needs the transaction that stores the value")
	}
	if err := checkRef(subject, f); err != nil {
		return nil, err
	}
	p, err := s.dek(ctx, tx, subject, true)
	if err != nil {
		return nil, err
	}
	ct, err := p.Encrypt(plaintext, associatedData(subject, f))
	if err != nil {
		return nil, fmt.Errorf("fieldcrypt: seal %s: %w", f, err)
	}
	out := make([]byte, 1, 1+len(ct))
	out[0] = FormatV1
	return append(out, ct...), nil
}

// Open decrypts a value Seal returned for the same subject and field.
func (s *Service) Open(ctx context.Context, subject string, f FieldRef, ciphertext []byte) ([]byte, error) {
	return s.open(ctx, nil, subject, f, ciphertext)
}

// OpenTx is Open inside a transaction, which sees keys the transaction
// created.
func (s *Service) OpenTx(ctx context.Context, tx *store.Tx, subject string, f FieldRef, ciphertext []byte) ([]byte, error) {
	if tx == nil {
		return nil, errors.New("fieldcrypt: OpenTx needs a transaction")
	}
	return s.open(ctx, tx, subject, f, ciphertext)
}

func (s *Service) open(ctx context.Context, tx *store.Tx, subject string, f FieldRef, ciphertext []byte) ([]byte, error) {
	if err := checkRef(subject, f); err != nil {
		return nil, err
	}
	if len(ciphertext) < Overhead {
		return nil, fmt.Errorf("%w: %s of %s is %d bytes, shorter than any sealed value", ErrTampered, f, subject, len(ciphertext))
	}
	if ciphertext[0] != FormatV1 {
		return nil, fmt.Errorf("%w: %s of %s has unknown format version %d", ErrTampered, f, subject, ciphertext[0])
	}
	p, err := s.dek(ctx, tx, subject, false)
	if err != nil {
		return nil, err
	}
	pt, err := p.Decrypt(ciphertext[1:], associatedData(subject, f))
	if err != nil {
		return nil, fmt.Errorf("%w: %s of %s", ErrTampered, f, subject)
	}
	return pt, nil
}

func checkRef(subject string, f FieldRef) error {
	if subject == "" || f.Table == "" || f.Column == "" || f.Row == "" {
		return fmt.Errorf("fieldcrypt: subject, table, column and row must all be named (got %q, %s)", subject, f)
	}
	return nil
}

// associatedData is the canonical encoding of (subject, table, column,
// row): a domain label, then each string with a 4-byte big-endian length,
// so no two different tuples encode alike.
func associatedData(subject string, f FieldRef) []byte {
	const label = "veche field v1"
	parts := [...]string{label, subject, f.Table, f.Column, f.Row}
	n := 0
	for _, p := range parts {
		n += 4 + len(p)
	}
	b := make([]byte, 0, n)
	for _, p := range parts {
		b = binary.BigEndian.AppendUint32(b, uint32(len(p)))
		b = append(b, p...)
	}
	return b
}

// keysetAD binds a wrapped keyset to its subject, so wrapped keys cannot be
// swapped between people in the table either.
func keysetAD(subject string) []byte {
	return append([]byte("veche subject key v1\x00"), subject...)
}

// dek returns subject's data key: from the cache, else unwrapped from
// subject_keys (in tx when given), else, with create, a new one inserted
// in tx.
func (s *Service) dek(ctx context.Context, tx *store.Tx, subject string, create bool) (tink.AEAD, error) {
	if p := s.cache.get(subject, tx); p != nil {
		return p, nil
	}
	epoch := s.cache.currentEpoch()
	q := "SELECT keyset, kek_version, erased_at FROM subject_keys WHERE subject = ?"
	var row *store.Row
	if tx != nil {
		row = tx.QueryRow(ctx, q, subject)
	} else {
		row = s.db.QueryRow(ctx, q, subject)
	}
	var (
		wrapped []byte
		version string
		erased  *int64
	)
	err := row.Scan(&wrapped, &version, &erased)
	switch {
	case errors.Is(err, store.ErrNotFound) && create:
		return s.createDEK(ctx, tx, subject, epoch)
	case errors.Is(err, store.ErrNotFound):
		return nil, fmt.Errorf("%w: %s", ErrUnknownSubject, subject)
	case err != nil:
		return nil, fmt.Errorf("fieldcrypt: read data key of %s: %w", subject, err)
	case erased != nil:
		return nil, fmt.Errorf("%w: %s", ErrErased, subject)
	}
	h, err := s.unwrap(ctx, subject, version, wrapped)
	if err != nil {
		return nil, err
	}
	p, err := aead.New(h)
	if err != nil {
		return nil, fmt.Errorf("fieldcrypt: data key of %s: %w", subject, err)
	}
	s.remember(tx, subject, p, epoch)
	return p, nil
}

func (s *Service) remember(tx *store.Tx, subject string, p tink.AEAD, epoch uint64) {
	e := s.cache.put(subject, p, tx, epoch)
	if tx != nil && e != nil {
		tx.AfterCommit(func() { s.cache.commit(e) })
	}
}

// createDEK makes a new data key for subject and stores it wrapped in tx.
func (s *Service) createDEK(ctx context.Context, tx *store.Tx, subject string, epoch uint64) (tink.AEAD, error) {
	h, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
	if err != nil {
		return nil, fmt.Errorf("fieldcrypt: generate data key: %w", err)
	}
	version, wrapped, err := s.wrap(ctx, subject, h)
	if err != nil {
		return nil, err
	}
	// ON CONFLICT: a concurrent transaction created the key first (on
	// PostgreSQL this waits for it to commit); use that one.
	res, err := tx.Exec(ctx, `INSERT INTO subject_keys (subject, keyset, kek_version, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (subject) DO NOTHING`, subject, wrapped, version, store.Micros(s.now()))
	if err != nil {
		return nil, fmt.Errorf("fieldcrypt: store data key of %s: %w", subject, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, err
	} else if n == 0 {
		return s.dek(ctx, tx, subject, false)
	}
	if err := s.confirmWrap(ctx, tx, subject, h, version); err != nil {
		return nil, err
	}
	p, err := aead.New(h)
	if err != nil {
		return nil, err
	}
	s.remember(tx, subject, p, epoch)
	return p, nil
}

// confirmWrap checks, after a wrapped key was written in tx, that the
// version it was wrapped under still exists; if it was retired meanwhile
// (see LocalKeyring.Retire), it wraps the key again under the current
// version and rewrites the row.
func (s *Service) confirmWrap(ctx context.Context, tx *store.Tx, subject string, h *keyset.Handle, version string) error {
	for range 3 {
		if _, err := s.kr.AEAD(ctx, version); err == nil {
			return nil
		}
		v, wrapped, err := s.wrap(ctx, subject, h)
		if err != nil {
			return err
		}
		if v == version {
			return fmt.Errorf("%w: current version %s cannot be used", ErrKeyUnavailable, v)
		}
		if _, err := tx.Exec(ctx, "UPDATE subject_keys SET keyset = ?, kek_version = ? WHERE subject = ? AND erased_at IS NULL",
			wrapped, v, subject); err != nil {
			return err
		}
		version = v
	}
	return fmt.Errorf("%w: the keyring's current version keeps changing", ErrKeyUnavailable)
}

// wrap encrypts a data keyset under the keyring's current version.
func (s *Service) wrap(ctx context.Context, subject string, h *keyset.Handle) (string, []byte, error) {
	version := s.kr.Current()
	kek, err := s.kr.AEAD(ctx, version)
	if err != nil {
		return "", nil, err
	}
	var buf bytes.Buffer
	w := keyset.NewBinaryWriter(&buf)
	if kc, ok := kek.(tink.AEADWithContext); ok {
		err = h.WriteWithContext(ctx, w, kc, keysetAD(subject))
	} else {
		err = h.WriteWithAssociatedData(w, kek, keysetAD(subject))
	}
	if err != nil {
		return "", nil, fmt.Errorf("%w: wrap the data key of %s under %s: %v", ErrKeyUnavailable, subject, version, err)
	}
	return version, buf.Bytes(), nil
}

// unwrap decrypts a wrapped data keyset.
func (s *Service) unwrap(ctx context.Context, subject, version string, wrapped []byte) (*keyset.Handle, error) {
	kek, err := s.kr.AEAD(ctx, version)
	if err != nil {
		return nil, fmt.Errorf("data key of %s: %w", subject, err)
	}
	r := keyset.NewBinaryReader(bytes.NewReader(wrapped))
	var h *keyset.Handle
	if kc, ok := kek.(tink.AEADWithContext); ok {
		h, err = keyset.ReadWithContext(ctx, r, kc, keysetAD(subject))
	} else {
		h, err = keyset.ReadWithAssociatedData(r, kek, keysetAD(subject))
	}
	if err != nil {
		if errors.Is(err, ErrKeyUnavailable) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: the data key of %s does not open under key-encryption key %s (a different keyring, or the wrapped key was altered): %v",
			ErrKeyUnavailable, subject, version, err)
	}
	return h, nil
}
