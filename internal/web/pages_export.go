package web

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/veche/veche/internal/identity"
	"github.com/veche/veche/internal/privacy"
	"github.com/veche/veche/internal/secops"
)

// personalData is everything veche holds about the signed-in person, as
// the right of access (GDPR Art. 15) and, where it applies, portability
// (Art. 20) ask: machine-readable, complete, produced on request.
type personalData struct {
	ExportedAt     time.Time               `json:"exported_at"`
	NoticeVersion  int                     `json:"privacy_notice_version"`
	Account        accountJSON             `json:"account"`
	Sessions       []sessionInfoJSON       `json:"sessions"`
	RecoveryCodes  int                     `json:"unused_recovery_codes"`
	StaffReads     []privacy.Access        `json:"staff_reads_of_your_data"`
	SecurityEvents []secops.Event          `json:"security_events_about_you"`
	Purposes       []personalPurposeJS     `json:"purposes"`
	Consents       []privacy.ConsentRecord `json:"consent_records"`
}

type personalPurposeJS struct {
	Purpose string        `json:"purpose"`
	Basis   privacy.Basis `json:"lawful_basis"`
}

// collectPersonalData assembles the export for p.
func (s *Server) collectPersonalData(r *http.Request, p *identity.Principal) (*personalData, error) {
	ctx := r.Context()
	a, err := s.id.Account(ctx, p.AccountID)
	if err != nil {
		return nil, err
	}
	sessions, err := s.id.Sessions(ctx, p)
	if err != nil {
		return nil, err
	}
	codes := 0
	if a.MFAEnabled {
		if codes, err = s.id.RecoveryCodesLeft(ctx, p); err != nil {
			return nil, err
		}
	}
	reads, err := s.Access.ForSubject(ctx, p.AccountID, 500)
	if err != nil {
		return nil, err
	}
	events, err := s.Events.Events(ctx, secops.Filter{Account: s.id.Pseudonym(p.AccountID), Limit: 500})
	if err != nil {
		return nil, err
	}
	d := &personalData{ExportedAt: time.Now().UTC(), NoticeVersion: privacy.CurrentNotice().Version,
		Account: toAccountJSON(a), RecoveryCodes: codes, StaffReads: nonNil(reads), SecurityEvents: nonNil(events),
		Sessions: []sessionInfoJSON{}}
	for _, x := range sessions {
		d.Sessions = append(d.Sessions, sessionInfoJSON{x.ID, string(x.Kind), x.CreatedAt, x.LastSeenAt, x.ExpiresAt, x.UserAgent, x.IP, x.MFAVerified, x.Current})
	}
	consents, err := s.Consents.History(ctx, p.AccountID)
	if err != nil {
		return nil, err
	}
	d.Consents = nonNil(consents)
	for _, pp := range privacy.Purposes {
		d.Purposes = append(d.Purposes, personalPurposeJS{pp.ID, pp.Basis})
	}
	return d, nil
}

// exportPage is the readable summary of the person's data, with the JSON
// download.
func (s *Server) exportPage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	d, err := s.collectPersonalData(r, c.principal)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	s.render(w, r, c, http.StatusOK, "account-data", map[string]any{"Export": d, "Accesses": d.StaffReads})
}

// exportJSON downloads the person's data as one JSON file.
func (s *Server) exportJSON(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	d, err := s.collectPersonalData(r, c.principal)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	w.Header().Set("Content-Disposition", `attachment; filename="veche-my-data-`+d.ExportedAt.Format("2006-01-02")+`.json"`)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(d)
}

func (s *Server) apiExport(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	d, err := s.collectPersonalData(r, c.principal)
	if err != nil {
		return answer{}, err
	}
	return answer{http.StatusOK, d}, nil
}
