package record

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"github.com/veche/veche/internal/voting"
)

// ErrNotInBox is returned by Locate for a ballot the ballot box does not hold.
var ErrNotInBox = errors.New("election record: the ballot is not in the ballot box")

// Location is where a cast ballot is in a record, for a voter checking
// that their ballot was recorded as cast and counted.
type Location struct {
	Position int64 // in ballots.jsonl, 0-based (line Position+1)
	LogIndex int64 // the index the box gives for its cast entry
	Logged   bool  // the log span holds the cast entry of this ballot at LogIndex
	Counted  bool  // counted.json lists it
	// ReplacedBy is the position of a later ballot of the same credential
	// (the one that counts instead), or −1.
	ReplacedBy int64
}

// Locate finds b in the ballot box by its tracking code and digest,
// checks its cast entry in the log span, and reports whether it counts.
// It does not verify the record; Verify does.
func Locate(r *Record, b *voting.Ballot) (*Location, error) {
	hash := b.Hash()
	code := voting.TrackingCode(hash)
	cred := []byte(`"credential":"` + b.Credential().String() + `"`)
	loc := &Location{Position: -1, ReplacedBy: -1}
	pos := int64(-1)
	each := func(logIndex int64, lineCode string, raw []byte, parsed *voting.Ballot) error {
		pos++
		if loc.Position < 0 {
			if lineCode != code {
				return nil
			}
			if parsed == nil {
				var err error
				if parsed, err = voting.ParseBallot(raw); err != nil {
					return fmt.Errorf("%s line %d: %w", BallotsFile, pos+1, err)
				}
			}
			if parsed.Hash() == hash {
				loc.Position, loc.LogIndex = pos, logIndex
			}
			return nil
		}
		switch {
		case parsed != nil && parsed.Credential().Equal(b.Credential()):
			loc.ReplacedBy = pos
		case parsed == nil && bytes.Contains(raw, cred):
			loc.ReplacedBy = pos
		}
		return nil
	}
	if r.src != nil {
		for line, err := range r.src.lines(BallotsFile, r.src.lim.MaxBallots) {
			if err != nil {
				return nil, err
			}
			idx, c, raw, err := splitCastLine(line)
			if err != nil {
				return nil, fmt.Errorf("%s line %d: %w", BallotsFile, pos+2, err)
			}
			if err := each(idx, c, raw, nil); err != nil {
				return nil, err
			}
		}
	} else {
		for c, err := range r.Ballots {
			if err != nil {
				return nil, err
			}
			if err := each(c.LogIndex, c.Ballot.TrackingCode(), nil, c.Ballot); err != nil {
				return nil, err
			}
		}
	}
	if loc.Position < 0 {
		return nil, ErrNotInBox
	}
	_, loc.Counted = slices.BinarySearch(r.Counted, loc.Position)
	index := r.Log.First
	for e, err := range r.Log.Entries {
		if err != nil {
			return nil, err
		}
		if index == loc.LogIndex {
			ent, _, err := parseEntry(e)
			if err == nil && ent.Action == CastAction && ent.Detail[DetailElection] == b.Election() {
				h, err := parseCastDetail(ent.Detail)
				loc.Logged = err == nil && h == hash
			}
			break
		}
		index++
	}
	return loc, nil
}

// FindTrackingCode returns the position in the ballot box of the ballot
// with the given tracking code (as voting.TrackingCode writes it), or −1.
// It reads only the codes, not the ballots.
func FindTrackingCode(r *Record, code string) (int64, error) {
	pos := int64(0)
	if r.src == nil {
		for c, err := range r.Ballots {
			if err != nil {
				return -1, err
			}
			if c.Ballot.TrackingCode() == code {
				return pos, nil
			}
			pos++
		}
		return -1, nil
	}
	for line, err := range r.src.lines(BallotsFile, r.src.lim.MaxBallots) {
		if err != nil {
			return -1, err
		}
		_, c, _, err := splitCastLine(line)
		if err != nil {
			return -1, fmt.Errorf("%s line %d: %w", BallotsFile, pos+1, err)
		}
		if c == code {
			return pos, nil
		}
		pos++
	}
	return -1, nil
}
