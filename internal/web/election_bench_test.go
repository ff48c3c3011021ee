package web

import (
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veche/veche/internal/participation"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/voting"
)

// BenchmarkBallotCasting casts ballots over the JSON API from 16
// concurrent clients, as 200 signed-in voters (each casting several
// times: every ballot after a voter's first replaces their earlier one),
// on SQLite and PostgreSQL. Each cast is what the server does for a real
// one: parse the canonical ballot, check the credential is published and
// bound to this voter, verify every proof and the signature, and store the
// ballot, its place in the public box and its audit-log entry in one
// transaction. The ballots (the fixture's election: a choose-one contest
// of 3 options and a yes/no contest, 5 encrypted options) are encrypted
// before the timer starts, as voters' booths would.
//
//	VECHE_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/test \
//	  go test -run '^$' -bench BallotCasting -benchtime 3000x ./internal/web/
func BenchmarkBallotCasting(b *testing.B) {
	benchDBs(b, func(b *testing.B, db *store.DB) {
		const voters, workers = 200, 16
		e := newTestEnv(b, db, nil)
		f := newElectionFixture(b, e, participation.Eligibility{}, voters)
		bodies := make([][]byte, b.N)
		var wg sync.WaitGroup
		for w := range runtime.GOMAXPROCS(0) {
			wg.Go(func() {
				for i := w; i < b.N; i += runtime.GOMAXPROCS(0) {
					choices := voting.Choices{"c1": {[]string{"o1", "o2", "o3"}[i%3]}, "c2": {[]string{"o1", "o2"}[i%2]}}
					bodies[i], _ = f.ballot(b, f.creds[i%voters], choices)
				}
			})
		}
		wg.Wait()
		client := f.voters[0].c
		cast := func(i int) time.Duration {
			req, _ := http.NewRequest("POST", e.srv.URL+f.path+"/ballots", strings.NewReader(string(bodies[i])))
			req.Header.Set("Authorization", "Bearer "+f.voters[i%voters].token)
			req.Header.Set("Content-Type", "application/json")
			t0 := time.Now()
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return 0
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				b.Errorf("ballot %d: %d %s", i, resp.StatusCode, body)
			}
			return time.Since(t0)
		}
		lat, elapsed := runConcurrently(b, workers, cast)
		b.ReportMetric(float64(b.N)/elapsed.Seconds(), "ballots/s")
		latencyMetrics(b, lat, "")
		b.ReportMetric(float64(runtime.GOMAXPROCS(0)), "procs")
		if got := dbCount(b, db, "SELECT COUNT(*) FROM election_ballots WHERE election_id = ?", f.id); got != b.N {
			b.Fatalf("%d ballots stored, want %d", got, b.N)
		}
	})
}
