package record

import (
	"encoding/hex"
	"errors"
	"iter"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/veche/veche/internal/voting"
	"github.com/veche/veche/internal/voting/dkg"
)

// The files and directories of a record.
const (
	ElectionFile    = "election.json"
	ManifestFile    = "manifest.json"
	CeremonyDir     = "ceremony"
	CredentialsFile = "credentials.txt"
	BallotsFile     = "ballots.jsonl"
	CountedFile     = "counted.json"
	TallyFile       = "tally.json"
	DecryptionsDir  = "decryptions"
	ResultFile      = "result.json"
	LogKeyFile      = "log/key"
	CheckpointFile  = "log/checkpoint"
	EntriesFile     = "log/entries.jsonl"
	RangeFile       = "log/range.json"
)

// The audit-log entry of a cast: action CastAction, no actor or subject
// (the ballot box is anonymous; the credential is in the ballot), and
// detail CastDetail. The server appends it in the transaction that
// accepts the ballot.
const (
	CastAction         = "election.ballot_cast"
	DetailElection     = "election"      // the election id
	DetailBallot       = "ballot"        // lowercase hex of voting.Ballot.Hash()
	DetailTrackingCode = "tracking_code" // voting.Ballot.TrackingCode()
)

// CastDetail is the detail of the audit-log entry of the cast of b in
// election electionID.
func CastDetail(electionID string, b *voting.Ballot) map[string]string {
	h := b.Hash()
	return map[string]string{
		DetailElection:     electionID,
		DetailBallot:       hex.EncodeToString(h[:]),
		DetailTrackingCode: voting.TrackingCode(h),
	}
}

// Record is the published record of one election. The small parts are
// values; the ballot box, the credentials and the log entries are
// streams, which [Read] re-reads from the record each time they are
// iterated and which a writer may produce as it goes.
type Record struct {
	Manifest *voting.Manifest
	JointKey *voting.JointKey
	Ceremony *dkg.Record

	// Credentials are the public credentials the credential authority
	// published, in its order.
	Credentials iter.Seq2[*voting.PublicCredential, error]

	// Ballots is the ballot box: every accepted ballot, in order of
	// casting, which is the order of their audit-log entries.
	Ballots iter.Seq2[*Cast, error]

	// Counted are the positions in Ballots (0-based, increasing) of the
	// ballots that count. Left nil, WriteDir and WriteZip compute it: the
	// last ballot of each credential.
	Counted []int64

	Tally       *voting.EncryptedTally
	Decryptions []*voting.PartialDecryption
	Result      *voting.Result

	Log LogEvidence

	// Set by Read.
	src             *source
	header          *electionHeader
	decryptionFiles []string // the file of each of Decryptions
}

// Cast is one ballot of the ballot box.
type Cast struct {
	Ballot *voting.Ballot
	// LogIndex is the index of the ballot's CastAction entry in the audit log.
	LogIndex int64
	// TrackingCode is the code the record gives for the ballot. The
	// writers write Ballot.TrackingCode() and ignore this field; Read sets
	// it from the record and Verify checks that it is the ballot's.
	TrackingCode string
}

// LogEvidence is what the record holds of the audit log: a signed
// checkpoint, every entry of the election's span [First, First+len(Entries))
// and the hashes that tie the span to the checkpoint's root.
type LogEvidence struct {
	// Key is the log's signed-note verifier key. A verifier trusts it only
	// as much as it trusts the record, unless it pins the key.
	Key string
	// Checkpoint is a signed C2SP checkpoint of a tree that contains the span.
	Checkpoint []byte
	// First is the log index of the first entry of Entries.
	First int64
	// Entries are the entries of the span, each the exact bytes of its
	// leaf, in index order.
	Entries iter.Seq2[[]byte, error]
	// Hashes are the hashes of the subtrees of the checkpoint's tree that
	// lie left and right of the span, as [RangeProof] returns them.
	Hashes []tlog.Hash
}

// Limits bound what Read accepts, since a record is untrusted. The zero
// value means the defaults.
type Limits struct {
	MaxFileSize    int64 // each small file (JSON, key, checkpoint); default 64 MiB
	MaxLine        int   // one line of a stream; default 4 MiB
	MaxBallots     int64 // lines of ballots.jsonl; default 100,000,000
	MaxCredentials int64 // lines of credentials.txt; default 100,000,000
	MaxEntries     int64 // lines of log/entries.jsonl; default 200,000,000
	MaxTrustees    int   // decryption files; default dkg.MaxTrustees
}

func (l Limits) withDefaults() Limits {
	if l.MaxFileSize <= 0 {
		l.MaxFileSize = 64 << 20
	}
	if l.MaxLine <= 0 {
		l.MaxLine = 4 << 20
	}
	if l.MaxBallots <= 0 {
		l.MaxBallots = 100_000_000
	}
	if l.MaxCredentials <= 0 {
		l.MaxCredentials = 100_000_000
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = 200_000_000
	}
	if l.MaxTrustees <= 0 {
		l.MaxTrustees = dkg.MaxTrustees
	}
	return l
}

// ErrInvalid is wrapped by every error about a record that is malformed
// or fails a check; a [*Problem] says which object.
var ErrInvalid = errors.New("election record: invalid")

// Problem is a failure of one object of the record: the file, and where
// in it (a line, a trustee, a contest), and what failed.
type Problem struct {
	Object string // e.g. "ballots.jsonl line 12 (tracking code 7KQ2M-…)"
	Err    error
}

func (p *Problem) Error() string { return p.Object + ": " + p.Err.Error() }

func (p *Problem) Unwrap() error { return p.Err }
