package fieldcrypt

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"net"
	"net/url"
	"strings"
	"testing"

	"github.com/veche/veche/internal/store/storetest"
)

// The associated-data encoding is part of the stored format: changing it
// would make every stored ciphertext unreadable.
func TestAssociatedDataEncodingIsFixed(t *testing.T) {
	got := hex.EncodeToString(associatedData("account:42", FieldRef{"accounts", "email", "42"}))
	want := "0000000e" + hex.EncodeToString([]byte("veche field v1")) +
		"0000000a" + hex.EncodeToString([]byte("account:42")) +
		"00000008" + hex.EncodeToString([]byte("accounts")) +
		"00000005" + hex.EncodeToString([]byte("email")) +
		"00000002" + hex.EncodeToString([]byte("42"))
	if got != want {
		t.Fatalf("associated data\n got %s\nwant %s", got, want)
	}
}

// FuzzOpen: whatever bytes Open is given, it never panics and returns
// data only for the exact ciphertext Seal made.
func FuzzOpen(f *testing.F) {
	db := storetest.SQLite(f)
	kr, err := OpenLocalKeyring(f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	s := New(db, kr, nil, Options{})
	ct := seal(f, s, "account:42", email, "alice@example.org")
	f.Add(ct)
	f.Add([]byte{})
	f.Add([]byte{FormatV1})
	f.Add(append([]byte{2}, ct[1:]...))
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := s.Open(context.Background(), "account:42", email, in)
		if bytes.Equal(in, ct) {
			if err != nil || string(got) != "alice@example.org" {
				t.Fatalf("the real ciphertext: %q, %v", got, err)
			}
			return
		}
		if err == nil || got != nil {
			t.Fatalf("Open accepted %x: %q", in, got)
		}
		if !errors.Is(err, ErrTampered) {
			t.Fatalf("Open(%x): %v; want ErrTampered", in, err)
		}
	})
}

// FuzzParseVaultSpec: no spec makes veche send the token in clear to a
// non-loopback host, or keep a token given in the URL.
func FuzzParseVaultSpec(f *testing.F) {
	for _, s := range []string{
		"vault-transit://vault:8200/veche",
		"vault-transit://127.0.0.1:8200/veche?http=1",
		"vault-transit://10.0.0.1:8200/veche?http=true&mount=x",
		"vault-transit://tok@vault:8200/veche",
		"vault-transit://[::1]:8200/k?http=1&namespace=ns",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		cfg, err := ParseVaultSpec(spec)
		if err != nil {
			return
		}
		u, perr := url.Parse(cfg.Address)
		if perr != nil {
			t.Fatalf("address %q: %v", cfg.Address, perr)
		}
		if u.Scheme == "http" {
			host := u.Hostname()
			ip := net.ParseIP(host)
			if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
				t.Fatalf("%q: plain HTTP to %s", spec, host)
			}
		} else if u.Scheme != "https" {
			t.Fatalf("%q: scheme %q", spec, u.Scheme)
		}
		if cfg.Token != "" || strings.Contains(cfg.Address, "@") || cfg.Key == "" {
			t.Fatalf("%q: %+v", spec, cfg)
		}
	})
}
