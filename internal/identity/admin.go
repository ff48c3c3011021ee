package identity

import (
	"context"
	"errors"
	"strings"

	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/validate"
)

// FindAccounts lists accounts whose address contains query (at most 50),
// for staff holding [PermAccountsRead].
func (s *Service) FindAccounts(ctx context.Context, p *Principal, query string) ([]Account, error) {
	if !p.Can(PermAccountsRead) {
		return nil, ErrForbidden
	}
	var v validate.Errors
	if !validate.Text(&v, "q", query, false, 254) {
		return nil, v
	}
	query = strings.ToLower(strings.TrimSpace(query))
	esc := strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(query)
	rows, err := s.db.Query(ctx, `SELECT id FROM accounts WHERE email LIKE ? ESCAPE '\' ORDER BY id LIMIT 50`, "%"+esc+"%")
	if err != nil {
		return nil, err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	out := make([]Account, 0, len(ids))
	for _, id := range ids {
		a, err := s.Account(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, *a)
	}
	return out, nil
}

// AccountFor returns one account to staff holding [PermAccountsRead].
func (s *Service) AccountFor(ctx context.Context, p *Principal, id int64) (*Account, error) {
	if !p.Can(PermAccountsRead) {
		return nil, ErrForbidden
	}
	return s.Account(ctx, id)
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
