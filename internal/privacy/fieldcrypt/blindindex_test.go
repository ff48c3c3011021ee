package fieldcrypt

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

// hkdfRFC5869 is an independent, literal HKDF-SHA256 (RFC 5869 §2.2-2.3)
// for one 32-byte block, to cross-check the implementation under test.
func hkdfRFC5869(ikm, salt []byte, info string) []byte {
	if salt == nil {
		salt = make([]byte, sha256.Size)
	}
	ext := hmac.New(sha256.New, salt)
	ext.Write(ikm)
	prk := ext.Sum(nil)
	exp := hmac.New(sha256.New, prk)
	exp.Write([]byte(info))
	exp.Write([]byte{1})
	return exp.Sum(nil)
}

func TestBlindIndexKnownAnswer(t *testing.T) {
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i)
	}
	s := New(nil, nil, key, Options{})
	for _, c := range []struct{ purpose, in, want string }{
		{"email", "alice@example.org", "f433cd36745f59c4dccf6db8e3cb8f3912eb708da53bc259aa966abb5d751fef"},
		{"email", "", "73fe0d65f3a51bccd28955a0fbe7b7aefad5e167d8b678ffc1bae402bf14ce43"},
		{"phone", "alice@example.org", "c2d5a8ef14922964b70c71ff4237d6524aceef6eb7ea82aa6c352c7227e89020"},
	} {
		got := s.BlindIndex(c.purpose, c.in)
		m := hmac.New(sha256.New, hkdfRFC5869(key, nil, "veche blind index v1\x00"+c.purpose))
		m.Write([]byte(c.in))
		if want := m.Sum(nil); !bytes.Equal(got, want) || len(got) != 32 {
			t.Fatalf("BlindIndex(%q, %q) = %x, independent computation %x", c.purpose, c.in, got, want)
		}
		if c.want != "" && hex.EncodeToString(got) != c.want {
			t.Errorf("BlindIndex(%q, %q) = %x, want %s", c.purpose, c.in, got, c.want)
		}
	}
	if bytes.Equal(s.BlindIndex("email", "a"), s.BlindIndex("phone", "a")) {
		t.Fatal("purposes share a key")
	}
	if !bytes.Equal(s.BlindIndex("email", "a"), New(nil, nil, key, Options{}).BlindIndex("email", "a")) {
		t.Fatal("BlindIndex is not deterministic")
	}
}

func TestBlindIndexWithoutKeyPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	New(nil, nil, nil, Options{}).BlindIndex("email", "a")
}
