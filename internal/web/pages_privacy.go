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
		"Controller": s.Controller,
		"Sections":   privacy.Notice(),
		"Current":    privacy.CurrentNotice(),
		"History":    privacy.NoticeVersions,
	})
}

// processingRecordPage is the GDPR Art. 30 record for the DPO and auditors.
func (s *Server) processingRecordPage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	s.render(w, r, c, http.StatusOK, "privacy-record", map[string]any{"Record": privacy.BuildRecord(s.Controller, time.Now())})
}

func (s *Server) apiProcessingRecord(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	return answer{http.StatusOK, privacy.BuildRecord(s.Controller, time.Now())}, nil
}
