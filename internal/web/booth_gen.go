package web

// The voting booth's WebAssembly module and the Go toolchain's
// wasm_exec.js, which loads it, are built from cmd/booth into
// static/booth/ and committed; TestCommittedBoothIsCurrent fails when
// they are stale. Run `go generate ./internal/web` after changing
// cmd/booth, internal/voting or the toolchain.

//go:generate go run ../../cmd/booth/mkbooth -o static/booth
