package web

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/veche/veche/internal/identity"
	"github.com/veche/veche/internal/privacy"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/store/storetest"
)

// TestPrivacyNoticeIsPublicAndInEveryLanguage renders /privacy for an
// anonymous visitor in each language: every purpose, its lawful basis and
// the rights that do not apply, with the reason, are on the page.
func TestPrivacyNoticeIsPublicAndInEveryLanguage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db, nil)
		e.web.Controller = privacy.Controller{Name: "City of Polotsk", DPOContact: "dpo@polotsk.example"}
		for _, lang := range []string{"en", "be", "ru"} {
			b := e.browser()
			b.header.Set("Accept-Language", lang)
			p := b.get("/privacy")
			if p.status != http.StatusOK {
				t.Fatalf("%s: /privacy = %d", lang, p.status)
			}
			for _, want := range []string{`<html lang="` + lang + `">`, "City of Polotsk", "dpo@polotsk.example", `id="purpose-account"`, `id="purpose-security"`} {
				if !strings.Contains(p.body, want) {
					t.Errorf("%s: notice lacks %q", lang, want)
				}
			}
			if strings.Contains(p.body, "privacy.") {
				i := strings.Index(p.body, "privacy.")
				t.Errorf("%s: an untranslated key on the page: %q", lang, p.body[i:min(len(p.body), i+60)])
			}
		}
		p := e.browser().get("/privacy")
		// Portability does not apply to public-task processing, and the
		// page says so plainly.
		if !strings.Contains(p.body, "Does not apply") || !strings.Contains(p.body, "Article 20(1)") {
			t.Error("the notice does not say that portability does not apply and why")
		}
	})
}

func TestProcessingRecordIsForTheDPO(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db, nil)
		e.web.Controller = privacy.Controller{Name: "City of Polotsk"}
		e.createUser("dpo@example.org", identity.RoleDPO)
		e.createUser("citizen@example.org")

		dpo := e.browser()
		dpo.signIn("dpo@example.org", "")
		dpo.enableMFA()
		if p := dpo.get("/privacy/record"); p.status != http.StatusOK || !strings.Contains(p.body, "accounts.email") {
			t.Fatalf("DPO record page: %d", p.status)
		}
		a := e.api()
		a.signIn("citizen@example.org", "")
		if st, _, _ := a.call("GET", "/api/v1/privacy/record", nil); st != http.StatusForbidden {
			t.Fatalf("citizen reading the record: %d, want 403", st)
		}

		// The JSON record, read by the DPO through the API.
		req, _ := http.NewRequest("GET", e.srv.URL+"/api/v1/privacy/record", nil)
		resp, err := dpo.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var rec privacy.Record
		if err := json.NewDecoder(resp.Body).Decode(&rec); err != nil || resp.StatusCode != 200 {
			t.Fatalf("JSON record: %d %v", resp.StatusCode, err)
		}
		if rec.Controller.Name != "City of Polotsk" || len(rec.Activities) != len(privacy.Purposes) || rec.Digest != privacy.Digest() {
			t.Fatalf("record %+v", rec)
		}
	})
}
