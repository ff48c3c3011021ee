package privacy

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/veche/veche/internal/auditlog"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/validate"
)

// Consent states.
const (
	ConsentGiven     = "given"
	ConsentWithdrawn = "withdrawn"
)

// ErrReceiptInvalid is returned for a consent receipt that is malformed,
// altered or not signed by this instance.
var ErrReceiptInvalid = errors.New("privacy: the consent receipt is not valid: it was altered, or not issued by this instance")

// ConsentRecord is one consent given or withdrawn, with the fields of
// ISO/IEC TS 27560 (consent record information structure): who, which
// purpose, under which notice version, when, how, and the resulting state.
type ConsentRecord struct {
	ID            int64     `json:"id"`
	Account       int64     `json:"-"`
	Purpose       string    `json:"purpose"`
	State         string    `json:"state"`
	NoticeVersion int       `json:"notice_version"`
	Method        string    `json:"method"` // "web_form" or "api"
	At            time.Time `json:"at"`
}

// Consents records consent and answers whether processing for a consent
// purpose may go on. Processing code asks [Consents.Has] before each use.
type Consents struct {
	db        *store.DB
	log       *auditlog.Log
	pseudonym func(account int64) string
	key       ed25519.PrivateKey
	now       func() time.Time
}

// NewConsents returns the consent service. key signs receipts; pseudonym
// names people in the audit log and in receipts.
func NewConsents(db *store.DB, log *auditlog.Log, pseudonym func(int64) string, key ed25519.PrivateKey) *Consents {
	return &Consents{db: db, log: log, pseudonym: pseudonym, key: key, now: time.Now}
}

// SetClock replaces the clock, for tests.
func (c *Consents) SetClock(now func() time.Time) { c.now = now }

// Set gives (give true) or withdraws consent for purpose: one click either
// way, as GDPR Art. 7(3) asks. Each change is a new record and an audit
// entry; the history is kept as proof.
func (c *Consents) Set(ctx context.Context, account int64, purpose string, give bool, method string) (*ConsentRecord, error) {
	p, ok := PurposeByID(purpose)
	if !ok || !p.NeedsConsent() {
		return nil, validate.One("purpose", "unknown_purpose", nil)
	}
	rec := &ConsentRecord{Account: account, Purpose: purpose, State: ConsentWithdrawn, NoticeVersion: CurrentNotice().Version,
		Method: method, At: c.now().UTC().Truncate(time.Microsecond)}
	if give {
		rec.State = ConsentGiven
	}
	err := c.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO consents (account_id, purpose, state, notice_version, method, at)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, account, purpose, rec.State, rec.NoticeVersion, method, store.Micros(rec.At)).Scan(&rec.ID); err != nil {
			return err
		}
		return c.log.Append(ctx, tx, auditlog.Entry{Action: "consent." + rec.State, Actor: c.pseudonym(account), Subject: c.pseudonym(account),
			Detail: map[string]string{"purpose": purpose, "notice": strconv.Itoa(rec.NoticeVersion)}})
	})
	if err != nil {
		return nil, err
	}
	return rec, nil
}

// Current returns the latest record per consent purpose of account.
func (c *Consents) Current(ctx context.Context, account int64) (map[string]ConsentRecord, error) {
	hist, err := c.History(ctx, account)
	if err != nil {
		return nil, err
	}
	out := map[string]ConsentRecord{}
	for _, r := range hist { // oldest first: later records win
		out[r.Purpose] = r
	}
	return out, nil
}

// History lists every consent record of account, oldest first.
func (c *Consents) History(ctx context.Context, account int64) ([]ConsentRecord, error) {
	rows, err := c.db.Query(ctx, `SELECT id, purpose, state, notice_version, method, at FROM consents WHERE account_id = ? ORDER BY id`, account)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ConsentRecord
	for rows.Next() {
		r := ConsentRecord{Account: account}
		var at int64
		if err := rows.Scan(&r.ID, &r.Purpose, &r.State, &r.NoticeVersion, &r.Method, &at); err != nil {
			return nil, err
		}
		r.At = store.FromMicros(at)
		out = append(out, r)
	}
	return out, rows.Err()
}

// Has reports whether processing for purpose may use account's data now:
// the latest record gives consent, and it was given under a notice no
// older than the last material change (a material change asks again),
// and the purpose is not restricted for the person (see [Restrictions]).
// A purpose the registry does not declare is an error.
func (c *Consents) Has(ctx context.Context, account int64, purpose string) (bool, error) {
	if stop, err := restricted(ctx, c.db, account, purpose); err != nil || stop {
		return false, err
	}
	cur, err := c.Current(ctx, account)
	if err != nil {
		return false, err
	}
	r, ok := cur[purpose]
	return ok && r.State == ConsentGiven && !NeedsRenewal(r), nil
}

// NeedsRenewal reports whether a given consent predates a material change
// of the notice, so the person must be asked again.
func NeedsRenewal(r ConsentRecord) bool {
	if r.State != ConsentGiven {
		return false
	}
	for _, v := range NoticeVersions {
		if v.Material && v.Version > r.NoticeVersion {
			return true
		}
	}
	return false
}

// Receipt is a signed consent receipt, after the fields of ISO/IEC TS
// 27560: a person can keep it and show it later. The signature is Ed25519
// over the canonical JSON of the receipt with Signature empty.
type Receipt struct {
	Version       string     `json:"receipt_version"`
	ID            string     `json:"receipt_id"`
	Controller    Controller `json:"controller"`
	Subject       string     `json:"subject"` // the person's pseudonym
	Purpose       string     `json:"purpose"`
	LawfulBasis   Basis      `json:"lawful_basis"`
	NoticeVersion int        `json:"notice_version"`
	ConsentType   string     `json:"consent_type"`
	Method        string     `json:"collection_method"`
	State         string     `json:"state"`
	Timestamp     time.Time  `json:"timestamp"`
	Algorithm     string     `json:"signature_algorithm"`
	Signature     string     `json:"signature,omitempty"`
}

// Receipt issues the signed receipt of a record.
func (c *Consents) Receipt(r ConsentRecord, controller Controller) ([]byte, error) {
	p, _ := PurposeByID(r.Purpose)
	rc := Receipt{Version: "veche-consent-receipt-1", ID: strconv.FormatInt(r.ID, 10), Controller: controller,
		Subject: c.pseudonym(r.Account), Purpose: r.Purpose, LawfulBasis: p.Basis, NoticeVersion: r.NoticeVersion,
		ConsentType: "explicit", Method: r.Method, State: r.State, Timestamp: r.At, Algorithm: "Ed25519"}
	body, err := json.Marshal(rc)
	if err != nil {
		return nil, err
	}
	rc.Signature = base64.RawURLEncoding.EncodeToString(ed25519.Sign(c.key, body))
	return json.MarshalIndent(rc, "", "  ")
}

// VerifyReceipt checks a receipt's signature and that it matches the
// record it names; a forged or altered receipt is [ErrReceiptInvalid].
func (c *Consents) VerifyReceipt(ctx context.Context, b []byte) (*Receipt, error) {
	var rc Receipt
	if err := json.Unmarshal(b, &rc); err != nil {
		return nil, fmt.Errorf("%w (%v)", ErrReceiptInvalid, err)
	}
	sig, err := base64.RawURLEncoding.DecodeString(rc.Signature)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return nil, ErrReceiptInvalid
	}
	unsigned := rc
	unsigned.Signature = ""
	body, _ := json.Marshal(unsigned)
	if !ed25519.Verify(c.key.Public().(ed25519.PublicKey), body, sig) {
		return nil, ErrReceiptInvalid
	}
	return &rc, nil
}

// PublicKey is the key receipts verify against.
func (c *Consents) PublicKey() ed25519.PublicKey { return c.key.Public().(ed25519.PublicKey) }
