package identity

import (
	"context"
	"errors"
	"strings"

	"github.com/veche/veche/internal/identity/totp"
	"github.com/veche/veche/internal/store"
)

// RecoveryCodeCount is how many recovery codes an account gets.
const RecoveryCodeCount = 10

// TOTPEnrolment is a started, unconfirmed TOTP set-up.
type TOTPEnrolment struct {
	Secret string // base32, for typing into an app by hand
	URI    string // otpauth:// URI, shown as a QR code
}

// BeginTOTP starts TOTP enrolment for p with a new secret; it is not in
// force until [Service.ConfirmTOTP] sees a code from it. Starting again
// replaces an unconfirmed secret.
func (s *Service) BeginTOTP(ctx context.Context, p *Principal) (*TOTPEnrolment, error) {
	if p.MFAEnabled {
		return nil, ErrMFAAlreadyEnabled
	}
	secret, err := totp.GenerateSecret()
	if err != nil {
		return nil, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, "DELETE FROM totp_credentials WHERE account_id = ? AND enabled = FALSE", p.AccountID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "INSERT INTO totp_credentials (account_id, secret_sealed, enabled, last_step, created_at) VALUES (?, ?, FALSE, 0, ?)",
			p.AccountID, s.sealSecret(p.AccountID, secret), store.Micros(s.now()))
		if errors.Is(err, store.ErrConflict) {
			return ErrMFAAlreadyEnabled
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &TOTPEnrolment{Secret: secret, URI: totp.URI(secret, s.cfg.Issuer, p.Email)}, nil
}

// PendingTOTP returns the unconfirmed enrolment of p, if one was begun.
func (s *Service) PendingTOTP(ctx context.Context, p *Principal) (*TOTPEnrolment, error) {
	var sealed []byte
	err := s.db.QueryRow(ctx, "SELECT secret_sealed FROM totp_credentials WHERE account_id = ? AND enabled = FALSE", p.AccountID).Scan(&sealed)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrMFANotEnrolled
	}
	if err != nil {
		return nil, err
	}
	secret, err := s.openSecret(p.AccountID, sealed)
	if err != nil {
		return nil, err
	}
	return &TOTPEnrolment{Secret: secret, URI: totp.URI(secret, s.cfg.Issuer, p.Email)}, nil
}

// ConfirmTOTP turns TOTP on once the person shows a current code from the
// new secret, and returns their recovery codes: shown once, stored hashed.
// The current session counts as having passed MFA and gets a new token at
// its next request.
func (s *Service) ConfirmTOTP(ctx context.Context, p *Principal, code string) ([]string, error) {
	var codes []string
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var sealed []byte
		var last int64
		err := tx.QueryRow(ctx, "SELECT secret_sealed, last_step FROM totp_credentials WHERE account_id = ? AND enabled = FALSE",
			p.AccountID).Scan(&sealed, &last)
		if errors.Is(err, store.ErrNotFound) {
			return ErrMFANotEnrolled
		}
		if err != nil {
			return err
		}
		secret, err := s.openSecret(p.AccountID, sealed)
		if err != nil {
			return err
		}
		step, err := totp.Verify(secret, code, s.now(), last)
		if err != nil {
			return ErrInvalidCode
		}
		if _, err := tx.Exec(ctx, "UPDATE totp_credentials SET enabled = TRUE, last_step = ? WHERE account_id = ?", step, p.AccountID); err != nil {
			return err
		}
		if codes, err = s.replaceRecoveryCodes(ctx, tx, p.AccountID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE sessions SET mfa_verified = TRUE, rotate = TRUE, authenticated_at = ? WHERE id = ?",
			store.Micros(s.now()), p.SessionID); err != nil {
			return err
		}
		return s.audit(ctx, tx, "mfa.enabled", p.AccountID, p.AccountID, map[string]string{"method": "totp"})
	})
	return codes, err
}

func (s *Service) replaceRecoveryCodes(ctx context.Context, tx *store.Tx, accountID int64) ([]string, error) {
	codes, _, err := totp.NewRecoveryCodes(RecoveryCodeCount)
	if err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, "DELETE FROM recovery_codes WHERE account_id = ?", accountID); err != nil {
		return nil, err
	}
	for _, c := range codes {
		if _, err := tx.Exec(ctx, "INSERT INTO recovery_codes (account_id, code_hash) VALUES (?, ?)", accountID, s.recoveryHash(c)); err != nil {
			return nil, err
		}
	}
	return codes, nil
}

// RegenerateRecoveryCodes replaces p's recovery codes. It needs a recent
// authentication.
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, p *Principal) ([]string, error) {
	if !p.MFAEnabled {
		return nil, ErrMFANotEnrolled
	}
	if !s.RecentlyAuthenticated(p) {
		return nil, ErrReauthRequired
	}
	var codes []string
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if codes, err = s.replaceRecoveryCodes(ctx, tx, p.AccountID); err != nil {
			return err
		}
		return s.audit(ctx, tx, "mfa.recovery_codes_replaced", p.AccountID, p.AccountID, nil)
	})
	return codes, err
}

// RecoveryCodesLeft counts p's unused recovery codes.
func (s *Service) RecoveryCodesLeft(ctx context.Context, p *Principal) (int, error) {
	var n int
	err := s.db.QueryRow(ctx, "SELECT COUNT(*) FROM recovery_codes WHERE account_id = ? AND used_at IS NULL", p.AccountID).Scan(&n)
	return n, err
}

// DisableTOTP turns two-factor sign-in off. It needs a recent
// authentication. Staff who turn it off lose their staff permissions until
// they enrol again.
func (s *Service) DisableTOTP(ctx context.Context, p *Principal) error {
	if !p.MFAEnabled {
		return ErrMFANotEnrolled
	}
	if !s.RecentlyAuthenticated(p) {
		return ErrReauthRequired
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, "DELETE FROM totp_credentials WHERE account_id = ?", p.AccountID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM recovery_codes WHERE account_id = ?", p.AccountID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE sessions SET mfa_verified = FALSE, rotate = TRUE WHERE account_id = ?", p.AccountID); err != nil {
			return err
		}
		return s.audit(ctx, tx, "mfa.disabled", p.AccountID, p.AccountID, map[string]string{"method": "totp"})
	})
}

// checkSecondFactor accepts a current TOTP code (never one already used) or
// an unused recovery code, and consumes it in tx.
func (s *Service) checkSecondFactor(ctx context.Context, tx *store.Tx, accountID int64, code string) error {
	code = strings.TrimSpace(code)
	if len(code) > 64 {
		return ErrInvalidCode
	}
	var sealed []byte
	var last int64
	err := tx.QueryRow(ctx, "SELECT secret_sealed, last_step FROM totp_credentials WHERE account_id = ? AND enabled = TRUE",
		accountID).Scan(&sealed, &last)
	if errors.Is(err, store.ErrNotFound) {
		return ErrMFANotEnrolled
	}
	if err != nil {
		return err
	}
	if isTOTPCode(code) {
		secret, err := s.openSecret(accountID, sealed)
		if err != nil {
			return err
		}
		step, err := totp.Verify(secret, code, s.now(), last)
		if err != nil {
			return ErrInvalidCode
		}
		// The condition makes two concurrent uses of one code race safely:
		// only one UPDATE can move last_step past it.
		res, err := tx.Exec(ctx, "UPDATE totp_credentials SET last_step = ? WHERE account_id = ? AND last_step < ?", step, accountID, step)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrInvalidCode
		}
		return nil
	}
	res, err := tx.Exec(ctx, "UPDATE recovery_codes SET used_at = ? WHERE account_id = ? AND code_hash = ? AND used_at IS NULL",
		store.Micros(s.now()), accountID, s.recoveryHash(code))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return ErrInvalidCode
	}
	return s.audit(ctx, tx, "mfa.recovery_code_used", accountID, accountID, nil)
}

func isTOTPCode(s string) bool {
	s = strings.ReplaceAll(s, " ", "")
	if len(s) != 6 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
