package opendata

import (
	"context"
	"fmt"
	"math/big"
	"time"

	"github.com/veche/veche/internal/i18n"
	"github.com/veche/veche/internal/privacy/anonymize"
	"github.com/veche/veche/internal/privacy/anonymize/synthetic"
	"github.com/veche/veche/internal/privacy/dp"
	"github.com/veche/veche/internal/secops"
	"github.com/veche/veche/internal/store"
)

// Default returns the registry of the datasets veche publishes. Later
// datasets (petitions signed per district, comments per consultation) are
// added here.
func Default() *Registry {
	r := &Registry{}
	r.MustRegister(AccountsByMonth())
	r.MustRegister(SecurityEventsByDay())
	return r
}

// Months of new accounts published, and days of security events.
const (
	accountMonths = 24
	eventDays     = 90
	// eventsPerContributorDay bounds what one contributor (an account, or
	// an address when there is none) adds to one day's counts.
	eventsPerContributorDay = 3
)

// defaultBudget is a dataset's lifetime budget: 8 releases at ε = 0.5.
func defaultBudget() dp.Cost {
	return dp.Cost{Epsilon: big.NewRat(4, 1), Delta: big.NewRat(1, 1_000_000)}
}

// AccountsByMonth is the number of accounts created per calendar month and
// interface language.
func AccountsByMonth() Dataset {
	return Dataset{
		Name:  "accounts-by-month",
		Title: "New accounts per month and language",
		Description: "How many people created an account on the platform in each calendar month, by the language they " +
			"chose for the interface. Counts carry differentially private noise.",
		Columns: []ColumnDoc{
			{Name: "month", Description: "calendar month (UTC) in which the accounts were created", Type: "month (YYYY-MM)", Role: anonymize.Other},
			{Name: "locale", Description: "interface language: be, ru, en, or other (none chosen)", Type: "string", Role: anonymize.Other},
			{Name: "count", Description: "number of accounts created, with noise; can be negative", Unit: "accounts", Type: "integer", Role: anonymize.Other},
		},
		Aggregates: &Aggregates{
			Count:        countAccounts,
			Sensitivity:  1,
			PrivacyUnit:  "one account: it is counted in exactly one cell, so adding or removing it changes one count by 1",
			Epsilon:      big.NewRat(1, 2),
			Budget:       defaultBudget(),
			ReleaseDelta: big.NewRat(1, 10_000_000),
		},
	}
}

func monthStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

func countAccounts(ctx context.Context, db *store.DB, now time.Time) (Counts, error) {
	end := monthStart(now)
	start := end.AddDate(0, -accountMonths, 0)
	locales := []string{}
	for _, l := range i18n.Langs {
		locales = append(locales, string(l))
	}
	locales = append(locales, "other")
	c := Counts{KeyColumns: []string{"month", "locale"},
		Window: fmt.Sprintf("the %d whole months from %s to %s (UTC)", accountMonths, start.Format("2006-01"), end.AddDate(0, -1, 0).Format("2006-01"))}
	cell := map[string]int{}
	for m := start; m.Before(end); m = m.AddDate(0, 1, 0) {
		for _, l := range locales {
			cell[m.Format("2006-01")+"\x00"+l] = len(c.Keys)
			c.Keys = append(c.Keys, []string{m.Format("2006-01"), l})
		}
	}
	c.Values = make([]int64, len(c.Keys))
	rows, err := db.Query(ctx, "SELECT created_at, locale FROM accounts WHERE created_at >= ? AND created_at < ?",
		store.Micros(start), store.Micros(end))
	if err != nil {
		return c, fmt.Errorf("opendata: read accounts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var at int64
		var locale string
		if err := rows.Scan(&at, &locale); err != nil {
			return c, err
		}
		month := store.FromMicros(at).Format("2006-01")
		i, ok := cell[month+"\x00"+locale]
		if !ok { // no language chosen, or one the grid does not list
			i, ok = cell[month+"\x00other"]
		}
		if ok {
			c.Values[i]++
		}
	}
	return c, rows.Err()
}

// eventKinds are the published kinds; others are counted as "other".
var eventKinds = []secops.EventKind{secops.SignInFailed, secops.MFAFailed, secops.ReauthFailed, secops.RateLimited,
	secops.PermissionDenied, secops.CrossOrigin, secops.TokenInvalid}

// SecurityEventsByDay is the number of security events per day and kind.
func SecurityEventsByDay() Dataset {
	return Dataset{
		Name:  "security-events-by-day",
		Title: "Security events per day and kind",
		Description: "How many security events the platform recorded each day: failed sign-ins and second factors, " +
			"rate limiting, refused permissions and cross-origin requests, invalid tokens. Counts carry differentially private noise.",
		Columns: []ColumnDoc{
			{Name: "day", Description: "calendar day (UTC)", Type: "date (YYYY-MM-DD)", Role: anonymize.Other},
			{Name: "kind", Description: "kind of event: signin_failed, mfa_failed, reauth_failed, rate_limited, permission_denied, cross_origin_refused, token_invalid, or other", Type: "string", Role: anonymize.Other},
			{Name: "count", Description: fmt.Sprintf("number of events, at most %d per contributor and day, with noise; can be negative", eventsPerContributorDay), Unit: "events", Type: "integer", Role: anonymize.Other},
		},
		Aggregates: &Aggregates{
			Count:       countSecurityEvents,
			Sensitivity: eventsPerContributorDay,
			PrivacyUnit: fmt.Sprintf("one contributor on one day: the account the event concerns or, without one, the network address; "+
				"only the first %d events of each contributor and day are counted, so one contributor-day changes the counts by at most %d "+
				"(someone active on n days is protected with n·ε)", eventsPerContributorDay, eventsPerContributorDay),
			Epsilon:      big.NewRat(1, 2),
			Budget:       defaultBudget(),
			ReleaseDelta: big.NewRat(1, 10_000_000),
		},
	}
}

func countSecurityEvents(ctx context.Context, db *store.DB, now time.Time) (Counts, error) {
	n := now.UTC()
	end := time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, time.UTC)
	start := end.AddDate(0, 0, -eventDays)
	c := Counts{KeyColumns: []string{"day", "kind"},
		Window: fmt.Sprintf("the %d whole days from %s to %s (UTC)", eventDays, start.Format(time.DateOnly), end.AddDate(0, 0, -1).Format(time.DateOnly))}
	kinds := []string{}
	for _, k := range eventKinds {
		kinds = append(kinds, string(k))
	}
	kinds = append(kinds, "other")
	cell := map[string]int{}
	for d := start; d.Before(end); d = d.AddDate(0, 0, 1) {
		for _, k := range kinds {
			cell[d.Format(time.DateOnly)+"\x00"+k] = len(c.Keys)
			c.Keys = append(c.Keys, []string{d.Format(time.DateOnly), k})
		}
	}
	c.Values = make([]int64, len(c.Keys))
	// A contributor without an account is their address, told apart by
	// its blind index alone: the address is never opened here. Events with
	// no address either count as one contributor, which only lowers the
	// counts.
	rows, err := db.Query(ctx, "SELECT at, kind, ip_index, account FROM security_events WHERE at >= ? AND at < ? ORDER BY at, id",
		store.Micros(start), store.Micros(end))
	if err != nil {
		return c, fmt.Errorf("opendata: read security events: %w", err)
	}
	defer rows.Close()
	perContributor := map[string]int{}
	for rows.Next() {
		var at int64
		var kind, account string
		var ipIndex []byte
		if err := rows.Scan(&at, &kind, &ipIndex, &account); err != nil {
			return c, err
		}
		day := store.FromMicros(at).Format(time.DateOnly)
		who := "a:" + account
		if account == "" {
			who = "ip:" + string(ipIndex)
		}
		if perContributor[day+"\x00"+who]++; perContributor[day+"\x00"+who] > eventsPerContributorDay {
			continue
		}
		i, ok := cell[day+"\x00"+kind]
		if !ok {
			i = cell[day+"\x00other"]
		}
		c.Values[i]++
	}
	return c, rows.Err()
}

// SyntheticResidents is a test dataset of fake residents (package
// anonymize/synthetic) released as k-anonymous microdata. It is not in the
// default registry; `veche export open-data --synthetic-rows N` adds it to
// try the microdata path end to end.
func SyntheticResidents(rows int) Dataset {
	return Dataset{
		Name:  "synthetic-residents",
		Title: "Synthetic residents (test data)",
		Description: fmt.Sprintf("%d fake residents drawn from a seeded generator, to show and test k-anonymous microdata. "+
			"No row describes a real person.", rows),
		Columns: []ColumnDoc{
			{Name: "resident_id", Description: "resident number", Type: "string", Role: anonymize.DirectIdentifier},
			{Name: "full_name", Description: "name", Type: "string", Role: anonymize.DirectIdentifier},
			{Name: "birth_year", Description: "year of birth", Unit: "year", Type: "integer range", Role: anonymize.QuasiIdentifier},
			{Name: "district", Description: "district of residence", Type: "hierarchy node", Role: anonymize.QuasiIdentifier},
			{Name: "gender", Description: "gender as declared", Type: "string", Role: anonymize.QuasiIdentifier},
			{Name: "topic", Description: "topic of the resident's last petition", Type: "string", Role: anonymize.Sensitive},
		},
		Microdata: &Microdata{
			Load: func(context.Context, *store.DB) (*anonymize.Table, error) {
				return synthetic.Residents(rows, 1), nil
			},
			QuasiIdentifiers: synthetic.QuasiIdentifiers(),
			Sensitive:        "topic",
			K:                10,
			L:                2,
		},
	}
}
