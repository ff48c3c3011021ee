package web

import (
	"os"
	"testing"

	"github.com/veche/veche/internal/web/browsertest"
)

// TestMain stops the headless Chromium that the browser tests share.
func TestMain(m *testing.M) { os.Exit(browsertest.Main(m)) }
