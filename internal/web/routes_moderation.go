package web

import "github.com/veche/veche/internal/identity"

// moderationRoutes are the pages and API endpoints of moderation (package
// participation/moderation): anyone flags, moderators decide, everyone
// reads the log of decisions.
func (s *Server) moderationRoutes() []route {
	moderate := needs(identity.PermContentModerate)
	if s.sp.moderation != nil && s.id != nil {
		// Links in the mail to authors lead to the instance's public address.
		s.sp.moderation.PublicURL = s.id.Config().PublicURL
	}
	return []route{
		{"GET", "/flag", public, s.flagForm},
		{"POST", "/flags", public, s.fileFlag},
		{"GET", "/moderation", moderate, s.moderationQueuePage},
		{"POST", "/moderation/decisions", moderate, s.decide},
		{"GET", "/moderation/log", public, s.moderationLogPage},
		{"GET", "/moderation/policy", public, s.moderationPolicyPage},

		{"POST", "/api/v1/flags", public, apiCall(s, s.apiFlag)},
		{"GET", "/api/v1/moderation/queue", moderate, apiCall(s, s.apiModerationQueue)},
		{"POST", "/api/v1/moderation/decisions", moderate, apiCall(s, s.apiDecide)},
		{"GET", "/api/v1/moderation/log", public, apiCall(s, s.apiModerationLog)},
	}
}
