package web

import "github.com/veche/veche/internal/identity"

// budgetRoutes are the pages and API endpoints of the budget spaces
// (package participation/budget). An official closes a budget early with
// the general POST /spaces/{id}/close; results are published on first
// request after closing.
func (s *Server) budgetRoutes() []route {
	self := needs(identity.PermAccountSelf)
	manage := needs(identity.PermProcessesManage)
	return []route{
		{"GET", "/processes/{id}/budgets/new", manage, s.newBudgetForm},
		{"POST", "/processes/{id}/budgets", manage, s.createBudget},
		{"GET", "/budgets/{id}", public, s.budgetPage},
		{"POST", "/budgets/{id}/ballot", self, s.castBallot},
		{"POST", "/budgets/{id}/ballot/withdraw", self, s.withdrawBallot},
		{"GET", "/budgets/{id}/projects/new", manage, s.newProjectForm},
		{"POST", "/budgets/{id}/projects", manage, s.addProject},
		{"GET", "/budget-projects/{id}/edit", manage, s.editProjectForm},
		{"POST", "/budget-projects/{id}/edit", manage, s.editProject},
		{"GET", "/budgets/{id}/results", public, s.budgetResultsPage},
		{"GET", "/budgets/{id}/results.csv", public, s.budgetResultsCSV},
		{"GET", "/budgets/{id}/results.json", public, s.budgetResultsJSON},

		{"POST", "/api/v1/processes/{id}/budgets", manage, apiCall(s, s.apiCreateBudget)},
		{"GET", "/api/v1/budgets/{id}", public, apiCall(s, s.apiBudget)},
		{"POST", "/api/v1/budgets/{id}/projects", manage, apiCall(s, s.apiAddProject)},
		{"PUT", "/api/v1/budget-projects/{id}", manage, apiCall(s, s.apiEditProject)},
		{"PUT", "/api/v1/budgets/{id}/ballot", self, apiCall(s, s.apiCastBallot)},
		{"DELETE", "/api/v1/budgets/{id}/ballot", self, apiCall(s, s.apiWithdrawBallot)},
		{"GET", "/api/v1/budgets/{id}/results", public, apiCall(s, s.apiBudgetResults)},
	}
}
