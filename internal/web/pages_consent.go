package web

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/veche/veche/internal/privacy"
	"github.com/veche/veche/internal/validate"
)

// consentChoice is one consent purpose as the account page shows it.
type consentChoice struct {
	Purpose privacy.Purpose
	Record  *privacy.ConsentRecord
	Given   bool // in force now
	Renew   bool // given before a material notice change: asked again
}

func (s *Server) consentChoices(r *http.Request, accountID int64) ([]consentChoice, error) {
	cur, err := s.Consents.Current(r.Context(), accountID)
	if err != nil {
		return nil, err
	}
	var out []consentChoice
	for _, p := range privacy.ConsentPurposes() {
		ch := consentChoice{Purpose: p}
		if rec, ok := cur[p.ID]; ok {
			ch.Record = &rec
			ch.Renew = privacy.NeedsRenewal(rec)
			ch.Given = rec.State == privacy.ConsentGiven && !ch.Renew
		}
		out = append(out, ch)
	}
	return out, nil
}

// setConsent gives or withdraws one consent from the account page: one
// button either way.
func (s *Server) setConsent(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	give := r.PostFormValue("action") == "give"
	if !give && r.PostFormValue("action") != "withdraw" {
		s.fail(w, r, c, validate.One("action", "required", nil))
		return
	}
	if _, err := s.Consents.Set(r.Context(), c.principal.AccountID, r.PostFormValue("purpose"), give, "web_form"); err != nil {
		s.fail(w, r, c, err)
		return
	}
	http.Redirect(w, r, "/account?saved=consent#choices", http.StatusSeeOther)
}

// consentReceipt downloads the signed receipt of one of the caller's own
// consent records.
func (s *Server) consentReceipt(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	hist, err := s.Consents.History(r.Context(), c.principal.AccountID)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	for _, rec := range hist {
		if rec.ID == id {
			b, err := s.Consents.Receipt(rec, s.Controller)
			if err != nil {
				s.fail(w, r, c, err)
				return
			}
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.Header().Set("Content-Disposition", `attachment; filename="veche-consent-receipt-`+strconv.FormatInt(id, 10)+`.json"`)
			w.Header().Set("Cache-Control", "no-store")
			w.Write(b)
			return
		}
	}
	s.fail(w, r, c, errNotFound)
}

type consentJSON struct {
	Purpose string                 `json:"purpose"`
	Given   bool                   `json:"given"`
	Renew   bool                   `json:"needs_renewal"`
	Record  *privacy.ConsentRecord `json:"latest_record,omitempty"`
}

func (s *Server) apiConsents(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	choices, err := s.consentChoices(r, c.principal.AccountID)
	if err != nil {
		return answer{}, err
	}
	out := []consentJSON{}
	for _, ch := range choices {
		out = append(out, consentJSON{ch.Purpose.ID, ch.Given, ch.Renew, ch.Record})
	}
	return answer{http.StatusOK, map[string]any{"consents": out}}, nil
}

func (s *Server) apiGiveConsent(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	return s.apiSetConsent(r, c, true)
}

func (s *Server) apiWithdrawConsent(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	return s.apiSetConsent(r, c, false)
}

// apiSetConsent answers with the new record and its signed receipt.
func (s *Server) apiSetConsent(r *http.Request, c *reqCtx, give bool) (answer, error) {
	rec, err := s.Consents.Set(r.Context(), c.principal.AccountID, r.PathValue("purpose"), give, "api")
	if err != nil {
		return answer{}, err
	}
	receipt, err := s.Consents.Receipt(*rec, s.Controller)
	if err != nil {
		return answer{}, err
	}
	return answer{http.StatusOK, map[string]any{"record": rec, "receipt": json.RawMessage(receipt)}}, nil
}

// apiVerifyReceipt checks a consent receipt anyone holds.
func (s *Server) apiVerifyReceipt(r *http.Request, c *reqCtx, rc *privacy.Receipt) (answer, error) {
	b, _ := json.Marshal(rc)
	ok, err := s.Consents.VerifyReceipt(r.Context(), b)
	if err != nil {
		return answer{}, err
	}
	return answer{http.StatusOK, map[string]any{"valid": true, "receipt": ok}}, nil
}
