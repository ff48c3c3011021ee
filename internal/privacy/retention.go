package privacy

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/veche/veche/internal/auditlog"
	"github.com/veche/veche/internal/store"
)

// RetentionClocks names, for each table with time-limited fields, the
// column holding the time the retention period runs from. Event-bound
// rules (Keep 0: "until the session ends") are enforced where the event
// happens; these are the ones a clock enforces.
var RetentionClocks = map[string]string{
	"security_events":  "at",
	"access_log":       "at",
	"survey_responses": "day",
	"feedback":         "received_on",
	"notifications":    "created_at",
}

// RetentionSubjects names, for tables whose rows each concern one account,
// the column naming it: a restriction of processing (GDPR Art. 18) of the
// rows' purpose for that person holds their rows back from the retention
// clock, since a restriction is often asked precisely to keep data the
// person needs (Art. 18(1)(b) and (c)).
var RetentionSubjects = map[string]string{
	"access_log": "subject_account",
}

// RetentionResult is what one rule did in a run.
type RetentionResult struct {
	Table  string
	Action Action
	Keep   time.Duration
	Rows   int64
}

// retentionRule is the registry's time-limited fields of one table with
// one period and action.
type retentionRule struct {
	table    string
	keep     time.Duration
	action   Action
	columns  []string
	purposes []string // the purposes of the rule's fields
}

// retentionRules groups the registry's time-limited fields into rules.
func retentionRules() []retentionRule {
	byKey := map[string]*retentionRule{}
	var keys []string
	for _, f := range Fields {
		if f.Retention.Keep == 0 {
			continue
		}
		k := fmt.Sprintf("%s/%d/%s", f.Table, f.Retention.Keep, f.Retention.Action)
		r, ok := byKey[k]
		if !ok {
			r = &retentionRule{table: f.Table, keep: f.Retention.Keep, action: f.Retention.Action}
			byKey[k] = r
			keys = append(keys, k)
		}
		if f.Column != RetentionClocks[f.Table] {
			r.columns = append(r.columns, f.Column)
		}
		if !slices.Contains(r.purposes, f.Purpose) {
			r.purposes = append(r.purposes, f.Purpose)
		}
	}
	sort.Strings(keys)
	out := make([]retentionRule, 0, len(keys))
	for _, k := range keys {
		out = append(out, *byKey[k])
	}
	return out
}

// Retention enforces the registry's time limits: rows past their period
// are deleted, or their personal columns blanked, according to the
// declared action. Each run is one transaction that also appends an audit
// entry with the counts, so the public log shows that retention ran.
type RetentionJob struct {
	db  *store.DB
	log *auditlog.Log
	now func() time.Time
}

// NewRetentionJob returns the job for db, auditing to log.
func NewRetentionJob(db *store.DB, log *auditlog.Log) *RetentionJob {
	return &RetentionJob{db: db, log: log, now: time.Now}
}

// SetClock replaces the clock, for tests.
func (j *RetentionJob) SetClock(now func() time.Time) { j.now = now }

// Run applies every time-limited rule once. Callers take a lease first
// (see app) so that one node runs it at a time.
func (j *RetentionJob) Run(ctx context.Context) ([]RetentionResult, error) {
	rules := retentionRules()
	var results []RetentionResult
	err := j.db.InTx(ctx, func(tx *store.Tx) error {
		results = results[:0]
		detail := map[string]string{}
		for _, r := range rules {
			clock, ok := RetentionClocks[r.table]
			if !ok {
				return fmt.Errorf("privacy: table %s has time-limited fields but no retention clock", r.table)
			}
			cutoff := store.Micros(j.now().Add(-r.keep))
			var q string
			switch r.action {
			case Delete:
				q = fmt.Sprintf("DELETE FROM %s WHERE %s < ?", r.table, clock)
			case Anonymise:
				sets := make([]string, len(r.columns))
				conds := make([]string, len(r.columns))
				for i, c := range r.columns {
					sets[i], conds[i] = c+" = ''", c+" <> ''"
				}
				q = fmt.Sprintf("UPDATE %s SET %s WHERE %s < ? AND (%s)", r.table, strings.Join(sets, ", "), clock, strings.Join(conds, " OR "))
			default:
				return fmt.Errorf("privacy: unknown retention action %q", r.action)
			}
			args := []any{cutoff}
			if col, ok := RetentionSubjects[r.table]; ok {
				for _, p := range r.purposes {
					q += " AND NOT " + restrictedAccounts(col)
					args = append(args, p)
				}
			}
			res, err := tx.Exec(ctx, q, args...)
			if err != nil {
				return fmt.Errorf("privacy: retention on %s: %w", r.table, err)
			}
			n, _ := res.RowsAffected()
			results = append(results, RetentionResult{Table: r.table, Action: r.action, Keep: r.keep, Rows: n})
			detail[r.table+"_"+string(r.action)] = strconv.FormatInt(n, 10)
		}
		return j.log.Append(ctx, tx, auditlog.Entry{Action: "retention.run", Detail: detail})
	})
	return results, err
}
