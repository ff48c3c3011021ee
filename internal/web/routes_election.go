package web

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/veche/veche/internal/election"
	"github.com/veche/veche/internal/identity"
)

// electionRoutes are the pages and API endpoints of verifiable elections
// (package election; docs/elections.md, docs/api-elections.md). The
// voting booth has its own file, routes_booth.go.
func (s *Server) electionRoutes() []route {
	h := &electionWeb{Server: s}
	if s.sp.core != nil {
		h.el = election.New(s.sp.core)
	}
	self := needs(identity.PermAccountSelf)
	officer := needs(identity.PermElectionsManage)
	trustee := needs(identity.PermElectionTrustee)
	authority := needs(identity.PermElectionCredentials)
	// The officer's steps, for their page and API routes.
	start := func(r *http.Request, o, id int64) (*election.Election, error) {
		return h.el.StartCeremony(r.Context(), o, id)
	}
	cancel := func(r *http.Request, o, id int64) (*election.Election, error) {
		return h.el.CancelCeremony(r.Context(), o, id)
	}
	open := func(r *http.Request, o, id int64) (*election.Election, error) { return h.el.Open(r.Context(), o, id) }
	closeNow := func(r *http.Request, o, id int64) (*election.Election, error) { return h.el.Close(r.Context(), o, id) }
	tally := h.tally
	return []route{
		{"GET", "/elections", public, h.electionsPage},
		{"GET", "/elections/new", officer, h.newElectionForm},
		{"POST", "/elections", officer, h.createElection},
		{"GET", "/elections/{id}", public, h.electionPage},
		{"GET", "/elections/{id}/edit", officer, h.editElectionForm},
		{"POST", "/elections/{id}/edit", officer, h.updateElection},
		{"POST", "/elections/{id}/ceremony/start", officer, h.officerStep(start, "ceremony_started")},
		{"POST", "/elections/{id}/ceremony/cancel", officer, h.officerStep(cancel, "ceremony_cancelled")},
		{"POST", "/elections/{id}/open", officer, h.officerStep(open, "opened")},
		{"POST", "/elections/{id}/close", officer, h.officerStep(closeNow, "closed")},
		{"POST", "/elections/{id}/tally", officer, h.officerStep(tally, "tallied")},
		{"GET", "/elections/{id}/credentials", authority, h.credentialsForm},
		{"POST", "/elections/{id}/credentials", authority, h.uploadCredentials},
		{"GET", "/elections/{id}/ceremony", public, h.ceremonyPage},
		{"GET", "/elections/{id}/ballots", public, h.ballotBoxPage},
		{"GET", "/elections/{id}/results", public, h.resultsPage},
		{"GET", "/elections/{id}/record.zip", public, h.recordZip},

		{"GET", "/api/v1/elections", public, electionAPI(h, h.apiElections)},
		{"POST", "/api/v1/processes/{id}/elections", officer, electionAPI(h, h.apiCreateElection)},
		{"GET", "/api/v1/elections/{id}", public, electionAPI(h, h.apiElection)},
		{"PUT", "/api/v1/elections/{id}", officer, electionAPI(h, h.apiUpdateElection)},
		{"POST", "/api/v1/elections/{id}/ceremony/start", officer, electionAPI(h, h.apiStep(start))},
		{"POST", "/api/v1/elections/{id}/ceremony/cancel", officer, electionAPI(h, h.apiStep(cancel))},
		{"GET", "/api/v1/elections/{id}/ceremony", public, electionAPI(h, h.apiCeremony)},
		{"POST", "/api/v1/elections/{id}/ceremony/messages", trustee, electionRaw(h, ceremonyMessageFields, h.apiPostMessage)},
		{"POST", "/api/v1/elections/{id}/credentials", authority, electionAPI(h, h.apiAddCredentials)},
		{"POST", "/api/v1/elections/{id}/credentials/publish", authority, electionAPI(h, h.apiPublishCredentials)},
		{"DELETE", "/api/v1/elections/{id}/credentials", authority, electionAPI(h, h.apiDiscardCredentials)},
		{"GET", "/api/v1/elections/{id}/credentials", public, electionAPI(h, h.apiCredentials)},
		{"POST", "/api/v1/elections/{id}/open", officer, electionAPI(h, h.apiStep(open))},
		{"POST", "/api/v1/elections/{id}/close", officer, electionAPI(h, h.apiStep(closeNow))},
		{"POST", "/api/v1/elections/{id}/ballots", self, electionRaw(h, ballotFields, h.apiCast)},
		{"GET", "/api/v1/elections/{id}/ballots", public, electionAPI(h, h.apiBallots)},
		{"GET", "/api/v1/elections/{id}/ballots/{hash}", public, h.apiBallot},
		{"POST", "/api/v1/elections/{id}/audits", self, electionRaw(h, auditedBallotFields, h.apiPublishAudit)},
		{"GET", "/api/v1/elections/{id}/audits", public, electionAPI(h, h.apiAudits)},
		{"POST", "/api/v1/elections/{id}/tally", officer, electionAPI(h, h.apiStep(tally))},
		{"GET", "/api/v1/elections/{id}/tally", public, h.apiTally},
		{"POST", "/api/v1/elections/{id}/decryptions", trustee, electionRaw(h, partialFields, h.apiPostDecryption)},
		{"GET", "/api/v1/elections/{id}/results", public, electionAPI(h, h.apiResults)},
	}
}

// tallyWait is how long the officer's request waits for the tally before
// it answers that the tally goes on: a large ballot box takes minutes to
// verify and add up, past the server's write timeout.
var tallyWait = 20 * time.Second

// errTallyContinues says the tally was started and outlasted tallyWait:
// the page says so, the API answers 202.
var errTallyContinues = errors.New("web: the tally continues in the background")

// beforeTally runs in the tally's goroutine before it starts; tests hold
// a tally back with it to see the request answer first.
var beforeTally = func() {}

// tally runs the election's tally detached from the request, so that a
// closed connection or the write timeout does not cancel it, and waits
// for it up to tallyWait. A tally that ends later is logged; the
// election page shows it as running until then.
func (h *electionWeb) tally(r *http.Request, officer, id int64) (*election.Election, error) {
	type outcome struct {
		e   *election.Election
		err error
	}
	done := make(chan outcome, 1)
	ctx := context.WithoutCancel(r.Context())
	wait, before := tallyWait, beforeTally // read once: the goroutine may outlive a test that sets them
	go func() {
		before()
		start := time.Now()
		e, err := h.el.Tally(ctx, officer, id)
		var se *election.StateError
		switch {
		case err != nil && !errors.As(err, &se) && !errors.Is(err, election.ErrTallyRunning):
			h.Logger.Error("election tally failed", "election", id, "err", err)
		case err == nil && time.Since(start) > wait:
			h.Logger.Info("election tally done", "election", id, "took", time.Since(start).Round(time.Second))
		}
		done <- outcome{e, err}
	}()
	select {
	case o := <-done:
		return o.e, o.err
	case <-time.After(wait):
		return nil, errTallyContinues
	}
}
