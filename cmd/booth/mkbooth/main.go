// Command mkbooth builds the voting booth's WebAssembly module
// (cmd/booth) and copies the Go toolchain's wasm_exec.js next to it, in
// the directory named by -o. `go generate ./internal/web` runs it (see
// internal/web/booth_gen.go); internal/web's TestCommittedBoothIsCurrent
// runs it again into a temporary directory and compares.
//
// The build is reproducible: the same toolchain, the same sources and
// these flags give the same bytes. -trimpath keeps file-system paths out,
// -buildvcs=false keeps the commit and the state of the working tree out,
// and the environment is fixed (GOOS, GOARCH, GOWASM, CGO_ENABLED, an
// empty GOFLAGS) so that the caller's settings cannot change the output.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// buildFlags are the flags of the booth's build; docs/booth.md quotes them.
var buildFlags = []string{"-trimpath", "-buildvcs=false", "-ldflags=-s -w"}

func main() {
	out := flag.String("o", "", "directory to write booth.wasm and wasm_exec.js into")
	flag.Parse()
	if *out == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: mkbooth -o DIR")
		os.Exit(2)
	}
	if err := build(*out); err != nil {
		fmt.Fprintln(os.Stderr, "mkbooth:", err)
		os.Exit(1)
	}
}

func build(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	wasm, err := filepath.Abs(filepath.Join(dir, "booth.wasm"))
	if err != nil {
		return err
	}
	args := append([]string{"build"}, buildFlags...)
	args = append(args, "-o", wasm, "github.com/veche/veche/cmd/booth")
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "GOWASM=", "CGO_ENABLED=0", "GOFLAGS=")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go %s: %w", strings.Join(args, " "), err)
	}
	// The linker writes an executable; this is a file the server serves.
	if err := os.Chmod(wasm, 0o644); err != nil {
		return err
	}
	var goroot bytes.Buffer
	env := exec.Command("go", "env", "GOROOT")
	env.Stdout, env.Stderr = &goroot, os.Stderr
	if err := env.Run(); err != nil {
		return fmt.Errorf("go env GOROOT: %w", err)
	}
	// Go 1.24 moved wasm_exec.js from misc/wasm to lib/wasm.
	js, err := os.ReadFile(filepath.Join(strings.TrimSpace(goroot.String()), "lib", "wasm", "wasm_exec.js"))
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "wasm_exec.js"), js, 0o644)
}
