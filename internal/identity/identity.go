// Package identity owns who people are on veche and what they may do:
// accounts, passwords, two-factor sign-in, sessions and roles.
//
// Passwords follow NIST SP 800-63B-4 (length, not composition; a blocklist
// of common and breached passwords) and are stored with Argon2id at or above
// OWASP's parameters (see package password). Two-factor sign-in is TOTP
// (RFC 6238, package totp) with single-use recovery codes; the last accepted
// time step is stored so a code cannot be replayed. MFA is mandatory for
// every staff role: until a staff member has enrolled and passed MFA in the
// session, their staff permissions do not apply.
//
// Sessions are server-side: the client holds a random 256-bit token and the
// database only its SHA-256. Sessions end after an idle and an absolute
// timeout; a new token is issued on sign-in, on passing MFA and after a
// privilege change (OWASP Session Management Cheat Sheet). Sensitive actions
// need a recent authentication ([ErrReauthRequired]).
//
// A change of email address needs a recent authentication, mails a link
// to the new address and a notice to the old one, and takes effect only
// when the link is used within 24 hours; until then the new address is
// sealed under the person's key (email.go).
//
// Roles and their permissions are declared in one table, roles.go. Every
// state change writes an audit-log entry in the same transaction, naming
// people only by pseudonym.
package identity

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/veche/veche/internal/auditlog"
	"github.com/veche/veche/internal/identity/password"
	"github.com/veche/veche/internal/identity/totp"
	"github.com/veche/veche/internal/privacy/fieldcrypt"
	"github.com/veche/veche/internal/store"
)

// Errors callers branch on. Messages are for logs; pages translate them.
var (
	ErrBadCredentials    = errors.New("identity: email or password is wrong")
	ErrEmailNotVerified  = errors.New("identity: email address not verified yet")
	ErrInvalidCode       = errors.New("identity: the code is wrong or was already used")
	ErrTokenInvalid      = errors.New("identity: the link or token is invalid or has expired")
	ErrSessionInvalid    = errors.New("identity: not signed in or the session has ended")
	ErrMFAPending        = errors.New("identity: the second sign-in step is not done")
	ErrReauthRequired    = errors.New("identity: this action needs you to confirm your password again")
	ErrForbidden         = errors.New("identity: you do not have permission for this")
	ErrNotFound          = errors.New("identity: no such account or session")
	ErrMFANotEnrolled    = errors.New("identity: two-factor sign-in is not set up")
	ErrMFAAlreadyEnabled = errors.New("identity: two-factor sign-in is already on")
	ErrBusy              = password.ErrBusy
)

// Config holds the timing rules. Zero fields take the defaults below.
type Config struct {
	IdleTimeout       time.Duration // default 30 min
	AbsoluteTimeout   time.Duration // default 12 h
	ReauthWindow      time.Duration // default 10 min
	MFAPendingTimeout time.Duration // default 5 min
	VerifyTokenTTL    time.Duration // default 48 h
	ResetTokenTTL     time.Duration // default 30 min
	PublicURL         string        // base of links in emails, e.g. https://veche.example.org
	Issuer            string        // shown in authenticator apps, default "veche"
}

func (c *Config) defaults() {
	set := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	set(&c.IdleTimeout, 30*time.Minute)
	set(&c.AbsoluteTimeout, 12*time.Hour)
	set(&c.ReauthWindow, 10*time.Minute)
	set(&c.MFAPendingTimeout, 5*time.Minute)
	set(&c.VerifyTokenTTL, 48*time.Hour)
	set(&c.ResetTokenTTL, 30*time.Minute)
	if c.Issuer == "" {
		c.Issuer = "veche"
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://127.0.0.1:8080"
	}
}

// Service is the identity API.
type Service struct {
	db     *store.DB
	log    *auditlog.Log
	pseud  auditlog.Pseudonymizer
	hasher *password.Hasher
	policy password.Policy
	seal   cipher.AEAD
	crypt  *fieldcrypt.Service // per-person keys for personal data
	// recoveryKey keys the stored hashes of recovery codes, so that a
	// leaked database alone does not allow an offline search of the
	// 50-bit codes.
	recoveryKey []byte
	cfg         Config
	now         func() time.Time
	// MailQueued, if set, is called after a transaction that queued mail
	// commits, to wake the mail dispatcher.
	MailQueued func()
	// Access records staff reads of people's data; without it such reads
	// are refused.
	Access AccessRecorder
}

// New returns a Service. sealKey (32 bytes) seals TOTP secrets at rest;
// crypt seals personal data under each person's own key.
func New(db *store.DB, log *auditlog.Log, pseud auditlog.Pseudonymizer, hasher *password.Hasher, sealKey []byte, crypt *fieldcrypt.Service, cfg Config) (*Service, error) {
	block, err := aes.NewCipher(sealKey)
	if err != nil {
		return nil, fmt.Errorf("identity: seal key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	cfg.defaults()
	rk := hmac.New(sha256.New, sealKey)
	rk.Write([]byte("veche recovery code key v1"))
	return &Service{db: db, log: log, pseud: pseud, hasher: hasher, policy: password.DefaultPolicy(), seal: aead,
		recoveryKey: rk.Sum(nil), crypt: crypt, cfg: cfg, now: time.Now}, nil
}

// HashWait bounds how long a request waits for a free password-hashing
// slot before it is answered "busy" (503 with Retry-After): under a flood of
// sign-ins, requests fail fast instead of queueing without limit.
const HashWait = 5 * time.Second

func (s *Service) hashPassword(ctx context.Context, pw string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, HashWait)
	defer cancel()
	return s.hasher.Hash(ctx, pw)
}

func (s *Service) verifyPassword(ctx context.Context, pw, hash string) (ok, rehash bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, HashWait)
	defer cancel()
	return s.hasher.Verify(ctx, pw, hash)
}

func (s *Service) verifyDummy(ctx context.Context, pw string) error {
	ctx, cancel := context.WithTimeout(ctx, HashWait)
	defer cancel()
	return s.hasher.VerifyDummy(ctx, pw)
}

// SetClock replaces the clock, for tests of timeouts.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Config returns the effective configuration.
func (s *Service) Config() Config { return s.cfg }

// Pseudonym returns the audit-log pseudonym of an account.
func (s *Service) Pseudonym(accountID int64) string {
	return s.pseud.Of("account", strconv.FormatInt(accountID, 10))
}

// audit appends an entry for a change made by actor to subject (account ids,
// 0 for the system or none).
func (s *Service) audit(ctx context.Context, tx *store.Tx, action string, actor, subject int64, detail map[string]string) error {
	e := auditlog.Entry{Action: action, Detail: detail}
	if actor != 0 {
		e.Actor = s.Pseudonym(actor)
	}
	if subject != 0 {
		e.Subject = s.Pseudonym(subject)
	}
	return s.log.Append(ctx, tx, e)
}

// newToken returns a random 256-bit token and the hash stored for it.
func newToken() (token, hash string) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("identity: crypto/rand failed: " + err.Error())
	}
	token = base64.RawURLEncoding.EncodeToString(b[:])
	return token, hashToken(token)
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func (s *Service) sealSecret(accountID int64, secret string) []byte {
	nonce := make([]byte, s.seal.NonceSize())
	rand.Read(nonce)
	return s.seal.Seal(nonce, nonce, []byte(secret), sealAD(accountID))
}

func (s *Service) openSecret(accountID int64, sealed []byte) (string, error) {
	n := s.seal.NonceSize()
	if len(sealed) < n {
		return "", errors.New("identity: sealed MFA secret is truncated")
	}
	pt, err := s.seal.Open(nil, sealed[:n], sealed[n:], sealAD(accountID))
	if err != nil {
		return "", errors.New("identity: sealed MFA secret does not open with this instance's key")
	}
	return string(pt), nil
}

// recoveryHash is the stored form of a recovery code: HMAC-SHA256 under
// the instance's recovery key of the normalised code.
func (s *Service) recoveryHash(code string) string {
	m := hmac.New(sha256.New, s.recoveryKey)
	m.Write([]byte(totp.NormalizeRecoveryCode(code)))
	return hex.EncodeToString(m.Sum(nil))
}

// sealAD binds a sealed secret to its account, so ciphertexts cannot be
// swapped between rows.
func sealAD(accountID int64) []byte { return []byte("totp\x00" + strconv.FormatInt(accountID, 10)) }
