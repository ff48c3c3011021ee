package privacy_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/veche/veche/internal/i18n"
	"github.com/veche/veche/internal/identity"
	"github.com/veche/veche/internal/privacy"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/store/storetest"
)

// columns lists every table.column of the migrated schema.
func columns(t *testing.T, db *store.DB) []string {
	t.Helper()
	ctx := context.Background()
	var q string
	if db.Dialect() == store.Postgres {
		q = `SELECT table_name || '.' || column_name FROM information_schema.columns WHERE table_schema = current_schema()`
	} else {
		q = `SELECT m.name || '.' || p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
			WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'`
	}
	rows, err := db.Query(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		rows.Scan(&c)
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// TestEveryColumnIsDeclared fails when a migration adds a column that the
// registry neither declares as personal data nor lists as not personal.
func TestEveryColumnIsDeclared(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		declared := map[string]string{}
		for _, f := range privacy.Fields {
			declared[f.Table+"."+f.Column] = "personal"
		}
		for _, n := range privacy.NotPersonalColumns {
			declared[n.Table+"."+n.Column] = "not personal"
		}
		seen := map[string]bool{}
		for _, c := range columns(t, db) {
			table := c[:strings.IndexByte(c, '.')]
			seen[c], seen[table+".*"] = true, true
			if declared[c] == "" && declared[table+".*"] == "" {
				t.Errorf("column %s is not in the privacy registry (internal/privacy/datamap.go): declare it in Fields with its purpose, "+
					"retention and readers, or in NotPersonalColumns with the reason it holds no personal data", c)
			}
		}
		for k := range declared {
			if !seen[k] {
				t.Errorf("the registry declares %s, which is not in the schema", k)
			}
		}
	})
}

func TestRegistryIsConsistent(t *testing.T) {
	used := map[string]bool{}
	for _, f := range privacy.Fields {
		if _, ok := privacy.PurposeByID(f.Purpose); !ok {
			t.Errorf("%s.%s: unknown purpose %q", f.Table, f.Column, f.Purpose)
		}
		used[f.Purpose] = true
		for _, r := range f.Readers {
			if _, ok := identity.ParseRole(r); !ok {
				t.Errorf("%s.%s: unknown reader role %q", f.Table, f.Column, r)
			}
		}
		if f.Retention.After == "" || (f.Retention.Action != privacy.Delete && f.Retention.Action != privacy.Anonymise) {
			t.Errorf("%s.%s: incomplete retention rule %+v", f.Table, f.Column, f.Retention)
		}
	}
	declared := map[string]bool{}
	for _, f := range privacy.Fields {
		declared[f.Table+"."+f.Column] = true
	}
	for _, p := range privacy.Purposes {
		if !used[p.ID] && len(p.Uses) == 0 {
			t.Errorf("purpose %q has no fields and uses none", p.ID)
		}
		for _, u := range p.Uses {
			if !declared[u] {
				t.Errorf("purpose %q uses %s, which is not a declared personal field", p.ID, u)
			}
		}
		if !slices.Contains(privacy.Bases, p.Basis) {
			t.Errorf("purpose %q: unknown basis %q", p.ID, p.Basis)
		}
	}
}

// TestNoticeVersionMatchesRegistry makes every change to the registry
// publish a new notice version with a change summary.
func TestNoticeVersionMatchesRegistry(t *testing.T) {
	cur := privacy.CurrentNotice()
	if got := privacy.Digest(); cur.Digest != got {
		t.Fatalf("the privacy registry changed (digest %s) but the latest notice version %d describes %s: "+
			"add a NoticeVersion with the new digest, the date and a change summary (privacy.notice.v%d.changes) in all three languages",
			got, cur.Version, cur.Digest, cur.Version+1)
	}
	for i, v := range privacy.NoticeVersions {
		if v.Version != i+1 {
			t.Errorf("notice version %d at position %d", v.Version, i)
		}
		if _, err := time.Parse("2006-01-02", v.Date); err != nil {
			t.Errorf("notice version %d: date %q", v.Version, v.Date)
		}
	}
}

// TestEveryRegistryTextIsTranslated checks that the notice can be shown
// in every language (the i18n test checks be and ru have every en key).
func TestEveryRegistryTextIsTranslated(t *testing.T) {
	var keys []string
	for _, p := range privacy.Purposes {
		keys = append(keys, "privacy.purpose."+p.ID+".name", "privacy.purpose."+p.ID+".desc", "privacy.basis."+string(p.Basis))
		for _, s := range p.Subjects {
			keys = append(keys, "privacy.subjects."+string(s))
		}
		for _, r := range privacy.RightsFor(p.Basis) {
			keys = append(keys, fmt.Sprintf("privacy.right.%s.%s", r.Right, r.Reason))
		}
	}
	for _, f := range privacy.Fields {
		keys = append(keys, "privacy.category."+string(f.Category), f.Retention.Record().EventKey(), "privacy.action."+string(f.Retention.Action))
	}
	for _, r := range privacy.AllRights {
		keys = append(keys, "privacy.right."+string(r))
	}
	for _, v := range privacy.NoticeVersions {
		keys = append(keys, v.Changes)
	}
	keys = append(keys, privacy.SecurityMeasures...)
	for _, k := range keys {
		if !i18n.Has(k) {
			t.Errorf("catalog key %q is missing", k)
		}
	}
}

func TestRightsFollowTheLawfulBasis(t *testing.T) {
	applies := func(b privacy.Basis, r privacy.Right) bool {
		for _, s := range privacy.RightsFor(b) {
			if s.Right == r {
				return s.Applies
			}
		}
		t.Fatalf("no status for %s", r)
		return false
	}
	tests := []struct {
		basis privacy.Basis
		right privacy.Right
		want  bool
	}{
		{privacy.PublicTask, privacy.RightPortability, false},
		{privacy.Consent, privacy.RightPortability, true},
		{privacy.Contract, privacy.RightPortability, true},
		{privacy.PublicTask, privacy.RightObjection, true},
		{privacy.LegalObligation, privacy.RightObjection, false},
		{privacy.Consent, privacy.RightObjection, false},
		{privacy.PublicTask, privacy.RightErasure, false},
		{privacy.Consent, privacy.RightErasure, true},
		{privacy.Consent, privacy.RightWithdraw, true},
		{privacy.PublicTask, privacy.RightWithdraw, false},
		{privacy.LegalObligation, privacy.RightAccess, true},
	}
	for _, tt := range tests {
		if got := applies(tt.basis, tt.right); got != tt.want {
			t.Errorf("%s under %s: applies=%v, want %v", tt.right, tt.basis, got, tt.want)
		}
	}
}

func TestRecordListsEveryPurposeAndField(t *testing.T) {
	r := privacy.BuildRecord(privacy.Controller{Name: "City of Polotsk"}, time.Now())
	if len(r.Activities) != len(privacy.Purposes) {
		t.Fatalf("%d activities for %d purposes", len(r.Activities), len(privacy.Purposes))
	}
	want := len(privacy.Fields) // every own field, plus each purpose's used ones
	for _, p := range privacy.Purposes {
		want += len(p.Uses)
	}
	n := 0
	for _, a := range r.Activities {
		n += len(a.Fields)
		if len(a.DataCategories) == 0 || len(a.Retention) == 0 {
			t.Errorf("%s: empty categories or retention", a.Purpose)
		}
	}
	if n != want {
		t.Fatalf("record lists %d fields, registry has %d", n, want)
	}
}

// TestConsentGivenBeforeAMaterialChangeMustBeRenewed: a consent recorded
// under an older notice, when a later version is marked material, no
// longer counts until the person gives it again; a change that is not
// material asks nobody again.
func TestConsentGivenBeforeAMaterialChangeMustBeRenewed(t *testing.T) {
	cur := privacy.CurrentNotice().Version
	material := 0 // the latest material version
	for _, v := range privacy.NoticeVersions {
		if v.Material {
			material = v.Version
		}
	}
	if material < 2 {
		t.Fatalf("the test needs a material version after v1, latest is v%d", material)
	}
	tests := []struct {
		rec  privacy.ConsentRecord
		want bool
	}{
		{privacy.ConsentRecord{State: privacy.ConsentGiven, NoticeVersion: cur}, false},
		{privacy.ConsentRecord{State: privacy.ConsentGiven, NoticeVersion: material - 1}, true},
		{privacy.ConsentRecord{State: privacy.ConsentGiven, NoticeVersion: material}, false},
		{privacy.ConsentRecord{State: privacy.ConsentWithdrawn, NoticeVersion: material - 1}, false},
	}
	for _, tt := range tests {
		if got := privacy.NeedsRenewal(tt.rec); got != tt.want {
			t.Errorf("NeedsRenewal(%+v) = %v, want %v", tt.rec, got, tt.want)
		}
	}
}
