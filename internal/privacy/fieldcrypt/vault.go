package fieldcrypt

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tink-crypto/tink-go/v2/tink"
)

// VaultConfig locates a key of the Transit secrets engine of HashiCorp Vault
// or OpenBao.
type VaultConfig struct {
	Address   string // base URL, e.g. https://vault.example.org:8200
	Mount     string // the engine's mount path; default "transit"
	Key       string // the key's name; an aes256-gcm96 key, not derived
	Token     string // sent as X-Vault-Token
	Namespace string // optional, sent as X-Vault-Namespace
	// Client makes the requests; default: a client with a 30 s timeout.
	Client *http.Client
	// RefreshEvery bounds how long Current trusts the latest key version
	// it has seen before asking Vault again; default one minute.
	RefreshEvery time.Duration
}

func (c VaultConfig) redacted() string {
	return "vault-transit " + c.Address + "/v1/" + c.Mount + "/keys/" + c.Key
}

// ParseVaultSpec reads a "vault-transit://host:port/keyname?mount=...&namespace=...&ca=FILE&http=1"
// configuration string (see [OpenKeyring]); the token is not part of it.
func ParseVaultSpec(spec string) (VaultConfig, error) {
	u, err := url.Parse(spec)
	if err == nil {
		// The address built from the host must itself be a valid URL.
		_, err = url.Parse("https://" + u.Host)
	}
	if err != nil || u.Scheme != "vault-transit" || u.Hostname() == "" {
		return VaultConfig{}, errors.New("fieldcrypt: malformed keyring: want vault-transit://host:port/keyname")
	}
	if u.User != nil {
		u.User = nil
		return VaultConfig{}, fmt.Errorf("fieldcrypt: keyring %q: put the token in %s, not in the URL", u.String(), EnvVaultToken)
	}
	key := strings.Trim(u.Path, "/")
	if key == "" || strings.Contains(key, "/") {
		return VaultConfig{}, fmt.Errorf("fieldcrypt: keyring %q: name one Transit key, e.g. vault-transit://vault:8200/veche", spec)
	}
	q := u.Query()
	cfg := VaultConfig{Address: "https://" + u.Host, Mount: q.Get("mount"), Key: key, Namespace: q.Get("namespace")}
	if cfg.Mount == "" {
		cfg.Mount = "transit"
	}
	cfg.Mount = strings.Trim(cfg.Mount, "/")
	if plain, _ := strconv.ParseBool(q.Get("http")); plain {
		host := u.Hostname()
		ip := net.ParseIP(host)
		if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return VaultConfig{}, fmt.Errorf("fieldcrypt: keyring %q: plain HTTP would send the Vault token in clear; it is allowed only to a loopback address", spec)
		}
		cfg.Address = "http://" + u.Host
	}
	if ca := q.Get("ca"); ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return VaultConfig{}, fmt.Errorf("fieldcrypt: Vault CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return VaultConfig{}, fmt.Errorf("fieldcrypt: Vault CA file %s holds no PEM certificate", ca)
		}
		cfg.Client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		}}
	}
	return cfg, nil
}

// VaultTransitKeyring keeps the key-encryption key in the Transit secrets
// engine of HashiCorp Vault or OpenBao: the key never leaves Vault, and
// wrapping or unwrapping a data key is one HTTP call (POST
// /v1/<mount>/encrypt/<key> or /decrypt/<key>) with the data key's
// associated data sent as associated_data. Its versions are the Transit
// key's versions, named "vault:<mount>/<key>:<n>"; new data keys are
// wrapped under the latest version (rotate the key in Vault with `vault
// write -f transit/keys/<key>/rotate`, then run `veche rotate-keys`).
//
// It talks to the HTTP API with net/http rather than through Vault's Go
// client, which would bring some fifteen modules for two POST requests.
type VaultTransitKeyring struct {
	cfg VaultConfig

	mu        sync.Mutex
	latest    int
	checkedAt time.Time
}

// NewVaultTransitKeyring checks that the key exists and can encrypt, and
// learns its latest version.
func NewVaultTransitKeyring(ctx context.Context, cfg VaultConfig) (*VaultTransitKeyring, error) {
	if cfg.Mount == "" {
		cfg.Mount = "transit"
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.RefreshEvery <= 0 {
		cfg.RefreshEvery = time.Minute
	}
	cfg.Address = strings.TrimRight(cfg.Address, "/")
	k := &VaultTransitKeyring{cfg: cfg}
	if err := k.Refresh(ctx); err != nil {
		return nil, err
	}
	return k, nil
}

// Refresh asks Vault for the key's latest version.
func (k *VaultTransitKeyring) Refresh(ctx context.Context) error {
	var info struct {
		LatestVersion      int  `json:"latest_version"`
		SupportsEncryption bool `json:"supports_encryption"`
		Derived            bool `json:"derived"`
	}
	if err := k.call(ctx, http.MethodGet, "keys/"+k.cfg.Key, nil, &info); err != nil {
		return err
	}
	if !info.SupportsEncryption || info.Derived || info.LatestVersion < 1 {
		return fmt.Errorf("fieldcrypt: %s: the key must be an encryption key (type aes256-gcm96) without derivation", k.cfg.redacted())
	}
	k.mu.Lock()
	k.latest, k.checkedAt = info.LatestVersion, time.Now()
	k.mu.Unlock()
	return nil
}

// Current names the Transit key's latest version, asking Vault again when
// the last answer is older than RefreshEvery (and keeping the last answer
// if Vault does not answer within five seconds).
func (k *VaultTransitKeyring) Current() string {
	k.mu.Lock()
	stale := time.Since(k.checkedAt) > k.cfg.RefreshEvery
	k.mu.Unlock()
	if stale {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		k.Refresh(ctx)
		cancel()
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.versionName(k.latest)
}

func (k *VaultTransitKeyring) versionName(n int) string {
	return "vault:" + k.cfg.Mount + "/" + k.cfg.Key + ":" + strconv.Itoa(n)
}

// AEAD returns the Transit key's version as an AEAD; it makes no request
// until used.
func (k *VaultTransitKeyring) AEAD(_ context.Context, version string) (tink.AEAD, error) {
	s, ok := strings.CutPrefix(version, "vault:"+k.cfg.Mount+"/"+k.cfg.Key+":")
	n, err := strconv.Atoi(s)
	if !ok || err != nil || n < 1 {
		return nil, fmt.Errorf("%w: %q is not a version of %s", ErrKeyUnavailable, version, k.cfg.redacted())
	}
	return &transitAEAD{k: k, version: n}, nil
}

// transitAEAD is one version of a Transit key as a tink AEAD.
type transitAEAD struct {
	k       *VaultTransitKeyring
	version int
}

var (
	_ tink.AEAD            = (*transitAEAD)(nil)
	_ tink.AEADWithContext = (*transitAEAD)(nil)
)

func (a *transitAEAD) Encrypt(plaintext, associatedData []byte) ([]byte, error) {
	return a.EncryptWithContext(context.Background(), plaintext, associatedData)
}

func (a *transitAEAD) Decrypt(ciphertext, associatedData []byte) ([]byte, error) {
	return a.DecryptWithContext(context.Background(), ciphertext, associatedData)
}

func (a *transitAEAD) EncryptWithContext(ctx context.Context, plaintext, associatedData []byte) ([]byte, error) {
	req := map[string]any{
		"plaintext":       base64.StdEncoding.EncodeToString(plaintext),
		"associated_data": base64.StdEncoding.EncodeToString(associatedData),
		"key_version":     a.version,
	}
	var resp struct {
		Ciphertext string `json:"ciphertext"`
	}
	if err := a.k.call(ctx, http.MethodPost, "encrypt/"+a.k.cfg.Key, req, &resp); err != nil {
		return nil, err
	}
	if !strings.HasPrefix(resp.Ciphertext, a.prefix()) {
		return nil, fmt.Errorf("fieldcrypt: %s answered a ciphertext not of version %d", a.k.cfg.redacted(), a.version)
	}
	return []byte(resp.Ciphertext), nil
}

func (a *transitAEAD) DecryptWithContext(ctx context.Context, ciphertext, associatedData []byte) ([]byte, error) {
	// The version a wrapped key is filed under must be the one that
	// wrapped it, or re-wrapping would miss it.
	if !bytes.HasPrefix(ciphertext, []byte(a.prefix())) {
		return nil, fmt.Errorf("fieldcrypt: wrapped key is not a Transit ciphertext of version %d", a.version)
	}
	req := map[string]any{
		"ciphertext":      string(ciphertext),
		"associated_data": base64.StdEncoding.EncodeToString(associatedData),
	}
	var resp struct {
		Plaintext string `json:"plaintext"`
	}
	if err := a.k.call(ctx, http.MethodPost, "decrypt/"+a.k.cfg.Key, req, &resp); err != nil {
		return nil, err
	}
	pt, err := base64.StdEncoding.DecodeString(resp.Plaintext)
	if err != nil {
		return nil, fmt.Errorf("fieldcrypt: %s answered a malformed plaintext", a.k.cfg.redacted())
	}
	return pt, nil
}

func (a *transitAEAD) prefix() string { return "vault:v" + strconv.Itoa(a.version) + ":" }

// errVault is a refusal from Vault; it carries Vault's own messages, which
// never contain key material.
type errVault struct {
	status int
	msgs   []string
	where  string
}

func (e *errVault) Error() string {
	return fmt.Sprintf("fieldcrypt: %s: HTTP %d: %s", e.where, e.status, strings.Join(e.msgs, "; "))
}

// call sends one request to the Transit engine and decodes the "data"
// member of the answer into out.
func (k *VaultTransitKeyring) call(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	where := k.cfg.redacted()
	req, err := http.NewRequestWithContext(ctx, method, k.cfg.Address+"/v1/"+k.cfg.Mount+"/"+path, rd)
	if err != nil {
		return fmt.Errorf("fieldcrypt: %s: %w", where, err)
	}
	req.Header.Set("X-Vault-Token", k.cfg.Token)
	req.Header.Set("X-Vault-Request", "true")
	if k.cfg.Namespace != "" {
		req.Header.Set("X-Vault-Namespace", k.cfg.Namespace)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := k.cfg.Client.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %s unreachable: %v", ErrKeyUnavailable, where, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%w: %s: read answer: %v", ErrKeyUnavailable, where, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Errors []string `json:"errors"`
		}
		json.Unmarshal(raw, &e)
		ve := &errVault{status: resp.StatusCode, msgs: e.Errors, where: where}
		if resp.StatusCode == http.StatusBadRequest {
			// Vault answers 400 to a ciphertext that fails authentication.
			return ve
		}
		return fmt.Errorf("%w: %w", ErrKeyUnavailable, ve)
	}
	var envelope struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(raw, &envelope); err != nil || len(envelope.Data) == 0 {
		return fmt.Errorf("fieldcrypt: %s: malformed answer", where)
	}
	if err := json.Unmarshal(envelope.Data, out); err != nil {
		return fmt.Errorf("fieldcrypt: %s: malformed answer: %v", where, err)
	}
	return nil
}
