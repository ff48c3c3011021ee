package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/veche/veche/internal/app"
	"github.com/veche/veche/internal/keys"
	"github.com/veche/veche/internal/participation"
)

func init() {
	register(command{Name: "census", Summary: "the register of residents: 'veche census key|hash|import' (see docs/participation.md)", Run: runCensus})
}

const censusUsage = `veche census key                                 print the census key (hex) for the registry office
veche census hash --key-file FILE < raw.csv > census.csv   hash identity numbers (run at the registry office)
veche census import FILE                         replace the register of residents with a hashed file`

func runCensus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w:\n%s", errUsage, censusUsage)
	}
	switch args[0] {
	case "key":
		var cfg app.Config
		fs := newFlagSet("census key", stderr)
		cfg.BindFlags(fs)
		if err := parseFlags(fs, args[1:], app.ApplyEnv); err != nil {
			return err
		}
		in, err := openQuiet(ctx, cfg)
		if err != nil {
			return err
		}
		defer in.Close()
		fmt.Fprintln(stdout, hex.EncodeToString(in.Keys.Derive(keys.PurposeCensus)))
		fmt.Fprintln(stderr, "Keep this key secret: with it, anyone holding an identity number can find its entry. Give it only to the registry office that prepares the register.")
		return nil
	case "hash":
		fs := newFlagSet("census hash", stderr)
		keyFile := fs.String("key-file", "", "file holding the census key in hex, as 'veche census key' prints it (required)")
		if err := parseFlags(fs, args[1:], nil); err != nil {
			return err
		}
		if *keyFile == "" {
			return fmt.Errorf("%w: --key-file is required", errUsage)
		}
		b, err := os.ReadFile(*keyFile)
		if err != nil {
			return err
		}
		key, err := hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(key) != 32 {
			return fmt.Errorf("%s: not a census key (64 hexadecimal digits)", *keyFile)
		}
		n, err := participation.HashCensus(stdout, stdin, key)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "hashed %d residents\n", n)
		return nil
	case "import":
		var cfg app.Config
		fs := newFlagSet("census import", stderr)
		cfg.BindFlags(fs)
		if len(args) < 2 || strings.HasPrefix(args[1], "-") {
			return fmt.Errorf("%w: veche census import FILE [flags]", errUsage)
		}
		if err := parseFlags(fs, args[2:], app.ApplyEnv); err != nil {
			return err
		}
		f, err := os.Open(args[1])
		if err != nil {
			return err
		}
		defer f.Close()
		in, err := openQuiet(ctx, cfg)
		if err != nil {
			return err
		}
		defer in.Close()
		imp, err := in.Participation.ImportCensus(ctx, 0, f)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "imported %d residents (file %s); the previous register is replaced\n", imp.Entries, imp.Digest)
		return nil
	}
	return fmt.Errorf("%w:\n%s", errUsage, censusUsage)
}
