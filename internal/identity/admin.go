package identity

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"

	"github.com/veche/veche/internal/privacy"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/validate"
)

// AccessRecorder records staff reads of people's data (package privacy's
// AccessLog): a stated purpose is checked before anything is shown.
type AccessRecorder interface {
	Record(ctx context.Context, reader int64, readerRole string, subjects []int64, data []string,
		purpose privacy.AccessPurpose, justification string) error
}

// accountData is what staff see of an account: its address and roles.
var accountData = []string{"accounts.email_sealed", "accounts.created_at", "account_roles.role", "totp_credentials.enabled"}

// readerRole names the role under which p holds perm, for the access log.
func readerRole(p *Principal, perm Permission) string {
	for _, r := range p.Roles {
		if r.Staff() && r.Grants(perm) {
			return string(r)
		}
	}
	return string(RoleCitizen)
}

// FindAccounts lists accounts whose address contains query (at most 50),
// for staff holding [PermAccountsRead], who must state why; every account
// shown is recorded in the access log.
func (s *Service) FindAccounts(ctx context.Context, p *Principal, query string, purpose privacy.AccessPurpose, justification string) ([]Account, error) {
	if !p.Can(PermAccountsRead) {
		return nil, ErrForbidden
	}
	if err := privacy.CheckPurpose(purpose, justification); err != nil {
		return nil, err
	}
	// Addresses are sealed, so search is by exact address through the
	// blind index; an empty query lists the first accounts.
	var rows *sql.Rows
	var err error
	if strings.TrimSpace(query) == "" {
		rows, err = s.db.Query(ctx, "SELECT id FROM accounts ORDER BY id LIMIT 50")
	} else {
		email, verr := NormalizeEmail(query)
		if verr != nil {
			var fe validate.Errors
			if errors.As(verr, &fe) {
				return nil, validate.One("q", fe[0].Code, fe[0].Params)
			}
			return nil, verr
		}
		rows, err = s.db.Query(ctx, "SELECT id FROM accounts WHERE email_index = ?", s.emailIndex(email))
	}
	ids, err := store.IDs(rows, err)
	if err != nil {
		return nil, err
	}
	out := make([]Account, 0, len(ids))
	for _, id := range ids {
		a, err := s.Account(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, *a)
	}
	if err := s.recordAccess(ctx, p, ids, purpose, justification); err != nil {
		return nil, err
	}
	return out, nil
}

// AccountFor returns one account to staff holding [PermAccountsRead], who
// must state why; the read is recorded in the access log, which the person
// sees on their account page.
func (s *Service) AccountFor(ctx context.Context, p *Principal, id int64, purpose privacy.AccessPurpose, justification string) (*Account, error) {
	if !p.Can(PermAccountsRead) {
		return nil, ErrForbidden
	}
	if err := privacy.CheckPurpose(purpose, justification); err != nil {
		return nil, err
	}
	a, err := s.Account(ctx, id)
	if err != nil {
		return nil, err
	}
	if id != p.AccountID {
		if err := s.recordAccess(ctx, p, []int64{id}, purpose, justification); err != nil {
			return nil, err
		}
	}
	return a, nil
}

func (s *Service) recordAccess(ctx context.Context, p *Principal, ids []int64, purpose privacy.AccessPurpose, justification string) error {
	if s.Access == nil {
		return errors.New("identity: no access log configured; staff reads of personal data must be recorded")
	}
	ids = slices.DeleteFunc(slices.Clone(ids), func(id int64) bool { return id == p.AccountID })
	return s.Access.Record(ctx, p.AccountID, readerRole(p, PermAccountsRead), ids, accountData, purpose, justification)
}

// GrantRole gives role to an account. Only administrators may, with a
// recent authentication. The account's browser sessions get new tokens.
func (s *Service) GrantRole(ctx context.Context, p *Principal, accountID int64, role Role) error {
	if err := s.checkRoleChange(p, role); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := s.grant(ctx, tx, p.AccountID, accountID, role); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "UPDATE sessions SET rotate = TRUE WHERE account_id = ?", accountID)
		return err
	})
}

// RevokeRole takes role away from an account. An administrator cannot take
// the admin role from themselves, so an instance is never left without one
// by accident.
func (s *Service) RevokeRole(ctx context.Context, p *Principal, accountID int64, role Role) error {
	if err := s.checkRoleChange(p, role); err != nil {
		return err
	}
	if role == RoleAdmin && accountID == p.AccountID {
		return validate.One("role", "cannot_revoke_own_admin", nil)
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, "DELETE FROM account_roles WHERE account_id = ? AND role = ?", accountID, string(role))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		if _, err := tx.Exec(ctx, "UPDATE sessions SET rotate = TRUE WHERE account_id = ?", accountID); err != nil {
			return err
		}
		return s.audit(ctx, tx, "role.revoked", p.AccountID, accountID, map[string]string{"role": string(role)})
	})
}

func (s *Service) checkRoleChange(p *Principal, role Role) error {
	if !p.Can(PermRolesManage) {
		return ErrForbidden
	}
	if !s.RecentlyAuthenticated(p) {
		return ErrReauthRequired
	}
	if _, ok := ParseRole(string(role)); !ok || role == RoleCitizen {
		return validate.One("role", "unknown_role", nil)
	}
	return nil
}

// grant records a role grant by actor (0 = the system) and its audit entry.
// Granting a role already held changes nothing and logs nothing. ON
// CONFLICT rather than catching the error: on PostgreSQL a failed
// statement aborts the whole transaction.
func (s *Service) grant(ctx context.Context, tx *store.Tx, actor, accountID int64, role Role) error {
	res, err := tx.Exec(ctx, `INSERT INTO account_roles (account_id, role, granted_by, granted_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (account_id, role) DO NOTHING`, accountID, string(role), nullID(actor), store.Micros(s.now()))
	if errors.Is(err, store.ErrMissingReference) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	return s.audit(ctx, tx, "role.granted", actor, accountID, map[string]string{"role": string(role)})
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// securityEventData is what a security event shows of the person it names.
var securityEventData = []string{"security_events.at", "security_events.ip_sealed", "security_events.account", "security_events.route", "security_events.detail"}

// RecordSecurityEventReads records in the access log that p, holding
// [PermSecurityEventsRead], was shown security events naming the accounts
// behind pseudonyms (the events' account field), so that each person sees
// the read on their account page and the DPO in the access review. The
// purpose must pass [privacy.CheckPurpose]; it is checked before anything
// is recorded, and callers check it before they show anything.
//
// Events name accounts by their audit-log pseudonym, a keyed hash, and
// nothing in the database maps it back (a leaked database must not link
// the public log to accounts), so the accounts are found by computing the
// pseudonym of each account: a pass over the account ids, with no
// personal data opened. An event that names no account (a refused request
// from an address, a sign-in attempt for an unknown address) is about no
// one veche can name: its address is not linked to any account, since the
// addresses accounts sign in from are sealed per person.
func (s *Service) RecordSecurityEventReads(ctx context.Context, p *Principal, pseudonyms []string, purpose privacy.AccessPurpose, justification string) error {
	if !p.Can(PermSecurityEventsRead) {
		return ErrForbidden
	}
	if err := privacy.CheckPurpose(purpose, justification); err != nil {
		return err
	}
	if s.Access == nil {
		return errors.New("identity: no access log configured; staff reads of personal data must be recorded")
	}
	ids, err := s.accountsByPseudonym(ctx, pseudonyms)
	if err != nil {
		return err
	}
	ids = slices.DeleteFunc(ids, func(id int64) bool { return id == p.AccountID })
	return s.Access.Record(ctx, p.AccountID, readerRole(p, PermSecurityEventsRead), ids, securityEventData, purpose, justification)
}

// accountsByPseudonym returns the ids of the existing accounts whose
// audit-log pseudonyms are among want, in id order.
func (s *Service) accountsByPseudonym(ctx context.Context, want []string) ([]int64, error) {
	left := map[string]bool{}
	for _, p := range want {
		if p != "" {
			left[p] = true
		}
	}
	if len(left) == 0 {
		return nil, nil
	}
	rows, err := s.db.Query(ctx, "SELECT id FROM accounts ORDER BY id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() && len(left) > 0 {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		if p := s.Pseudonym(id); left[p] {
			delete(left, p)
			out = append(out, id)
		}
	}
	return out, rows.Err()
}
