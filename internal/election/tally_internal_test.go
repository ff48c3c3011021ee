package election

import (
	"errors"
	"testing"
)

// TestOneTallyAtATime: while a tally of an election runs on this server,
// another of the same election is refused, one of another is not held
// back, and the election shows as running until it ends.
func TestOneTallyAtATime(t *testing.T) {
	s := &Service{}
	closed := &Election{ID: 1, State: Closed}
	if !s.tallies.start(1) || !s.TallyRunning(closed) {
		t.Fatal("the first tally did not start")
	}
	if _, err := s.Tally(t.Context(), 0, 1); !errors.Is(err, ErrTallyRunning) {
		t.Errorf("a second tally of the same election: %v", err)
	}
	if !s.tallies.start(2) {
		t.Error("a tally of another election is held back")
	}
	s.tallies.done(1)
	if s.TallyRunning(closed) || !s.tallies.start(1) {
		t.Error("a finished tally still shows as running")
	}
}
