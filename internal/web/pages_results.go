package web

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/veche/veche/internal/participation/consultation"
	"github.com/veche/veche/internal/participation/petition"
)

// The results exports of closed consultations and petition spaces: what
// their public pages show, as CSV (cells made safe for spreadsheets) and
// JSON, naming no one. Before the space closes they answer 409.

func (s *Server) consultationResults(r *http.Request) (*consultation.Results, error) {
	id, err := pathID(r)
	if err != nil {
		return nil, err
	}
	return s.sp.consultations.Results(r.Context(), id)
}

func (s *Server) petitionResults(r *http.Request) (*petition.Results, error) {
	id, err := pathID(r)
	if err != nil {
		return nil, err
	}
	return s.sp.petitions.Results(r.Context(), id)
}

func (s *Server) consultationResultsJSON(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	res, err := s.consultationResults(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="consultation-%d-results.json"`, res.Space.ID))
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) apiConsultationResults(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	res, err := s.consultationResults(r)
	if err != nil {
		return answer{}, err
	}
	return answer{http.StatusOK, res}, nil
}

func optRFC3339(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// consultationResultsCSV writes one row per section and per published
// comment: record says which.
func (s *Server) consultationResultsCSV(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	res, err := s.consultationResults(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="consultation-%d-results.csv"`, res.Space.ID))
	cw := csv.NewWriter(w)
	cw.Write([]string{"record", "id", "section_id", "parent_id", "heading", "comments", "agree", "disagree", "created_at", "text", "author_erased", "outcome", "answer"})
	id := func(n int64) string {
		if n == 0 {
			return ""
		}
		return strconv.FormatInt(n, 10)
	}
	for _, sec := range res.Sections {
		outcome, answer := "", ""
		if sec.Answer != nil {
			outcome, answer = sec.Answer.Outcome, sec.Answer.Body
		}
		cw.Write([]string{"section", id(sec.ID), "", "", csvSafe(sec.Heading), strconv.Itoa(sec.Comments), "", "", "", "", "", outcome, csvSafe(answer)})
	}
	for _, cm := range res.Comments {
		cw.Write([]string{"comment", id(cm.ID), id(cm.SectionID), id(cm.ParentID), "", "", strconv.Itoa(cm.Agree), strconv.Itoa(cm.Disagree),
			cm.Created.UTC().Format(time.RFC3339), csvSafe(cm.Body), strconv.FormatBool(cm.Erased), cm.Outcome, csvSafe(cm.Answer)})
	}
	if res.Report != "" {
		cw.Write([]string{"report", "", "", "", "", "", "", "", optRFC3339(res.ReportedAt), csvSafe(res.Report), "", "", ""})
	}
	cw.Flush()
}

func (s *Server) petitionResultsJSON(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	res, err := s.petitionResults(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="petitions-%d-results.json"`, res.Space.ID))
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) apiPetitionResults(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	res, err := s.petitionResults(r)
	if err != nil {
		return answer{}, err
	}
	return answer{http.StatusOK, res}, nil
}

func (s *Server) petitionResultsCSV(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	res, err := s.petitionResults(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="petitions-%d-results.csv"`, res.Space.ID))
	cw := csv.NewWriter(w)
	cw.Write([]string{"petition", "kind", "title", "author_erased", "status", "signatures", "threshold", "published_at", "threshold_reached_at",
		"response_due_at", "responded_at", "response"})
	for _, p := range res.Petitions {
		cw.Write([]string{strconv.FormatInt(p.ID, 10), p.Kind, csvSafe(p.Title), strconv.FormatBool(p.Erased), p.Status,
			strconv.FormatInt(p.Signatures, 10), strconv.Itoa(p.Threshold), optRFC3339(p.Published), optRFC3339(p.Reached),
			optRFC3339(p.ResponseDue), optRFC3339(p.Responded), csvSafe(p.Response)})
	}
	cw.Flush()
}
