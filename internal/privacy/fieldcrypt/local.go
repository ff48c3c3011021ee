package fieldcrypt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/insecurecleartextkeyset"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/tink"

	"github.com/veche/veche/internal/store"
)

// LocalKeyring keeps key-encryption keys as tink AES-256-GCM keysets in
// files under one directory (by default <data>/keys/kek), one file per
// version ("local-1.json", "local-2.json", ...) and a file "current"
// naming the version new keys are wrapped under.
//
// The files hold the keysets in clear, like the instance key beside them:
// they are the root of the key hierarchy, protected by file permissions
// (0600 in a 0700 directory). Keep them out of data backups and copy the
// directory to every app node. A deployment that wants the root key outside
// the app host uses a [VaultTransitKeyring] instead.
//
// Several processes may share the directory (the server and `veche
// rotate-keys`): Current re-reads "current", and AEAD checks that the
// version's file still exists, so a rotation or retirement by one process
// takes effect in the others at once.
type LocalKeyring struct {
	dir string

	mu      sync.Mutex
	aeads   map[string]tink.AEAD
	current string // last value read from the "current" file
}

const localPrefix = "local-"

// OpenLocalKeyring opens the keyring in dir, creating the directory and a
// first version if there is none.
func OpenLocalKeyring(dir string) (*LocalKeyring, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("fieldcrypt: create keyring directory: %w", err)
	}
	k := &LocalKeyring{dir: dir, aeads: map[string]tink.AEAD{}}
	cur, err := k.readCurrent()
	switch {
	case errors.Is(err, fs.ErrNotExist):
		versions, err := k.Versions()
		if err != nil {
			return nil, err
		}
		if len(versions) > 0 {
			// A crash between creating a version and naming it current.
			cur = versions[len(versions)-1]
		} else if cur, err = k.createVersion(); err != nil {
			return nil, err
		}
		if err := k.writeCurrent(cur); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	}
	if _, err := k.AEAD(context.Background(), cur); err != nil {
		return nil, err
	}
	k.current = cur
	return k, nil
}

// Dir is the directory the keyring lives in.
func (k *LocalKeyring) Dir() string { return k.dir }

// Current names the version new keys are wrapped under, as the "current"
// file says now.
func (k *LocalKeyring) Current() string {
	cur, err := k.readCurrent()
	k.mu.Lock()
	defer k.mu.Unlock()
	if err == nil {
		k.current = cur
	}
	return k.current
}

// AEAD returns the key-encryption AEAD of version; it fails with
// [ErrKeyUnavailable] once the version's file is gone.
func (k *LocalKeyring) AEAD(_ context.Context, version string) (tink.AEAD, error) {
	path, err := k.path(version)
	if err != nil {
		return nil, err
	}
	// A stat per call: retirement by another process must be seen at once
	// (see Retire), and this runs only when a data key is (un)wrapped.
	if _, err := os.Stat(path); err != nil {
		k.mu.Lock()
		delete(k.aeads, version)
		k.mu.Unlock()
		return nil, fmt.Errorf("%w: key-encryption key %s is not in %s (retired, or this is not the instance's keyring)", ErrKeyUnavailable, version, k.dir)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if a, ok := k.aeads[version]; ok {
		return a, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: read %s: %v", ErrKeyUnavailable, path, err)
	}
	h, err := insecurecleartextkeyset.Read(keyset.NewJSONReader(bytes.NewReader(b)))
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not a tink keyset: %v", ErrKeyUnavailable, path, err)
	}
	a, err := aead.New(h)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrKeyUnavailable, path, err)
	}
	k.aeads[version] = a
	return a, nil
}

// Versions lists the versions whose files exist, oldest first.
func (k *LocalKeyring) Versions() ([]string, error) {
	entries, err := os.ReadDir(k.dir)
	if err != nil {
		return nil, fmt.Errorf("fieldcrypt: list keyring: %w", err)
	}
	var nums []int
	for _, e := range entries {
		if n, ok := versionNumber(strings.TrimSuffix(e.Name(), ".json")); ok && strings.HasSuffix(e.Name(), ".json") {
			nums = append(nums, n)
		}
	}
	sort.Ints(nums)
	out := make([]string, len(nums))
	for i, n := range nums {
		out[i] = localPrefix + strconv.Itoa(n)
	}
	return out, nil
}

// Rotate adds a version and makes it current. Keys wrapped under older
// versions stay readable; [Service.Rewrap] moves them to the new one.
func (k *LocalKeyring) Rotate() (string, error) {
	v, err := k.createVersion()
	if err != nil {
		return "", err
	}
	if err := k.writeCurrent(v); err != nil {
		return "", err
	}
	k.mu.Lock()
	k.current = v
	k.mu.Unlock()
	return v, nil
}

// Retire deletes a version's key file once no data key in db is wrapped
// under it, and refuses with [ErrKEKInUse] otherwise, or when it is the
// current version. Retiring is what makes stale copies of wrapped keys
// (old key exports, freed database pages) useless, so erasures reach them
// too.
//
// The count and the deletion happen in one transaction that keeps writers
// of subject_keys out (SQLite's write lock; a SHARE lock on PostgreSQL), and
// every writer confirms after its write that the version it wrapped under
// still exists: a key wrapped concurrently is either counted here or
// re-wrapped by its writer.
func (k *LocalKeyring) Retire(ctx context.Context, db *store.DB, version string) error {
	path, err := k.path(version)
	if err != nil {
		return err
	}
	if version == k.Current() {
		return fmt.Errorf("%w: %s is the current version; rotate first", ErrKEKInUse, version)
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("fieldcrypt: retire %s: no such version in %s", version, k.dir)
	}
	return db.InTx(ctx, func(tx *store.Tx) error {
		if tx.Dialect() == store.Postgres {
			if _, err := tx.Exec(ctx, "LOCK TABLE subject_keys IN SHARE MODE"); err != nil {
				return err
			}
		}
		var n int64
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM subject_keys WHERE kek_version = ?", version).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("%w: %d data keys are still wrapped under %s; run the re-wrap (veche rotate-keys) first", ErrKEKInUse, n, version)
		}
		if version == k.Current() { // rotated back meanwhile? never retire the current version
			return fmt.Errorf("%w: %s is the current version", ErrKEKInUse, version)
		}
		if err := os.Remove(path); err != nil {
			return fmt.Errorf("fieldcrypt: retire %s: %w", version, err)
		}
		k.mu.Lock()
		delete(k.aeads, version)
		k.mu.Unlock()
		return syncDir(k.dir)
	})
}

func (k *LocalKeyring) path(version string) (string, error) {
	if _, ok := versionNumber(version); !ok {
		return "", fmt.Errorf("%w: %q is not a local keyring version", ErrKeyUnavailable, version)
	}
	return filepath.Join(k.dir, version+".json"), nil
}

func versionNumber(v string) (int, bool) {
	s, ok := strings.CutPrefix(v, localPrefix)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || strconv.Itoa(n) != s {
		return 0, false
	}
	return n, true
}

func (k *LocalKeyring) readCurrent() (string, error) {
	b, err := os.ReadFile(filepath.Join(k.dir, "current"))
	if err != nil {
		return "", err
	}
	v := strings.TrimSpace(string(b))
	if _, ok := versionNumber(v); !ok {
		return "", fmt.Errorf("fieldcrypt: %s names no version: %q", filepath.Join(k.dir, "current"), v)
	}
	return v, nil
}

// writeCurrent replaces the "current" file atomically (write, sync, rename).
func (k *LocalKeyring) writeCurrent(v string) error {
	tmp, err := os.CreateTemp(k.dir, ".current-*")
	if err != nil {
		return fmt.Errorf("fieldcrypt: write current version: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(v + "\n"); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(k.dir, "current")); err != nil {
		return fmt.Errorf("fieldcrypt: write current version: %w", err)
	}
	return syncDir(k.dir)
}

// createVersion writes a new keyset file numbered one above the highest
// existing version (and above any retired one still named in "current").
func (k *LocalKeyring) createVersion() (string, error) {
	h, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
	if err != nil {
		return "", fmt.Errorf("fieldcrypt: generate key-encryption key: %w", err)
	}
	var buf bytes.Buffer
	if err := insecurecleartextkeyset.Write(h, keyset.NewJSONWriter(&buf)); err != nil {
		return "", err
	}
	versions, err := k.Versions()
	if err != nil {
		return "", err
	}
	next := 1
	if len(versions) > 0 {
		n, _ := versionNumber(versions[len(versions)-1])
		next = n + 1
	}
	if cur, err := k.readCurrent(); err == nil {
		if n, _ := versionNumber(cur); n >= next {
			next = n + 1
		}
	}
	// Write the keyset to a temporary file, then link it to its version's
	// name: the link is atomic and fails if the name exists, so another
	// process never reads a half-written key and two rotations never share
	// a number.
	tmp, err := os.CreateTemp(k.dir, ".kek-*")
	if err != nil {
		return "", fmt.Errorf("fieldcrypt: create key-encryption key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	for ; ; next++ {
		v := localPrefix + strconv.Itoa(next)
		err := os.Link(tmp.Name(), filepath.Join(k.dir, v+".json"))
		if errors.Is(err, fs.ErrExist) {
			continue // another process took this number
		}
		if err != nil {
			return "", fmt.Errorf("fieldcrypt: create key-encryption key: %w", err)
		}
		return v, syncDir(k.dir)
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
