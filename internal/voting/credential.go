package voting

import (
	"fmt"
	"io"
	"strings"

	"github.com/gtank/ristretto255"
)

// Credentials follow Belenios (Cortier, Gaudry and Glondu, "Belenios: a
// simple private and verifiable electronic voting system", 2019): a
// credential authority, a role outside the server, gives each eligible
// voter a private credential — a short code the voter can type — and
// publishes only the public credentials. Each ballot is signed with its
// credential and its proofs are bound to the public credential, so the
// server can neither add a ballot nor copy one voter's ballot for another
// (Cortier and Smyth, "Attacking and fixing Helios: an analysis of ballot
// secrecy", 2013).
//
// A credential code is 16 characters of the base58 alphabet: 15 random
// ones (about 88 bits) and a check character as in Belenios, written in
// four groups of four. The private key is u = H("credential", election id,
// code), the [Transcript] challenge of the election id and the 16
// characters, and the public credential is U = u·G.

// credentialAlphabet is the base58 alphabet (no 0, O, I, l).
const credentialAlphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

const (
	credentialRandomChars = 15
	credentialChars       = credentialRandomChars + 1
	credentialGroup       = 4
)

// Credential is a voter's private credential for one election. Its
// String method does not reveal the code; [Credential.Code] does.
type Credential struct {
	code     string // the 16 characters, without separators
	election string
	u        *ristretto255.Scalar
	public   *PublicCredential
}

// NewCredential draws a fresh credential for the election from rnd
// (crypto/rand when nil): each random character is a byte below 232,
// taken mod 58, other bytes being skipped. Only a credential authority
// calls it.
func NewCredential(electionID string, rnd io.Reader) (*Credential, error) {
	if rnd == nil {
		rnd = randReader
	}
	for {
		code := make([]byte, 0, credentialChars)
		var buf [32]byte
		for len(code) < credentialRandomChars {
			if _, err := io.ReadFull(rnd, buf[:]); err != nil {
				return nil, fmt.Errorf("voting: reading randomness: %w", err)
			}
			for _, b := range buf {
				if b < 232 && len(code) < credentialRandomChars {
					code = append(code, credentialAlphabet[b%58])
				}
			}
		}
		code = append(code, credentialAlphabet[credentialCheck(string(code))])
		c, err := credentialFromCode(electionID, string(code))
		if err == nil {
			return c, nil
		}
		// u = 0, with probability 2⁻²⁵²: draw again.
	}
}

// credentialCheck is the check digit of 15 base58 characters, in the
// manner of Belenios: with n their value as a big-endian base-58 number,
// the digit (53 − n mod 53) mod 53, so that n + check ≡ 0 (mod 53). As
// 53 is prime and divides neither 58 nor 57, it catches every single
// mistyped character except one whose digit is 53 away, and every swap of two
// neighbouring random characters except of digits 53 apart.
func credentialCheck(chars string) int {
	n := 0
	for i := 0; i < len(chars); i++ {
		n = (n*58 + strings.IndexByte(credentialAlphabet, chars[i])) % 53
	}
	return (53 - n) % 53
}

// ParseCredential reads a credential code as a voter types it: spaces and
// hyphens are ignored; a character outside the alphabet, a wrong length or
// a wrong check character is refused with [ErrCredential].
func ParseCredential(electionID, typed string) (*Credential, error) {
	code := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, typed)
	if len(code) != credentialChars {
		return nil, fmt.Errorf("%w: %d characters, want %d", ErrCredential, len(code), credentialChars)
	}
	for i := 0; i < len(code); i++ {
		if strings.IndexByte(credentialAlphabet, code[i]) < 0 {
			return nil, fmt.Errorf("%w: character %d is not one of %s", ErrCredential, i+1, credentialAlphabet)
		}
	}
	if credentialAlphabet[credentialCheck(code[:credentialRandomChars])] != code[credentialRandomChars] {
		return nil, fmt.Errorf("%w: the check character does not match (a character is mistyped)", ErrCredential)
	}
	return credentialFromCode(electionID, code)
}

func credentialFromCode(electionID, code string) (*Credential, error) {
	u := NewTranscript("credential").Bytes([]byte(electionID)).Bytes([]byte(code)).Challenge()
	if isZero(u) {
		return nil, fmt.Errorf("%w: credential derives to zero", ErrCredential)
	}
	return &Credential{
		code:     code,
		election: electionID,
		u:        u,
		public:   &PublicCredential{u: newPoint(ristretto255.NewIdentityElement().ScalarBaseMult(u))},
	}, nil
}

// Code is the secret code, in four groups of four characters; it is what
// the voter receives and types.
func (c *Credential) Code() string {
	var b strings.Builder
	for i := 0; i < len(c.code); i += credentialGroup {
		if i > 0 {
			b.WriteByte('-')
		}
		b.WriteString(c.code[i : i+credentialGroup])
	}
	return b.String()
}

// Election is the id of the election the credential is for.
func (c *Credential) Election() string { return c.election }

// Public is the public credential, which the credential authority publishes.
func (c *Credential) Public() *PublicCredential { return c.public }

// String names the credential by its public part, never by its code.
func (c *Credential) String() string { return "credential for " + c.public.String() }

// GoString is String, so that %#v does not print the code either.
func (c *Credential) GoString() string { return c.String() }

// PublicCredential is a voter's public credential U = u·G: the ballot
// identity that every proof of a ballot binds. It is never the identity.
type PublicCredential struct {
	u point
}

// ParsePublicCredential decodes a canonical element, refusing the identity.
func ParsePublicCredential(b []byte) (*PublicCredential, error) {
	u, err := decodePoint(b)
	if err != nil {
		return nil, fmt.Errorf("public credential: %w", err)
	}
	if isIdentity(u.e) {
		return nil, fmt.Errorf("%w: the public credential is the identity", ErrInvalidKey)
	}
	return &PublicCredential{u: u}, nil
}

// Bytes is the canonical encoding of U.
func (p *PublicCredential) Bytes() []byte { return append([]byte(nil), p.u.enc[:]...) }

// Equal reports whether p and q are the same credential.
func (p *PublicCredential) Equal(q *PublicCredential) bool { return p.u.enc == q.u.enc }

// String is the hexadecimal of the canonical encoding.
func (p *PublicCredential) String() string { return encodeHex(p.u.enc[:]) }

// MarshalText is the hexadecimal of the canonical encoding.
func (p *PublicCredential) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText decodes what MarshalText writes.
func (p *PublicCredential) UnmarshalText(text []byte) error {
	b, err := decodeHex("public credential", string(text), ElementSize)
	if err != nil {
		return err
	}
	q, err := ParsePublicCredential(b)
	if err != nil {
		return err
	}
	*p = *q
	return nil
}
