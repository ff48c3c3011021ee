package record

import (
	"context"
	"testing"
)

func TestSynthesizedRecordVerifies(t *testing.T) {
	dir := t.TempDir()
	tm, err := Synthesize(context.Background(), dir, SyntheticOptions{Ballots: 40, Options: 3, Revotes: 5, Abstain: 3})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range tm {
		t.Logf("%s: %s (%s)", x.Part, x.Detail, x.Elapsed)
	}
	r, c, err := Open(dir, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rep, err := Verify(context.Background(), r, Options{})
	for _, s := range rep.Steps {
		t.Logf("%s: %s (%s, %d failed)", s.Name, s.Summary, s.Elapsed, s.Failed)
	}
	if err != nil {
		t.Fatal(err)
	}
}
