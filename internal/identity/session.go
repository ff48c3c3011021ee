package identity

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/veche/veche/internal/store"
)

// SessionKind says how the client holds its token: a browser cookie, or an
// API client's bearer token.
type SessionKind string

// Session kinds.
const (
	KindBrowser SessionKind = "browser"
	KindAPI     SessionKind = "api"
)

// ClientMeta describes the client, shown on the sessions page.
type ClientMeta struct {
	IP        string
	UserAgent string
}

// Principal is the signed-in person behind a request.
type Principal struct {
	AccountID       int64
	Email           string
	Locale          string
	Roles           []Role // granted roles, always including citizen
	MFAEnabled      bool
	MFAVerified     bool // this session passed the second factor
	SessionID       string
	Kind            SessionKind
	AuthenticatedAt time.Time
}

// Can reports whether p holds permission perm. Staff roles count only in a
// session that passed MFA, which makes MFA mandatory for staff.
func (p *Principal) Can(perm Permission) bool {
	if p == nil {
		return false
	}
	for _, r := range p.Roles {
		if r.Staff() && !p.MFAVerified {
			continue
		}
		if r.Grants(perm) {
			return true
		}
	}
	return false
}

// HasRole reports whether r is granted to p (whether or not it is in force).
func (p *Principal) HasRole(r Role) bool { return slices.Contains(p.Roles, r) }

// IsStaff reports whether p holds any staff role.
func (p *Principal) IsStaff() bool {
	return slices.ContainsFunc(p.Roles, Role.Staff)
}

// NeedsMFAEnrolment reports whether p holds a staff role but has no second
// factor yet; such a person must enrol before staff work.
func (p *Principal) NeedsMFAEnrolment() bool { return p.IsStaff() && !p.MFAEnabled }

// RecentlyAuthenticated reports whether p proved their password within the
// re-authentication window.
func (s *Service) RecentlyAuthenticated(p *Principal) bool {
	return s.now().Sub(p.AuthenticatedAt) < s.cfg.ReauthWindow
}

// SignInResult is what a sign-in produced.
type SignInResult struct {
	Token       string    // the session token to hand to the client
	MFARequired bool      // the token is good only for CompleteMFA
	ExpiresAt   time.Time // when the token lapses at the latest
}

// SignIn checks a password and starts a session. An unknown address costs
// the same time as a wrong password and gives the same error. When the
// account has two-factor sign-in on, the session is pending until
// [Service.CompleteMFA]. Parameters that have changed since the password was
// hashed are upgraded here.
func (s *Service) SignIn(ctx context.Context, email, pw string, kind SessionKind, meta ClientMeta) (*SignInResult, int64, error) {
	norm, err := NormalizeEmail(email)
	if err != nil {
		s.verifyDummy(ctx, pw)
		return nil, 0, ErrBadCredentials
	}
	var (
		id       int64
		hash     string
		verified bool
		mfa      bool
	)
	err = s.db.QueryRow(ctx, `SELECT a.id, a.password_hash, a.email_verified,
		COALESCE((SELECT enabled FROM totp_credentials t WHERE t.account_id = a.id), FALSE)
		FROM accounts a WHERE a.email_index = ?`, s.emailIndex(norm)).Scan(&id, &hash, &verified, &mfa)
	if errors.Is(err, store.ErrNotFound) {
		if err := s.verifyDummy(ctx, pw); err != nil {
			return nil, 0, err
		}
		return nil, 0, ErrBadCredentials
	}
	if err != nil {
		return nil, 0, err
	}
	ok, rehash, err := s.verifyPassword(ctx, pw, hash)
	if err != nil {
		return nil, id, err
	}
	if !ok {
		return nil, id, ErrBadCredentials
	}
	if !verified {
		return nil, id, ErrEmailNotVerified
	}
	// Hash before the transaction: a write transaction must not wait on
	// a 20–40 ms Argon2id run (on SQLite it holds the one write lock).
	var newHash string
	if rehash {
		if newHash, err = s.hashPassword(ctx, pw); err != nil {
			return nil, id, err
		}
	}
	var res *SignInResult
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if newHash != "" {
			if _, err := tx.Exec(ctx, "UPDATE accounts SET password_hash = ? WHERE id = ? AND password_hash = ?", newHash, id, hash); err != nil {
				return err
			}
		}
		res, err = s.createSession(ctx, tx, id, kind, meta, mfa)
		return err
	})
	return res, id, err
}

// createSession inserts a session. A pending one (MFA still to do) lives
// only MFAPendingTimeout.
func (s *Service) createSession(ctx context.Context, tx *store.Tx, accountID int64, kind SessionKind, meta ClientMeta, mfaPending bool) (*SignInResult, error) {
	token, hash := newToken()
	now := s.now()
	expires := now.Add(s.cfg.AbsoluteTimeout)
	if mfaPending {
		expires = now.Add(s.cfg.MFAPendingTimeout)
	}
	ua := []rune(strings.ToValidUTF8(meta.UserAgent, ""))
	ua = ua[:min(len(ua), 200)]
	id := newSessionID()
	client, err := s.sealClient(ctx, tx, accountID, id, clientInfo{IP: meta.IP, UserAgent: string(ua)})
	if err != nil {
		return nil, err
	}
	_, err = tx.Exec(ctx, `INSERT INTO sessions (token_hash, id, account_id, kind, created_at, last_seen_at, expires_at,
		authenticated_at, mfa_verified, mfa_pending, client_sealed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		hash, id, accountID, string(kind), store.Micros(now), store.Micros(now), store.Micros(expires),
		store.Micros(now), false, mfaPending, client)
	if err != nil {
		return nil, err
	}
	if !mfaPending {
		// A sign-in is activity: it also cancels an inactivity warning.
		if _, err := tx.Exec(ctx, "UPDATE accounts SET last_active_at = ?, inactivity_warned_at = NULL WHERE id = ?", store.Micros(now), accountID); err != nil {
			return nil, err
		}
		if err := s.audit(ctx, tx, "session.created", accountID, accountID, map[string]string{"kind": string(kind)}); err != nil {
			return nil, err
		}
	}
	return &SignInResult{Token: token, MFARequired: mfaPending, ExpiresAt: expires}, nil
}

func newSessionID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// PendingAccount returns the account of a sign-in waiting for its second
// step, so that callers can limit code guesses per account rather than per
// attempt (each new sign-in would otherwise bring a fresh budget).
func (s *Service) PendingAccount(ctx context.Context, pendingToken string) (int64, error) {
	if pendingToken == "" || len(pendingToken) > 128 {
		return 0, ErrSessionInvalid
	}
	var id int64
	err := s.db.QueryRow(ctx, "SELECT account_id FROM sessions WHERE token_hash = ? AND mfa_pending = TRUE AND expires_at > ?",
		hashToken(pendingToken), store.Micros(s.now())).Scan(&id)
	if errors.Is(err, store.ErrNotFound) {
		return 0, ErrSessionInvalid
	}
	return id, err
}

// CompleteMFA finishes a pending sign-in with a TOTP code or a recovery
// code. The pending token is replaced by a new one.
func (s *Service) CompleteMFA(ctx context.Context, pendingToken, code string) (*SignInResult, int64, error) {
	var res *SignInResult
	var accountID int64
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var kind, pendingID string
		var sealedClient []byte
		err := tx.QueryRow(ctx, `SELECT account_id, kind, id, client_sealed FROM sessions
			WHERE token_hash = ? AND mfa_pending = TRUE AND expires_at > ?`,
			hashToken(pendingToken), store.Micros(s.now())).Scan(&accountID, &kind, &pendingID, &sealedClient)
		if errors.Is(err, store.ErrNotFound) {
			return ErrSessionInvalid
		}
		if err != nil {
			return err
		}
		if err := s.checkSecondFactor(ctx, tx, accountID, code); err != nil {
			return err
		}
		client, err := s.openClient(ctx, tx, accountID, pendingID, sealedClient)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM sessions WHERE token_hash = ?", hashToken(pendingToken)); err != nil {
			return err
		}
		res, err = s.createSession(ctx, tx, accountID, SessionKind(kind), ClientMeta{IP: client.IP, UserAgent: client.UserAgent}, false)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "UPDATE sessions SET mfa_verified = TRUE WHERE token_hash = ?", hashToken(res.Token))
		return err
	})
	// A wrong code must be remembered even though the transaction rolled
	// back: the error is returned and the web layer records the failure.
	return res, accountID, err
}

// Authenticate resolves a session token to its principal. It ends sessions
// past their idle or absolute timeout. When a browser session was marked
// for rotation (after a privilege change) it returns a new token that the
// caller must hand to the client. A pending-MFA session gives
// [ErrMFAPending].
func (s *Service) Authenticate(ctx context.Context, token string) (*Principal, string, error) {
	if token == "" || len(token) > 128 {
		return nil, "", ErrSessionInvalid
	}
	now := s.now()
	hash := hashToken(token)
	p := &Principal{}
	var lastSeen, expires, authAt int64
	var pending, rotate bool
	var kind string
	var sealedEmail []byte
	err := s.db.QueryRow(ctx, `SELECT s.id, s.account_id, s.kind, s.last_seen_at, s.expires_at, s.authenticated_at,
		s.mfa_verified, s.mfa_pending, s.rotate, a.email_sealed, a.locale,
		COALESCE((SELECT enabled FROM totp_credentials t WHERE t.account_id = a.id), FALSE)
		FROM sessions s JOIN accounts a ON a.id = s.account_id WHERE s.token_hash = ?`, hash).Scan(
		&p.SessionID, &p.AccountID, &kind, &lastSeen, &expires, &authAt, &p.MFAVerified, &pending, &rotate,
		&sealedEmail, &p.Locale, &p.MFAEnabled)
	if errors.Is(err, store.ErrNotFound) {
		return nil, "", ErrSessionInvalid
	}
	if err != nil {
		return nil, "", err
	}
	p.Kind = SessionKind(kind)
	p.AuthenticatedAt = store.FromMicros(authAt)
	if now.After(store.FromMicros(expires)) || (!pending && now.Sub(store.FromMicros(lastSeen)) > s.cfg.IdleTimeout) {
		s.db.Exec(ctx, "DELETE FROM sessions WHERE token_hash = ?", hash)
		return nil, "", ErrSessionInvalid
	}
	if pending {
		return nil, "", ErrMFAPending
	}
	if p.Email, err = s.openEmail(ctx, nil, p.AccountID, sealedEmail); err != nil {
		return nil, "", err
	}
	if p.Roles, err = s.roles(ctx, s.db.Query, p.AccountID); err != nil {
		return nil, "", err
	}
	var newTok string
	if rotate && p.Kind == KindBrowser {
		tok, newHash := newToken()
		res, err := s.db.Exec(ctx, "UPDATE sessions SET token_hash = ?, rotate = FALSE, last_seen_at = ? WHERE token_hash = ?",
			newHash, store.Micros(now), hash)
		if err != nil {
			return nil, "", err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			newTok = tok
		}
	} else if now.Sub(store.FromMicros(lastSeen)) > time.Minute {
		// Touch at most once a minute: idle detection needs no finer grain
		// and most requests then cost no write.
		if _, err := s.db.Exec(ctx, "UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?", store.Micros(now), hash); err != nil {
			return nil, "", err
		}
	}
	return p, newTok, nil
}

// roles returns the roles granted to an account, citizen first.
func (s *Service) roles(ctx context.Context, query func(context.Context, string, ...any) (*sql.Rows, error), accountID int64) ([]Role, error) {
	rows, err := query(ctx, "SELECT role FROM account_roles WHERE account_id = ?", accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	got := map[Role]bool{}
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return nil, err
		}
		got[Role(r)] = true
	}
	out := []Role{RoleCitizen}
	for _, r := range Roles[1:] {
		if got[r] {
			out = append(out, r)
		}
	}
	return out, rows.Err()
}

// SignOut ends the session behind token.
func (s *Service) SignOut(ctx context.Context, token string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		var accountID int64
		err := tx.QueryRow(ctx, "DELETE FROM sessions WHERE token_hash = ? RETURNING account_id", hashToken(token)).Scan(&accountID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, "session.ended", accountID, accountID, nil)
	})
}

// Session describes one active session, for the sessions page.
type Session struct {
	ID          string
	Kind        SessionKind
	CreatedAt   time.Time
	LastSeenAt  time.Time
	ExpiresAt   time.Time
	UserAgent   string
	IP          string
	MFAVerified bool
	Current     bool
}

// Sessions lists p's active sessions, newest first.
func (s *Service) Sessions(ctx context.Context, p *Principal) ([]Session, error) {
	now := s.now()
	rows, err := s.db.Query(ctx, `SELECT id, kind, created_at, last_seen_at, expires_at, client_sealed, mfa_verified
		FROM sessions WHERE account_id = ? AND mfa_pending = FALSE AND expires_at > ? AND last_seen_at > ?
		ORDER BY created_at DESC`, p.AccountID, store.Micros(now), store.Micros(now.Add(-s.cfg.IdleTimeout)))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		var ss Session
		var kind string
		var c, l, e int64
		var sealed []byte
		if err := rows.Scan(&ss.ID, &kind, &c, &l, &e, &sealed, &ss.MFAVerified); err != nil {
			return nil, err
		}
		client, err := s.openClient(ctx, nil, p.AccountID, ss.ID, sealed)
		if err != nil {
			return nil, err
		}
		ss.IP, ss.UserAgent = client.IP, client.UserAgent
		ss.Kind, ss.CreatedAt, ss.LastSeenAt, ss.ExpiresAt = SessionKind(kind), store.FromMicros(c), store.FromMicros(l), store.FromMicros(e)
		ss.Current = ss.ID == p.SessionID
		out = append(out, ss)
	}
	return out, rows.Err()
}

// RevokeSession ends one of p's own sessions by its id.
func (s *Service) RevokeSession(ctx context.Context, p *Principal, id string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, "DELETE FROM sessions WHERE id = ? AND account_id = ?", id, p.AccountID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return s.audit(ctx, tx, "session.revoked", p.AccountID, p.AccountID, nil)
	})
}

// Reauthenticate confirms p's password (and second factor, when enrolled)
// again, opening the window for sensitive actions.
func (s *Service) Reauthenticate(ctx context.Context, p *Principal, pw, code string) error {
	var hash string
	if err := s.db.QueryRow(ctx, "SELECT password_hash FROM accounts WHERE id = ?", p.AccountID).Scan(&hash); err != nil {
		return err
	}
	ok, _, err := s.verifyPassword(ctx, pw, hash)
	if err != nil {
		return err
	}
	if !ok {
		return ErrBadCredentials
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if p.MFAEnabled {
			if err := s.checkSecondFactor(ctx, tx, p.AccountID, code); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, "UPDATE sessions SET authenticated_at = ? WHERE id = ?", store.Micros(s.now()), p.SessionID); err != nil {
			return err
		}
		p.AuthenticatedAt = s.now()
		return s.audit(ctx, tx, "session.reauthenticated", p.AccountID, p.AccountID, nil)
	})
}

// PurgeExpired deletes ended sessions, used or expired email tokens and
// expired changes of address.
func (s *Service) PurgeExpired(ctx context.Context) (int64, error) {
	now := s.now()
	res, err := s.db.Exec(ctx, "DELETE FROM sessions WHERE expires_at < ? OR (mfa_pending = FALSE AND last_seen_at < ?)",
		store.Micros(now), store.Micros(now.Add(-s.cfg.IdleTimeout)))
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	res, err = s.db.Exec(ctx, "DELETE FROM email_tokens WHERE expires_at < ? OR used_at IS NOT NULL", store.Micros(now))
	if err != nil {
		return n, err
	}
	m, _ := res.RowsAffected()
	res, err = s.db.Exec(ctx, "DELETE FROM email_changes WHERE expires_at < ?", store.Micros(now))
	if err != nil {
		return n + m, err
	}
	k, _ := res.RowsAffected()
	return n + m + k, nil
}
