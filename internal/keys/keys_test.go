package keys

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

func TestLoadOrCreateIsStableAndSigns(t *testing.T) {
	dir := t.TempDir()
	a, err := LoadOrCreate(dir, "example.org/log")
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadOrCreate(dir, "ignored/after/creation")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Derive(PurposePseudonym), b.Derive(PurposePseudonym)) || a.LogVerifier != b.LogVerifier {
		t.Fatal("reloading the keys gave different keys")
	}
	if bytes.Equal(a.Derive(PurposePseudonym), a.Derive(PurposeSealMFA)) {
		t.Fatal("two purposes derived the same key")
	}
	msg, err := note.Sign(&note.Note{Text: "hello\n"}, a.LogSigner)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(a.LogVerifier)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := note.Open(msg, note.VerifierList(v)); err != nil {
		t.Fatalf("checkpoint signed with the signer does not open with the served verifier key: %v", err)
	}
	for _, name := range []string{"instance.key", "log-signer.key"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", name, fi.Mode().Perm())
		}
	}
}

func TestVerifierKeyMatchesGenerateKey(t *testing.T) {
	skey, vkey, err := note.GenerateKey(rand.Reader, "veche.test/log")
	if err != nil {
		t.Fatal(err)
	}
	got, err := VerifierKey(skey)
	if err != nil || got != vkey {
		t.Fatalf("VerifierKey = %q, %v; want %q", got, err, vkey)
	}
	if _, err := VerifierKey("PRIVATE+KEY+broken"); err == nil {
		t.Fatal("malformed key accepted")
	}
}

func TestCorruptInstanceKeyIsRefused(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "instance.key"), []byte("short"), 0o600)
	if _, err := LoadOrCreate(dir, "x/log"); err == nil {
		t.Fatal("a 5-byte instance key was accepted")
	}
}
