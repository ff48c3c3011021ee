package web

// searchRoutes are the pages and API endpoints of search over public
// content (package participation/search), the activity feed of a process
// (package participation/activity) and the results exports of closed
// consultations and petition spaces. All are public: they show only what
// the public pages show.
func (s *Server) searchRoutes() []route {
	return []route{
		{"GET", "/search", public, s.searchPage},
		{"GET", "/processes/{id}/activity", public, s.activityPage},
		{"GET", "/processes/{id}/activity.atom", public, s.activityAtom},
		{"GET", "/consultations/{id}/results.csv", public, s.consultationResultsCSV},
		{"GET", "/consultations/{id}/results.json", public, s.consultationResultsJSON},
		{"GET", "/spaces/{id}/petitions/results.csv", public, s.petitionResultsCSV},
		{"GET", "/spaces/{id}/petitions/results.json", public, s.petitionResultsJSON},

		{"GET", "/api/v1/search", public, apiCall(s, s.apiSearch)},
		{"GET", "/api/v1/processes/{id}/activity", public, apiCall(s, s.apiActivity)},
		{"GET", "/api/v1/consultations/{id}/results", public, apiCall(s, s.apiConsultationResults)},
		{"GET", "/api/v1/spaces/{id}/petitions/results", public, apiCall(s, s.apiPetitionResults)},
	}
}
