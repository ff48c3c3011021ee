package fieldcrypt

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func TestLocalKeyringFilesAndRotation(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys", "kek")
	kr, err := OpenLocalKeyring(dir)
	if err != nil {
		t.Fatal(err)
	}
	if kr.Current() != "local-1" {
		t.Fatalf("first version %q", kr.Current())
	}
	for _, name := range []string{"", "local-1.json", "current"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		want := os.FileMode(0o600)
		if name == "" {
			want = 0o700 | os.ModeDir
		}
		if fi.Mode() != want {
			t.Errorf("%s has mode %v, want %v", filepath.Join(dir, name), fi.Mode(), want)
		}
	}
	// Another process opening the same directory sees the same keys, and
	// a rotation by one is seen by the other at once.
	other, err := OpenLocalKeyring(dir)
	if err != nil {
		t.Fatal(err)
	}
	a1, _ := kr.AEAD(context.Background(), "local-1")
	ct, _ := a1.Encrypt([]byte("k"), []byte("ad"))
	b1, _ := other.AEAD(context.Background(), "local-1")
	if pt, err := b1.Decrypt(ct, []byte("ad")); err != nil || string(pt) != "k" {
		t.Fatalf("second opener: %q, %v", pt, err)
	}
	v2, err := other.Rotate()
	if err != nil || v2 != "local-2" || kr.Current() != "local-2" {
		t.Fatalf("rotate: %q, %v; first opener sees %q", v2, err, kr.Current())
	}
	// Concurrent rotations never share a number.
	var wg sync.WaitGroup
	got := make([]string, 8)
	for i := range got {
		wg.Go(func() { got[i], _ = kr.Rotate() })
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, v := range got {
		if v == "" || seen[v] {
			t.Fatalf("concurrent rotations gave %v", got)
		}
		seen[v] = true
	}
	if vs, _ := kr.Versions(); len(vs) != 10 || vs[9] != "local-10" {
		t.Fatalf("versions %v", vs)
	}
	if _, err := kr.AEAD(context.Background(), "local-99"); !errors.Is(err, ErrKeyUnavailable) {
		t.Fatalf("missing version: %v", err)
	}
	if _, err := kr.AEAD(context.Background(), "../../etc/passwd"); !errors.Is(err, ErrKeyUnavailable) {
		t.Fatalf("path in version: %v", err)
	}
}

func TestLocalKeyringRefusesCorruptKey(t *testing.T) {
	dir := t.TempDir()
	if _, err := OpenLocalKeyring(dir); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "local-1.json"), []byte("{not a keyset"), 0o600)
	if _, err := OpenLocalKeyring(dir); !errors.Is(err, ErrKeyUnavailable) {
		t.Fatalf("corrupt key file: %v; want ErrKeyUnavailable", err)
	}
}
