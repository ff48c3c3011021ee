package web

import (
	"net/http"
	"time"

	"github.com/veche/veche/internal/privacy"
)

// privacyNotice is the public privacy notice, generated from the registry
// in package privacy.
func (s *Server) privacyNotice(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	s.render(w, r, c, http.StatusOK, "privacy", map[string]any{
		"Controller":   s.Controller,
		"Sections":     privacy.Notice(),
		"Current":      privacy.CurrentNotice(),
		"History":      privacy.NoticeVersions,
		"InactiveDays": int(s.Inactivity.After.Hours() / 24),
		"WarnDays":     int(s.Inactivity.Warn.Hours() / 24),
	})
}

// processingRecordPage is the GDPR Art. 30 record for the DPO and auditors.
func (s *Server) processingRecordPage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	s.render(w, r, c, http.StatusOK, "privacy-record", map[string]any{"Record": privacy.BuildRecord(s.Controller, time.Now())})
}

func (s *Server) apiProcessingRecord(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	return answer{http.StatusOK, privacy.BuildRecord(s.Controller, time.Now())}, nil
}

// accessReviewPage lists break-glass reads for the DPO and auditors.
func (s *Server) accessReviewPage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	list, err := s.Access.BreakGlass(r.Context(), 200)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	s.render(w, r, c, http.StatusOK, "access-review", map[string]any{"Accesses": list})
}

func (s *Server) apiBreakGlass(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	list, err := s.Access.BreakGlass(r.Context(), 200)
	return answer{http.StatusOK, map[string]any{"accesses": nonNil(list)}}, err
}

// apiMyAccessLog lists who among staff read the caller's data, and why.
func (s *Server) apiMyAccessLog(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	list, err := s.Access.ForSubject(r.Context(), c.principal.AccountID, 100)
	return answer{http.StatusOK, map[string]any{"accesses": nonNil(list)}}, err
}

// nonNil returns l, or an empty slice for nil, so that JSON answers say []
// rather than null for "none".
func nonNil[T any](l []T) []T {
	if l == nil {
		return []T{}
	}
	return l
}
