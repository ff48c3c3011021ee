package voting

import (
	"errors"
	"fmt"
)

// Errors callers branch on. Every error this package returns about an
// input wraps one of them (or [ErrEncoding]); [FieldError], [ProofError]
// and [DecryptionError] add which part of the input failed.
var (
	// ErrInvalidManifest: a manifest breaks a rule; the [FieldError] names the field.
	ErrInvalidManifest = errors.New("voting: invalid manifest")
	// ErrInvalidKey: a public key, credential or share that the protocol
	// cannot use, such as the identity element where a generator is required.
	ErrInvalidKey = errors.New("voting: invalid key")
	// ErrInvalidChoices: the choices given to Encrypt break a contest's rules.
	ErrInvalidChoices = errors.New("voting: invalid choices")
	// ErrCredential: a private credential string that is mistyped (a
	// character outside the alphabet, a wrong length or checksum).
	ErrCredential = errors.New("voting: not a valid credential")
	// ErrWrongElection: a ballot, tally or decryption for another election
	// (another election id or manifest digest).
	ErrWrongElection = errors.New("voting: for another election")
	// ErrShape: a ballot, tally or decryption whose contests or options do
	// not match the manifest.
	ErrShape = errors.New("voting: does not match the manifest")
	// ErrBadProof: a zero-knowledge proof that does not verify; the
	// [ProofError] names the contest and option.
	ErrBadProof = errors.New("voting: proof does not verify")
	// ErrSignature: a ballot whose signature by its credential does not verify.
	ErrSignature = errors.New("voting: ballot signature does not verify")
	// ErrAuditedBallot: an audited ballot offered where a ballot to count is
	// expected. An audited ballot reveals its randomness and is never counted.
	ErrAuditedBallot = errors.New("voting: an audited ballot is never cast")
	// ErrAudit: an audited ballot whose revealed randomness does not open
	// its ciphertexts to the choices it states.
	ErrAudit = errors.New("voting: audited ballot does not open to its choices")
	// ErrSpent: a pending ballot that was already cast or audited; each
	// encryption is either cast or audited, once.
	ErrSpent = errors.New("voting: ballot already cast or audited")
	// ErrNotEnoughTrustees: fewer valid partial decryptions than the
	// threshold; the [DecryptionError] names the trustees that failed.
	ErrNotEnoughTrustees = errors.New("voting: not enough valid partial decryptions")
	// ErrDecryption: the decryption does not yield a count between zero and
	// the number of ballots, or the verification keys do not interpolate
	// to the joint key.
	ErrDecryption = errors.New("voting: decryption failed")
)

// FieldError is an input error located at a field, such as
// "contests[2].max" in a manifest or "mayor" in choices.
type FieldError struct {
	Err     error  // ErrInvalidManifest, ErrInvalidChoices, …
	Field   string // path of the field, e.g. "contests[0].options[1].id"
	Problem string // what is wrong, for a person
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("%v: %s: %s", e.Err, e.Field, e.Problem)
}

func (e *FieldError) Unwrap() error { return e.Err }

// ProofError names the proof that failed: an option's proof that it
// encrypts 0 or 1, a contest's proof that its selections are within
// bounds (Option empty), or a trustee's proof of partial decryption.
type ProofError struct {
	Trustee uint32 // the trustee whose decryption proof failed, or 0
	Contest string
	Option  string // empty for a contest's range proof
}

func (e *ProofError) Error() string {
	var who string
	if e.Trustee != 0 {
		who = fmt.Sprintf("trustee %d, ", e.Trustee)
	}
	if e.Option == "" {
		return fmt.Sprintf("%v: %scontest %q (number of selections)", ErrBadProof, who, e.Contest)
	}
	return fmt.Sprintf("%v: %scontest %q, option %q", ErrBadProof, who, e.Contest, e.Option)
}

func (e *ProofError) Unwrap() error { return ErrBadProof }

// TrusteeFailure is a partial decryption that was excluded from a
// tally, and why.
type TrusteeFailure struct {
	Trustee uint32
	Err     error
}

// DecryptionError is returned when fewer than the threshold of partial
// decryptions are valid.
type DecryptionError struct {
	Threshold int
	Valid     []uint32         // trustees whose partial decryptions verified
	Failed    []TrusteeFailure // trustees whose partial decryptions were excluded
}

func (e *DecryptionError) Error() string {
	msg := fmt.Sprintf("%v: %d valid, %d needed", ErrNotEnoughTrustees, len(e.Valid), e.Threshold)
	for _, f := range e.Failed {
		msg += fmt.Sprintf("; trustee %d: %v", f.Trustee, f.Err)
	}
	return msg
}

func (e *DecryptionError) Unwrap() error { return ErrNotEnoughTrustees }
