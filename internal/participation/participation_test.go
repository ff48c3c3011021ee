package participation_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/veche/veche/internal/participation"
	"github.com/veche/veche/internal/participation/participationtest"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/store/storetest"
	"github.com/veche/veche/internal/validate"
)

func censusFile(key []byte, rows ...string) string {
	var raw strings.Builder
	raw.WriteString("identity_number,district,birth_year\n")
	for _, r := range rows {
		raw.WriteString(r + "\n")
	}
	var out bytes.Buffer
	if _, err := participation.HashCensus(&out, strings.NewReader(raw.String()), key); err != nil {
		panic(err)
	}
	return out.String()
}

func TestCreateProcessRefusesBadInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := participationtest.New(t, db)
		ctx := context.Background()
		official := e.Account(t)
		ok := participation.PhaseInput{Name: "Ideas", Starts: e.Now, Ends: e.Now.Add(time.Hour)}
		tests := []struct {
			name  string
			in    participation.ProcessInput
			field string
		}{
			{"no title", participation.ProcessInput{Phases: []participation.PhaseInput{ok}}, "title"},
			{"no phases", participation.ProcessInput{Title: "T"}, "phases"},
			{"ends before start", participation.ProcessInput{Title: "T", Phases: []participation.PhaseInput{{Name: "x", Starts: e.Now, Ends: e.Now.Add(-time.Hour)}}}, "phases.0.ends"},
			{"phase without name", participation.ProcessInput{Title: "T", Phases: []participation.PhaseInput{{Starts: e.Now, Ends: e.Now.Add(time.Hour)}}}, "phases.0.name"},
			{"age out of range", participation.ProcessInput{Title: "T", Phases: []participation.PhaseInput{ok}, Eligibility: participation.Eligibility{MinAge: 300}}, "eligibility.min_age"},
			{"oversized title", participation.ProcessInput{Title: strings.Repeat("x", participation.MaxTitle+1), Phases: []participation.PhaseInput{ok}}, "title"},
		}
		for _, tt := range tests {
			_, err := e.P.CreateProcess(ctx, official, tt.in)
			var v validate.Errors
			if !errors.As(err, &v) {
				t.Fatalf("%s: err = %v, want validation errors", tt.name, err)
			}
			if _, ok := v.Field(tt.field); !ok {
				t.Errorf("%s: errors %v do not name %s", tt.name, v, tt.field)
			}
		}
		list, err := e.P.Processes(ctx)
		if err != nil || len(list) != 0 {
			t.Fatalf("refused processes were stored: %v %v", list, err)
		}
	})
}

func TestGateChecksThePhaseAtTheMomentOfActing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := participationtest.New(t, db)
		ctx := context.Background()
		official, citizen := e.Account(t), e.Account(t)
		p, err := e.P.CreateProcess(ctx, official, participation.ProcessInput{Title: "Budget 2027", Phases: []participation.PhaseInput{
			{Name: "Ideas", Starts: e.Now.Add(time.Hour), Ends: e.Now.Add(2 * time.Hour)}}})
		if err != nil {
			t.Fatal(err)
		}
		var space int64
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			space, err = e.P.AddSpace(ctx, tx, official, p.ID, participation.SpaceInput{Kind: participation.KindSurvey, Title: "Survey", PhaseID: p.Phases[0].ID})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		gate := func() error {
			return db.InTx(ctx, func(tx *store.Tx) error {
				_, err := e.P.Gate(ctx, tx, participation.KindSurvey, space, citizen)
				return err
			})
		}
		var pe *participation.PhaseError
		if err := gate(); !errors.As(err, &pe) || pe.State != participation.Upcoming {
			t.Fatalf("before the phase: %v, want upcoming", err)
		}
		e.Now = e.Now.Add(90 * time.Minute)
		if err := gate(); err != nil {
			t.Fatalf("during the phase: %v", err)
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			_, err := e.P.Gate(ctx, tx, participation.KindBudget, space, citizen)
			return err
		}); !errors.Is(err, participation.ErrNotFound) {
			t.Errorf("gate with the wrong kind: %v, want not found", err)
		}
		if err := e.P.CloseSpace(ctx, official, space); err != nil {
			t.Fatal(err)
		}
		if err := gate(); !errors.As(err, &pe) || pe.State != participation.Closed {
			t.Fatalf("after an early close: %v, want closed", err)
		}
	})
}

func TestEligibilityFollowsTheCensusNow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := participationtest.New(t, db)
		ctx := context.Background()
		official, anna, boris, kid := e.Account(t), e.Account(t), e.Account(t), e.Account(t)
		file := censusFile(e.CensusKey, "3010190A001PB1,Centre,1990", "3020285B002PB2,North,1985", "5010115C003PB3,Centre,2015")
		if _, err := e.P.ImportCensus(ctx, official, strings.NewReader(file)); err != nil {
			t.Fatal(err)
		}
		p := e.Process(t, official, participation.Eligibility{Districts: []string{"Centre"}, MinAge: 16})
		reason := func(account int64) string {
			err := e.P.CheckEligibility(ctx, p.ID, account)
			var ne *participation.NotEligibleError
			if errors.As(err, &ne) {
				return ne.Reason
			}
			if err != nil {
				t.Fatal(err)
			}
			return ""
		}
		if r := reason(anna); r != participation.ReasonResidentRequired {
			t.Errorf("unverified: reason %q", r)
		}
		if _, err := e.P.VerifyResidence(ctx, anna, "3010190-a001pb1", 1991); !errors.Is(err, participation.ErrNotInCensus) {
			t.Errorf("wrong birth year: %v, want not in census", err)
		}
		if _, err := e.P.VerifyResidence(ctx, anna, "3010190 A001PB1", 1990); err != nil {
			t.Fatalf("verify: %v", err)
		}
		if _, err := e.P.VerifyResidence(ctx, boris, "3010190A001PB1", 1990); !errors.Is(err, participation.ErrAlreadyClaimed) {
			t.Errorf("second claim of one entry: %v, want already claimed", err)
		}
		if _, err := e.P.VerifyResidence(ctx, boris, "3020285B002PB2", 1985); err != nil {
			t.Fatal(err)
		}
		if _, err := e.P.VerifyResidence(ctx, kid, "5010115C003PB3", 2015); err != nil {
			t.Fatal(err)
		}
		if r := reason(anna); r != "" {
			t.Errorf("resident of Centre: reason %q", r)
		}
		if r := reason(boris); r != participation.ReasonDistrict {
			t.Errorf("resident of North: reason %q", r)
		}
		if r := reason(kid); r != participation.ReasonAge {
			t.Errorf("12-year-old: reason %q", r)
		}
		// A new census without Anna: she stays linked but is no longer eligible.
		if _, err := e.P.ImportCensus(ctx, official, strings.NewReader(censusFile(e.CensusKey, "3020285B002PB2,Centre,1985"))); err != nil {
			t.Fatal(err)
		}
		if r := reason(anna); r != participation.ReasonNotInCensus {
			t.Errorf("removed from the census: reason %q", r)
		}
		if r := reason(boris); r != "" {
			t.Errorf("moved to Centre: reason %q", r)
		}
		// No identity number is stored anywhere.
		for _, table := range []string{"census_entries", "residents"} {
			rows, err := db.Query(ctx, "SELECT * FROM "+table)
			if err != nil {
				t.Fatal(err)
			}
			cols, _ := rows.Columns()
			for rows.Next() {
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				rows.Scan(ptrs...)
				for _, v := range vals {
					s := strings.ToUpper(string(toBytes(v)))
					if strings.Contains(s, "3020285B002PB2") || strings.Contains(s, "3010190A001PB1") {
						t.Errorf("%s holds an identity number in clear", table)
					}
				}
			}
			rows.Close()
		}
	})
}

func toBytes(v any) []byte {
	switch x := v.(type) {
	case []byte:
		return x
	case string:
		return []byte(x)
	}
	return nil
}

func TestImportCensusRefusesBadFilesAndKeepsTheOldOne(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := participationtest.New(t, db)
		ctx := context.Background()
		official := e.Account(t)
		good := censusFile(e.CensusKey, "3010190A001PB1,Centre,1990")
		if _, err := e.P.ImportCensus(ctx, official, strings.NewReader(good)); err != nil {
			t.Fatal(err)
		}
		h := hex.EncodeToString(participation.CensusHash(e.CensusKey, "X1234"))
		tests := []struct{ name, file, want string }{
			{"empty", "", "empty"},
			{"raw identity numbers", "identity_number,district,birth_year\n3010190A001PB1,Centre,1990\n", "header"},
			{"short hash", "hash,district,birth_year\nabcd,Centre,1990\n", "line 2"},
			{"upper-case hash", "hash,district,birth_year\n" + strings.ToUpper(h) + ",Centre,1990\n", "line 2"},
			{"bad year", "hash,district,birth_year\n" + h + ",Centre,nineteen\n", "birth year"},
			{"duplicate", "hash,district,birth_year\n" + h + ",Centre,1990\n" + h + ",North,1990\n", "line 3"},
			{"missing field", "hash,district,birth_year\n" + h + ",Centre\n", "line 2"},
		}
		for _, tt := range tests {
			_, err := e.P.ImportCensus(ctx, official, strings.NewReader(tt.file))
			var ce *participation.CensusError
			if !errors.As(err, &ce) || !errors.Is(err, validate.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s: err = %v, want a census error mentioning %q", tt.name, err, tt.want)
			}
		}
		var n int
		db.QueryRow(ctx, "SELECT COUNT(*) FROM census_entries").Scan(&n)
		if n != 1 {
			t.Errorf("after refused imports the census has %d entries, want the 1 of the last good import", n)
		}
	})
}

func FuzzImportCensus(f *testing.F) {
	f.Add("hash,district,birth_year\n" + strings.Repeat("a", 64) + ",Centre,1990\n")
	f.Add("hash,district,birth_year\n\"x\n")
	db := storetest.SQLite(f)
	e := participationtest.New(f, db)
	official := e.Account(f)
	f.Fuzz(func(t *testing.T, file string) {
		_, err := e.P.ImportCensus(context.Background(), official, strings.NewReader(file))
		if err != nil && !errors.Is(err, validate.ErrInvalid) {
			t.Fatalf("a bad file must be refused as bad input, got %v", err)
		}
	})
}

func TestNormalizeIdentityNumber(t *testing.T) {
	for in, want := range map[string]string{"3010190a001pb1": "3010190A001PB1", " 301-0190 A001PB1 ": "3010190A001PB1", "ab1": "", "30101;DROP": "", "АБВГ1234": ""} {
		got, err := participation.NormalizeIdentityNumber(in)
		if (err != nil) != (want == "") || got != want {
			t.Errorf("Normalize(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
