package main

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestSmoke runs a very short case per system and writer count: every
// entry must be acknowledged and covered by a published checkpoint, and
// the report must list each case. veche-postgres runs only when
// VECHE_TEST_POSTGRES is set.
func TestSmoke(t *testing.T) {
	systems := []string{"veche-sqlite", "veche-sqlite-full", "tessera-posix-1ms"}
	pg := os.Getenv("VECHE_TEST_POSTGRES")
	if pg != "" {
		systems = append(systems, "veche-postgres")
	}
	cfg := config{
		systems:      systems,
		writers:      []int{1, 4},
		duration:     300 * time.Millisecond,
		gomaxprocs:   0,
		poll:         2 * time.Millisecond,
		interval:     250 * time.Millisecond,
		tesseraBatch: 256,
		tesseraAge:   250 * time.Millisecond,
		tesseraFast:  time.Millisecond,
		coverTimeout: 30 * time.Second,
		postgresURL:  pg,
		dir:          t.TempDir(),
		keep:         true, // t.TempDir cleans up
		maxEntries:   []int{0, 0},
	}
	var out strings.Builder
	if err := run(context.Background(), cfg, &out); err != nil {
		t.Fatal(err)
	}
	report := out.String()
	for _, s := range systems {
		row := regexp.MustCompile(`(?m)^ *` + regexp.QuoteMeta(s) + `\| *\d+\| *\d+\|`)
		if got := len(row.FindAllString(report, -1)); got != 2 {
			t.Errorf("report has %d rows for %s, want 2:\n%s", got, s, report)
		}
	}
	if !strings.Contains(report, "Ratios veche/Tessera") {
		t.Errorf("report has no ratios:\n%s", report)
	}
}
