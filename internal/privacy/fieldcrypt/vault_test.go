package fieldcrypt

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/store/storetest"
)

// fakeTransit is an in-memory stand-in for Vault's Transit secrets engine:
// the endpoints veche uses, with AES-256-GCM keys, versions, associated
// data, min_decryption_version and token checks, answering as Vault does.
type fakeTransit struct {
	token string
	mount string

	mu       sync.Mutex
	keys     map[string]*fakeKey
	decrypts atomic.Int64
}

type fakeKey struct {
	versions   [][]byte // versions[i] is version i+1
	minDecrypt int
}

func newFakeTransit(t testing.TB, keyNames ...string) (*fakeTransit, *httptest.Server) {
	f := &fakeTransit{token: "s.test-token", mount: "transit", keys: map[string]*fakeKey{}}
	for _, n := range keyNames {
		f.keys[n] = &fakeKey{minDecrypt: 1}
		f.rotate(n)
	}
	srv := httptest.NewTLSServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeTransit) rotate(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := make([]byte, 32)
	rand.Read(k)
	f.keys[name].versions = append(f.keys[name].versions, k)
}

func vaultError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"errors": []string{msg}})
}

func vaultData(w http.ResponseWriter, data any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"data": data})
}

func (f *fakeTransit) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Vault-Token") != f.token {
		vaultError(w, http.StatusForbidden, "permission denied")
		return
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/v1/"+f.mount+"/"), "/")
	if len(parts) != 2 {
		vaultError(w, http.StatusNotFound, "no handler for route")
		return
	}
	op, name := parts[0], parts[1]
	f.mu.Lock()
	defer f.mu.Unlock()
	k, ok := f.keys[name]
	if !ok {
		vaultError(w, http.StatusBadRequest, "encryption key not found")
		return
	}
	var req struct {
		Plaintext      string `json:"plaintext"`
		Ciphertext     string `json:"ciphertext"`
		AssociatedData string `json:"associated_data"`
		KeyVersion     int    `json:"key_version"`
	}
	if r.Method == http.MethodPost {
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			vaultError(w, http.StatusBadRequest, "failed to parse JSON input")
			return
		}
	}
	ad, err := base64.StdEncoding.DecodeString(req.AssociatedData)
	if err != nil {
		vaultError(w, http.StatusBadRequest, "failed to base64-decode associated data")
		return
	}
	switch {
	case op == "keys" && r.Method == http.MethodGet:
		vaultData(w, map[string]any{"latest_version": len(k.versions), "min_decryption_version": k.minDecrypt,
			"supports_encryption": true, "derived": false, "type": "aes256-gcm96"})
	case op == "encrypt" && r.Method == http.MethodPost:
		v := req.KeyVersion
		if v == 0 {
			v = len(k.versions)
		}
		if v < 1 || v > len(k.versions) {
			vaultError(w, http.StatusBadRequest, "invalid key version")
			return
		}
		pt, err := base64.StdEncoding.DecodeString(req.Plaintext)
		if err != nil {
			vaultError(w, http.StatusBadRequest, "failed to base64-decode plaintext")
			return
		}
		g := gcm(k.versions[v-1])
		nonce := make([]byte, g.NonceSize())
		rand.Read(nonce)
		ct := g.Seal(nonce, nonce, pt, ad)
		vaultData(w, map[string]any{"ciphertext": "vault:v" + strconv.Itoa(v) + ":" + base64.StdEncoding.EncodeToString(ct), "key_version": v})
	case op == "decrypt" && r.Method == http.MethodPost:
		f.decrypts.Add(1)
		rest, ok := strings.CutPrefix(req.Ciphertext, "vault:v")
		vs, b64, ok2 := strings.Cut(rest, ":")
		v, err := strconv.Atoi(vs)
		if !ok || !ok2 || err != nil || v < 1 || v > len(k.versions) {
			vaultError(w, http.StatusBadRequest, "invalid ciphertext: no prefix")
			return
		}
		if v < k.minDecrypt {
			vaultError(w, http.StatusBadRequest, "ciphertext or signature version is disallowed by policy (too old)")
			return
		}
		ct, err := base64.StdEncoding.DecodeString(b64)
		g := gcm(k.versions[v-1])
		if err != nil || len(ct) < g.NonceSize() {
			vaultError(w, http.StatusBadRequest, "invalid ciphertext")
			return
		}
		pt, err := g.Open(nil, ct[:g.NonceSize()], ct[g.NonceSize():], ad)
		if err != nil {
			vaultError(w, http.StatusBadRequest, "cipher: message authentication failed")
			return
		}
		vaultData(w, map[string]any{"plaintext": base64.StdEncoding.EncodeToString(pt)})
	default:
		vaultError(w, http.StatusMethodNotAllowed, "unsupported operation")
	}
}

func gcm(key []byte) cipher.AEAD {
	b, _ := aes.NewCipher(key)
	g, _ := cipher.NewGCM(b)
	return g
}

func newVault(t *testing.T, srv *httptest.Server, key, token string) *VaultTransitKeyring {
	t.Helper()
	kr, err := NewVaultTransitKeyring(context.Background(), VaultConfig{Address: srv.URL, Key: key, Token: token, Client: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func TestVaultTransitKeyring(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		fake, srv := newFakeTransit(t, "veche")
		kr := newVault(t, srv, "veche", fake.token)
		if kr.Current() != "vault:transit/veche:1" {
			t.Fatalf("Current = %q", kr.Current())
		}
		s := New(db, kr, nil, Options{})
		fields := make([][]byte, 8)
		for i := range fields {
			fields[i] = seal(t, s, "account:1", FieldRef{"people", fmt.Sprint("f", i), "1"}, fmt.Sprint("value ", i))
		}
		// A cold cache calls Vault once for all eight fields.
		cold := New(db, kr, nil, Options{})
		before := fake.decrypts.Load()
		for i, ct := range fields {
			got, err := cold.Open(ctx, "account:1", FieldRef{"people", fmt.Sprint("f", i), "1"}, ct)
			if err != nil || string(got) != fmt.Sprint("value ", i) {
				t.Fatalf("Open via Vault: %q, %v", got, err)
			}
		}
		if n := fake.decrypts.Load() - before; n != 1 {
			t.Fatalf("%d Vault decrypt calls for 8 fields of one person; want 1", n)
		}

		// The wrapped key is bound to its subject: copied to another
		// person's row, Vault refuses it.
		seal(t, s, "account:2", email, "b")
		if _, err := db.Exec(ctx, "UPDATE subject_keys SET keyset = (SELECT keyset FROM subject_keys WHERE subject = 'account:1') WHERE subject = 'account:2'"); err != nil {
			t.Fatal(err)
		}
		if _, err := New(db, kr, nil, Options{}).Open(ctx, "account:2", email, fields[0]); !errors.Is(err, ErrKeyUnavailable) {
			t.Fatalf("swapped wrapped key: %v; want ErrKeyUnavailable", err)
		}

		// A wrong token fails clearly and does not leak the token.
		bad := &VaultTransitKeyring{cfg: kr.cfg, latest: 1}
		bad.cfg.Token = "s.wrong"
		_, err := New(db, bad, nil, Options{}).Open(ctx, "account:1", FieldRef{"people", "f0", "1"}, fields[0])
		if !errors.Is(err, ErrKeyUnavailable) || !strings.Contains(err.Error(), "permission denied") || strings.Contains(err.Error(), "s.wrong") {
			t.Fatalf("wrong token: %v", err)
		}

		// Rotation in Vault, then Rewrap; old version disallowed afterwards.
		fake.rotate("veche")
		if err := kr.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		if kr.Current() != "vault:transit/veche:2" {
			t.Fatalf("after rotation Current = %q", kr.Current())
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return s.Erase(ctx, tx, "account:2") }); err != nil {
			t.Fatal(err)
		}
		n, err := s.Rewrap(ctx, 10)
		if err != nil || n != 1 {
			t.Fatalf("Rewrap = %d, %v; want 1", n, err)
		}
		if usage, _, _ := s.KEKUsage(ctx); usage["vault:transit/veche:1"] != 0 || usage["vault:transit/veche:2"] != 1 {
			t.Fatalf("usage after rewrap: %v", usage)
		}
		fake.mu.Lock()
		fake.keys["veche"].minDecrypt = 2
		fake.mu.Unlock()
		if got, err := New(db, kr, nil, Options{}).Open(ctx, "account:1", FieldRef{"people", "f3", "1"}, fields[3]); err != nil || string(got) != "value 3" {
			t.Fatalf("Open after Vault rotation: %q, %v", got, err)
		}
		if err := s.RetireKEK(ctx, "vault:transit/veche:1"); err == nil || !strings.Contains(err.Error(), "key service") {
			t.Fatalf("RetireKEK on Vault: %v", err)
		}
	})
}

func TestVaultUnreachableFailsClearly(t *testing.T) {
	_, srv := newFakeTransit(t, "veche")
	kr := newVault(t, srv, "veche", "s.test-token")
	srv.Close()
	a, _ := kr.AEAD(context.Background(), kr.Current())
	_, err := a.Decrypt([]byte("vault:v1:AAAA"), nil)
	if !errors.Is(err, ErrKeyUnavailable) || !strings.Contains(err.Error(), "unreachable") {
		t.Fatalf("unreachable Vault: %v", err)
	}
	if _, err := kr.AEAD(context.Background(), "local-1"); !errors.Is(err, ErrKeyUnavailable) {
		t.Fatalf("foreign version: %v", err)
	}
}

func TestOpenKeyringFromSpec(t *testing.T) {
	ctx := context.Background()
	fake := &fakeTransit{token: "s.env-token", mount: "kv-transit", keys: map[string]*fakeKey{"veche": {minDecrypt: 1}}}
	fake.rotate("veche")
	srv := httptest.NewServer(fake) // plain HTTP on loopback: allowed for a dev server
	defer srv.Close()
	t.Setenv(EnvVaultToken, "s.env-token")
	spec := "vault-transit://" + strings.TrimPrefix(srv.URL, "http://") + "/veche?mount=kv-transit&http=1"
	kr, err := OpenKeyring(ctx, spec, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if kr.Current() != "vault:kv-transit/veche:1" {
		t.Fatalf("Current = %q", kr.Current())
	}
	a, _ := kr.AEAD(ctx, kr.Current())
	ct, err := a.Encrypt([]byte("k"), []byte("ad"))
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := a.Decrypt(ct, []byte("ad")); err != nil || string(pt) != "k" {
		t.Fatalf("round trip: %q, %v", pt, err)
	}
	if _, err := a.Decrypt(ct, []byte("other")); err == nil {
		t.Fatal("Vault AEAD ignored the associated data")
	}

	dir := t.TempDir()
	local, err := OpenKeyring(ctx, "", dir)
	if err != nil || local.Current() != "local-1" {
		t.Fatalf("default keyring: %v, %v", local, err)
	}
	t.Setenv(EnvVaultToken, "")
	for _, bad := range []string{
		"vault-transit://vault.example.org:8200/veche",        // no token
		"vault-transit://vault.example.org:8200/veche?http=1", // token in clear over the network
		"vault-transit://s.tok@vault.example.org:8200/veche",  // token in the URL
		"vault-transit://vault.example.org:8200/",             // no key
		"vault-transit://vault.example.org:8200/a/b",          // not a key name
		"kms://somewhere", // unknown provider
	} {
		if _, err := OpenKeyring(ctx, bad, dir); err == nil {
			t.Errorf("OpenKeyring(%q) succeeded", bad)
		} else if strings.Contains(err.Error(), "s.tok") {
			t.Errorf("error repeats the token: %v", err)
		}
	}
}

// Chain moves an instance from the local keyring to Vault with Rewrap.
func TestChainMigratesLocalToVault(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		local := newLocal(t)
		ct := seal(t, New(db, local, nil, Options{}), "account:1", email, "a@example.org")
		fake, srv := newFakeTransit(t, "veche")
		vault := newVault(t, srv, "veche", fake.token)
		s := New(db, Chain(vault, local), nil, Options{})
		if n, err := s.Rewrap(ctx, 10); n != 1 || err != nil {
			t.Fatalf("Rewrap = %d, %v", n, err)
		}
		got, err := New(db, vault, nil, Options{}).Open(ctx, "account:1", email, ct)
		if err != nil || string(got) != "a@example.org" {
			t.Fatalf("Open under Vault alone: %q, %v", got, err)
		}
	})
}
