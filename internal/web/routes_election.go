package web

import (
	"net/http"

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
	tally := func(r *http.Request, o, id int64) (*election.Election, error) { return h.el.Tally(r.Context(), o, id) }
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
