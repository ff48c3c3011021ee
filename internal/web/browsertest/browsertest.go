// Package browsertest drives a real, headless Chromium from Go tests: open
// pages, fill fields by their label, click buttons and links by their
// name, operate a page with the keyboard alone, and check a page with
// axe-core against the WCAG 2.0, 2.1 and 2.2 A and AA rules.
//
// One Chromium (Debian's /usr/bin/chromium, or VECHE_CHROMIUM) starts the
// first time a test asks for a page and serves the whole test package; each
// [Page] is a fresh browser context, like an incognito window, so cookies
// persist within one page's flow (sign-in) and never leak between tests.
// axe-core is the file axe.min.js of the npm package axe-core, found through
// VECHE_AXE_JS or under tools/a11y/node_modules of the repository (see
// tools/a11y/package.json; `npm ci` there installs it).
//
// When Chromium or axe-core is missing, tests that need them are skipped
// with a message saying what to install, unless VECHE_BROWSER_TESTS is
// "required" (CI sets it): then they fail. VECHE_BROWSER_TESTS=off skips
// them on purpose.
//
// Set VECHE_SCREENSHOTS to a directory to keep a full-page PNG of every
// step a test names with [Page.Screenshot]: a walk-through to review by
// eye what the tests check by rule.
//
// The package is test support: only _test.go files import it. A test
// package that uses it should stop the browser at the end of its run:
//
//	func TestMain(m *testing.M) { os.Exit(browsertest.Main(m)) }
package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Environment variables that configure the browser tests.
const (
	// EnvMode is "required" to fail rather than skip when Chromium or
	// axe-core is missing, or "off" to skip browser tests on purpose.
	EnvMode = "VECHE_BROWSER_TESTS"
	// EnvChromium names the Chromium binary, instead of /usr/bin/chromium.
	EnvChromium = "VECHE_CHROMIUM"
	// EnvAxe names axe.min.js, instead of tools/a11y/node_modules/axe-core.
	EnvAxe = "VECHE_AXE_JS"
	// EnvScreenshots names a directory: [Page.Screenshot] then saves each
	// page it is asked for there, for a person to look at. Unset, it
	// does nothing.
	EnvScreenshots = "VECHE_SCREENSHOTS"
)

// ActionTimeout bounds each browser action (a page load, a click, a check).
var ActionTimeout = 20 * time.Second

const installChromium = "install it with `apt-get install -y chromium` (Debian) or name the binary in " + EnvChromium

const installAxe = "install it with `npm ci --prefix tools/a11y` in the repository root or name axe.min.js in " + EnvAxe

// browser is the Chromium that serves a test binary.
type browser struct {
	ctx    context.Context // the first tab's context: holds the browser
	cancel func()
	stop   func()
}

var (
	shared    *browser
	sharedErr error
	startOnce sync.Once
	stopMu    sync.Mutex
	stopped   bool
)

// Required reports whether browser tests must run (VECHE_BROWSER_TESTS=required).
func Required() bool { return os.Getenv(EnvMode) == "required" }

// unavailable skips t with why, or fails it when browser tests are required.
func unavailable(t testing.TB, why string) {
	t.Helper()
	if Required() {
		t.Fatalf("browser test cannot run (%s=required): %s", EnvMode, why)
	}
	t.Skipf("browser test skipped: %s", why)
}

// ChromiumPath returns the Chromium binary to run, or an error saying how
// to install one.
func ChromiumPath() (string, error) {
	if p := os.Getenv(EnvChromium); p != "" {
		if _, err := exec.LookPath(p); err != nil {
			return "", fmt.Errorf("%s=%s: %v", EnvChromium, p, err)
		}
		return p, nil
	}
	for _, p := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if full, err := exec.LookPath(p); err == nil {
			return full, nil
		}
	}
	return "", errors.New("Chromium is not installed: " + installChromium)
}

func start() (*browser, error) {
	path, err := ChromiumPath()
	if err != nil {
		return nil, err
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		// Without these Chromium reaches out to Google's services, which a
		// closed network refuses, and its own connections then fail too.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter"),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("mute-audio", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.Flag("lang", "en-US"),
		// Test servers (httptest) use a self-signed certificate.
		chromedp.IgnoreCertErrors,
		chromedp.WindowSize(1280, 900),
		// No user-data-dir: the allocator makes a fresh one and removes it.
	}
	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	startCtx, startCancel := context.WithTimeout(ctx, 60*time.Second)
	defer startCancel()
	// The first run starts the browser; its context must not time out
	// (it would stop the browser), so the timeout only watches.
	done := make(chan error, 1)
	go func() { done <- chromedp.Do(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			cancel()
			allocCancel()
			return nil, fmt.Errorf("starting %s: %v", path, err)
		}
	case <-startCtx.Done():
		cancel()
		allocCancel()
		return nil, fmt.Errorf("starting %s: no answer within a minute", path)
	}
	return &browser{ctx: ctx, cancel: cancel, stop: func() { cancel(); allocCancel() }}, nil
}

// sharedBrowser starts the test binary's Chromium on first use.
func sharedBrowser() (*browser, error) {
	startOnce.Do(func() {
		stopMu.Lock()
		defer stopMu.Unlock()
		if stopped {
			sharedErr = errors.New("the browser was already stopped")
			return
		}
		shared, sharedErr = start()
	})
	return shared, sharedErr
}

// Stop ends the shared Chromium, if one started. Main calls it.
func Stop() {
	stopMu.Lock()
	defer stopMu.Unlock()
	stopped = true
	if shared != nil {
		shared.stop()
		shared = nil
	}
}

// Main runs a test package's tests and then stops the browser. Use it in
// TestMain: os.Exit(browsertest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	Stop()
	return code
}

var (
	axeOnce   sync.Once
	axeSource string
	axeErr    error
)

// AxePath returns the path of axe.min.js, or an error saying how to
// install it.
func AxePath() (string, error) {
	if p := os.Getenv(EnvAxe); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s: %v", EnvAxe, err)
		}
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		for _, rel := range []string{"tools/a11y/node_modules/axe-core/axe.min.js", "node_modules/axe-core/axe.min.js"} {
			p := filepath.Join(dir, rel)
			if _, err := os.Stat(p); err == nil {
				return p, nil
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break // the module root: look no higher
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return "", errors.New("axe-core is not installed: " + installAxe)
}

func loadAxe() (string, error) {
	axeOnce.Do(func() {
		p, err := AxePath()
		if err != nil {
			axeErr = err
			return
		}
		b, err := os.ReadFile(p)
		if err != nil {
			axeErr = err
			return
		}
		axeSource = string(b)
	})
	return axeSource, axeErr
}

// Available reports why browser tests cannot run here, or "" when they can:
// Chromium and axe-core are installed and VECHE_BROWSER_TESTS is not "off".
func Available() string {
	if os.Getenv(EnvMode) == "off" {
		return EnvMode + "=off"
	}
	if _, err := ChromiumPath(); err != nil {
		return err.Error()
	}
	if _, err := AxePath(); err != nil {
		return err.Error()
	}
	return ""
}

// Need skips t (or fails it, when browser tests are required) unless
// browser tests can run here. A test that opens its pages inside subtests
// calls it first, so that it is the test itself that skips.
func Need(t testing.TB) {
	t.Helper()
	if why := Available(); why != "" {
		if os.Getenv(EnvMode) == "off" {
			t.Skipf("browser test skipped: %s", why)
		}
		unavailable(t, why)
	}
}

// New opens a page in a fresh browser context (its own cookies and
// storage) of the shared Chromium, closed when t ends. It skips t (or fails
// it, when browser tests are required) if Chromium or axe-core is missing.
func New(t testing.TB) *Page {
	t.Helper()
	Need(t)
	b, err := sharedBrowser()
	if err != nil {
		unavailable(t, err.Error())
	}
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	p := &Page{t: t, ctx: ctx}
	t.Cleanup(cancel)
	// The first run opens the tab; it must not have a timeout, which
	// would close the tab when it ends.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("browser: opening a tab: %v", err)
	}
	return p
}

// timeout returns a context bounding one action.
func (p *Page) timeout() (context.Context, context.CancelFunc) {
	return context.WithTimeout(p.ctx, ActionTimeout)
}

// compact shortens s for an error message.
func compact(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
