package election

import (
	"sync"

	"github.com/veche/veche/internal/voting"
)

// parsed is the parse of one stored manifest and joint key, and the
// voting.Election they make. Every read of an election parses them (a
// cast reads its election twice: to check the ballot, then in its
// transaction), and a joint key costs a square root to decode; the stored
// text never changes for a given parse, so the parses are kept, keyed by
// the text itself. Callers must treat the shared values as read-only.
type parsed struct {
	manifest *voting.Manifest
	key      *voting.JointKey // nil before the key ceremony
	election *voting.Election // nil without a key
}

// parseCacheMax bounds the cache: drafts edited many times make a new
// entry each, so past this many the cache starts afresh.
const parseCacheMax = 256

var parseCache struct {
	sync.Mutex
	m map[[2]string]*parsed
}

// parseStored parses a stored manifest and joint key ("" before the
// ceremony), once per distinct text.
func parseStored(manifest, key string) (*parsed, error) {
	k := [2]string{manifest, key}
	parseCache.Lock()
	p, ok := parseCache.m[k]
	parseCache.Unlock()
	if ok {
		return p, nil
	}
	m, err := voting.ParseManifest([]byte(manifest))
	if err != nil {
		return nil, err
	}
	p = &parsed{manifest: m}
	if key != "" {
		p.key = new(voting.JointKey)
		if err := p.key.UnmarshalText([]byte(key)); err != nil {
			return nil, &keyError{err}
		}
		if p.election, err = voting.NewElection(m, p.key); err != nil {
			return nil, err
		}
	}
	parseCache.Lock()
	if len(parseCache.m) >= parseCacheMax || parseCache.m == nil {
		parseCache.m = map[[2]string]*parsed{}
	}
	parseCache.m[k] = p
	parseCache.Unlock()
	return p, nil
}

// keyError marks a stored joint key that does not parse, so that the
// caller can say which stored value is wrong.
type keyError struct{ err error }

func (e *keyError) Error() string { return e.err.Error() }
func (e *keyError) Unwrap() error { return e.err }
