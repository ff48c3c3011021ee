package web

import (
	"github.com/veche/veche/internal/keys"
	"github.com/veche/veche/internal/participation"
)

// participation builds the participation core on the test clock.
func (e *testEnv) participation(ks *keys.Set) *participation.Service {
	p := participation.New(e.db, e.log, e.crypt, e.id.Pseudonym,
		participation.Keys{Census: ks.Derive(keys.PurposeCensus), Handles: ks.Derive(keys.PurposeHandles)})
	p.SetClock(e.clock)
	e.part = p
	e.censusKey = ks.Derive(keys.PurposeCensus)
	return p
}

// censusHash is the census hash of an identity number under the test
// instance's census key.
func censusHash(e *testEnv, number string) []byte {
	return participation.CensusHash(e.censusKey, number)
}
