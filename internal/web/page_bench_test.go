package web

import (
	"net/http"
	"testing"

	"github.com/veche/veche/internal/store/storetest"
)

// BenchmarkAccountPage serves /account, a page that shows personal data
// (the sealed address, twice opened per request: once to authenticate,
// once for the page), over TLS on SQLite with a warm key cache. Compare
// with BenchmarkOpen in internal/privacy/fieldcrypt to get the share of
// the page spent decrypting (docs/performance.md).
//
//	go test -run '^$' -bench AccountPage -benchtime 3s ./internal/web/
func BenchmarkAccountPage(b *testing.B) {
	e := newTestEnv(b, storetest.SQLite(b), nil)
	e.createUser("ala@example.org")
	br := e.browser()
	br.signIn("ala@example.org", "")
	if p := br.get("/account"); p.status != http.StatusOK {
		b.Fatalf("account page: %d", p.status)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req, _ := http.NewRequest("GET", e.srv.URL+"/account", nil)
		resp, err := br.c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}
