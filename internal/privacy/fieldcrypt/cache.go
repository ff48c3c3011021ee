package fieldcrypt

import (
	"container/list"
	"sync"
	"time"

	"github.com/tink-crypto/tink-go/v2/tink"

	"github.com/veche/veche/internal/store"
)

// dekCache holds unwrapped data keys (tink AEAD primitives) by subject for
// a short time, least recently used first out, so that a remote keyring is
// not called per field.
//
// Two rules keep it from ever serving a key the database does not hold:
//
//   - a key learned inside a transaction belongs to that transaction
//     (owner) until it commits, so a key created by a transaction that
//     rolls back is never used by anyone else;
//   - every invalidation bumps epoch, and a key read before an
//     invalidation is not stored (or not committed) after it, so a read
//     racing an erasure cannot put the erased key back.
type dekCache struct {
	ttl  time.Duration
	size int
	now  func() time.Time

	mu    sync.Mutex
	epoch uint64
	items map[string]*list.Element // of *dekEntry
	lru   *list.List               // front = most recently used
}

type dekEntry struct {
	subject string
	aead    tink.AEAD
	expires time.Time
	owner   *store.Tx // nil once committed
	epoch   uint64
}

func newDEKCache(ttl time.Duration, size int, now func() time.Time) *dekCache {
	return &dekCache{ttl: ttl, size: size, now: now, items: map[string]*list.Element{}, lru: list.New()}
}

// get returns the cached key of subject usable by tx (nil: outside any
// transaction).
func (c *dekCache) get(subject string, tx *store.Tx) tink.AEAD {
	if c.size <= 0 {
		return nil
	}
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[subject]
	if !ok {
		return nil
	}
	e := el.Value.(*dekEntry)
	if now.After(e.expires) {
		c.remove(el)
		return nil
	}
	if e.owner != nil && e.owner != tx {
		return nil
	}
	c.lru.MoveToFront(el)
	return e.aead
}

// currentEpoch is read before loading a key from the database.
func (c *dekCache) currentEpoch() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.epoch
}

// put stores a key loaded at epoch; with a non-nil owner it is private to
// that transaction until commit is called.
func (c *dekCache) put(subject string, a tink.AEAD, owner *store.Tx, epoch uint64) *dekEntry {
	if c.size <= 0 {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if epoch != c.epoch {
		return nil
	}
	e := &dekEntry{subject: subject, aead: a, expires: c.now().Add(c.ttl), owner: owner, epoch: epoch}
	if el, ok := c.items[subject]; ok {
		old := el.Value.(*dekEntry)
		if old.owner == nil && owner != nil {
			return nil // a committed entry serves the transaction as well
		}
		el.Value = e
		c.lru.MoveToFront(el)
		return e
	}
	c.items[subject] = c.lru.PushFront(e)
	for c.lru.Len() > c.size {
		c.remove(c.lru.Back())
	}
	return e
}

// commit makes a transaction's entry visible to all, unless the subject
// was invalidated since it was loaded.
func (c *dekCache) commit(e *dekEntry) {
	if e == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[e.subject]
	if !ok || el.Value.(*dekEntry) != e {
		return
	}
	if e.epoch != c.epoch {
		c.remove(el)
		return
	}
	e.owner = nil
}

// invalidate forgets the keys of subjects.
func (c *dekCache) invalidate(subjects ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	for _, s := range subjects {
		if el, ok := c.items[s]; ok {
			c.remove(el)
		}
	}
}

func (c *dekCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

func (c *dekCache) remove(el *list.Element) {
	c.lru.Remove(el)
	delete(c.items, el.Value.(*dekEntry).subject)
}
