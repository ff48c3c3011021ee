package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/veche/veche/internal/i18n"
)

// The voting booth (docs/booth.md): a page whose script loads the
// election's manifest and joint key from the election API, and package
// voting compiled to WebAssembly (cmd/booth), so that the ballot is
// encrypted, proved and signed on the voter's device. The server sends
// the page and the module; it never sees the choices or the credential
// code, only the ballot that the voter casts.

// boothMessagePrefix marks the catalog keys that the booth's script
// needs; the page hands them over translated, without the prefix.
const boothMessagePrefix = "booth.js."

// The booth's static files, as embedded.
const (
	boothWasmFile   = "static/booth/booth.wasm"
	boothExecFile   = "static/booth/wasm_exec.js"
	boothScriptFile = "static/booth/booth.js"
)

// boothAssets are the booth's files with the version (a digest) that
// their URLs carry, so that a browser never pairs a cached script with
// a newer module or the other way round.
type boothAssets struct {
	once                    sync.Once
	wasmURL, execURL, jsURL string
	wasm, wasmGzip          []byte
	wasmTag, wasmGzipTag    string
}

var boothFiles boothAssets

func (a *boothAssets) load() {
	a.once.Do(func() {
		versioned := func(name string) (string, []byte) {
			b, err := staticFiles.ReadFile(name)
			if err != nil {
				// A build without the generated files: the page says the
				// booth cannot start, and the tests fail.
				return "/" + name, nil
			}
			sum := sha256.Sum256(b)
			return "/" + name + "?v=" + hex.EncodeToString(sum[:8]), b
		}
		a.execURL, _ = versioned(boothExecFile)
		a.jsURL, _ = versioned(boothScriptFile)
		a.wasmURL, a.wasm = versioned(boothWasmFile)
		sum := sha256.Sum256(a.wasm)
		a.wasmTag = `"` + hex.EncodeToString(sum[:16]) + `"`
		a.wasmGzipTag = `"` + hex.EncodeToString(sum[:16]) + `-gzip"`
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(a.wasm)
		zw.Close()
		a.wasmGzip = buf.Bytes()
	})
}

// boothMessages are the translations the booth's script shows.
func boothMessages(lang i18n.Lang) map[string]string {
	out := map[string]string{}
	for _, k := range i18n.Keys(i18n.English) {
		if rest, ok := strings.CutPrefix(k, boothMessagePrefix); ok {
			out[rest] = i18n.T(lang, k)
		}
	}
	return out
}

// allowWasm lets this response's page compile WebAssembly, which a
// Content-Security-Policy without 'wasm-unsafe-eval' forbids: it adds that
// source, and nothing else, to the script-src that secureHeaders set. The
// booth is the only page that needs it.
func allowWasm(h http.Header) {
	const scriptSrc = "script-src 'self'"
	csp := h.Get("Content-Security-Policy")
	if strings.Count(csp, scriptSrc+";") == 1 {
		h.Set("Content-Security-Policy", strings.Replace(csp, scriptSrc+";", scriptSrc+" 'wasm-unsafe-eval';", 1))
	}
}

// boothPage is the voting booth of an election.
func (s *Server) boothPage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	// The election itself is the API's: the page is the same for every
	// election, and its script says when there is no such election.
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	boothFiles.load()
	allowWasm(w.Header())
	s.render(w, r, c, http.StatusOK, "booth", map[string]any{
		"ElectionID": id,
		"WasmURL":    boothFiles.wasmURL,
		"ExecURL":    boothFiles.execURL,
		"ScriptURL":  boothFiles.jsURL,
		"Messages":   boothMessages(c.lang),
	})
}

// boothWasm serves the booth's module as application/wasm (which
// WebAssembly.instantiateStreaming requires), compressed with gzip for a
// browser that accepts it: about a quarter of the size.
func (s *Server) boothWasm(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	boothFiles.load()
	if boothFiles.wasm == nil {
		s.fail(w, r, c, errNotFound)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/wasm")
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("Vary", "Accept-Encoding")
	body, tag := boothFiles.wasm, boothFiles.wasmTag
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		body, tag = boothFiles.wasmGzip, boothFiles.wasmGzipTag
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("ETag", tag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// acceptsGzip reports whether an Accept-Encoding header (RFC 9110
// §12.5.3) accepts gzip: listed, or covered by *, without q=0.
func acceptsGzip(header string) bool {
	star := false
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.ToLower(strings.TrimSpace(name))
		refused := false
		for _, p := range strings.Split(params, ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(strings.TrimSpace(k), "q") && strings.Trim(strings.TrimSpace(v), "0.") == "" {
				refused = true
			}
		}
		switch name {
		case "gzip", "x-gzip":
			return !refused
		case "*":
			star = !refused
		}
	}
	return star
}
