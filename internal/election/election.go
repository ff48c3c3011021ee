// Package election owns veche's verifiable elections as the server runs
// them: an election of a participation process, from its draft to its
// published result, with everything it keeps and publishes. The
// cryptography is package voting's and the trustees' key ceremony package
// dkg's; this package stores, relays, checks and decides.
//
// The lifecycle, each step one audit-log entry in the transaction that
// makes it:
//
//   - draft: the election officer writes the manifest (contests, opening
//     and closing times) and names n trustees, accounts holding the
//     trustee role, and the threshold t ([Service.Create], [Service.Update]);
//   - ceremony: the officer starts the key ceremony ([Service.StartCeremony]);
//     the server writes ceremony.json and relays the trustees' messages
//     ([Service.PostMessage]), each checked with dkg's parsers and accepted
//     only from the trustee it names; when every qualified trustee has
//     posted its result and dkg.Verify passes, the joint public key is fixed;
//   - credentials: a credential authority, a role of its own, generates the
//     voters' credentials offline and uploads only the public ones
//     ([Service.AddCredentials], [Service.PublishCredentials]);
//   - ready, then open: the officer opens the election ([Service.Open]);
//     ballots are accepted between the manifest's opening and closing times
//     ([Service.Cast]) from signed-in people whom the process's eligibility
//     rule admits at that moment; the officer may close early ([Service.Close]);
//   - tallying: the officer has the server add up the last ballot of each
//     credential homomorphically ([Service.Tally]); trustees post their
//     partial decryptions ([Service.PostDecryption]);
//   - published: once t of them verify, voting.Decrypt combines them (a
//     trustee whose proof fails is named and excluded) and the result is
//     published.
//
// The ballot box is public: every accepted ballot with its tracking code,
// and which ones count. Its audit entries (election.ballot_cast) carry the
// election id, the ballot hash and the tracking code but no account: the
// account↔credential binding that lets a person's revote replace their own
// ballot, and nobody else's, stays on the server (package privacy's data
// map declares it). [Service.WriteRecord] writes the whole election record
// with package record's writer, for `veche verify-election`;
// docs/elections.md explains it all in plain words and
// docs/api-elections.md gives the API.
package election

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/veche/veche/internal/auditlog"
	"github.com/veche/veche/internal/identity"
	"github.com/veche/veche/internal/participation"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/validate"
	"github.com/veche/veche/internal/voting"
	"github.com/veche/veche/internal/voting/dkg"
)

// The states of an election, in the order it passes them. Scheduled is
// never stored: it is an opened election before its voting period.
const (
	Draft       = "draft"
	Ceremony    = "ceremony"
	Credentials = "credentials"
	Ready       = "ready"
	Scheduled   = "scheduled"
	Open        = "open"
	Closed      = "closed"
	Tallying    = "tallied"
	Published   = "published"
)

// States lists the states in order, for pages that show the way ahead.
var States = []string{Draft, Ceremony, Credentials, Ready, Scheduled, Open, Closed, Tallying, Published}

// Limits on what an officer writes.
const (
	MaxTitle    = 200
	MaxTrustees = 50
	PageSize    = 50
)

// Errors callers branch on.
var (
	ErrNotFound   = errors.New("election: not found")
	ErrNotTrustee = errors.New("election: you are not a trustee of this election")
)

// StateError refuses a step the election's state does not allow.
type StateError struct {
	State string   // the election's state now
	Want  []string // the states in which the step is allowed
}

func (e *StateError) Error() string {
	return fmt.Sprintf("election: the election is %s; this is done when it is %s", e.State, strings.Join(e.Want, " or "))
}

// PeriodError refuses a ballot outside the voting period.
type PeriodError struct {
	Opens, Closes time.Time
	State         string // Scheduled or Closed (or an earlier state)
}

func (e *PeriodError) Error() string {
	if e.State == Closed {
		return "election: voting closed at " + e.Closes.UTC().Format(time.RFC3339)
	}
	return "election: voting opens at " + e.Opens.UTC().Format(time.RFC3339)
}

// Refusal is an input the election refuses — a ballot, a ceremony
// message, a credential list, a partial decryption — with a stable code
// saying why (the web layer maps it to a status and a message) and the
// detail.
type Refusal struct {
	Code string
	Err  error
}

func (r *Refusal) Error() string { return "election: " + r.Code + ": " + r.Err.Error() }
func (r *Refusal) Unwrap() error { return r.Err }

func refuse(code, format string, args ...any) *Refusal {
	return &Refusal{Code: code, Err: fmt.Errorf(format, args...)}
}

// Trustee is one trustee of an election: the index the ceremony gives
// them and their account (0 once erased).
type Trustee struct {
	Index   uint32 `json:"index"`
	Account int64  `json:"account"`
}

// Election is an election as pages and the API show it.
type Election struct {
	ID         int64
	ProcessID  int64
	ManifestID string
	Title      string
	// Manifest and JointKey are shared between reads of the same stored
	// election (parsed.go): read them, never change them.
	Manifest     *voting.Manifest
	ManifestJSON []byte
	// State is the state now, with Scheduled, Open and Closed following
	// the clock.
	State             string
	Trustees          []Trustee
	Threshold         int
	CeremonyJSON      []byte
	JointKey          *voting.JointKey
	Credentials       int
	CredentialsDigest string
	TallyJSON         []byte
	ResultJSON        []byte
	CreatedAt         time.Time
	CeremonyAt        *time.Time
	KeyFixedAt        *time.Time
	CredentialsAt     *time.Time
	OpenedAt          *time.Time
	ClosedAt          *time.Time
	TalliedAt         *time.Time
	PublishedAt       *time.Time

	stored     string
	logStart   int64
	logScanned int64
	voting     *voting.Election // shared, read-only (parsed.go)
}

// Opens is when voting begins.
func (e *Election) Opens() time.Time { return e.Manifest.Opens }

// Closes is when voting ends: the manifest's closing time or an earlier
// close by the officer.
func (e *Election) Closes() time.Time {
	if e.ClosedAt != nil && e.ClosedAt.Before(e.Manifest.Closes) {
		return *e.ClosedAt
	}
	return e.Manifest.Closes
}

// TrusteeIndex is the ceremony index of account among the trustees, or 0.
func (e *Election) TrusteeIndex(account int64) uint32 {
	for _, t := range e.Trustees {
		if account != 0 && t.Account == account {
			return t.Index
		}
	}
	return 0
}

// Ceremony is the key ceremony's parameters; ok is false in a draft.
func (e *Election) Ceremony() (cer dkg.Ceremony, ok bool) {
	if len(e.CeremonyJSON) == 0 {
		return dkg.Ceremony{}, false
	}
	cer, err := dkg.ParseCeremony(e.CeremonyJSON)
	return cer, err == nil
}

// Voting is the election for package voting: the manifest bound to the
// joint key. It fails before the key is fixed.
func (e *Election) Voting() (*voting.Election, error) {
	if e.JointKey == nil {
		return nil, &StateError{State: e.State, Want: []string{Credentials, Ready, Open, Closed, Tallying, Published}}
	}
	if e.voting != nil {
		return e.voting, nil
	}
	return voting.NewElection(e.Manifest, e.JointKey)
}

// Result is a published result: the counts per option, who decrypted and
// who was excluded, and why.
type Result struct {
	Election string                 `json:"election"`
	Ballots  uint64                 `json:"ballots"`
	Contests []voting.ContestResult `json:"contests"`
	Trustees []uint32               `json:"trustees"`
	Excluded []Excluded             `json:"excluded"`
}

// Excluded is a trustee whose partial decryption failed, and why.
type Excluded struct {
	Trustee uint32 `json:"trustee"`
	Reason  string `json:"reason"`
}

// Result decodes the published result, nil before publication.
func (e *Election) Result() *Result {
	if len(e.ResultJSON) == 0 {
		return nil
	}
	var r Result
	if json.Unmarshal(e.ResultJSON, &r) != nil {
		return nil
	}
	return &r
}

// Service runs elections on the participation core: its database, clock,
// audit log and eligibility rules.
type Service struct {
	p       *participation.Service
	tallies runningSet // the tallies under way (tally.go)
}

// New returns the election service over the participation core.
func New(p *participation.Service) *Service { return &Service{p: p} }

// Now is the service's clock.
func (s *Service) Now() time.Time { return s.p.Now() }

func (s *Service) db() *store.DB { return s.p.DB() }

// audit appends an election entry: detail always names the election by
// its manifest id.
func (s *Service) audit(ctx context.Context, tx *store.Tx, action string, actor int64, e *Election, digest string, detail map[string]string) error {
	return s.auditAt(ctx, tx, time.Time{}, action, actor, e, digest, detail)
}

// auditAt is audit with the entry stamped at (zero: when appended).
func (s *Service) auditAt(ctx context.Context, tx *store.Tx, at time.Time, action string, actor int64, e *Election, digest string, detail map[string]string) error {
	d := map[string]string{"election": e.ManifestID}
	for k, v := range detail {
		d[k] = v
	}
	return s.p.AuditAt(ctx, tx, at, action, actor, digest, d)
}

// ContestInput is a contest as an officer writes it: its options'
// titles in order; ids are given by position.
type ContestInput struct {
	Title   string      `json:"title"`
	Kind    voting.Kind `json:"kind"`
	Min     int         `json:"min"`
	Max     int         `json:"max"`
	Options []string    `json:"options"`
}

// Input is what an officer enters to create or change a draft.
type Input struct {
	Title     string         `json:"title"`
	Opens     time.Time      `json:"opens"`
	Closes    time.Time      `json:"closes"`
	Contests  []ContestInput `json:"contests"`
	Trustees  []int64        `json:"trustees"` // accounts holding the trustee role, in ceremony order
	Threshold int            `json:"threshold"`
}

// manifest validates in and builds the manifest with id; the errors name
// the input's fields.
func (s *Service) manifest(ctx context.Context, q queryer, id string, in *Input) (*voting.Manifest, error) {
	var e validate.Errors
	in.Title = strings.TrimSpace(in.Title)
	validate.Text(&e, "title", in.Title, true, MaxTitle)
	switch {
	case in.Opens.IsZero():
		e.Add("opens", "required", nil)
	case in.Closes.IsZero():
		e.Add("closes", "required", nil)
	case !in.Closes.Truncate(time.Second).After(in.Opens.Truncate(time.Second)):
		e.Add("closes", "ends_before_start", nil)
	}
	switch {
	case len(in.Contests) == 0:
		e.Add("contests", "required", nil)
	case len(in.Contests) > voting.MaxContests:
		e.Add("contests", "too_many", map[string]any{"max": voting.MaxContests})
	}
	m := &voting.Manifest{ID: id, Title: in.Title, Opens: in.Opens.UTC().Truncate(time.Second), Closes: in.Closes.UTC().Truncate(time.Second)}
	for i := range in.Contests {
		c := &in.Contests[i]
		f := fmt.Sprintf("contests.%d", i)
		c.Title = strings.TrimSpace(c.Title)
		validate.Text(&e, f+".title", c.Title, true, MaxTitle)
		var options []voting.Option
		for j, o := range c.Options {
			o = strings.TrimSpace(o)
			if o == "" {
				continue
			}
			if validate.Text(&e, f+".options", o, true, MaxTitle) {
				options = append(options, voting.Option{ID: "o" + strconv.Itoa(j+1), Title: o})
			}
		}
		// Ids follow the kept options' positions, so blank lines do not
		// leave gaps.
		for j := range options {
			options[j].ID = "o" + strconv.Itoa(j+1)
		}
		ct := voting.Contest{ID: "c" + strconv.Itoa(i+1), Title: c.Title, Kind: c.Kind, Min: c.Min, Max: c.Max, Options: options}
		switch c.Kind {
		case voting.ChooseOne, voting.YesNo:
			ct.Max = 1
			if ct.Min > 1 || ct.Min < 0 {
				e.Add(f+".min", "out_of_range", map[string]any{"min": 0, "max": 1})
			}
		case voting.ChooseUpTo:
			// With fewer than two answers the answers are what is wrong,
			// said below; "between 1 and 1" would only confuse.
			if len(options) >= 2 && (ct.Max < 1 || ct.Max > len(options)) {
				e.Add(f+".max", "out_of_range", map[string]any{"min": 1, "max": len(options)})
			}
			if ct.Min < 0 || ct.Min > ct.Max {
				e.Add(f+".min", "out_of_range", map[string]any{"min": 0, "max": max(ct.Max, 0)})
			}
		default:
			e.Add(f+".kind", "invalid", nil)
		}
		switch {
		case c.Kind == voting.YesNo && len(options) != 2:
			e.Add(f+".options", "election_options_exactly", map[string]any{"n": 2})
		case len(options) < 2:
			// Even "choose up to" needs two: one answer is no choice.
			e.Add(f+".options", "election_too_few_options", map[string]any{"min": 2})
		case len(options) > voting.MaxOptions:
			e.Add(f+".options", "too_many", map[string]any{"max": voting.MaxOptions})
		}
		m.Contests = append(m.Contests, ct)
	}
	s.checkTrustees(ctx, q, &e, in)
	if err := e.Err(); err != nil {
		return nil, err
	}
	if err := m.Validate(); err != nil {
		// What the checks above let through (totals over the election).
		var fe *voting.FieldError
		if errors.As(err, &fe) {
			return nil, validate.One("contests", "election_manifest", map[string]any{"problem": fe.Field + ": " + fe.Problem})
		}
		return nil, err
	}
	return m, nil
}

// checkTrustees checks the trustees and the threshold: distinct accounts,
// each holding the trustee role.
func (s *Service) checkTrustees(ctx context.Context, q queryer, e *validate.Errors, in *Input) {
	n := len(in.Trustees)
	switch {
	case n == 0:
		e.Add("trustees", "required", nil)
		return
	case n > MaxTrustees:
		e.Add("trustees", "too_many", map[string]any{"max": MaxTrustees})
		return
	}
	seen := map[int64]bool{}
	for _, a := range in.Trustees {
		if seen[a] {
			e.Add("trustees", "election_duplicate_trustee", map[string]any{"account": a})
			return
		}
		seen[a] = true
		var one int
		err := q.QueryRow(ctx, "SELECT 1 FROM account_roles WHERE account_id = ? AND role = ?", a, string(identity.RoleTrustee)).Scan(&one)
		if errors.Is(err, store.ErrNotFound) {
			e.Add("trustees", "election_not_trustee", map[string]any{"account": a})
			return
		}
		if err != nil {
			e.Add("trustees", "invalid", nil)
			return
		}
	}
	if in.Threshold < 1 || in.Threshold > n {
		e.Add("trustees.threshold", "out_of_range", map[string]any{"min": 1, "max": n})
	}
}

// newManifestID names a new election: its number and a random suffix, so
// that two instances (or a restored backup) never issue ballots and
// credentials for the same id.
func newManifestID(n int64) string {
	var b [4]byte
	rand.Read(b[:])
	return fmt.Sprintf("election-%d-%s", n, hex.EncodeToString(b[:]))
}

// Create creates a draft election in process.
func (s *Service) Create(ctx context.Context, officer, process int64, in Input) (*Election, error) {
	now := s.Now()
	var id int64
	err := s.db().InTx(ctx, func(tx *store.Tx) error {
		var one int
		if err := tx.QueryRow(ctx, "SELECT 1 FROM processes WHERE id = ?", process).Scan(&one); errors.Is(err, store.ErrNotFound) {
			return participation.ErrNotFound
		} else if err != nil {
			return err
		}
		// Validate first with a placeholder id: the real one needs the row's number.
		if _, err := s.manifest(ctx, tx, "pending", &in); err != nil {
			return err
		}
		var logSize int64
		if err := tx.QueryRow(ctx, "SELECT size FROM auditlog_checkpoint WHERE id = 1").Scan(&logSize); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO elections (process_id, manifest_id, title, manifest, state, trustees, threshold, log_start, log_scanned, created_by, created_at)
			VALUES (?, ?, ?, '', ?, ?, ?, ?, ?, ?, ?) RETURNING id`, process, "pending-"+rand.Text(), in.Title, Draft, len(in.Trustees), in.Threshold,
			logSize, logSize, officer, store.Micros(now)).Scan(&id); err != nil {
			return err
		}
		e := &Election{ID: id, ManifestID: newManifestID(id)}
		if err := s.writeDraft(ctx, tx, e, &in); err != nil {
			return err
		}
		return s.audit(ctx, tx, "election.created", officer, e, "", map[string]string{"process": participation.ID(process), "number": participation.ID(id)})
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, id)
}

// writeDraft stores a draft's manifest and trustees.
func (s *Service) writeDraft(ctx context.Context, tx *store.Tx, e *Election, in *Input) error {
	m, err := s.manifest(ctx, tx, e.ManifestID, in)
	if err != nil {
		return err
	}
	mj, err := m.MarshalJSON()
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "UPDATE elections SET manifest_id = ?, title = ?, manifest = ?, trustees = ?, threshold = ? WHERE id = ?",
		e.ManifestID, m.Title, string(mj), len(in.Trustees), in.Threshold, e.ID); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "DELETE FROM election_trustees WHERE election_id = ?", e.ID); err != nil {
		return err
	}
	for i, a := range in.Trustees {
		if _, err := tx.Exec(ctx, "INSERT INTO election_trustees (election_id, position, account_id) VALUES (?, ?, ?)", e.ID, i+1, a); err != nil {
			return err
		}
	}
	return nil
}

// Update replaces a draft's manifest, trustees and threshold.
func (s *Service) Update(ctx context.Context, officer, id int64, in Input) (*Election, error) {
	err := s.db().InTx(ctx, func(tx *store.Tx) error {
		e, err := s.lockIn(ctx, tx, id, Draft)
		if err != nil {
			return err
		}
		if err := s.writeDraft(ctx, tx, e, &in); err != nil {
			return err
		}
		return s.audit(ctx, tx, "election.updated", officer, e, "", nil)
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, id)
}

// queryer is what reads need from a database or a transaction.
type queryer interface {
	QueryRow(ctx context.Context, query string, args ...any) *store.Row
	Query(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

const electionColumns = `id, process_id, manifest_id, title, manifest, state, threshold, ceremony, joint_key, credentials, credentials_digest,
	log_start, log_scanned, tally, result, created_at, ceremony_at, key_fixed_at, credentials_at, opened_at, closed_at, tallied_at, published_at`

func (s *Service) scan(scan func(...any) error) (*Election, error) {
	e := &Election{}
	var manifest, ceremony, key, tally, result string
	var created int64
	var times [7]sql.NullInt64
	if err := scan(&e.ID, &e.ProcessID, &e.ManifestID, &e.Title, &manifest, &e.stored, &e.Threshold, &ceremony, &key, &e.Credentials,
		&e.CredentialsDigest, &e.logStart, &e.logScanned, &tally, &result, &created,
		&times[0], &times[1], &times[2], &times[3], &times[4], &times[5], &times[6]); err != nil {
		return nil, err
	}
	p, err := parseStored(manifest, key)
	var ke *keyError
	if errors.As(err, &ke) {
		return nil, fmt.Errorf("election %d: stored joint key: %w", e.ID, err)
	} else if err != nil {
		return nil, fmt.Errorf("election %d: stored manifest: %w", e.ID, err)
	}
	e.Manifest, e.ManifestJSON, e.JointKey, e.voting = p.manifest, []byte(manifest), p.key, p.election
	e.CeremonyJSON, e.TallyJSON, e.ResultJSON = []byte(ceremony), []byte(tally), []byte(result)
	e.CreatedAt = store.FromMicros(created)
	for i, p := range []**time.Time{&e.CeremonyAt, &e.KeyFixedAt, &e.CredentialsAt, &e.OpenedAt, &e.ClosedAt, &e.TalliedAt, &e.PublishedAt} {
		if times[i].Valid {
			t := store.FromMicros(times[i].Int64)
			*p = &t
		}
	}
	e.State = e.stateAt(s.Now())
	return e, nil
}

// stateAt is the state at now: an opened election is scheduled before
// its voting period and closed after it.
func (e *Election) stateAt(now time.Time) string {
	if e.stored != Open {
		return e.stored
	}
	switch {
	case !now.Before(e.Closes()):
		return Closed
	case now.Before(e.Manifest.Opens):
		return Scheduled
	}
	return Open
}

func (s *Service) get(ctx context.Context, q queryer, id int64) (*Election, error) {
	e, err := s.scan(q.QueryRow(ctx, "SELECT "+electionColumns+" FROM elections WHERE id = ?", id).Scan)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, "SELECT position, account_id FROM election_trustees WHERE election_id = ? ORDER BY position", id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var t Trustee
		var account sql.NullInt64
		if err := rows.Scan(&t.Index, &account); err != nil {
			return nil, err
		}
		t.Account = account.Int64
		e.Trustees = append(e.Trustees, t)
	}
	return e, rows.Err()
}

// lock reads the election in tx after taking its row's write lock, so
// that steps which decide on what others posted (the last ceremony
// result, the t-th decryption) see every earlier one.
func (s *Service) lock(ctx context.Context, tx *store.Tx, id int64) (*Election, error) {
	res, err := tx.Exec(ctx, "UPDATE elections SET state = state WHERE id = ?", id)
	if err != nil {
		return nil, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, ErrNotFound
	}
	return s.get(ctx, tx, id)
}

// lockIn locks the election, as lock does, and refuses it unless its
// stored state is want: the first step of every state change.
func (s *Service) lockIn(ctx context.Context, tx *store.Tx, id int64, want string) (*Election, error) {
	e, err := s.lock(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if e.stored != want {
		return nil, &StateError{State: e.State, Want: []string{want}}
	}
	return e, nil
}

// Get returns an election.
func (s *Service) Get(ctx context.Context, id int64) (*Election, error) {
	return s.get(ctx, s.db(), id)
}

// Summary is an election in a list.
type Summary struct {
	ID        int64     `json:"id"`
	ProcessID int64     `json:"process_id"`
	Title     string    `json:"title"`
	State     string    `json:"state"`
	Opens     time.Time `json:"opens_at"`
	Closes    time.Time `json:"closes_at"`
}

// List lists elections, newest first: of one process, or all when
// process is 0.
func (s *Service) List(ctx context.Context, process int64) ([]Summary, error) {
	q := "SELECT " + electionColumns + " FROM elections"
	var args []any
	if process != 0 {
		q += " WHERE process_id = ?"
		args = append(args, process)
	}
	return s.summaries(ctx, q+" ORDER BY id DESC", args...)
}

// ForTrustee lists the elections account is a trustee of, newest first.
func (s *Service) ForTrustee(ctx context.Context, account int64) ([]Summary, error) {
	return s.summaries(ctx, "SELECT "+electionColumns+` FROM elections WHERE id IN
		(SELECT election_id FROM election_trustees WHERE account_id = ?) ORDER BY id DESC`, account)
}

func (s *Service) summaries(ctx context.Context, q string, args ...any) ([]Summary, error) {
	rows, err := s.db().Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Summary
	for rows.Next() {
		e, err := s.scan(rows.Scan)
		if err != nil {
			return nil, err
		}
		out = append(out, Summary{ID: e.ID, ProcessID: e.ProcessID, Title: e.Title, State: e.State, Opens: e.Opens(), Closes: e.Closes()})
	}
	return out, rows.Err()
}

// TrusteeAccounts lists, by number, the accounts holding the trustee
// role, for the officer choosing trustees. It names no one: the officer
// asks each trustee for their account number (on their account page) and
// matches it here. Whether each has two-step sign-in is not shown: the
// data map (privacy.Fields) lets only administrators read that.
func (s *Service) TrusteeAccounts(ctx context.Context) ([]int64, error) {
	return store.IDs(s.db().Query(ctx, "SELECT account_id FROM account_roles WHERE role = ? ORDER BY account_id", string(identity.RoleTrustee)))
}

// Input returns what an officer entered for the draft, to edit it again.
func (e *Election) Input() Input {
	in := Input{Title: e.Manifest.Title, Opens: e.Manifest.Opens, Closes: e.Manifest.Closes, Threshold: e.Threshold}
	for _, c := range e.Manifest.Contests {
		ci := ContestInput{Title: c.Title, Kind: c.Kind, Min: c.Min, Max: c.Max}
		for _, o := range c.Options {
			ci.Options = append(ci.Options, o.Title)
		}
		in.Contests = append(in.Contests, ci)
	}
	for _, t := range e.Trustees {
		in.Trustees = append(in.Trustees, t.Account)
	}
	return in
}

// StartCeremony ends the draft: the manifest is fixed and ceremony.json
// written, for the trustees to begin.
func (s *Service) StartCeremony(ctx context.Context, officer, id int64) (*Election, error) {
	now := s.Now()
	err := s.db().InTx(ctx, func(tx *store.Tx) error {
		e, err := s.lockIn(ctx, tx, id, Draft)
		if err != nil {
			return err
		}
		if slices.ContainsFunc(e.Trustees, func(t Trustee) bool { return t.Account == 0 }) {
			return validate.One("trustees", "election_trustee_erased", nil)
		}
		cer := dkg.Ceremony{ElectionID: e.ManifestID, ManifestDigest: e.Manifest.Digest(), Trustees: uint32(len(e.Trustees)), Threshold: uint32(e.Threshold)}
		if err := cer.Validate(); err != nil {
			return err
		}
		b, err := json.Marshal(cer)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE elections SET state = ?, ceremony = ?, ceremony_at = ? WHERE id = ?", Ceremony, string(b), store.Micros(now), id); err != nil {
			return err
		}
		d := e.Manifest.Digest()
		return s.audit(ctx, tx, "election.ceremony_started", officer, e, digestOf(b), map[string]string{
			"manifest": hex.EncodeToString(d[:]), "trustees": strconv.Itoa(len(e.Trustees)), "threshold": strconv.Itoa(e.Threshold)})
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, id)
}

// CancelCeremony abandons a key ceremony that cannot finish — a trustee
// who never sends, one who lost their passphrase half-way, a record that
// does not verify — and makes the election a draft again, so that the
// officer can change the trustees and start a new ceremony. The relayed
// messages are deleted (the audit log keeps an entry for each) and the
// election gets a new id: the abandoned ceremony's messages and the
// trustees' secrets for it name the old id, so none of them can slip
// into the new one. Once the key is fixed there is nothing to cancel.
func (s *Service) CancelCeremony(ctx context.Context, officer, id int64) (*Election, error) {
	err := s.db().InTx(ctx, func(tx *store.Tx) error {
		e, err := s.lockIn(ctx, tx, id, Ceremony)
		if err != nil {
			return err
		}
		res, err := tx.Exec(ctx, "DELETE FROM election_messages WHERE election_id = ?", id)
		if err != nil {
			return err
		}
		discarded, _ := res.RowsAffected()
		previous := e.ManifestID
		m := *e.Manifest // shared with the parse cache: copy before changing
		m.ID = newManifestID(e.ID)
		mj, err := m.MarshalJSON()
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE elections SET state = ?, manifest_id = ?, manifest = ?, ceremony = '', ceremony_at = NULL WHERE id = ?",
			Draft, m.ID, string(mj), id); err != nil {
			return err
		}
		e.ManifestID = m.ID
		return s.audit(ctx, tx, "election.ceremony_cancelled", officer, e, "", map[string]string{
			"previous": previous, "messages": strconv.FormatInt(discarded, 10)})
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, id)
}

// Open lets the election take ballots during its voting period, once the
// key is fixed and the credentials are published.
func (s *Service) Open(ctx context.Context, officer, id int64) (*Election, error) {
	now := s.Now()
	err := s.db().InTx(ctx, func(tx *store.Tx) error {
		e, err := s.lockIn(ctx, tx, id, Ready)
		if err != nil {
			return err
		}
		if !now.Before(e.Manifest.Closes) {
			return &PeriodError{Opens: e.Manifest.Opens, Closes: e.Manifest.Closes, State: Closed}
		}
		if _, err := tx.Exec(ctx, "UPDATE elections SET state = ?, opened_at = ? WHERE id = ?", Open, store.Micros(now), id); err != nil {
			return err
		}
		return s.audit(ctx, tx, "election.opened", officer, e, "", map[string]string{
			"opens": e.Manifest.Opens.Format(time.RFC3339), "closes": e.Manifest.Closes.Format(time.RFC3339)})
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, id)
}

// Close ends voting now, before the closing time. Closing an election
// whose time has passed records that it closed then.
func (s *Service) Close(ctx context.Context, officer, id int64) (*Election, error) {
	err := s.db().InTx(ctx, func(tx *store.Tx) error {
		e, err := s.lock(ctx, tx, id)
		if err != nil {
			return err
		}
		if e.stored != Open {
			return &StateError{State: e.State, Want: []string{Scheduled, Open}}
		}
		return s.close(ctx, tx, officer, e)
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, id)
}

// close stores the end of voting: now, or the closing time if it passed.
func (s *Service) close(ctx context.Context, tx *store.Tx, officer int64, e *Election) error {
	at, by := s.Now(), "officer"
	if !at.Before(e.Manifest.Closes) {
		at, by, officer = e.Manifest.Closes, "time", 0
	}
	if _, err := tx.Exec(ctx, "UPDATE elections SET state = ?, closed_at = ? WHERE id = ?", Closed, store.Micros(at), e.ID); err != nil {
		return err
	}
	e.stored, e.ClosedAt = Closed, &at
	e.State = Closed
	return s.audit(ctx, tx, "election.closed", officer, e, "", map[string]string{"at": at.Format(time.RFC3339), "by": by})
}

// CloseDue records the close of every opened election whose closing time
// has passed, as a background job may; it returns how many it closed.
// Voting stops at the closing time whether or not this runs: it only
// writes the step into the log sooner.
func (s *Service) CloseDue(ctx context.Context) (int, error) {
	ids, err := store.IDs(s.db().Query(ctx, "SELECT id FROM elections WHERE state = ?", Open))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		err := s.db().InTx(ctx, func(tx *store.Tx) error {
			e, err := s.lock(ctx, tx, id)
			if err != nil || e.stored != Open || e.State != Closed {
				return err
			}
			n++
			return s.close(ctx, tx, 0, e)
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// digestOf is the audit-log digest of content.
func digestOf(b []byte) string { return auditlog.Digest(b) }
