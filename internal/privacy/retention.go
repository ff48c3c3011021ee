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
	"github.com/veche/veche/internal/secops"
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

// RetentionDayKeys names, for tables whose sealed fields are sealed under
// one data key per UTC day (package fieldcrypt) rather than one per
// person, the prefix of those keys' subjects; the rest of a subject is the
// day, YYYY-MM-DD. Such a field's retention is enforced by erasing the
// keys of the days past its period, which makes every copy of the values
// unreadable at once, backups included, instead of by blanking each row.
// A day's key goes as soon as the day's first moment is past the period,
// so no value is kept longer than declared (the last ones of a day up to
// a day less).
var RetentionDayKeys = map[string]string{
	"security_events": secops.DaySubjectPrefix,
}

// KeyEraser destroys data keys (crypto-shredding); *fieldcrypt.Service is
// one.
type KeyEraser interface {
	Erase(ctx context.Context, tx *store.Tx, subject string) error
}

// RetentionResult is what one rule did in a run.
type RetentionResult struct {
	Table  string
	Action Action
	Keep   time.Duration
	Rows   int64 // rows deleted or anonymised
	Keys   int64 // day keys erased (tables in RetentionDayKeys)
}

// retentionRule is the registry's time-limited fields of one table with
// one period and action.
type retentionRule struct {
	table    string
	keep     time.Duration
	action   Action
	columns  []string
	purposes []string // the purposes of the rule's fields
	// dayKeyed: the rule has sealed fields under day keys, so it erases
	// the keys of the days past its period.
	dayKeyed bool
	// sealed lists sealed fields that have no day keys, which the job
	// cannot expire (see TestEveryTimeLimitedSealedFieldHasDayKeys).
	sealed []string
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
		switch {
		case f.Column == RetentionClocks[f.Table]:
		case f.AtRest == Sealed && RetentionDayKeys[f.Table] != "":
			r.dayKeyed = true
		case f.AtRest == Sealed:
			r.sealed = append(r.sealed, f.Column)
		default:
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

// RetentionJob enforces the registry's time limits: rows past their
// period are deleted, or their personal columns blanked, according to the
// declared action, and the day keys of sealed fields past their period
// are erased (RetentionDayKeys). Each run is one transaction that also
// appends an audit entry with the counts, so the public log shows that
// retention ran.
type RetentionJob struct {
	db   *store.DB
	log  *auditlog.Log
	keys KeyEraser
	now  func() time.Time
}

// NewRetentionJob returns the job for db, auditing to log and erasing
// day keys with keys.
func NewRetentionJob(db *store.DB, log *auditlog.Log, keys KeyEraser) *RetentionJob {
	return &RetentionJob{db: db, log: log, keys: keys, now: time.Now}
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
			if len(r.sealed) > 0 {
				return fmt.Errorf("privacy: %s.%s is sealed and time-limited, but its table has no day keys to erase (RetentionDayKeys)", r.table, r.sealed[0])
			}
			cutoffAt := j.now().Add(-r.keep)
			cutoff := store.Micros(cutoffAt)
			res := RetentionResult{Table: r.table, Action: r.action, Keep: r.keep}
			if r.dayKeyed {
				n, err := j.eraseDayKeys(ctx, tx, RetentionDayKeys[r.table], cutoffAt)
				if err != nil {
					return fmt.Errorf("privacy: retention on %s: %w", r.table, err)
				}
				res.Keys = n
				detail[r.table+"_keys_erased"] = strconv.FormatInt(n, 10)
			}
			if r.action == Anonymise && len(r.columns) == 0 {
				results = append(results, res) // nothing but day keys to expire
				continue
			}
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
			done, err := tx.Exec(ctx, q, args...)
			if err != nil {
				return fmt.Errorf("privacy: retention on %s: %w", r.table, err)
			}
			res.Rows, _ = done.RowsAffected()
			results = append(results, res)
			detail[r.table+"_"+string(r.action)] = strconv.FormatInt(res.Rows, 10)
		}
		return j.log.Append(ctx, tx, auditlog.Entry{Action: "retention.run", Detail: detail})
	})
	return results, err
}

// eraseDayKeys erases, in tx, the live day keys under prefix of every day
// that began before cutoff, and returns how many it erased.
func (j *RetentionJob) eraseDayKeys(ctx context.Context, tx *store.Tx, prefix string, cutoff time.Time) (int64, error) {
	if j.keys == nil {
		return 0, fmt.Errorf("no key eraser configured to erase the day keys %s…", prefix)
	}
	// Subjects sort by day; every subject above the bare prefix and up to
	// the last day to erase starts with the prefix.
	last := prefix + cutoff.Add(-time.Microsecond).UTC().Format(time.DateOnly)
	rows, err := tx.Query(ctx, "SELECT subject FROM subject_keys WHERE subject > ? AND subject <= ? AND erased_at IS NULL ORDER BY subject", prefix, last)
	if err != nil {
		return 0, err
	}
	var subjects []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return 0, err
		}
		subjects = append(subjects, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, s := range subjects {
		if err := j.keys.Erase(ctx, tx, s); err != nil {
			return 0, err
		}
	}
	return int64(len(subjects)), nil
}
