package election

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"

	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/validate"
	"github.com/veche/veche/internal/voting"
)

// MaxCredentialsPerUpload bounds one upload of public credentials (about
// 54 KB of JSON, under the server's 64 KiB request limit); a larger list
// is sent in several uploads, in order.
const MaxCredentialsPerUpload = 800

// CredentialList is the public-credentials.json that `veche credentials
// generate` writes and the credential authority uploads (in parts of at
// most MaxCredentialsPerUpload when the list is longer).
type CredentialList struct {
	Election    string   `json:"election"`
	Credentials []string `json:"credentials"`
}

// CredentialsDigest is the digest by which the credential authority and
// the server agree on the whole list: the lowercase hex SHA-256 of the
// public credentials, in order, each followed by a newline.
func CredentialsDigest(creds []string) string {
	h := sha256.New()
	for _, c := range creds {
		h.Write([]byte(c))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// AddCredentials appends public credentials to the election's list, as
// the credential authority uploads them once the key is fixed. Each must
// be a valid public credential not already in the list; it returns the
// number now in the list. Nothing is published until
// [Service.PublishCredentials].
func (s *Service) AddCredentials(ctx context.Context, authority, id int64, list CredentialList) (int, error) {
	if len(list.Credentials) == 0 {
		return 0, refuse("credentials_invalid", "the list holds no credential")
	}
	if len(list.Credentials) > MaxCredentialsPerUpload {
		return 0, refuse("credentials_too_many", "%d credentials in one upload; send at most %d at a time, in order", len(list.Credentials), MaxCredentialsPerUpload)
	}
	var total int
	err := s.db().InTx(ctx, func(tx *store.Tx) error {
		e, err := s.lockIn(ctx, tx, id, Credentials)
		if err != nil {
			return err
		}
		if list.Election != "" && list.Election != e.ManifestID {
			return refuse("credentials_wrong_election", "the list is for election %q, this is %q", list.Election, e.ManifestID)
		}
		switch i, err := firstBadCredential(list.Credentials); {
		case errors.Is(err, errCredentialRepeated):
			return refuse("credentials_duplicate", "credential %d (%.12s…) appears twice in the upload", i+1, list.Credentials[i])
		case err != nil:
			return refuse("credentials_invalid", "credential %d (%.12s…): %v", i+1, list.Credentials[i], err)
		}
		for i, c := range list.Credentials {
			_, err := tx.Exec(ctx, "INSERT INTO election_credentials (election_id, position, credential) VALUES (?, ?, ?)", id, e.Credentials+i+1, c)
			if err != nil {
				if errIsConflict(err) {
					return refuse("credentials_duplicate", "credential %d (%.12s…) is already in the list", i+1, c)
				}
				return err
			}
		}
		total = e.Credentials + len(list.Credentials)
		if _, err := tx.Exec(ctx, "UPDATE elections SET credentials = ? WHERE id = ?", total, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, "election.credentials_added", authority, e, "sha256:"+CredentialsDigest(list.Credentials),
			map[string]string{"count": strconv.Itoa(len(list.Credentials)), "total": strconv.Itoa(total)})
	})
	return total, err
}

// PublishCredentials ends the upload: the authority states how many
// credentials it generated and the digest of the whole list, the server
// checks both against what it received, and the list is published. The
// officer can then open the election.
func (s *Service) PublishCredentials(ctx context.Context, authority, id int64, count int, digest string) (*Election, error) {
	now := s.Now()
	err := s.db().InTx(ctx, func(tx *store.Tx) error {
		e, err := s.lockIn(ctx, tx, id, Credentials)
		if err != nil {
			return err
		}
		creds, err := s.credentials(ctx, tx, id)
		if err != nil {
			return err
		}
		if count != len(creds) {
			return refuse("credentials_incomplete", "the server holds %d credentials, you generated %d: upload the missing parts", len(creds), count)
		}
		got := CredentialsDigest(creds)
		if digest != got {
			return refuse("credentials_mismatch", "the list the server holds has digest %s, yours %s: the parts were sent in another order or one was changed", got, digest)
		}
		if _, err := tx.Exec(ctx, "UPDATE elections SET state = ?, credentials_digest = ?, credentials_at = ? WHERE id = ?", Ready, got, store.Micros(now), id); err != nil {
			return err
		}
		return s.audit(ctx, tx, "election.credentials_published", authority, e, "sha256:"+got, map[string]string{"count": strconv.Itoa(count)})
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, id)
}

// MaxCredentialsPerFile bounds the credentials the authority may upload
// as one public-credentials.json (ReplaceCredentials): the page's upload
// limit. Larger lists go through the API in parts.
const MaxCredentialsPerFile = 500_000

// ReplaceCredentials is the credential authority's one-step upload: the
// whole public-credentials.json with the count and digest `veche
// credentials generate` printed. In one transaction it checks the list,
// the count and the digest, replaces whatever was uploaded before and not
// published, and publishes the list. Anything wrong is a validate error
// on the field at fault ("credentials", "count" or "digest") and changes
// nothing.
func (s *Service) ReplaceCredentials(ctx context.Context, authority, id int64, list CredentialList, count int, digest string) (*Election, error) {
	now := s.Now()
	err := s.db().InTx(ctx, func(tx *store.Tx) error {
		e, err := s.lockIn(ctx, tx, id, Credentials)
		if err != nil {
			return err
		}
		var v validate.Errors
		switch {
		case len(list.Credentials) == 0:
			v.Add("credentials", "credentials_file_empty", nil)
		case len(list.Credentials) > MaxCredentialsPerFile:
			v.Add("credentials", "too_many", map[string]any{"max": MaxCredentialsPerFile})
		case list.Election != e.ManifestID:
			v.Add("credentials", "credentials_file_other_election", map[string]any{"election": list.Election, "want": e.ManifestID})
		default:
			switch i, err := firstBadCredential(list.Credentials); {
			case errors.Is(err, errCredentialRepeated):
				v.Add("credentials", "credentials_file_duplicate", map[string]any{"n": i + 1})
			case err != nil:
				v.Add("credentials", "credentials_file_invalid", map[string]any{"n": i + 1})
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		if count != len(list.Credentials) {
			v.Add("count", "credentials_count_mismatch", map[string]any{"n": len(list.Credentials)})
		}
		got := CredentialsDigest(list.Credentials)
		if digest != got {
			v.Add("digest", "credentials_digest_mismatch", nil)
		}
		if err := v.Err(); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM election_credentials WHERE election_id = ?", id); err != nil {
			return err
		}
		// Many rows a statement: a list of 500,000 is then 2,500 round
		// trips to PostgreSQL rather than half a million.
		const rowsPerInsert = 200
		for from := 0; from < len(list.Credentials); from += rowsPerInsert {
			part := list.Credentials[from:min(from+rowsPerInsert, len(list.Credentials))]
			q := "INSERT INTO election_credentials (election_id, position, credential) VALUES " + strings.Repeat("(?, ?, ?), ", len(part)-1) + "(?, ?, ?)"
			args := make([]any, 0, 3*len(part))
			for i, c := range part {
				args = append(args, id, from+i+1, c)
			}
			if _, err := tx.Exec(ctx, q, args...); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, "UPDATE elections SET credentials = ?, state = ?, credentials_digest = ?, credentials_at = ? WHERE id = ?",
			len(list.Credentials), Ready, got, store.Micros(now), id); err != nil {
			return err
		}
		if e.Credentials > 0 {
			if err := s.audit(ctx, tx, "election.credentials_discarded", authority, e, "", map[string]string{"count": strconv.Itoa(e.Credentials)}); err != nil {
				return err
			}
		}
		if err := s.audit(ctx, tx, "election.credentials_added", authority, e, "sha256:"+got,
			map[string]string{"count": strconv.Itoa(count), "total": strconv.Itoa(count)}); err != nil {
			return err
		}
		return s.audit(ctx, tx, "election.credentials_published", authority, e, "sha256:"+got, map[string]string{"count": strconv.Itoa(count)})
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, id)
}

// DiscardCredentials deletes the credentials uploaded and not yet
// published, so that an authority whose parts went wrong (a part sent
// twice, the wrong file) can upload the list again. It returns how many
// were discarded.
func (s *Service) DiscardCredentials(ctx context.Context, authority, id int64) (int, error) {
	var n int
	err := s.db().InTx(ctx, func(tx *store.Tx) error {
		e, err := s.lockIn(ctx, tx, id, Credentials)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM election_credentials WHERE election_id = ?", id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE elections SET credentials = 0 WHERE id = ?", id); err != nil {
			return err
		}
		n = e.Credentials
		return s.audit(ctx, tx, "election.credentials_discarded", authority, e, "", map[string]string{"count": strconv.Itoa(n)})
	})
	return n, err
}

// errCredentialRepeated is firstBadCredential's answer for a credential
// that repeats one before it.
var errCredentialRepeated = errors.New("election: a credential appears twice")

// firstBadCredential finds the first credential of a list that is not a
// valid public credential (the parse error) or repeats one before it
// (errCredentialRepeated), and its position; nil when all are good.
func firstBadCredential(creds []string) (int, error) {
	seen := make(map[string]bool, len(creds))
	for i, c := range creds {
		var pc voting.PublicCredential
		if err := pc.UnmarshalText([]byte(c)); err != nil {
			return i, err
		}
		if seen[c] {
			return i, errCredentialRepeated
		}
		seen[c] = true
	}
	return 0, nil
}

// credentials returns the public credentials in upload order.
func (s *Service) credentials(ctx context.Context, q queryer, id int64) ([]string, error) {
	rows, err := q.Query(ctx, "SELECT credential FROM election_credentials WHERE election_id = ? ORDER BY position", id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// PublicCredentials returns the published list (empty before publication).
func (s *Service) PublicCredentials(ctx context.Context, id int64) ([]string, error) {
	e, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if e.CredentialsDigest == "" {
		return []string{}, nil
	}
	return s.credentials(ctx, s.db(), id)
}
