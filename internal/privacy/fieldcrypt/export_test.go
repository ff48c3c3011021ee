package fieldcrypt

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/store/storetest"
)

func TestExportImportKeepsErasedSubjectsErased(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		kr := newLocal(t)
		s := New(db, kr, nil, Options{})
		ctA := seal(t, s, "account:1", email, "a@example.org")
		ctB := seal(t, s, "account:2", email, "b@example.org")
		erase(t, s, "account:2")
		var exp bytes.Buffer
		if err := ExportKeys(ctx, db, &exp); err != nil {
			t.Fatal(err)
		}
		// No data key leaves in clear: the export opens only with the KEK.
		if strings.Contains(exp.String(), "a@example.org") {
			t.Fatal("export holds a plaintext")
		}
		for _, k := range [][]byte{rawDEK(t, s, "account:1")} {
			if bytes.Contains(exp.Bytes(), k) {
				t.Fatal("export holds a raw data key")
			}
		}

		// Restore into an empty database (a restore from backup).
		fresh := storetest.SQLite(t)
		if err := ImportKeys(ctx, fresh, bytes.NewReader(exp.Bytes())); err != nil {
			t.Fatal(err)
		}
		r := New(fresh, kr, nil, Options{})
		if got, err := r.Open(ctx, "account:1", email, ctA); err != nil || string(got) != "a@example.org" {
			t.Fatalf("after import: %q, %v", got, err)
		}
		if _, err := r.Open(ctx, "account:2", email, ctB); !errors.Is(err, ErrErased) {
			t.Fatalf("erased subject after import: %v; want ErrErased", err)
		}

		// An old export (taken before an erasure) never brings a person back.
		var old bytes.Buffer
		if err := ExportKeys(ctx, fresh, &old); err != nil {
			t.Fatal(err)
		}
		erase(t, s, "account:1")
		if err := ImportKeys(ctx, db, bytes.NewReader(old.Bytes())); err != nil {
			t.Fatal(err)
		}
		if _, err := New(db, kr, nil, Options{}).Open(ctx, "account:1", email, ctA); !errors.Is(err, ErrErased) {
			t.Fatalf("re-imported old export un-erased account:1: %v", err)
		}
		// An export's erasure marker erases in the target.
		if err := ImportKeys(ctx, fresh, bytes.NewReader(exp.Bytes())); err != nil {
			t.Fatal(err)
		}
		if ok, _ := r.Erased(ctx, "account:2"); !ok {
			t.Fatal("marker lost")
		}

		// A malformed export changes nothing.
		bad := strings.Replace(exp.String(), `"subject":"account:2"`, `"subject":""`, 1)
		other := storetest.SQLite(t)
		if err := ImportKeys(ctx, other, strings.NewReader(bad)); err == nil {
			t.Fatal("import of a malformed export succeeded")
		}
		if err := ImportKeys(ctx, other, strings.NewReader("{}\n")); err == nil {
			t.Fatal("import without header succeeded")
		}
		var n int
		other.QueryRow(ctx, "SELECT COUNT(*) FROM subject_keys").Scan(&n)
		if n != 0 {
			t.Fatalf("a failed import left %d rows", n)
		}
	})
}
