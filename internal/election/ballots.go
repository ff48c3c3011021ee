package election

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/veche/veche/internal/auditlog"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/voting"
	"github.com/veche/veche/internal/voting/record"
)

func errIsConflict(err error) bool { return errors.Is(err, store.ErrConflict) }

// The codes of a refused ballot ([Refusal.Code]).
const (
	BallotMalformed      = "ballot_malformed"         // not a ballot's canonical JSON
	BallotAudited        = "ballot_audited"           // an audited ballot, which is never cast
	BallotWrongElection  = "ballot_wrong_election"    // for another election or manifest
	BallotShape          = "ballot_shape"             // contests or options not the manifest's
	BallotBadProof       = "ballot_bad_proof"         // a proof does not verify
	BallotBadSignature   = "ballot_bad_signature"     // the credential's signature does not verify
	BallotReplayed       = "ballot_replayed"          // this very ballot is already in the box
	CredentialUnknown    = "credential_not_published" // the credential is not in the published list
	CredentialUsed       = "credential_used"          // another account cast with this credential
	CredentialOther      = "credential_other"         // this account cast with another credential
	AuditedBallotInvalid = "audited_ballot_invalid"   // an audited ballot that does not check
)

// Receipt is what a voter gets for an accepted ballot.
type Receipt struct {
	TrackingCode string `json:"tracking_code"`
	BallotHash   string `json:"ballot_hash"`
	// Replaced says that the ballot replaced the voter's earlier one,
	// which no longer counts.
	Replaced bool `json:"replaced"`
}

// ballotRefusal names why VerifyBallot refused a ballot.
func ballotRefusal(err error) *Refusal {
	code := BallotBadProof
	switch {
	case errors.Is(err, voting.ErrWrongElection):
		code = BallotWrongElection
	case errors.Is(err, voting.ErrShape):
		code = BallotShape
	case errors.Is(err, voting.ErrSignature):
		code = BallotBadSignature
	case errors.Is(err, voting.ErrBadProof):
	default:
		code = BallotMalformed
	}
	return &Refusal{Code: code, Err: err}
}

// checkPeriod refuses a ballot outside the voting period.
func (e *Election) checkPeriod() error {
	switch e.State {
	case Open:
		return nil
	case Scheduled, Ready, Credentials, Ceremony, Draft:
		return &PeriodError{Opens: e.Manifest.Opens, Closes: e.Closes(), State: Scheduled}
	}
	return &PeriodError{Opens: e.Manifest.Opens, Closes: e.Closes(), State: Closed}
}

// Cast puts account's ballot (its canonical JSON, as voting.ParseBallot
// reads it) into the ballot box and returns the receipt. It refuses,
// storing nothing, a ballot that is malformed or audited, for another
// election, with a bad proof or signature, whose credential is not
// published or was used by another account (or while this account already
// voted with another credential), that is already in the box, outside the
// voting period, or from a person the process's eligibility rule does not
// admit now ([participation.NotEligibleError]). A later ballot with the
// same credential replaces the earlier one: only the last counts. The
// database settles concurrent casts: the credential's binding row is
// updated first, which serialises casts with one credential, and a
// partial unique index allows one counted ballot per credential.
func (s *Service) Cast(ctx context.Context, account, id int64, body []byte) (*Receipt, error) {
	b, err := voting.ParseBallot(body)
	switch {
	case errors.Is(err, voting.ErrAuditedBallot):
		return nil, &Refusal{Code: BallotAudited, Err: errors.New("this is an audited ballot: its secrets are revealed, so it can never be cast; encrypt your choices again to vote")}
	case err != nil:
		return nil, &Refusal{Code: BallotMalformed, Err: err}
	}
	e, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if b.Election() != e.ManifestID {
		return nil, refuse(BallotWrongElection, "the ballot is for election %q, this is %q", b.Election(), e.ManifestID)
	}
	if err := e.checkPeriod(); err != nil {
		return nil, err
	}
	// Cheap refusals before the proofs are checked.
	if err := s.p.CheckEligibility(ctx, e.ProcessID, account); err != nil {
		return nil, err
	}
	credential := b.Credential().String()
	var one int
	if err := s.db().QueryRow(ctx, "SELECT 1 FROM election_credentials WHERE election_id = ? AND credential = ?", id, credential).Scan(&one); errors.Is(err, store.ErrNotFound) {
		return nil, refuse(CredentialUnknown, "the ballot's credential %.12s… is not one the credential authority published for this election: check the code you typed", credential)
	} else if err != nil {
		return nil, err
	}
	ve, err := e.Voting()
	if err != nil {
		return nil, err
	}
	if err := ve.VerifyBallot(b); err != nil {
		return nil, ballotRefusal(err)
	}
	h := b.Hash()
	rc := &Receipt{TrackingCode: b.TrackingCode(), BallotHash: hex.EncodeToString(h[:])}
	err = s.db().InTx(ctx, func(tx *store.Tx) error {
		// One instant decides whether voting is open and stamps the cast
		// in the log and the box: the verifier checks the log's stamp
		// against the voting period, so a ballot accepted a moment before
		// the close must not be logged a moment after it.
		now := s.Now()
		e, err := s.get(ctx, tx, id)
		if err != nil {
			return err
		}
		e.State = e.stateAt(now)
		if err := e.checkPeriod(); err != nil {
			return err
		}
		if err := s.p.EligibleTx(ctx, tx, e.ProcessID, account); err != nil {
			return err
		}
		var one int
		err = tx.QueryRow(ctx, "SELECT 1 FROM election_ballots WHERE election_id = ? AND ballot_hash = ?", id, rc.BallotHash).Scan(&one)
		if err == nil {
			return refuse(BallotReplayed, "this ballot (tracking code %s) is already in the ballot box: each ballot is cast once; to vote again, encrypt your choices again", rc.TrackingCode)
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		// Bind the credential to the account, or find it bound to it.
		res, err := tx.Exec(ctx, `UPDATE election_credentials SET account_id = ?, bound_at = COALESCE(bound_at, ?)
			WHERE election_id = ? AND credential = ? AND (account_id = ? OR (account_id IS NULL AND bound_at IS NULL))`,
			account, store.Micros(now), id, credential, account)
		if errIsConflict(err) {
			return refuse(CredentialOther, "you have already voted in this election with another credential; vote again with the same credential to change your vote")
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return refuse(CredentialUsed, "the ballot's credential was already used by another person: a credential is personal; if it is the one you were given, tell the election officer")
		}
		res, err = tx.Exec(ctx, "UPDATE election_ballots SET counted = FALSE WHERE election_id = ? AND credential = ? AND counted", id, credential)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		rc.Replaced = n > 0
		if _, err := tx.Exec(ctx, `INSERT INTO election_ballots (election_id, credential, ballot_hash, tracking_code, ballot, cast_at, counted)
			VALUES (?, ?, ?, ?, ?, ?, TRUE)`, id, credential, rc.BallotHash, rc.TrackingCode, string(body), store.Micros(now)); err != nil {
			if errIsConflict(err) {
				return refuse(BallotReplayed, "this ballot (tracking code %s) is already in the ballot box", rc.TrackingCode)
			}
			return err
		}
		// No actor and no digest: the log shows that a ballot was cast, not
		// by whom, in the form package record's verifier reads.
		return s.auditAt(ctx, tx, now, record.CastAction, 0, e, "", record.CastDetail(e.ManifestID, b))
	})
	if err != nil {
		return nil, err
	}
	return rc, nil
}

// AuditReceipt is what publishing an audited ballot returns: its tracking
// code and the choices it was checked to encrypt.
type AuditReceipt struct {
	TrackingCode string         `json:"tracking_code"`
	Choices      voting.Choices `json:"choices"`
}

// PublishAudit publishes an audited ballot (a Benaloh challenge the voter
// made in the booth) for anyone to check; it is never counted. It is
// checked first: its proofs, and that its revealed randomness opens each
// ciphertext to the stated choice.
func (s *Service) PublishAudit(ctx context.Context, account, id int64, body []byte) (*AuditReceipt, error) {
	a, err := voting.ParseAuditedBallot(body)
	if err != nil {
		return nil, &Refusal{Code: AuditedBallotInvalid, Err: err}
	}
	e, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if a.Election() != e.ManifestID {
		return nil, refuse(BallotWrongElection, "the audited ballot is for election %q, this is %q", a.Election(), e.ManifestID)
	}
	ve, err := e.Voting()
	if err != nil {
		return nil, err
	}
	choices, err := ve.VerifyAudit(a)
	if err != nil {
		return nil, &Refusal{Code: AuditedBallotInvalid, Err: err}
	}
	rc := &AuditReceipt{TrackingCode: a.TrackingCode(), Choices: choices}
	err = s.db().InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, "INSERT INTO election_audited_ballots (election_id, tracking_code, ballot, published_at) VALUES (?, ?, ?, ?)",
			id, rc.TrackingCode, string(body), store.Micros(s.Now())); err != nil {
			if errIsConflict(err) {
				return refuse(BallotReplayed, "the audited ballot with tracking code %s is already published", rc.TrackingCode)
			}
			return err
		}
		return s.audit(ctx, tx, "election.ballot_audited", 0, e, auditlog.Digest(body), map[string]string{"tracking_code": rc.TrackingCode})
	})
	if err != nil {
		return nil, err
	}
	return rc, nil
}

// BoxEntry is one ballot of the public ballot box.
type BoxEntry struct {
	Seq          int64     `json:"seq"`
	TrackingCode string    `json:"tracking_code"`
	BallotHash   string    `json:"ballot_hash"`
	Credential   string    `json:"credential"`
	CastAt       time.Time `json:"cast_at"`
	Counted      bool      `json:"counted"`
	LogIndex     *int64    `json:"log_index"`
}

// Box is one page of the ballot box, in order of casting.
type Box struct {
	Entries []BoxEntry `json:"ballots"`
	Total   int        `json:"total"`
	Counted int        `json:"counted"`
	Page    int        `json:"page"`
	Pages   int        `json:"pages"`
}

const boxColumns = "id, tracking_code, ballot_hash, credential, cast_at, counted, log_index"

func scanBox(rows *sql.Rows) ([]BoxEntry, error) {
	defer rows.Close()
	var out []BoxEntry
	for rows.Next() {
		var b BoxEntry
		var at int64
		var idx sql.NullInt64
		if err := rows.Scan(&b.Seq, &b.TrackingCode, &b.BallotHash, &b.Credential, &at, &b.Counted, &idx); err != nil {
			return nil, err
		}
		b.CastAt = store.FromMicros(at)
		if idx.Valid {
			b.LogIndex = &idx.Int64
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// Ballots returns page (from 1) of the ballot box. The sequence numbers
// are the server's; the order is the order of acceptance.
func (s *Service) Ballots(ctx context.Context, id int64, page int) (*Box, error) {
	if _, err := s.Get(ctx, id); err != nil {
		return nil, err
	}
	page = max(page, 1)
	box := &Box{Page: page}
	if err := s.db().QueryRow(ctx, "SELECT COUNT(*), COALESCE(SUM(CASE WHEN counted THEN 1 ELSE 0 END), 0) FROM election_ballots WHERE election_id = ?", id).
		Scan(&box.Total, &box.Counted); err != nil {
		return nil, err
	}
	box.Pages = max(1, (box.Total+PageSize-1)/PageSize)
	rows, err := s.db().Query(ctx, "SELECT "+boxColumns+" FROM election_ballots WHERE election_id = ? ORDER BY id LIMIT ? OFFSET ?", id, PageSize, (page-1)*PageSize)
	if err != nil {
		return nil, err
	}
	if box.Entries, err = scanBox(rows); err != nil {
		return nil, err
	}
	return box, nil
}

// Track finds the ballots with a tracking code (as a person types it:
// case, spaces and hyphens do not matter). A code of a ballot that was
// replaced shows it as not counted.
func (s *Service) Track(ctx context.Context, id int64, typed string) ([]BoxEntry, error) {
	code, err := voting.ParseTrackingCode(typed)
	if err != nil {
		return nil, refuse("tracking_code_invalid", "%v", strings.TrimPrefix(err.Error(), voting.ErrEncoding.Error()+": "))
	}
	rows, err := s.db().Query(ctx, "SELECT "+boxColumns+" FROM election_ballots WHERE election_id = ? AND tracking_code = ? ORDER BY id", id, code)
	if err != nil {
		return nil, err
	}
	return scanBox(rows)
}

// Ballot returns the JSON of the ballot with hash (hex) in the box.
func (s *Service) Ballot(ctx context.Context, id int64, hash string) ([]byte, error) {
	var body string
	err := s.db().QueryRow(ctx, "SELECT ballot FROM election_ballots WHERE election_id = ? AND ballot_hash = ?", id, strings.ToLower(hash)).Scan(&body)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	return []byte(body), err
}

// AuditedBallots returns the published audited ballots, in order.
func (s *Service) AuditedBallots(ctx context.Context, id int64) ([][]byte, error) {
	rows, err := s.db().Query(ctx, "SELECT ballot FROM election_audited_ballots WHERE election_id = ? ORDER BY id", id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var b string
		if err := rows.Scan(&b); err != nil {
			return nil, err
		}
		out = append(out, []byte(b))
	}
	return out, rows.Err()
}
