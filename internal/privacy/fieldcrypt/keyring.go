package fieldcrypt

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/tink-crypto/tink-go/v2/tink"
)

// Keyring supplies the key-encryption keys (KEKs) that wrap subjects' data
// keys. A keyring has versions: new data keys are wrapped under Current,
// and a wrapped key names the version it was wrapped under, so old versions
// stay readable until [Service.Rewrap] has moved every key off them.
//
// Version names carry the provider ("local-2", "vault:transit/veche:3"),
// so keyrings of different providers never mistake each other's versions.
type Keyring interface {
	// Current names the version new keys are wrapped under.
	Current() string
	// AEAD returns the key-encryption AEAD of a version, or an error
	// wrapping [ErrKeyUnavailable] when the keyring does not hold it (any
	// more). It is called again after a wrapped key is written, to confirm
	// the version was not retired meanwhile, so it must reflect retirement
	// at once and should be cheap.
	AEAD(ctx context.Context, version string) (tink.AEAD, error)
}

// EnvVaultToken names the environment variable holding the Vault token for
// a "vault-transit://" keyring.
const EnvVaultToken = "VECHE_VAULT_TOKEN"

// OpenKeyring opens the keyring a configuration string names:
//
//   - "" or "local": a [LocalKeyring] in dataDir/keys/kek, created on first use;
//   - "vault-transit://host:port/keyname": a [VaultTransitKeyring] on the
//     Transit secrets engine of HashiCorp Vault or OpenBao at
//     https://host:port, with the token from VECHE_VAULT_TOKEN. Query
//     parameters: mount (default "transit"), namespace, ca (a PEM file of
//     CA certificates to trust), and http=1 for plain HTTP, which is
//     allowed only to a loopback address (a dev server on the same host).
func OpenKeyring(ctx context.Context, spec, dataDir string) (Keyring, error) {
	switch {
	case spec == "" || spec == "local":
		return OpenLocalKeyring(filepath.Join(dataDir, "keys", "kek"))
	case strings.HasPrefix(spec, "vault-transit://"):
		cfg, err := ParseVaultSpec(spec)
		if err != nil {
			return nil, err
		}
		cfg.Token = os.Getenv(EnvVaultToken)
		if cfg.Token == "" {
			return nil, fmt.Errorf("fieldcrypt: keyring %s needs a Vault token in %s", cfg.redacted(), EnvVaultToken)
		}
		return NewVaultTransitKeyring(ctx, cfg)
	default:
		scheme, _, _ := strings.Cut(spec, ":")
		return nil, fmt.Errorf("fieldcrypt: unknown keyring %q: use \"local\" or \"vault-transit://host:port/keyname\"", scheme)
	}
}

// Chain is a keyring that wraps new keys under its first keyring and reads
// versions from whichever keyring holds them: it moves an instance from
// one provider to another (local to Vault, or one Vault key to another)
// with [Service.Rewrap].
func Chain(current Keyring, older ...Keyring) Keyring {
	return chain(append([]Keyring{current}, older...))
}

type chain []Keyring

func (c chain) Current() string { return c[0].Current() }

func (c chain) AEAD(ctx context.Context, version string) (tink.AEAD, error) {
	var errs []error
	for _, k := range c {
		a, err := k.AEAD(ctx, version)
		if err == nil {
			return a, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}
