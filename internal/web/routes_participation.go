package web

import "github.com/veche/veche/internal/identity"

// participationRoutes are the pages and API endpoints of processes,
// residence, consultations and petitions (package participation); the
// budget and survey spaces have their own files.
func (s *Server) participationRoutes() []route {
	self := needs(identity.PermAccountSelf)
	manage := needs(identity.PermProcessesManage)
	moderate := needs(identity.PermContentModerate)
	return []route{
		{"GET", "/processes", public, s.processesPage},
		{"GET", "/processes/new", manage, s.newProcessForm},
		{"POST", "/processes", manage, s.createProcess},
		{"GET", "/processes/{id}", public, s.processPage},
		{"POST", "/spaces/{id}/close", manage, s.closeSpace},
		{"GET", "/account/residence", self, s.residencePage},
		{"POST", "/account/residence", self, s.verifyResidence},
		{"GET", "/admin/census", needs(identity.PermCensusManage), s.censusPage},

		{"GET", "/processes/{id}/consultations/new", manage, s.newConsultationForm},
		{"POST", "/processes/{id}/consultations", manage, s.createConsultation},
		{"GET", "/consultations/{id}", public, s.consultationPage},
		{"POST", "/consultations/{id}/comments", self, s.postComment},
		{"GET", "/comments/{id}/edit", self, s.editCommentForm},
		{"POST", "/comments/{id}/edit", self, s.editComment},
		{"GET", "/comments/{id}/history", public, s.commentHistoryPage},
		{"POST", "/comments/{id}/reaction", self, s.reactToComment},
		{"POST", "/consultations/{id}/answers", manage, s.answerConsultation},
		{"GET", "/consultations/{id}/report", public, s.reportPage},
		{"POST", "/consultations/{id}/report", manage, s.publishReport},

		{"GET", "/processes/{id}/petitions/new", manage, s.newPetitionSpaceForm},
		{"POST", "/processes/{id}/petitions", manage, s.createPetitionSpace},
		{"GET", "/spaces/{id}/petitions", public, s.petitionsPage},
		{"GET", "/spaces/{id}/petitions/new", self, s.newPetitionForm},
		{"POST", "/spaces/{id}/petitions", self, s.filePetition},
		{"GET", "/petitions/{id}", public, s.petitionPage},
		{"POST", "/petitions/{id}/signature", self, s.signPetition},
		{"POST", "/petitions/{id}/signature/withdraw", self, s.withdrawSignature},
		{"POST", "/petitions/{id}/review", moderate, s.reviewPetition},
		{"POST", "/petitions/{id}/response", manage, s.respondPetition},

		{"GET", "/api/v1/processes", public, apiCall(s, s.apiProcesses)},
		{"POST", "/api/v1/processes", manage, apiCall(s, s.apiCreateProcess)},
		{"GET", "/api/v1/processes/{id}", public, apiCall(s, s.apiProcess)},
		{"POST", "/api/v1/spaces/{id}/close", manage, apiCall(s, s.apiCloseSpace)},
		{"GET", "/api/v1/account/residence", self, apiCall(s, s.apiResidence)},
		{"POST", "/api/v1/account/residence", self, apiCall(s, s.apiVerifyResidence)},

		{"POST", "/api/v1/processes/{id}/consultations", manage, apiCall(s, s.apiCreateConsultation)},
		{"GET", "/api/v1/consultations/{id}", public, apiCall(s, s.apiConsultation)},
		{"GET", "/api/v1/consultations/{id}/comments", public, apiCall(s, s.apiComments)},
		{"POST", "/api/v1/consultations/{id}/comments", self, apiCall(s, s.apiPostComment)},
		{"PUT", "/api/v1/comments/{id}", self, apiCall(s, s.apiEditComment)},
		{"GET", "/api/v1/comments/{id}/history", public, apiCall(s, s.apiCommentHistory)},
		{"PUT", "/api/v1/comments/{id}/reaction", self, apiCall(s, s.apiReact)},
		{"POST", "/api/v1/consultations/{id}/answers", manage, apiCall(s, s.apiAnswer)},
		{"PUT", "/api/v1/consultations/{id}/report", manage, apiCall(s, s.apiPublishReport)},

		{"POST", "/api/v1/processes/{id}/petitions", manage, apiCall(s, s.apiCreatePetitionSpace)},
		{"GET", "/api/v1/spaces/{id}/petitions", public, apiCall(s, s.apiPetitions)},
		{"POST", "/api/v1/spaces/{id}/petitions", self, apiCall(s, s.apiFilePetition)},
		{"GET", "/api/v1/petitions/{id}", public, apiCall(s, s.apiPetition)},
		{"PUT", "/api/v1/petitions/{id}/signature", self, apiCall(s, s.apiSign)},
		{"DELETE", "/api/v1/petitions/{id}/signature", self, apiCall(s, s.apiWithdrawSignature)},
		{"POST", "/api/v1/petitions/{id}/review", moderate, apiCall(s, s.apiReviewPetition)},
		{"POST", "/api/v1/petitions/{id}/response", manage, apiCall(s, s.apiRespondPetition)},
	}
}
