package web

import "github.com/veche/veche/internal/identity"

// notifyRoutes are the pages and API endpoints of notifications (package
// participation/notify): one's notifications, email preferences, and
// following a process.
func (s *Server) notifyRoutes() []route {
	self := needs(identity.PermAccountSelf)
	return []route{
		{"GET", "/notifications", self, s.notificationsPage},
		{"POST", "/notifications/read", self, s.markNotificationsRead},
		{"GET", "/account/notifications", self, s.notifyPreferencesForm},
		{"POST", "/account/notifications", self, s.saveNotifyPreferences},
		{"POST", "/processes/{id}/follow", self, s.followProcess},

		{"GET", "/api/v1/notifications", self, apiCall(s, s.apiNotifications)},
		{"POST", "/api/v1/notifications/read", self, apiCall(s, s.apiMarkNotificationsRead)},
		{"GET", "/api/v1/account/notification-preferences", self, apiCall(s, s.apiNotifyPreferences)},
		{"PUT", "/api/v1/account/notification-preferences", self, apiCall(s, s.apiSetNotifyPreferences)},
		{"PUT", "/api/v1/processes/{id}/follow", self, apiCall(s, s.apiFollow)},
		{"DELETE", "/api/v1/processes/{id}/follow", self, apiCall(s, s.apiUnfollow)},
	}
}
