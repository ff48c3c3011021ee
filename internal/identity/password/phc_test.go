package password

import (
	"bytes"
	"errors"
	"testing"
)

func TestEncodeThenDecodeRoundTrips(t *testing.T) {
	p := Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 8, KeyLen: 16}
	salt := []byte("saltsalt")
	key := bytes.Repeat([]byte{0xfb}, 16)
	encoded := encodeHash(p, salt, key)
	const want = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$+/v7+/v7+/v7+/v7+/v7+w"
	if encoded != want {
		t.Fatalf("encoded = %s, want %s", encoded, want)
	}
	gp, gs, gk, err := decodeHash(encoded)
	if err != nil || gp != p || !bytes.Equal(gs, salt) || !bytes.Equal(gk, key) {
		t.Fatalf("decode = %+v, %x, %x, %v", gp, gs, gk, err)
	}
}

// FuzzDecodeHash proves the decoder never panics, accepts only hashes
// within the parameter bounds, and accepts only canonical strings: any
// accepted input re-encodes to itself.
func FuzzDecodeHash(f *testing.F) {
	for _, v := range referenceVectors {
		f.Add(v.encoded)
	}
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$dmVjaGUta2F0LXNhbHQxNg$NdeOCcrrnVlM6hnZBrg8wHZ8F3spP/fbKLUWYNeHG4w")
	f.Add("$argon2id$v=19$m=4294967295,t=1,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc")
	f.Add("$argon2id$v=19$m=64,t=1,p=1$c29tZXNh\nbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc")
	f.Add("$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$")
	f.Add("$$$$$")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		p, salt, key, err := decodeHash(s)
		if err != nil {
			if !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("error %v does not wrap ErrMalformedHash", err)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("accepted out-of-bounds params: %v", err)
		}
		if int(p.SaltLen) != len(salt) || int(p.KeyLen) != len(key) {
			t.Fatalf("lengths %d/%d do not match salt %d and hash %d", p.SaltLen, p.KeyLen, len(salt), len(key))
		}
		if got := encodeHash(p, salt, key); got != s {
			t.Fatalf("accepted non-canonical %q (re-encodes as %q)", s, got)
		}
	})
}
