package web

// The voting booth's page and files, without a browser: who may open the
// page, its Content-Security-Policy, what it says without JavaScript, its
// translations, the module served compressed, and that the committed
// module is what cmd/booth builds today.

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/veche/veche/internal/i18n"
	"github.com/veche/veche/internal/store/storetest"
)

func init() {
	notHTML["/static/booth/booth.wasm"] = "the booth's WebAssembly module"
	a11yAreaVisits = append(a11yAreaVisits, func(fx *a11yFixture) map[string][]a11yVisit {
		path := "/elections/1/booth"
		if fx.e != nil {
			path = boothSweepElection(fx)
		}
		return map[string][]a11yVisit{"/elections/{id}/booth": {{path, 200}}}
	})
}

// TestBoothPageAloneMayCompileWebAssembly: the booth's policy is every
// other page's with 'wasm-unsafe-eval' added to script-src, and nothing
// else; the booth needs a signed-in person.
func TestBoothPageAloneMayCompileWebAssembly(t *testing.T) {
	e := newTestEnv(t, storetest.SQLite(t), nil)
	e.createUser("voter@example.org")
	b := e.browser()
	b.signIn("voter@example.org", "")
	booth := b.get("/elections/1/booth")
	if booth.status != http.StatusOK {
		t.Fatalf("booth: %d\n%s", booth.status, booth.body)
	}
	account := b.get("/account")
	want := strings.Replace(account.header.Get("Content-Security-Policy"), "script-src 'self';", "script-src 'self' 'wasm-unsafe-eval';", 1)
	if got := booth.header.Get("Content-Security-Policy"); got != want || !strings.Contains(got, "'wasm-unsafe-eval'") {
		t.Errorf("booth CSP:\n  %s\nwant:\n  %s", got, want)
	}
	for _, p := range []string{"/account", "/", "/processes"} {
		if csp := b.get(p).header.Get("Content-Security-Policy"); strings.Contains(csp, "wasm") || strings.Contains(csp, "unsafe") {
			t.Errorf("%s allows %s", p, csp)
		}
	}
	// The refusal of a bad id is an ordinary page, with the ordinary policy.
	bad := b.get("/elections/not%20an%20id/booth")
	if bad.status != http.StatusNotFound || strings.Contains(bad.header.Get("Content-Security-Policy"), "wasm") {
		t.Errorf("bad id: %d, CSP %s", bad.status, bad.header.Get("Content-Security-Policy"))
	}
	if p := e.browser().get("/elections/1/booth"); p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/signin?next=") {
		t.Errorf("signed out: %d to %q, want a redirect to sign in", p.status, p.header.Get("Location"))
	}
}

var (
	scriptSrcRE = regexp.MustCompile(`<script\b[^>]*\bsrc="([^"]+)"`)
	messagesRE  = regexp.MustCompile(`(?s)<script type="application/json" id="booth-messages">(.*?)</script>`)
)

// TestBoothPageWithoutJavaScript shows that the page itself, before any
// script runs, says why voting needs JavaScript and where to get help,
// has no inline script, and loads only versioned files of its own.
func TestBoothPageWithoutJavaScript(t *testing.T) {
	e := newTestEnv(t, storetest.SQLite(t), nil)
	e.createUser("voter@example.org")
	for _, lang := range i18n.Langs {
		b := e.browser()
		b.header.Set("Accept-Language", string(lang))
		b.signIn("voter@example.org", "")
		p := b.get("/elections/1/booth")
		noscript := regexp.MustCompile(`(?s)<noscript>(.*?)</noscript>`).FindStringSubmatch(p.body)
		if noscript == nil {
			t.Fatalf("%s: no <noscript>", lang)
		}
		for _, k := range []string{"booth.noscript.title", "booth.noscript.why", "booth.noscript.help"} {
			if !strings.Contains(html.UnescapeString(noscript[1]), i18n.T(lang, k)) {
				t.Errorf("%s: <noscript> does not say %q", lang, i18n.T(lang, k))
			}
		}
		srcs := scriptSrcRE.FindAllStringSubmatch(p.body, -1)
		if len(srcs) != 2 || !strings.HasPrefix(srcs[0][1], "/static/booth/wasm_exec.js?v=") || !strings.HasPrefix(srcs[1][1], "/static/booth/booth.js?v=") {
			t.Errorf("%s: scripts %q, want wasm_exec.js then booth.js, versioned", lang, srcs)
		}
		for _, s := range regexp.MustCompile(`<script\b[^>]*>`).FindAllString(p.body, -1) {
			if !strings.Contains(s, " src=") && !strings.Contains(s, `type="application/json"`) {
				t.Errorf("%s: inline script %s", lang, s)
			}
		}
		m := messagesRE.FindStringSubmatch(p.body)
		if m == nil {
			t.Fatalf("%s: no booth messages", lang)
		}
		var msgs map[string]string
		if err := json.Unmarshal([]byte(m[1]), &msgs); err != nil {
			t.Fatalf("%s: booth messages: %v\n%s", lang, err, m[1])
		}
		for _, k := range i18n.Keys(i18n.English) {
			if rest, ok := strings.CutPrefix(k, boothMessagePrefix); ok && msgs[rest] != i18n.T(lang, k) {
				t.Errorf("%s: message %s is %q, want %q", lang, rest, msgs[rest], i18n.T(lang, k))
			}
		}
		// Every message the script asks for exists.
		script, err := staticFiles.ReadFile(boothScriptFile)
		if err != nil {
			t.Fatal(err)
		}
		for _, call := range regexp.MustCompile(`\bt\('([a-z_.]+)'`).FindAllStringSubmatch(string(script), -1) {
			if _, ok := msgs[call[1]]; !ok {
				t.Errorf("booth.js asks for message %q, which the catalog lacks (%s%s)", call[1], boothMessagePrefix, call[1])
			}
		}
		for _, call := range regexp.MustCompile(`apiMessage\(e, '([a-z_.]+)'`).FindAllStringSubmatch(string(script), -1) {
			if _, ok := msgs[call[1]]; !ok {
				t.Errorf("booth.js falls back to message %q, which the catalog lacks", call[1])
			}
		}
	}
}

// TestBoothPageIsTranslated renders the booth in Belarusian and Russian
// and finds no catalog key shown as text and none of the booth's English.
func TestBoothPageIsTranslated(t *testing.T) {
	e := newTestEnv(t, storetest.SQLite(t), nil)
	e.createUser("voter@example.org")
	keyRE := keyLike()
	for _, lang := range []i18n.Lang{i18n.Belarusian, i18n.Russian} {
		b := e.browser()
		b.header.Set("Accept-Language", string(lang))
		b.signIn("voter@example.org", "")
		p := b.get("/elections/1/booth")
		if !strings.Contains(p.body, `<html lang="`+string(lang)+`">`) {
			t.Fatalf("%s: page not in %s", lang, lang)
		}
		// File names (booth.js, booth.wasm) and the script's messages,
		// named by key, are not text.
		text := regexp.MustCompile(`(?s)<script\b.*?</script>|data-wasm="[^"]*"`).ReplaceAllString(p.body, "")
		if m := keyRE.FindAllString(text, -1); m != nil {
			t.Errorf("%s: untranslated keys %q", lang, m)
		}
		for _, k := range i18n.Keys(i18n.English) {
			if !strings.HasPrefix(k, "booth.") {
				continue
			}
			en := i18n.T(i18n.English, k)
			if en == i18n.T(lang, k) {
				t.Errorf("%s: %s is the English %q", lang, k, en)
			}
		}
	}
}

// TestBoothModuleIsServedCompressed: application/wasm, gzip when the
// browser accepts it (and the same bytes after decompressing), the
// identity otherwise, and revalidation by ETag.
func TestBoothModuleIsServedCompressed(t *testing.T) {
	e := newTestEnv(t, storetest.SQLite(t), nil)
	raw, err := staticFiles.ReadFile(boothWasmFile)
	if err != nil {
		t.Fatal(err)
	}
	get := func(header map[string]string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", e.srv.URL+"/static/booth/booth.wasm", nil)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	z := get(map[string]string{"Accept-Encoding": "br, gzip;q=0.8"})
	if z.StatusCode != 200 || z.Header.Get("Content-Type") != "application/wasm" || z.Header.Get("Content-Encoding") != "gzip" || z.Header.Get("Vary") != "Accept-Encoding" {
		t.Fatalf("gzip: %d %v", z.StatusCode, z.Header)
	}
	zr, err := gzip.NewReader(z.Body)
	if err != nil {
		t.Fatal(err)
	}
	unzipped, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(unzipped, raw) {
		t.Fatalf("the gzipped module is not the module (%v)", err)
	}
	plain := get(map[string]string{"Accept-Encoding": "gzip;q=0, identity"})
	body, _ := io.ReadAll(plain.Body)
	if plain.Header.Get("Content-Encoding") != "" || plain.Header.Get("Content-Type") != "application/wasm" || !bytes.Equal(body, raw) {
		t.Fatalf("identity: %v, %d bytes of %d", plain.Header, len(body), len(raw))
	}
	if again := get(map[string]string{"Accept-Encoding": "gzip", "If-None-Match": z.Header.Get("ETag")}); again.StatusCode != http.StatusNotModified {
		t.Errorf("revalidation: %d, want 304", again.StatusCode)
	}
	if other := get(map[string]string{"Accept-Encoding": "identity", "If-None-Match": z.Header.Get("ETag")}); other.StatusCode != http.StatusOK {
		t.Errorf("the gzip ETag matched the identity encoding: %d", other.StatusCode)
	}
	t.Logf("booth.wasm: %d bytes, %d gzipped", len(raw), len(boothFiles.wasmGzip))
	for _, f := range []string{"/static/booth/booth.js", "/static/booth/wasm_exec.js"} {
		r, err := e.srv.Client().Get(e.srv.URL + f)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/javascript") {
			t.Errorf("%s: %d %v", f, r.StatusCode, r.Header)
		}
	}
}

func TestAcceptsGzip(t *testing.T) {
	for header, want := range map[string]bool{
		"":                        false,
		"gzip":                    true,
		"GZip":                    true,
		"gzip, deflate, br, zstd": true,
		"br;q=1.0, gzip;q=0.5":    true,
		"gzip;q=0":                false,
		"gzip; q=0.000":           false,
		"*":                       true,
		"*;q=0":                   false,
		"identity":                false,
		"x-gzip":                  true,
		"deflate, *;q=0.1":        true,
		"gzip;q=0, *":             false,
	} {
		if got := acceptsGzip(header); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", header, got, want)
		}
	}
}

// TestCommittedBoothIsCurrent builds the booth as `go generate` does,
// into a temporary directory, and fails when the committed booth.wasm or
// wasm_exec.js differ: the module must be what cmd/booth and
// internal/voting build today. The build is byte-reproducible with the
// same toolchain (see cmd/booth/mkbooth).
func TestCommittedBoothIsCurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the WebAssembly module")
	}
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		goTool = "go"
	}
	dir := t.TempDir()
	cmd := exec.Command(goTool, "run", "../../cmd/booth/mkbooth", "-o", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the booth: %v\n%s", err, out)
	}
	for _, name := range []string{"booth.wasm", "wasm_exec.js"} {
		built, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		committed, err := os.ReadFile(filepath.Join("static", "booth", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(built, committed) {
			t.Errorf("static/booth/%s is stale (%d bytes committed, %d built with %s): run `go generate ./internal/web` and commit it", name, len(committed), len(built), runtime.Version())
		}
	}
}
