package identity

import "slices"

// Role is a set of permissions granted to an account.
type Role string

// The roles of DESIGN.md. Every account is a citizen; the others are staff
// roles granted by an administrator and need MFA to take effect.
const (
	RoleCitizen         Role = "citizen"
	RoleModerator       Role = "moderator"
	RoleOfficial        Role = "official"
	RoleElectionOfficer Role = "election_officer"
	RoleTrustee         Role = "trustee"
	RoleDPO             Role = "dpo"
	RoleSecurityAnalyst Role = "security_analyst"
	RoleAuditor         Role = "auditor"
	RoleAdmin           Role = "admin"
)

// RoleCredentialAuthority issues voters their election credentials,
// offline, and uploads only the public ones (package election).
const RoleCredentialAuthority Role = "credential_authority"

// Roles lists every role in display order.
var Roles = []Role{RoleCitizen, RoleModerator, RoleOfficial, RoleElectionOfficer, RoleTrustee, RoleCredentialAuthority, RoleDPO, RoleSecurityAnalyst, RoleAuditor, RoleAdmin}

// Staff reports whether r is a staff role (anything above citizen).
func (r Role) Staff() bool { return r != RoleCitizen }

// ParseRole returns the role named s.
func ParseRole(s string) (Role, bool) {
	r := Role(s)
	return r, slices.Contains(Roles, r)
}

// Permission names one thing a request may do.
type Permission string

// Permissions. Each route of the web layer names exactly one.
const (
	PermAccountSelf        Permission = "account.self"          // manage one's own account, sessions and MFA
	PermAccountsRead       Permission = "accounts.read"         // look up other accounts
	PermRolesManage        Permission = "roles.manage"          // grant and revoke roles
	PermSecurityEventsRead Permission = "security_events.read"  // read the security-events table
	PermProcessingRecord   Permission = "privacy.record"        // read the record of processing activities (GDPR Art. 30)
	PermAccessReview       Permission = "privacy.access_review" // review staff reads of personal data made outside normal workflow
	PermRequestsHandle     Permission = "privacy.requests"      // handle data-subject requests in the DPO queue
	PermProcessesManage    Permission = "processes.manage"      // create and run participation processes, answer, publish results
	PermContentModerate    Permission = "content.moderate"      // review flagged and pre-moderated content, hide and restore it
	PermCensusManage       Permission = "census.manage"         // import the census of residents for eligibility
)

// The permissions of verifiable elections (package election).
const (
	PermElectionsManage     Permission = "elections.manage"      // create, configure, open, close and tally elections
	PermElectionTrustee     Permission = "elections.trustee"     // take part as a trustee: the key ceremony and the decryption
	PermElectionCredentials Permission = "elections.credentials" // upload and publish an election's public credentials
)

// Permissions lists every permission.
var Permissions = []Permission{PermAccountSelf, PermAccountsRead, PermRolesManage, PermSecurityEventsRead, PermProcessingRecord, PermAccessReview, PermRequestsHandle,
	PermProcessesManage, PermContentModerate, PermCensusManage, PermElectionsManage, PermElectionTrustee, PermElectionCredentials}

// grants is the one table of who may do what.
var grants = map[Role][]Permission{
	RoleCitizen:         {PermAccountSelf},
	RoleModerator:       {PermContentModerate},
	RoleOfficial:        {PermProcessesManage, PermContentModerate, PermCensusManage},
	RoleElectionOfficer: {PermElectionsManage},
	RoleTrustee:         {PermElectionTrustee},
	RoleDPO:             {PermAccountsRead, PermProcessingRecord, PermAccessReview, PermRequestsHandle},
	RoleSecurityAnalyst: {PermSecurityEventsRead},
	RoleAuditor:         {PermSecurityEventsRead, PermProcessingRecord, PermAccessReview},
	RoleAdmin:           {PermAccountsRead, PermRolesManage, PermSecurityEventsRead, PermProcessingRecord},

	RoleCredentialAuthority: {PermElectionCredentials},
}

// Grants reports whether role r carries permission p.
func (r Role) Grants(p Permission) bool { return slices.Contains(grants[r], p) }
