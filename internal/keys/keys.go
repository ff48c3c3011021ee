// Package keys owns the instance's long-lived secrets, kept as files under
// the data directory and created on first start:
//
//   - instance.key: 32 random bytes from which purpose-specific subkeys are
//     derived with HKDF-SHA256 (RFC 5869), so one file backs the audit-log
//     pseudonyms, sealed MFA secrets and form tokens without reusing a key
//     across purposes;
//   - log-signer.key: the Ed25519 signed-note key (C2SP signed-note) that
//     signs audit-log checkpoints; its public half is served at /log/key.
//
// Every app node of one instance must hold the same files (copy the keys
// directory when adding nodes). Files are written 0600 in a 0700 directory.
package keys

import (
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// Set is the loaded key material of one instance.
type Set struct {
	master      []byte
	LogSigner   note.Signer
	LogVerifier string // the note verifier key, "<origin>+<hash>+<base64 key>"
}

// Purposes for Derive; each names one use so keys are never shared.
const (
	PurposePseudonym = "veche audit pseudonym v1"
	PurposeSealMFA   = "veche mfa secret seal v1"
	PurposeRateKey   = "veche rate-limit key v1"
	PurposeCensus    = "veche census v1"             // keyed hashes of identity numbers (participation)
	PurposeHandles   = "veche participant handle v1" // per-process handles of participants
)

// LoadOrCreate reads the keys from dir, creating any that are missing. The
// origin names the audit log (e.g. "veche.example.org/log") and is used only
// when the log key is first created.
func LoadOrCreate(dir, origin string) (*Set, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("keys: create %s: %w", dir, err)
	}
	master, err := loadOrCreate(filepath.Join(dir, "instance.key"), func() ([]byte, error) {
		b := make([]byte, 32)
		_, err := rand.Read(b)
		return b, err
	})
	if err != nil {
		return nil, err
	}
	if len(master) != 32 {
		return nil, fmt.Errorf("keys: %s holds %d bytes, want 32", filepath.Join(dir, "instance.key"), len(master))
	}
	skey, err := loadOrCreate(filepath.Join(dir, "log-signer.key"), func() ([]byte, error) {
		s, _, err := note.GenerateKey(rand.Reader, origin)
		return []byte(s + "\n"), err
	})
	if err != nil {
		return nil, err
	}
	signer, err := note.NewSigner(strings.TrimSpace(string(skey)))
	if err != nil {
		return nil, fmt.Errorf("keys: log-signer.key: %w", err)
	}
	vkey, err := VerifierKey(strings.TrimSpace(string(skey)))
	if err != nil {
		return nil, err
	}
	return &Set{master: master, LogSigner: signer, LogVerifier: vkey}, nil
}

// Derive returns a 32-byte key for one purpose.
func (s *Set) Derive(purpose string) []byte {
	k, err := hkdf.Key(sha256.New, s.master, nil, purpose, 32)
	if err != nil {
		panic("keys: hkdf: " + err.Error()) // only fails for absurd lengths
	}
	return k
}

// VerifierKey returns the public verifier key of a note signer key.
func VerifierKey(signerKey string) (string, error) {
	// PRIVATE+KEY+<name>+<hash>+<base64 of alg||private key>
	parts := strings.SplitN(signerKey, "+", 5)
	if len(parts) != 5 || parts[0] != "PRIVATE" || parts[1] != "KEY" {
		return "", errors.New("keys: malformed signer key")
	}
	if _, err := note.NewSigner(signerKey); err != nil {
		return "", fmt.Errorf("keys: %w", err)
	}
	// The last field is the algorithm byte (1 = Ed25519) and the seed.
	raw, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil || len(raw) != 1+ed25519.SeedSize || raw[0] != 1 {
		return "", errors.New("keys: signer key is not an Ed25519 note key")
	}
	pub := ed25519.NewKeyFromSeed(raw[1:]).Public().(ed25519.PublicKey)
	return note.NewEd25519VerifierKey(parts[2], pub)
}

func loadOrCreate(path string, create func() ([]byte, error)) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		return b, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("keys: read %s: %w", path, err)
	}
	b, err = create()
	if err != nil {
		return nil, fmt.Errorf("keys: generate %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return loadOrCreate(path, create) // another process created it first
	}
	if err != nil {
		return nil, fmt.Errorf("keys: create %s: %w", path, err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return nil, fmt.Errorf("keys: write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, err
	}
	return b, f.Close()
}
