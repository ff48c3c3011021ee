package web

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/veche/veche/internal/identity"
	"github.com/veche/veche/internal/privacy"
	"github.com/veche/veche/internal/secops"
	"github.com/veche/veche/internal/validate"
)

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

// pathID reads a positive numeric id from the path.
func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errBadID
	}
	return id, nil
}

func (s *Server) adminAccounts(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	q := r.URL.Query().Get("q")
	data := map[string]any{"Query": q}
	if q != "" {
		purpose, why := statedPurpose(r)
		data["Purpose"], data["Justification"] = purpose, why
		list, err := s.id.FindAccounts(r.Context(), c.principal, q, purpose, why)
		var v validate.Errors
		if errors.As(err, &v) {
			s.renderForm(w, r, c, http.StatusUnprocessableEntity, "admin-accounts", data, r.URL.Query(), v)
			return
		}
		if err != nil {
			s.fail(w, r, c, err)
			return
		}
		data["Accounts"] = list
	}
	s.renderForm(w, r, c, http.StatusOK, "admin-accounts", data, r.URL.Query(), nil)
}

func (s *Server) adminAccount(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	s.renderAdminAccount(w, r, c, http.StatusOK, nil)
}

func (s *Server) renderAdminAccount(w http.ResponseWriter, r *http.Request, c *reqCtx, status int, errs validate.Errors) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	// Opening a person's data needs a stated purpose, recorded in the
	// access log; changing roles is itself the purpose.
	purpose, why := statedPurpose(r)
	if r.Method == http.MethodPost {
		purpose, why = privacy.AccessRoleManagement, ""
	} else if !r.URL.Query().Has("purpose") {
		s.renderForm(w, r, c, http.StatusOK, "admin-access-purpose", map[string]any{"ID": id}, nil, nil)
		return
	}
	a, err := s.id.AccountFor(r.Context(), c.principal, id, purpose, why)
	var v validate.Errors
	if errors.As(err, &v) {
		s.renderForm(w, r, c, http.StatusUnprocessableEntity, "admin-access-purpose", map[string]any{"ID": id}, r.URL.Query(), v)
		return
	}
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	var grantable []identity.Role
	for _, role := range identity.Roles[1:] {
		if !slices.Contains(a.Roles, role) {
			grantable = append(grantable, role)
		}
	}
	s.renderForm(w, r, c, status, "admin-account", map[string]any{"Account": a, "Grantable": grantable, "Notice": r.URL.Query().Get("done")}, nil, errs)
}

// statedPurpose reads why staff are opening someone's data.
func statedPurpose(r *http.Request) (privacy.AccessPurpose, string) {
	q := r.URL.Query()
	return privacy.AccessPurpose(q.Get("purpose")), q.Get("justification")
}

func (s *Server) adminGrantRole(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	s.adminRoleChange(w, r, c, r.PostFormValue("role"), s.id.GrantRole)
}

func (s *Server) adminRevokeRole(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	s.adminRoleChange(w, r, c, r.PathValue("role"), s.id.RevokeRole)
}

func (s *Server) adminRoleChange(w http.ResponseWriter, r *http.Request, c *reqCtx, role string,
	change func(ctx context.Context, p *identity.Principal, id int64, role identity.Role) error) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	back := "/admin/accounts/" + itoa64(id) + "?purpose=" + string(privacy.AccessRoleManagement)
	err = change(r.Context(), c.principal, id, identity.Role(role))
	var v validate.Errors
	switch {
	case errors.Is(err, identity.ErrReauthRequired):
		s.needRecentAuth(w, r, c, back)
	case errors.As(err, &v):
		s.renderAdminAccount(w, r, c, http.StatusUnprocessableEntity, v)
	case err != nil:
		s.fail(w, r, c, err)
	default:
		http.Redirect(w, r, back, http.StatusSeeOther)
	}
}

func (s *Server) securityEventsPage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	events, f, err := s.readSecurityEvents(r, c)
	var v validate.Errors
	if errors.As(err, &v) {
		s.renderForm(w, r, c, http.StatusUnprocessableEntity, "security-events", map[string]any{"Kinds": eventKinds, "Kind": ""}, r.URL.Query(), v)
		return
	}
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	data := map[string]any{"Events": events, "Kind": string(f.Kind), "IP": f.IP, "Kinds": eventKinds}
	if len(events) == f.Limit {
		data["Older"] = events[len(events)-1].ID
	}
	s.render(w, r, c, http.StatusOK, "security-events", data)
}

// readSecurityEvents lists the events asked for and records the read in
// the access log for each account the events name, under the stated
// ?purpose= (security_monitoring when none is stated; break_glass needs a
// ?justification=). The purpose is checked before anything is read.
func (s *Server) readSecurityEvents(r *http.Request, c *reqCtx) ([]secops.Event, secops.Filter, error) {
	f, err := eventFilter(r)
	if err != nil {
		return nil, f, err
	}
	purpose, why := statedPurpose(r)
	if purpose == "" {
		purpose = privacy.AccessSecurityMonitoring
	}
	if err := privacy.CheckPurpose(purpose, why); err != nil {
		return nil, f, err
	}
	events, err := s.Events.Events(r.Context(), f)
	if err != nil {
		return nil, f, err
	}
	named := make([]string, 0, len(events))
	for _, e := range events {
		if e.Account != "" {
			named = append(named, e.Account)
		}
	}
	if err := s.id.RecordSecurityEventReads(r.Context(), c.principal, named, purpose, why); err != nil {
		return nil, f, err
	}
	return events, f, nil
}

var eventKinds = []secops.EventKind{secops.SignInFailed, secops.MFAFailed, secops.ReauthFailed, secops.RateLimited,
	secops.PermissionDenied, secops.CrossOrigin, secops.TokenInvalid}

// eventFilter reads ?kind=&ip=&before= for the events page and API.
func eventFilter(r *http.Request) (secops.Filter, error) {
	q := r.URL.Query()
	f := secops.Filter{Limit: 100}
	if k := q.Get("kind"); k != "" {
		if !slices.Contains(eventKinds, secops.EventKind(k)) {
			return f, validate.One("kind", "unknown_kind", nil)
		}
		f.Kind = secops.EventKind(k)
	}
	if ip := strings.TrimSpace(q.Get("ip")); ip != "" {
		if _, err := netip.ParseAddr(ip); err != nil {
			return f, validate.One("ip", "not_an_address", nil)
		}
		f.IP = ip
	}
	if b := q.Get("before"); b != "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n <= 0 {
			return f, validate.One("before", "not_a_number", nil)
		}
		f.Before = n
	}
	return f, nil
}
