package privacy

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/validate"
)

// AccessPurpose is why a staff member opened a person's data.
type AccessPurpose string

// Access purposes. The first three are normal workflows; BreakGlass is
// anything else and needs a written justification, which the DPO reviews.
const (
	AccessRoleManagement AccessPurpose = "role_management"
	AccessSubjectRequest AccessPurpose = "subject_request"
	AccessSupport        AccessPurpose = "support"
	AccessBreakGlass     AccessPurpose = "break_glass"
	// AccessSecurityMonitoring is the security analyst's normal workflow:
	// reading security events, which name accounts and addresses. It is
	// the purpose of those reads unless another is stated, and is not
	// offered when opening accounts.
	AccessSecurityMonitoring AccessPurpose = "security_monitoring"
)

// AccessPurposes lists the purposes in the order forms offer them.
var AccessPurposes = []AccessPurpose{AccessRoleManagement, AccessSubjectRequest, AccessSupport, AccessBreakGlass}

// knownAccessPurposes are every purpose a read may be recorded under.
var knownAccessPurposes = append(slices.Clone(AccessPurposes), AccessSecurityMonitoring)

// Access is one read of a person's data by staff.
type Access struct {
	ID            int64         `json:"id"`
	At            time.Time     `json:"at"`
	Subject       int64         `json:"subject_account"`
	Reader        int64         `json:"reader_account"` // 0 once the reader's account is gone
	ReaderRole    string        `json:"reader_role"`
	Data          []string      `json:"data"` // declared fields, table.column
	Purpose       AccessPurpose `json:"purpose"`
	Justification string        `json:"justification,omitempty"`
	BreakGlass    bool          `json:"break_glass"`
}

// AccessLog records and lists staff reads of personal data (GDPR Art. 15
// transparency, Art. 5(2) accountability).
type AccessLog struct {
	db  *store.DB
	now func() time.Time
}

// NewAccessLog returns the access log on db.
func NewAccessLog(db *store.DB) *AccessLog { return &AccessLog{db: db, now: time.Now} }

// CheckPurpose validates a stated purpose before any data is shown: a known
// purpose, and for break-glass a justification of 10 to 500 characters.
func CheckPurpose(purpose AccessPurpose, justification string) error {
	var v validate.Errors
	if !slices.Contains(knownAccessPurposes, purpose) {
		v.Add("purpose", "required", nil)
		return v
	}
	if purpose == AccessBreakGlass {
		if len([]rune(strings.TrimSpace(justification))) < 10 {
			v.Add("justification", "too_short", map[string]any{"min": 10})
		}
		validate.Text(&v, "justification", justification, false, 500)
	}
	return v.Err()
}

// Record stores accesses to the data of subjects by reader, after checking
// the purpose. Every field named must be declared in the registry.
func (l *AccessLog) Record(ctx context.Context, reader int64, readerRole string, subjects []int64, data []string,
	purpose AccessPurpose, justification string) error {
	if err := CheckPurpose(purpose, justification); err != nil {
		return err
	}
	for _, d := range data {
		if !declared(d) {
			return fmt.Errorf("privacy: access to %q, which the registry does not declare", d)
		}
	}
	if len(subjects) == 0 {
		return nil
	}
	if purpose != AccessBreakGlass {
		justification = ""
	}
	at := store.Micros(l.now())
	return l.db.InTx(ctx, func(tx *store.Tx) error {
		for _, s := range subjects {
			if _, err := tx.Exec(ctx, `INSERT INTO access_log (at, subject_account, reader_account, reader_role, data, purpose, justification, break_glass)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, at, s, reader, readerRole, strings.Join(data, ","), string(purpose),
				strings.TrimSpace(justification), purpose == AccessBreakGlass); err != nil {
				return err
			}
		}
		return nil
	})
}

func declared(field string) bool {
	return slices.ContainsFunc(Fields, func(f Field) bool { return f.Table+"."+f.Column == field })
}

// ForSubject lists the reads of one person's data, newest first.
func (l *AccessLog) ForSubject(ctx context.Context, subject int64, limit int) ([]Access, error) {
	return l.list(ctx, "subject_account = ?", subject, limit)
}

// BreakGlass lists break-glass reads, newest first, for the DPO.
func (l *AccessLog) BreakGlass(ctx context.Context, limit int) ([]Access, error) {
	return l.list(ctx, "break_glass = ?", true, limit)
}

func (l *AccessLog) list(ctx context.Context, where string, arg any, limit int) ([]Access, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	rows, err := l.db.Query(ctx, `SELECT id, at, subject_account, COALESCE(reader_account, 0), reader_role, data, purpose, justification, break_glass
		FROM access_log WHERE `+where+fmt.Sprintf(" ORDER BY id DESC LIMIT %d", limit), arg)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Access
	for rows.Next() {
		var a Access
		var at int64
		var data, purpose string
		if err := rows.Scan(&a.ID, &at, &a.Subject, &a.Reader, &a.ReaderRole, &data, &purpose, &a.Justification, &a.BreakGlass); err != nil {
			return nil, err
		}
		a.At, a.Data, a.Purpose = store.FromMicros(at), strings.Split(data, ","), AccessPurpose(purpose)
		out = append(out, a)
	}
	return out, rows.Err()
}
