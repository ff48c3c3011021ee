package store

import (
	"context"
	"time"
)

var now = time.Now

// AcquireLease takes or renews the named lease for holder until ttl from now.
// It reports whether holder has the lease. Background jobs take a lease
// before each run so that several app nodes never run the same job at once;
// a crashed holder's lease lapses after ttl.
func (db *DB) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	t := now()
	res, err := db.Exec(ctx, `INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE leases.holder = excluded.holder OR leases.expires_at < ?`,
		name, holder, Micros(t.Add(ttl)), Micros(t))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// ReleaseLease gives up the named lease if holder has it.
func (db *DB) ReleaseLease(ctx context.Context, name, holder string) error {
	_, err := db.Exec(ctx, "DELETE FROM leases WHERE name = ? AND holder = ?", name, holder)
	return err
}
