package privacy

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"time"
)

// Right is a data-subject right under GDPR Chapter III.
type Right string

// Rights, by the article that grants them.
const (
	RightAccess        Right = "access"        // Art. 15
	RightRectification Right = "rectification" // Art. 16
	RightErasure       Right = "erasure"       // Art. 17
	RightRestriction   Right = "restriction"   // Art. 18
	RightPortability   Right = "portability"   // Art. 20
	RightObjection     Right = "objection"     // Art. 21
	RightWithdraw      Right = "withdraw"      // Art. 7(3)
)

// AllRights lists the rights in article order.
var AllRights = []Right{RightAccess, RightRectification, RightErasure, RightRestriction, RightPortability, RightObjection, RightWithdraw}

// RightStatus says whether a right applies to processing on a basis and,
// when it does not or only in part, which provision says so. Reason is a
// catalog key: privacy.right.<right>.<reason>.
type RightStatus struct {
	Right   Right
	Applies bool
	Reason  string
}

// RightsFor returns how each right applies to processing on basis b, as
// GDPR sets it out: portability covers consent and contract only (Art.
// 20(1)(a)); objection covers public task and legitimate interests (Art.
// 21(1)); erasure is limited while processing is needed for a legal
// obligation or a task in the public interest (Art. 17(3)(b)); consent can
// be withdrawn only where it is the basis (Art. 7(3)).
func RightsFor(b Basis) []RightStatus {
	out := []RightStatus{
		{RightAccess, true, "always"},
		{RightRectification, true, "always"},
	}
	switch b {
	case PublicTask, LegalObligation:
		out = append(out, RightStatus{RightErasure, false, "public_task_exemption"})
	default:
		out = append(out, RightStatus{RightErasure, true, "applies"})
	}
	out = append(out, RightStatus{RightRestriction, true, "always"})
	if b == Consent || b == Contract {
		out = append(out, RightStatus{RightPortability, true, "applies"})
	} else {
		out = append(out, RightStatus{RightPortability, false, "not_consent_or_contract"})
	}
	if b == PublicTask || b == LegitimateInterests {
		out = append(out, RightStatus{RightObjection, true, "applies"})
	} else {
		out = append(out, RightStatus{RightObjection, false, "not_public_task"})
	}
	if b == Consent {
		out = append(out, RightStatus{RightWithdraw, true, "applies"})
	} else {
		out = append(out, RightStatus{RightWithdraw, false, "not_consent"})
	}
	return out
}

// NoticeVersion is one published version of the privacy notice. Digest is
// the registry digest it describes; Changes is a catalog key summarising
// what changed. A test fails when the registry changes without a new
// version, so the public notice is never silently out of date.
type NoticeVersion struct {
	Version  int
	Date     string // YYYY-MM-DD
	Digest   string
	Changes  string
	Material bool // a material change: people are asked again where consent depends on it
}

// NoticeVersions is the history of the notice, oldest first.
var NoticeVersions = []NoticeVersion{
	{Version: 1, Date: "2026-11-23", Digest: "29445d2e8cdc2e6f4805dbf7306465f1964383bedfd527dfbe0a12484e8c28f3", Changes: "privacy.notice.v1.changes", Material: true},
	{Version: 2, Date: "2026-11-23", Digest: "51e2da4536502c5f01d9db7f62e954df9580e3db0a48b0c853af3ae9efe9f971", Changes: "privacy.notice.v2.changes", Material: true},
	{Version: 3, Date: "2026-12-02", Digest: "c7fe55948fa3eab6404e3d29369678ce49b3a0de5c65e337211b1d569a4e69ea", Changes: "privacy.notice.v3.changes"},
	{Version: 4, Date: "2026-12-02", Digest: "6ad22f0e7888a9e78bf4ad5b698308379923a23f01fc3901895aa849186e5c76", Changes: "privacy.notice.v4.changes"},
}

// CurrentNotice is the latest notice version.
func CurrentNotice() NoticeVersion { return NoticeVersions[len(NoticeVersions)-1] }

// Digest is a SHA-256 over the canonical JSON of the purposes and fields.
func Digest() string {
	b, err := json.Marshal(struct {
		Purposes []Purpose
		Fields   []Field
	}{Purposes, Fields})
	if err != nil {
		panic(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// NoticeSection is what the notice says about one purpose.
type NoticeSection struct {
	Purpose    Purpose
	Categories []Category
	Retentions []Retention
	Readers    []string
	Rights     []RightStatus
	Subjects   []SubjectCategory
}

// Notice groups the registry by purpose for the privacy notice and the
// record of processing.
func Notice() []NoticeSection {
	var out []NoticeSection
	for _, p := range Purposes {
		s := NoticeSection{Purpose: p, Rights: RightsFor(p.Basis), Subjects: p.Subjects}
		for _, f := range append(FieldsFor(p.ID), usedFields(p)...) {
			if !slices.Contains(s.Categories, f.Category) {
				s.Categories = append(s.Categories, f.Category)
			}
			if !slices.Contains(s.Retentions, f.Retention) {
				s.Retentions = append(s.Retentions, f.Retention)
			}
			for _, r := range f.Readers {
				if !slices.Contains(s.Readers, r) {
					s.Readers = append(s.Readers, r)
				}
			}
		}
		slices.Sort(s.Readers)
		out = append(out, s)
	}
	return out
}

// usedFields are the declared fields a purpose reads besides its own.
func usedFields(p Purpose) []Field {
	var out []Field
	for _, u := range p.Uses {
		for _, f := range Fields {
			if f.Table+"."+f.Column == u {
				out = append(out, f)
			}
		}
	}
	return out
}

// Controller identifies the public body responsible for the processing.
type Controller struct {
	Name       string `json:"name"`
	Contact    string `json:"contact"`
	DPOContact string `json:"dpo_contact"`
}

// RecordEntry is one processing activity in the Art. 30(1) record.
type RecordEntry struct {
	Purpose          string            `json:"purpose"`
	LawfulBasis      Basis             `json:"lawful_basis"`
	SubjectKinds     []SubjectCategory `json:"categories_of_data_subjects"`
	DataCategories   []Category        `json:"categories_of_personal_data"`
	Recipients       []string          `json:"recipients"`
	Transfers        string            `json:"transfers_to_third_countries"`
	Retention        []RetentionJSON   `json:"time_limits_for_erasure"`
	SecurityMeasures []string          `json:"technical_and_organisational_measures"`
	Fields           []string          `json:"fields"`
}

// RetentionJSON is a retention rule as the record states it.
type RetentionJSON struct {
	After  string `json:"after"`
	Days   int    `json:"keep_days"`
	Action Action `json:"then"`
}

// Record is the rule as the record states it, in whole days.
func (r Retention) Record() RetentionJSON {
	return RetentionJSON{r.After, int(r.Keep / (24 * time.Hour)), r.Action}
}

// EventKey is the catalog key of the rule's event in the form its wording
// needs: privacy.until.<After> for a rule that keeps data until the event,
// privacy.event.<After> for one that keeps it some days after the event.
// Each event needs both, because Belarusian and Russian say "until" with
// a negated verb («пакуль … не будзе выдалены», «пока … не будет
// удалена»), which would read wrongly after "N days after".
func (r RetentionJSON) EventKey() string {
	if r.Days == 0 {
		return "privacy.until." + r.After
	}
	return "privacy.event." + r.After
}

// Words says the rule in words through t, a catalog's lookup (i18n.T in
// one language): "privacy.keep.until" for a rule that keeps data until
// the event, "privacy.keep.for" for one that keeps it some days after it,
// each with the event in its form ([RetentionJSON.EventKey]).
func (r RetentionJSON) Words(t func(key string, kv ...any) string) string {
	event, action := t(r.EventKey()), t("privacy.action."+string(r.Action))
	if r.Days == 0 {
		return t("privacy.keep.until", "event", event, "action", action)
	}
	return t("privacy.keep.for", "days", r.Days, "event", event, "action", action)
}

// Record is the record of processing activities (GDPR Art. 30(1)).
type Record struct {
	Controller    Controller    `json:"controller"`
	NoticeVersion int           `json:"notice_version"`
	Digest        string        `json:"registry_digest"`
	GeneratedAt   time.Time     `json:"generated_at"`
	Activities    []RecordEntry `json:"processing_activities"`
}

// SecurityMeasures are the technical and organisational measures in place
// (Art. 30(1)(g), Art. 32), as catalog keys.
var SecurityMeasures = []string{
	"privacy.measure.tls", "privacy.measure.argon2id", "privacy.measure.mfa", "privacy.measure.rbac",
	"privacy.measure.audit_log", "privacy.measure.rate_limits", "privacy.measure.sealed_secrets",
	"privacy.measure.pseudonyms",
}

// BuildRecord assembles the Art. 30 record from the registry.
func BuildRecord(c Controller, now time.Time) Record {
	r := Record{Controller: c, NoticeVersion: CurrentNotice().Version, Digest: Digest(), GeneratedAt: now.UTC()}
	for _, s := range Notice() {
		e := RecordEntry{Purpose: s.Purpose.ID, LawfulBasis: s.Purpose.Basis, SubjectKinds: s.Subjects,
			DataCategories: s.Categories, Recipients: s.Readers, Transfers: "none", SecurityMeasures: SecurityMeasures}
		if e.Recipients == nil {
			e.Recipients = []string{}
		}
		for _, rt := range s.Retentions {
			e.Retention = append(e.Retention, rt.Record())
		}
		for _, f := range FieldsFor(s.Purpose.ID) {
			e.Fields = append(e.Fields, f.Table+"."+f.Column)
		}
		e.Fields = append(e.Fields, s.Purpose.Uses...)
		r.Activities = append(r.Activities, e)
	}
	return r
}
