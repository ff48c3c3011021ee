package search_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/veche/veche/internal/participation"
	"github.com/veche/veche/internal/participation/consultation"
	"github.com/veche/veche/internal/participation/moderation"
	"github.com/veche/veche/internal/participation/participationtest"
	"github.com/veche/veche/internal/participation/petition"
	"github.com/veche/veche/internal/participation/search"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/store/storetest"
)

func kinds(r *search.Results) []string {
	var out []string
	for _, h := range r.Hits {
		out = append(out, h.Kind)
	}
	return out
}

func TestSearchFindsPublicContentAndForgetsErasedAndHiddenText(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := participationtest.New(t, db)
		official, anna, boris := e.Account(t), e.Account(t), e.Account(t)
		p := e.Process(t, official, participation.Eligibility{})
		cs, ps := consultation.New(e.P), petition.New(e.P)
		space, err := cs.Create(ctx, official, consultation.Input{ProcessID: p.ID, PhaseID: p.Phases[0].ID, Title: "Draft plan",
			Document: "Intro\n\n## Дарогі і ровары\n\nВеладарожкі ўздоўж ракі.\n\n## Trees\n\nPlant lindens."})
		if err != nil {
			t.Fatal(err)
		}
		c, err := cs.Post(ctx, anna, space, 0, 0, "Нужны фонари у велодорожки, пожалуйста")
		if err != nil {
			t.Fatal(err)
		}
		pspace, err := ps.CreateSpace(ctx, official, petition.SpaceInput{ProcessID: p.ID, PhaseID: p.Phases[0].ID, Title: "Petitions", Threshold: 2, ResponseDays: 30})
		if err != nil {
			t.Fatal(err)
		}
		pet, err := ps.File(ctx, boris, pspace, petition.Input{Title: "Lanterns on the embankment", Body: "We ask for lanterns"})
		if err != nil {
			t.Fatal(err)
		}
		s := search.New(db, e.P, e.P.Now)
		find := func(q search.Query) *search.Results {
			t.Helper()
			r, err := s.Search(ctx, q)
			if err != nil {
				t.Fatalf("%+v: %v", q, err)
			}
			return r
		}
		if r := find(search.Query{Text: "фонари"}); r.Total != 1 || r.Hits[0].Kind != search.KindComment || r.Hits[0].ID != c.ID {
			t.Fatalf("фонари: %+v", r)
		}
		if r := find(search.Query{Text: "ВЕЛАДАРОЖ"}); r.Total != 1 || r.Hits[0].Kind != search.KindSection { // prefix, any case
			t.Fatalf("веладарож: %+v", r)
		}
		if r := find(search.Query{Text: "lantern"}); r.Total != 1 || r.Hits[0].Kind != search.KindPetition || r.Hits[0].ID != pet.ID {
			t.Fatalf("lantern: %+v", r)
		}
		if r := find(search.Query{Text: "parks"}); !slices.Contains(kinds(r), search.KindProcess) {
			t.Fatalf("parks: %+v", r)
		}
		// Filters.
		if r := find(search.Query{Kind: search.KindSection}); r.Total != 2 {
			t.Fatalf("sections: %d", r.Total)
		}
		if r := find(search.Query{State: "closed"}); r.Total != 0 {
			t.Fatalf("closed: %d", r.Total)
		}
		if r := find(search.Query{Process: p.ID + 100}); r.Total != 0 {
			t.Fatalf("other process: %d", r.Total)
		}
		// Query syntax never reaches the engine.
		for _, q := range []string{`"`, `lantern*`, `NEAR(a b)`, `a OR`, `-x`, `^`, `title:lantern`, `(((`, `'; DROP TABLE x; --`, `&|!:*`} {
			if _, err := s.Search(ctx, search.Query{Text: q}); err != nil {
				t.Errorf("%q: %v", q, err)
			}
		}
		// Snippets mark the words found.
		r := find(search.Query{Text: "lindens"})
		if len(r.Hits) != 1 || !slices.ContainsFunc(r.Hits[0].Snippet, func(g search.Segment) bool { return g.Match && strings.HasPrefix(g.Text, "lindens") }) {
			t.Fatalf("snippet: %+v", r.Hits)
		}
		// Hidden by a moderator: gone from results at once, and from the index.
		if _, err := db.Exec(ctx, "UPDATE petitions SET status = 'hidden' WHERE id = ?", pet.ID); err != nil {
			t.Fatal(err)
		}
		if r := find(search.Query{Text: "lantern"}); r.Total != 0 {
			t.Fatalf("hidden petition found: %+v", r)
		}
		if n, err := s.Prune(ctx); err != nil || n != 1 {
			t.Fatalf("prune: %d %v", n, err)
		}
		// Erasure: the key and the account go in one transaction, and the
		// index rows with them.
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			if err := e.Crypt.Erase(ctx, tx, "account:"+participation.ID(anna)); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "DELETE FROM accounts WHERE id = ?", anna)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if r := find(search.Query{Text: "фонари"}); r.Total != 0 {
			t.Fatalf("erased author's comment found: %+v", r)
		}
		var left int
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM search_documents WHERE body LIKE '%фонари%'").Scan(&left); err != nil || left != 0 {
			t.Fatalf("erased text left in the index: %d %v", left, err)
		}
		if db.Dialect() == store.SQLite {
			var n int
			if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM search_fts WHERE search_fts MATCH '"фонари"'`).Scan(&n); err != nil || n != 0 {
				t.Fatalf("erased text left in FTS5: %d %v", n, err)
			}
		}
		// Reindexing from the sealed content finds the same, erased text excepted.
		n, err := s.Reindex(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n != 3 { // the process and two sections; no erased comment, no hidden petition
			t.Fatalf("reindexed %d", n)
		}
		if r := find(search.Query{Text: "lindens", Sort: search.SortNewest}); r.Total != 1 {
			t.Fatalf("after reindex: %+v", r)
		}
	})
}

func TestTermsAreWordsOnly(t *testing.T) {
	for q, want := range map[string]string{
		`"lantern" OR NEAR(a*b)`: "lantern or near a b",
		`Прывітанне, свет!`:      "прывітанне свет",
		`a a A`:                  "a",
		``:                       "",
	} {
		if got := strings.Join(search.Terms(q), " "); got != want {
			t.Errorf("Terms(%q) = %q, want %q", q, got, want)
		}
	}
}

func FuzzTerms(f *testing.F) {
	f.Add(`"a" NEAR(b) c*`)
	f.Fuzz(func(t *testing.T, q string) {
		for _, w := range search.Terms(q) {
			if strings.ContainsAny(w, "\"*():&|!' ") || w == "" {
				t.Fatalf("term %q", w)
			}
		}
	})
}

func TestModerationHidesAndRestoresIndexEntries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := participationtest.New(t, db)
		official, anna := e.Account(t), e.Account(t)
		p := e.Process(t, official, participation.Eligibility{})
		cs := consultation.New(e.P)
		space, err := cs.Create(ctx, official, consultation.Input{ProcessID: p.ID, PhaseID: p.Phases[0].ID, Title: "Draft", Document: "## One\n\nText."})
		if err != nil {
			t.Fatal(err)
		}
		c, err := cs.Post(ctx, anna, space, 0, 0, "Cobblestones everywhere")
		if err != nil {
			t.Fatal(err)
		}
		mod := moderation.New(e.P)
		s := search.New(db, e.P, e.P.Now)
		count := func() int {
			t.Helper()
			var n int
			if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM search_documents WHERE kind = 'comment' AND body LIKE '%Cobblestones%'").Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if _, err := mod.Decide(ctx, official, moderation.Decision{Kind: moderation.KindComment, ItemID: c.ID, Action: moderation.Hide, PublicReason: "off topic"}); err != nil {
			t.Fatal(err)
		}
		if count() != 0 {
			t.Fatal("a hidden comment's text is still in the index")
		}
		if _, err := mod.Decide(ctx, official, moderation.Decision{Kind: moderation.KindComment, ItemID: c.ID, Action: moderation.Restore, PublicReason: "on topic after all"}); err != nil {
			t.Fatal(err)
		}
		if r, err := s.Search(ctx, search.Query{Text: "cobblestones"}); err != nil || count() != 1 || r.Total != 1 {
			t.Fatalf("a restored comment is not found again: %v", err)
		}
	})
}
