package web

// The notification pages in the accessibility sweep (a11y_test.go), with
// notifications on the page: one unread and one read for every account.

import (
	"context"
	"sync"

	"github.com/veche/veche/internal/participation/notify"
	"github.com/veche/veche/internal/store"
)

func init() {
	a11yAreaVisits = append(a11yAreaVisits, func(fx *a11yFixture) map[string][]a11yVisit {
		fx.notifyData()
		return map[string][]a11yVisit{
			"/notifications":         {{"/notifications", 200}, {"/notifications?done=read", 200}},
			"/account/notifications": {{"/account/notifications", 200}, {"/account/notifications?done=saved", 200}},
		}
	})
}

var notifyFixtures sync.Map // *a11yFixture -> true

// notifyData gives every account of the fixture two notifications, once.
func (fx *a11yFixture) notifyData() {
	if fx.e == nil {
		return
	}
	if _, done := notifyFixtures.LoadOrStore(fx, true); done {
		return
	}
	ctx := context.Background()
	rows, err := fx.e.db.Query(ctx, "SELECT id FROM accounts")
	if err != nil {
		fx.t.Fatal(err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			fx.t.Fatal(err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	err = fx.e.db.InTx(ctx, func(tx *store.Tx) error {
		for _, id := range ids {
			for _, ev := range []string{"hidden", "restored"} {
				if err := notify.Emit(ctx, tx, notify.Notification{Account: id, Kind: notify.KindModeration, Event: ev, Link: "/processes", At: fx.e.clock()}); err != nil {
					return err
				}
			}
			if _, err := tx.Exec(ctx, "UPDATE notifications SET read_at = created_at WHERE account_id = ? AND event = 'restored'", id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		fx.t.Fatal(err)
	}
}
