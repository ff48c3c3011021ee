package mail

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/veche/veche/internal/privacy/fieldcrypt"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/store/storetest"
)

// crypt returns a real per-person sealer on db, keys in a temp dir.
func crypt(t *testing.T, db *store.DB) *fieldcrypt.Service {
	t.Helper()
	kr, err := fieldcrypt.OpenLocalKeyring(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return fieldcrypt.New(db, kr, make([]byte, 32), fieldcrypt.Options{})
}

type failingSender struct{ calls int }

func (f *failingSender) Send(context.Context, string, Message) error {
	f.calls++
	return errors.New("relay down")
}

func TestOutboxSendsOnlyCommittedMessages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		mem := &MemorySender{}
		c := crypt(t, db)
		d := &Dispatcher{DB: db, Crypt: c, Sender: mem, From: "veche <noreply@veche.test>", Holder: "n1", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
		db.InTx(ctx, func(tx *store.Tx) error {
			return Enqueue(ctx, tx, c, "account:1", Message{To: "a@example.org", Subject: "kept", Body: "hi"})
		})
		db.InTx(ctx, func(tx *store.Tx) error {
			Enqueue(ctx, tx, c, "account:2", Message{To: "b@example.org", Subject: "rolled back", Body: "hi"})
			return errors.New("abort")
		})
		n, err := d.Flush(ctx)
		if err != nil || n != 1 {
			t.Fatalf("Flush = %d, %v; want 1 message", n, err)
		}
		if got := mem.Messages(); len(got) != 1 || got[0].Subject != "kept" {
			t.Fatalf("sent %+v", got)
		}
		if n, _ := d.Flush(ctx); n != 0 {
			t.Fatalf("second flush sent %d again", n)
		}
	})
}

func TestFailedSendIsRetriedLater(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := &failingSender{}
		c := crypt(t, db)
		d := &Dispatcher{DB: db, Crypt: c, Sender: f, From: "x@veche.test", Holder: "n1", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
		db.InTx(ctx, func(tx *store.Tx) error {
			return Enqueue(ctx, tx, c, "account:1", Message{To: "a@example.org", Subject: "s", Body: "b"})
		})
		d.Flush(ctx)
		d.Flush(ctx) // not due yet: backoff
		if f.calls != 1 {
			t.Fatalf("sender called %d times, want 1 (retry must wait)", f.calls)
		}
		var attempts int
		db.QueryRow(ctx, "SELECT attempts FROM mail_outbox").Scan(&attempts)
		if attempts != 1 {
			t.Fatalf("attempts = %d, want 1", attempts)
		}
	})
}

func TestEnqueueRefusesHeaderInjection(t *testing.T) {
	db := storetest.SQLite(t)
	ctx := context.Background()
	err := db.InTx(ctx, func(tx *store.Tx) error {
		return Enqueue(ctx, tx, crypt(t, db), "account:1", Message{To: "a@example.org\r\nBcc: victim@example.org", Subject: "s"})
	})
	if err == nil {
		t.Fatal("recipient with a line break was queued")
	}
}

func TestFileSenderWritesReadableMessage(t *testing.T) {
	dir := t.TempDir()
	s := &FileSender{Dir: dir}
	if err := s.Send(context.Background(), "veche <noreply@veche.test>", Message{To: "a@example.org", Subject: "Пацвердзіце адрас", Body: "line1\nline2"}); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("%d files", len(entries))
	}
	b, _ := os.ReadFile(dir + "/" + entries[0].Name())
	for _, want := range []string{"To: a@example.org\r\n", "Subject: =?utf-8?q?", "\r\n\r\nline1\r\nline2"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("message lacks %q:\n%s", want, b)
		}
	}
}

func TestQueuedMailIsSealedAndDroppedWhenThePersonIsErased(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := crypt(t, db)
		mem := &MemorySender{}
		d := &Dispatcher{DB: db, Crypt: c, Sender: mem, From: "x@veche.test", Holder: "n1", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
		for _, who := range []string{"account:1", "account:2"} {
			if err := db.InTx(ctx, func(tx *store.Tx) error {
				return Enqueue(ctx, tx, c, who, Message{To: who + "@example.org", Subject: "s", Body: "secret body"})
			}); err != nil {
				t.Fatal(err)
			}
		}
		var clear int
		db.QueryRow(ctx, "SELECT COUNT(*) FROM mail_outbox WHERE recipient <> '' OR body <> ''").Scan(&clear)
		if clear != 0 {
			t.Fatalf("%d queued messages stored in clear", clear)
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return c.Erase(ctx, tx, "account:2") }); err != nil {
			t.Fatal(err)
		}
		d.Flush(ctx)
		got := mem.Messages()
		if len(got) != 1 || got[0].To != "account:1@example.org" || got[0].Body != "secret body" {
			t.Fatalf("sent %+v; want only the message to the person not erased", got)
		}
		var left int
		db.QueryRow(ctx, "SELECT COUNT(*) FROM mail_outbox").Scan(&left)
		if left != 0 {
			t.Fatalf("%d messages left in the queue", left)
		}
	})
}
