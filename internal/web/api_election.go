package web

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/veche/veche/internal/auditlog"
	"github.com/veche/veche/internal/election"
	"github.com/veche/veche/internal/i18n"
	"github.com/veche/veche/internal/identity"
	"github.com/veche/veche/internal/participation"
)

// electionWeb serves the pages and API of verifiable elections (package
// election). It is built with the routes, over the participation core.
type electionWeb struct {
	*Server
	el *election.Service
}

// refusalStatus is the status of each code of an election.Refusal.
var refusalStatus = map[string]int{
	election.BallotMalformed:      http.StatusBadRequest,
	election.BallotAudited:        http.StatusUnprocessableEntity,
	election.BallotWrongElection:  http.StatusUnprocessableEntity,
	election.BallotShape:          http.StatusUnprocessableEntity,
	election.BallotBadProof:       http.StatusUnprocessableEntity,
	election.BallotBadSignature:   http.StatusUnprocessableEntity,
	election.BallotReplayed:       http.StatusConflict,
	election.CredentialUnknown:    http.StatusUnprocessableEntity,
	election.CredentialUsed:       http.StatusConflict,
	election.CredentialOther:      http.StatusConflict,
	election.AuditedBallotInvalid: http.StatusUnprocessableEntity,
	"tracking_code_invalid":       http.StatusUnprocessableEntity,
	"message_invalid":             http.StatusUnprocessableEntity,
	"message_not_yours":           http.StatusForbidden,
	"message_too_early":           http.StatusConflict,
	"message_too_late":            http.StatusConflict,
	"message_duplicate":           http.StatusConflict,
	"message_unexpected":          http.StatusConflict,
	"credentials_invalid":         http.StatusUnprocessableEntity,
	"credentials_too_many":        http.StatusUnprocessableEntity,
	"credentials_duplicate":       http.StatusConflict,
	"credentials_wrong_election":  http.StatusUnprocessableEntity,
	"credentials_incomplete":      http.StatusConflict,
	"credentials_mismatch":        http.StatusConflict,
	"decryption_invalid":          http.StatusUnprocessableEntity,
}

// electionFailure maps the election service's errors to a status, a
// machine code and a message in lang, with the detail for the API; ok is
// false for errors that the common mapping (errors.go) handles.
func electionFailure(lang i18n.Lang, err error) (status int, code, msg, detail string, ok bool) {
	var rf *election.Refusal
	var se *election.StateError
	var pe *election.PeriodError
	switch {
	case errors.As(err, &rf):
		status = refusalStatus[rf.Code]
		if status == 0 {
			status = http.StatusUnprocessableEntity
		}
		return status, rf.Code, i18n.T(lang, "error."+rf.Code), rf.Err.Error(), true
	case errors.As(err, &pe):
		if pe.State == election.Closed {
			return http.StatusConflict, "election_closed", i18n.T(lang, "error.election_closed", "date", formatTime(pe.Closes)), "", true
		}
		return http.StatusConflict, "election_not_open", i18n.T(lang, "error.election_not_open", "date", formatTime(pe.Opens)), "", true
	case errors.As(err, &se):
		want := make([]string, len(se.Want))
		for i, w := range se.Want {
			want[i] = i18n.T(lang, "election.state."+w)
		}
		return http.StatusConflict, "election_wrong_state", i18n.T(lang, "error.election_wrong_state",
			"state", i18n.T(lang, "election.state."+se.State), "want", strings.Join(want, " / ")), "", true
	case errors.Is(err, election.ErrNotFound):
		return http.StatusNotFound, "not_found", i18n.T(lang, "error.not_found"), "", true
	case errors.Is(err, election.ErrNotTrustee):
		return http.StatusForbidden, "not_trustee", i18n.T(lang, "error.not_trustee"), "", true
	case errors.Is(err, election.ErrTallyRunning):
		return http.StatusConflict, "tally_running", i18n.T(lang, "error.tally_running"), "", true
	case errors.Is(err, election.ErrRecordNotReady):
		return http.StatusConflict, "record_not_ready", i18n.T(lang, "error.record_not_ready"), "", true
	}
	return 0, "", "", "", false
}

// failElection answers with an election error, as Server.fail does with
// the others: JSON for the API (the message in English, with the
// detail), a page otherwise.
func (h *electionWeb) failElection(w http.ResponseWriter, r *http.Request, c *reqCtx, err error) {
	lang := c.lang
	if c.api {
		lang = i18n.English
	}
	status, code, msg, detail, ok := electionFailure(lang, err)
	if !ok {
		h.fail(w, r, c, err)
		return
	}
	if c.api {
		if detail != "" {
			msg += " (" + detail + ")"
		}
		writeJSON(w, status, map[string]any{"error": apiError{Code: code, Message: msg}})
		return
	}
	h.render(w, r, c, status, "error", map[string]any{"Status": status, "Code": code, "Message": msg})
}

// electionAPI is apiCall for the election endpoints: the same strict
// decoding, with the election errors answered by failElection.
func electionAPI[B any](h *electionWeb, fn func(r *http.Request, c *reqCtx, b *B) (answer, error)) handler {
	return apiCallFailing(h.failElection, fn)
}

// electionRaw is an endpoint whose body is an object of package voting
// or dkg, passed on byte for byte: their parsers accept only their own
// canonical forms, so the body must not be decoded and re-encoded here.
//
// fields are the top-level fields the object may have: anything else is
// refused as decodeJSON refuses an unknown field, before the parser.
func electionRaw(h *electionWeb, fields []string, fn func(r *http.Request, c *reqCtx, body []byte) (answer, error)) handler {
	return func(w http.ResponseWriter, r *http.Request, c *reqCtx) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				h.fail(w, r, c, mbe)
				return
			}
			h.fail(w, r, c, &decodeError{http.StatusBadRequest, "the request body could not be read"})
			return
		}
		// One well-formed JSON object, refused as decodeJSON refuses
		// anything else; its fields are the parser's to judge.
		var top map[string]json.RawMessage
		if err := decodeJSONBytes(body, &top); err != nil {
			h.fail(w, r, c, err)
			return
		}
		for k := range top {
			if !slices.Contains(fields, k) {
				h.fail(w, r, c, &decodeError{http.StatusBadRequest, fmt.Sprintf("unknown field %q", k)})
				return
			}
		}
		// Canonical JSON has no surrounding whitespace; a file sent as it
		// is (curl --data-binary @file) may end with a newline.
		a, err := fn(r, c, bytes.TrimSpace(body))
		if err != nil {
			h.failElection(w, r, c, err)
			return
		}
		writeJSON(w, a.status, a.body)
	}
}

// The top-level fields of the objects the raw endpoints take (package
// voting's and dkg's JSON encodings).
var (
	// A ballot's, and an audited ballot's, which the cast endpoint names
	// as such rather than as an unknown field.
	ballotFields          = []string{"type", "election", "manifest", "credential", "contests", "signature", "tracking_code"}
	auditedBallotFields   = []string{"type", "election", "manifest", "credential", "contests", "tracking_code"}
	partialFields         = []string{"type", "election", "manifest", "trustee", "contests"}
	ceremonyMessageFields = []string{"type", "ceremony", "trustee", "dealer", "recipient", "signing_key", "coefficients", "proof",
		"ciphertext", "signature", "accused", "shares", "record", "qualified", "joint_key", "verification_key"}
)

// rawJSON answers with JSON the service keeps as it was published.
func rawJSON(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b)
}

// electionJSON is an election in the API: what the booth reads
// (docs/api-elections.md, "The election").
type electionJSON struct {
	ID                int64           `json:"id"`
	ManifestID        string          `json:"manifest_id"`
	ProcessID         int64           `json:"process_id"`
	Title             string          `json:"title"`
	State             string          `json:"state"`
	OpensAt           time.Time       `json:"opens_at"`
	ClosesAt          time.Time       `json:"closes_at"`
	Manifest          json.RawMessage `json:"manifest"`
	JointKey          *string         `json:"joint_key"`
	Eligible          bool            `json:"eligible"`
	Reason            string          `json:"reason"`
	ReasonCode        string          `json:"reason_code,omitempty"`
	Trustees          int             `json:"trustees"`
	Threshold         int             `json:"threshold"`
	Credentials       int             `json:"credentials"`
	CredentialsDigest string          `json:"credentials_digest,omitempty"`
	Result            json.RawMessage `json:"result,omitempty"`
	// TallyRunning says the encrypted tally is being computed (after
	// POST …/tally answered 202).
	TallyRunning    bool               `json:"tally_running,omitempty"`
	You             *electionYou       `json:"you,omitempty"`
	TrusteeAccounts []election.Trustee `json:"trustee_accounts,omitempty"`
	Links           map[string]string  `json:"links"`
}

// electionYou is what the caller is in the election.
type electionYou struct {
	Trustee uint32 `json:"trustee,omitempty"` // their index, if a trustee
}

// eligibility says whether the viewer may cast a ballot now and, if not,
// why, in lang.
func (h *electionWeb) eligibility(r *http.Request, c *reqCtx, e *election.Election, lang i18n.Lang) (ok bool, reason, code string, err error) {
	switch e.State {
	case election.Open:
	case election.Closed, election.Tallying, election.Published:
		return false, i18n.T(lang, "error.election_closed", "date", formatTime(e.Closes())), "election_closed", nil
	default:
		return false, i18n.T(lang, "error.election_not_open", "date", formatTime(e.Opens())), "election_not_open", nil
	}
	if c.principal == nil {
		return false, i18n.T(lang, "election.reason.signin"), "signin_required", nil
	}
	err = h.sp.core.CheckEligibility(r.Context(), e.ProcessID, c.principal.AccountID)
	var ne *participation.NotEligibleError
	if errors.As(err, &ne) {
		return false, eligibilityMessage(lang, ne), "not_eligible", nil
	}
	return err == nil, "", "", err
}

func electionLinks(e *election.Election) map[string]string {
	base := "/api/v1/elections/" + strconv.FormatInt(e.ID, 10)
	page := "/elections/" + strconv.FormatInt(e.ID, 10)
	return map[string]string{
		"self": base, "page": page, "booth": page + "/booth", "ballots": base + "/ballots", "ceremony": base + "/ceremony",
		"credentials": base + "/credentials", "tally": base + "/tally", "results": base + "/results", "record": page + "/record.zip",
	}
}

func (h *electionWeb) electionAnswer(r *http.Request, c *reqCtx, status int, e *election.Election) (answer, error) {
	ok, reason, code, err := h.eligibility(r, c, e, apiLang(r))
	if err != nil {
		return answer{}, err
	}
	j := electionJSON{ID: e.ID, ManifestID: e.ManifestID, ProcessID: e.ProcessID, Title: e.Title, State: e.State,
		OpensAt: e.Opens(), ClosesAt: e.Closes(), Manifest: e.ManifestJSON, Eligible: ok, Reason: reason, ReasonCode: code,
		Trustees: len(e.Trustees), Threshold: e.Threshold, Credentials: e.Credentials, CredentialsDigest: e.CredentialsDigest,
		Links: electionLinks(e)}
	if e.JointKey != nil {
		k, _ := e.JointKey.MarshalText()
		ks := string(k)
		j.JointKey = &ks
	}
	if len(e.ResultJSON) > 0 {
		j.Result = e.ResultJSON
	}
	j.TallyRunning = h.el.TallyRunning(e)
	if c.principal != nil {
		if idx := e.TrusteeIndex(c.principal.AccountID); idx != 0 {
			j.You = &electionYou{Trustee: idx}
		}
		if c.principal.Can(identity.PermElectionsManage) {
			j.TrusteeAccounts = e.Trustees
		}
	}
	return answer{status, j}, nil
}

func (h *electionWeb) election(r *http.Request) (*election.Election, error) {
	id, err := pathID(r)
	if err != nil {
		return nil, err
	}
	return h.el.Get(r.Context(), id)
}

func (h *electionWeb) apiElections(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	list, err := h.el.List(r.Context(), formInt(r.URL.Query().Get("process")))
	if err != nil {
		return answer{}, err
	}
	return answer{http.StatusOK, map[string]any{"elections": nonNil(list)}}, nil
}

func (h *electionWeb) apiCreateElection(r *http.Request, c *reqCtx, b *election.Input) (answer, error) {
	process, err := pathID(r)
	if err != nil {
		return answer{}, err
	}
	e, err := h.el.Create(r.Context(), c.principal.AccountID, process, *b)
	if err != nil {
		return answer{}, err
	}
	return h.electionAnswer(r, c, http.StatusCreated, e)
}

func (h *electionWeb) apiElection(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	e, err := h.election(r)
	if err != nil {
		return answer{}, err
	}
	return h.electionAnswer(r, c, http.StatusOK, e)
}

func (h *electionWeb) apiUpdateElection(r *http.Request, c *reqCtx, b *election.Input) (answer, error) {
	id, err := pathID(r)
	if err != nil {
		return answer{}, err
	}
	e, err := h.el.Update(r.Context(), c.principal.AccountID, id, *b)
	if err != nil {
		return answer{}, err
	}
	return h.electionAnswer(r, c, http.StatusOK, e)
}

// apiStep is an officer's step on an election (start the ceremony,
// open, close, tally), for the API.
func (h *electionWeb) apiStep(do func(r *http.Request, officer, id int64) (*election.Election, error)) func(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	return func(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
		id, err := pathID(r)
		if err != nil {
			return answer{}, err
		}
		e, err := do(r, c.principal.AccountID, id)
		if errors.Is(err, errTallyContinues) {
			// Accepted: the tally goes on; GET the election to follow it.
			if e, err = h.el.Get(r.Context(), id); err != nil {
				return answer{}, err
			}
			return h.electionAnswer(r, c, http.StatusAccepted, e)
		}
		if err != nil {
			return answer{}, err
		}
		return h.electionAnswer(r, c, http.StatusOK, e)
	}
}

// ceremonyJSON is the key ceremony as the API shows it.
type ceremonyJSON struct {
	State     string `json:"state"`
	Trustees  uint32 `json:"trustees"`
	Threshold int    `json:"threshold"`
	You       uint32 `json:"you,omitempty"`
	// Next is the caller's next step when they are a trustee (init,
	// shares, receive, answer, finish, wait or done), and WaitingFor whom
	// they wait for.
	Next         string                     `json:"next,omitempty"`
	WaitingFor   []uint32                   `json:"waiting_for,omitempty"`
	Received     map[string][]uint32        `json:"received"`
	Fingerprints map[string]string          `json:"fingerprints"`
	Accused      []uint32                   `json:"accused"`
	Waiting      map[string][]uint32        `json:"waiting"`
	Shares       int                        `json:"shares"`
	Outcome      *ceremonyOutcomeJSON       `json:"outcome,omitempty"`
	Problem      string                     `json:"problem,omitempty"`
	Files        map[string]json.RawMessage `json:"files"`
}

type ceremonyOutcomeJSON struct {
	Qualified    []uint32            `json:"qualified"`
	Disqualified []election.Excluded `json:"disqualified"`
	Confirmed    []uint32            `json:"confirmed"`
	JointKey     string              `json:"joint_key"`
	Record       string              `json:"record"`
}

func (h *electionWeb) apiCeremony(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	e, err := h.election(r)
	if err != nil {
		return answer{}, err
	}
	st, err := h.el.Ceremony(r.Context(), e.ID)
	if err != nil {
		return answer{}, err
	}
	j := ceremonyJSON{State: e.State, Trustees: st.Trustees, Threshold: e.Threshold, Received: st.Received, Shares: st.Shares,
		Problem: st.Problem, Waiting: map[string][]uint32{}, Files: map[string]json.RawMessage{}}
	for _, k := range []string{election.KindCommitment, election.KindShare, election.KindComplaint, election.KindResult} {
		j.Waiting[k] = nonNil(st.Waiting(k))
		j.Received[k] = nonNil(j.Received[k])
	}
	if c.principal != nil {
		j.You = e.TrusteeIndex(c.principal.AccountID)
	}
	if j.You != 0 && e.State == election.Ceremony {
		j.Next, j.WaitingFor = st.Next(j.You)
	}
	j.Fingerprints, j.Accused = map[string]string{}, nonNil(st.Accused)
	for i, fp := range st.Fingerprints {
		j.Fingerprints[strconv.FormatUint(uint64(i), 10)] = fp
	}
	if o := st.Outcome; o != nil {
		oj := &ceremonyOutcomeJSON{Qualified: o.Qualified, Disqualified: []election.Excluded{}, Confirmed: nonNil(o.Confirmed),
			JointKey: hex.EncodeToString(o.JointKey.Bytes()), Record: hex.EncodeToString(o.Digest[:])}
		for _, d := range o.Disqualified {
			oj.Disqualified = append(oj.Disqualified, election.Excluded{Trustee: d.Dealer, Reason: d.Reason})
		}
		j.Outcome = oj
	}
	if _, ok := e.Ceremony(); ok {
		files, err := h.el.CeremonyFiles(r.Context(), e.ID, viewerID(c))
		if err != nil {
			return answer{}, err
		}
		for name, b := range files {
			j.Files[name] = b
		}
	}
	return answer{http.StatusOK, j}, nil
}

func (h *electionWeb) apiPostMessage(r *http.Request, c *reqCtx, body []byte) (answer, error) {
	id, err := pathID(r)
	if err != nil {
		return answer{}, err
	}
	m, err := h.el.PostMessage(r.Context(), c.principal.AccountID, id, body)
	if err != nil {
		return answer{}, err
	}
	e, err := h.el.Get(r.Context(), id)
	if err != nil {
		return answer{}, err
	}
	return answer{http.StatusCreated, map[string]any{"status": "accepted", "file": m.File(), "kind": m.Kind, "state": e.State}}, nil
}

type publishCredentialsBody struct {
	Count  int    `json:"count"`
	Digest string `json:"digest"`
}

func (h *electionWeb) apiAddCredentials(r *http.Request, c *reqCtx, b *election.CredentialList) (answer, error) {
	id, err := pathID(r)
	if err != nil {
		return answer{}, err
	}
	total, err := h.el.AddCredentials(r.Context(), c.principal.AccountID, id, *b)
	if err != nil {
		return answer{}, err
	}
	return answer{http.StatusCreated, map[string]any{"added": len(b.Credentials), "total": total}}, nil
}

func (h *electionWeb) apiPublishCredentials(r *http.Request, c *reqCtx, b *publishCredentialsBody) (answer, error) {
	id, err := pathID(r)
	if err != nil {
		return answer{}, err
	}
	e, err := h.el.PublishCredentials(r.Context(), c.principal.AccountID, id, b.Count, b.Digest)
	if err != nil {
		return answer{}, err
	}
	return h.electionAnswer(r, c, http.StatusOK, e)
}

func (h *electionWeb) apiDiscardCredentials(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	id, err := pathID(r)
	if err != nil {
		return answer{}, err
	}
	n, err := h.el.DiscardCredentials(r.Context(), c.principal.AccountID, id)
	if err != nil {
		return answer{}, err
	}
	return answer{http.StatusOK, map[string]any{"discarded": n, "total": 0}}, nil
}

func (h *electionWeb) apiCredentials(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	e, err := h.election(r)
	if err != nil {
		return answer{}, err
	}
	creds, err := h.el.PublicCredentials(r.Context(), e.ID)
	if err != nil {
		return answer{}, err
	}
	return answer{http.StatusOK, map[string]any{"election": e.ManifestID, "credentials": nonNil(creds), "digest": e.CredentialsDigest}}, nil
}

func (h *electionWeb) apiCast(r *http.Request, c *reqCtx, body []byte) (answer, error) {
	id, err := pathID(r)
	if err != nil {
		return answer{}, err
	}
	if err := h.limit(r, c, postsPerSpace, "election:"+strconv.FormatInt(id, 10)+":"+strconv.FormatInt(c.principal.AccountID, 10)); err != nil {
		return answer{}, err
	}
	rc, err := h.el.Cast(r.Context(), c.principal.AccountID, id, body)
	if err != nil {
		return answer{}, err
	}
	return answer{http.StatusCreated, rc}, nil
}

func (h *electionWeb) apiPublishAudit(r *http.Request, c *reqCtx, body []byte) (answer, error) {
	id, err := pathID(r)
	if err != nil {
		return answer{}, err
	}
	rc, err := h.el.PublishAudit(r.Context(), c.principal.AccountID, id, body)
	if err != nil {
		return answer{}, err
	}
	return answer{http.StatusCreated, rc}, nil
}

func (h *electionWeb) apiAudits(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	e, err := h.election(r)
	if err != nil {
		return answer{}, err
	}
	list, err := h.el.AuditedBallots(r.Context(), e.ID)
	if err != nil {
		return answer{}, err
	}
	out := make([]json.RawMessage, len(list))
	for i, b := range list {
		out[i] = b
	}
	return answer{http.StatusOK, map[string]any{"audited": out}}, nil
}

func (h *electionWeb) apiBallots(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	e, err := h.election(r)
	if err != nil {
		return answer{}, err
	}
	if code := r.URL.Query().Get("tracking_code"); code != "" {
		found, err := h.el.Track(r.Context(), e.ID, code)
		if err != nil {
			return answer{}, err
		}
		return answer{http.StatusOK, map[string]any{"ballots": nonNil(found)}}, nil
	}
	box, err := h.el.Ballots(r.Context(), e.ID, int(formInt(r.URL.Query().Get("page"))))
	if err != nil {
		return answer{}, err
	}
	box.Entries = nonNil(box.Entries)
	return answer{http.StatusOK, box}, nil
}

func (h *electionWeb) apiBallot(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	e, err := h.election(r)
	if err == nil {
		var b []byte
		if b, err = h.el.Ballot(r.Context(), e.ID, r.PathValue("hash")); err == nil {
			rawJSON(w, b)
			return
		}
	}
	h.failElection(w, r, c, err)
}

func (h *electionWeb) apiTally(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	e, err := h.election(r)
	if err == nil && len(e.TallyJSON) == 0 {
		err = &election.StateError{State: e.State, Want: []string{election.Tallying, election.Published}}
	}
	if err != nil {
		h.failElection(w, r, c, err)
		return
	}
	rawJSON(w, e.TallyJSON)
}

func (h *electionWeb) apiPostDecryption(r *http.Request, c *reqCtx, body []byte) (answer, error) {
	id, err := pathID(r)
	if err != nil {
		return answer{}, err
	}
	e, err := h.el.PostDecryption(r.Context(), c.principal.AccountID, id, body)
	if err != nil {
		return answer{}, err
	}
	return h.electionAnswer(r, c, http.StatusCreated, e)
}

func (h *electionWeb) apiResults(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	e, err := h.election(r)
	if err != nil {
		return answer{}, err
	}
	d, err := h.el.DecryptionStatus(r.Context(), e.ID)
	if err != nil {
		return answer{}, err
	}
	out := map[string]any{"state": e.State, "decryptions": map[string]any{"received": nonNil(d.Received), "failed": nonNil(d.Failed)}}
	if res := e.Result(); res != nil {
		res.Excluded = nonNil(res.Excluded)
		out["result"] = res
	}
	return answer{http.StatusOK, out}, nil
}

// logVerifierKey is the audit log's signed-note verifier key, as the log
// serves it at /log/key.
func logVerifierKey(l *auditlog.Log) string {
	req, _ := http.NewRequest(http.MethodGet, "/key", nil)
	rec := &bufferResponse{header: http.Header{}}
	l.Handler().ServeHTTP(rec, req)
	return strings.TrimSpace(rec.body.String())
}

// bufferResponse is an http.ResponseWriter that keeps what is written.
type bufferResponse struct {
	header http.Header
	body   bytes.Buffer
}

func (b *bufferResponse) Header() http.Header         { return b.header }
func (b *bufferResponse) Write(p []byte) (int, error) { return b.body.Write(p) }
func (b *bufferResponse) WriteHeader(int)             {}
