package web

import "github.com/veche/veche/internal/identity"

// surveyRoutes are the pages and API endpoints of the survey spaces
// (package participation/survey) and of the feedback channel on every
// page (package participation/feedback).
func (s *Server) surveyRoutes() []route {
	self := needs(identity.PermAccountSelf)
	official := needs(identity.PermProcessesManage)
	return []route{
		{"GET", "/processes/{id}/surveys/new", official, s.surveyNewForm},
		{"POST", "/processes/{id}/surveys/new", official, s.surveyCreate},
		{"GET", "/surveys/{id}", public, s.surveyPage},
		{"POST", "/surveys/{id}/responses", self, s.surveyRespond},
		{"GET", "/surveys/{id}/questions", official, s.surveyQuestionsPage},
		{"POST", "/surveys/{id}/questions", official, s.surveyAddQuestion},
		{"GET", "/survey-questions/{id}", official, s.surveyQuestionForm},
		{"POST", "/survey-questions/{id}", official, s.surveyUpdateQuestion},
		{"POST", "/survey-questions/{id}/delete", official, s.surveyDeleteQuestion},
		{"POST", "/surveys/{id}/close", official, s.surveyClose},
		{"GET", "/surveys/{id}/results", public, s.surveyResultsPage},
		{"GET", "/surveys/{id}/results.csv", public, s.surveyResultsCSV},
		{"GET", "/surveys/{id}/results.json", public, s.surveyResultsJSON},

		{"GET", "/feedback/new", public, s.feedbackForm},
		{"POST", "/feedback", public, s.feedbackSubmit},
		{"GET", "/feedback", official, s.feedbackList},
		{"GET", "/feedback.csv", official, s.feedbackCSV},

		{"POST", "/api/v1/processes/{id}/surveys", official, apiCall(s, s.apiCreateSurvey)},
		{"GET", "/api/v1/surveys/{id}", public, apiCall(s, s.apiSurvey)},
		{"POST", "/api/v1/surveys/{id}/questions", official, apiCall(s, s.apiAddQuestion)},
		{"PUT", "/api/v1/survey-questions/{id}", official, apiCall(s, s.apiUpdateQuestion)},
		{"DELETE", "/api/v1/survey-questions/{id}", official, apiCall(s, s.apiDeleteQuestion)},
		{"POST", "/api/v1/surveys/{id}/responses", self, apiCall(s, s.apiRespond)},
		{"POST", "/api/v1/surveys/{id}/close", official, apiCall(s, s.apiCloseSurvey)},
		{"GET", "/api/v1/surveys/{id}/results", public, apiCall(s, s.apiSurveyResults)},
		{"POST", "/api/v1/feedback", public, apiCall(s, s.apiFeedback)},
		{"GET", "/api/v1/feedback", official, apiCall(s, s.apiFeedbackList)},
	}
}
