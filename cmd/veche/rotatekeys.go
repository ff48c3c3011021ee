package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/veche/veche/internal/app"
	"github.com/veche/veche/internal/privacy/fieldcrypt"
	"github.com/veche/veche/internal/store"
)

func init() {
	register(command{
		Name:    "rotate-keys",
		Summary: "re-wrap every person's data key under a new key-encryption key version, while the server runs: 'veche rotate-keys [--retire]'",
		Run:     runRotateKeys,
	})
}

// runRotateKeys rotates the key-encryption key and re-wraps every data key
// under the new version (also reached as `veche admin rotate-keys`). It is
// safe beside a running server and on several nodes at once: the re-wrap
// takes a lease and changes each key in a small transaction.
func runRotateKeys(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg app.Config
	fs := newFlagSet("rotate-keys", stderr)
	cfg.BindFlags(fs)
	if fs.Lookup("keyring") == nil {
		fs.String("keyring", "local", `key-encryption keyring: "local" (files under --data/keys/kek) or "vault-transit://host:port/keyname" (token in VECHE_VAULT_TOKEN)`)
	}
	from := fs.String("from-keyring", "", "an older keyring whose versions are still to be read, to move every key to --keyring (e.g. --from-keyring local when switching to Vault)")
	noNew := fs.Bool("no-new-version", false, "re-wrap under the current version without making a new one (to finish an interrupted run)")
	retire := fs.Bool("retire", false, "afterwards, retire every old version no data key uses any more (deletes local key files; for Vault, says how)")
	batch := fs.Int("batch", 100, "data keys re-wrapped per transaction")
	if err := parseFlags(fs, args, app.ApplyEnv); err != nil {
		return err
	}
	spec := fs.Lookup("keyring").Value.String()
	if cfg.DB == "" {
		// Never create an empty instance by mistake.
		if _, err := os.Stat(cfg.DSN()); errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%w: no veche database at %s (give --data or --db of the instance)", errUsage, cfg.DSN())
		}
	}
	db, err := store.Open(ctx, cfg.DSN())
	if err != nil {
		return err
	}
	defer db.Close()
	kr, err := fieldcrypt.OpenKeyring(ctx, spec, cfg.DataDir)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	keyring := kr
	if *from != "" {
		old, err := fieldcrypt.OpenKeyring(ctx, *from, cfg.DataDir)
		if err != nil {
			return fmt.Errorf("%w: --from-keyring: %v", errUsage, err)
		}
		keyring = fieldcrypt.Chain(kr, old)
	}
	svc := fieldcrypt.New(db, keyring, nil, fieldcrypt.Options{})

	switch k := kr.(type) {
	case *fieldcrypt.LocalKeyring:
		fmt.Fprintf(stdout, "keyring: local (%s)\n", k.Dir())
	default:
		fmt.Fprintf(stdout, "keyring: %s\n", strings.SplitN(spec, "?", 2)[0])
	}
	// Refuse before changing anything if this keyring cannot open the keys
	// (a wrong --data, a node without the instance's keyring).
	if err := svc.Check(ctx); err != nil {
		return err
	}
	before, erased, err := svc.KEKUsage(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "data keys before: %s\n", usageLine(before, erased))

	prev := kr.Current()
	if local, ok := kr.(*fieldcrypt.LocalKeyring); ok && !*noNew {
		v, err := local.Rotate()
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "new key-encryption key version: %s (was %s)\n", v, prev)
	} else {
		fmt.Fprintf(stdout, "wrapping under the current version: %s\n", prev)
	}

	// A server that read the current version just before the rotation may
	// still wrap a new person's key under the old one; a second pass picks
	// those up.
	start := time.Now()
	total := 0
	for pass := 0; pass < 3; pass++ {
		n, err := svc.Rewrap(ctx, *batch)
		total += n
		if errors.Is(err, fieldcrypt.ErrRewrapRunning) {
			return fmt.Errorf("another rotate-keys is running (re-wrapped %d here); let it finish", total)
		}
		if err != nil {
			return fmt.Errorf("re-wrapped %d data keys, then: %w", total, err)
		}
		if n == 0 {
			break
		}
	}
	target := keyring.Current()
	fmt.Fprintf(stdout, "re-wrapped %d data keys under %s in %v\n", total, target, time.Since(start).Round(time.Millisecond))
	after, erased, err := svc.KEKUsage(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "data keys after: %s\n", usageLine(after, erased))
	if !*retire {
		return nil
	}

	local, ok := kr.(*fieldcrypt.LocalKeyring)
	if !ok {
		var unused []string
		for v, n := range before {
			if v != target && after[v] == 0 && n > 0 {
				unused = append(unused, v)
			}
		}
		sort.Strings(unused)
		fmt.Fprintf(stdout, "no data key uses %s any more; retire old versions in Vault by raising the key's min_decryption_version (vault write <mount>/keys/<key>/config min_decryption_version=N)\n",
			orNone(unused))
		return nil
	}
	versions, err := local.Versions()
	if err != nil {
		return err
	}
	var retired, kept []string
	for _, v := range versions {
		if v == target {
			continue
		}
		err := local.Retire(ctx, db, v)
		switch {
		case errors.Is(err, fieldcrypt.ErrKEKInUse):
			kept = append(kept, v)
			fmt.Fprintf(stderr, "kept %s: %v\n", v, err)
		case err != nil:
			return err
		default:
			retired = append(retired, v)
		}
	}
	fmt.Fprintf(stdout, "retired: %s\n", orNone(retired))
	if len(kept) > 0 {
		return fmt.Errorf("%d old versions are still in use (%s); run rotate-keys --no-new-version --retire again", len(kept), strings.Join(kept, ", "))
	}
	return nil
}

func usageLine(versions map[string]int, erased int) string {
	names := make([]string, 0, len(versions))
	for v := range versions {
		names = append(names, v)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, v := range names {
		fmt.Fprintf(&b, "%s: %d; ", v, versions[v])
	}
	fmt.Fprintf(&b, "erased: %d", erased)
	return b.String()
}

func orNone(vs []string) string {
	if len(vs) == 0 {
		return "none"
	}
	return strings.Join(vs, ", ")
}
