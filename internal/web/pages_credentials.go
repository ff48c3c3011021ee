package web

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/veche/veche/internal/election"
	"github.com/veche/veche/internal/validate"
)

// maxCredentialsUpload bounds the body of the credential authority's
// upload of public-credentials.json: election.MaxCredentialsPerFile
// credentials of 43 characters, quoted and separated, and the form
// around them. It is allowed only on that route and only to a principal
// who may upload credentials (withContext); every other body stays
// under maxBody.
const maxCredentialsUpload = 32 << 20

// credentialsUploadPath reports whether a request is the credential
// authority's page upload, POST /elections/{id}/credentials.
func credentialsUploadPath(r *http.Request) bool {
	rest, ok := strings.CutPrefix(r.URL.Path, "/elections/")
	if !ok || r.Method != http.MethodPost {
		return false
	}
	id, ok := strings.CutSuffix(rest, "/credentials")
	_, err := strconv.ParseUint(id, 10, 63)
	return ok && err == nil
}

// credentialsForm is the credential authority's page: upload the whole
// public-credentials.json with the count and digest `veche credentials
// generate` printed, and the list is published in one step.
func (h *electionWeb) credentialsForm(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	h.renderCredentials(w, r, c, http.StatusOK, nil, nil)
}

func (h *electionWeb) renderCredentials(w http.ResponseWriter, r *http.Request, c *reqCtx, status int, form map[string][]string, errs validate.Errors) {
	e, err := h.election(r)
	if err == nil && e.State != election.Credentials {
		err = &election.StateError{State: e.State, Want: []string{election.Credentials}}
	}
	if err != nil {
		h.failElection(w, r, c, err)
		return
	}
	h.renderForm(w, r, c, status, "election-credentials", map[string]any{"E": e, "Max": election.MaxCredentialsPerFile}, form, errs)
}

func (h *electionWeb) uploadCredentials(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	id, err := pathID(r)
	if err != nil {
		h.failElection(w, r, c, err)
		return
	}
	var v validate.Errors
	var list election.CredentialList
	switch f, _, err := r.FormFile("credentials"); {
	case errors.Is(err, http.ErrMissingFile):
		v.Add("credentials", "required", nil)
	case err != nil:
		v.Add("credentials", "credentials_file_unreadable", nil)
	default:
		defer f.Close()
		dec := json.NewDecoder(io.LimitReader(f, maxCredentialsUpload))
		if err := dec.Decode(&list); err != nil || dec.More() {
			v.Add("credentials", "credentials_file_unreadable", nil)
		}
	}
	count, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("count")))
	if err != nil || count < 1 {
		v.Add("count", "credentials_count_invalid", nil)
	}
	digest := strings.ToLower(strings.Join(strings.Fields(r.PostFormValue("digest")), ""))
	if digest == "" {
		v.Add("digest", "required", nil)
	}
	form := map[string][]string{"count": {r.PostFormValue("count")}, "digest": {r.PostFormValue("digest")}}
	if err := v.Err(); err != nil {
		h.renderCredentials(w, r, c, http.StatusUnprocessableEntity, form, v)
		return
	}
	_, err = h.el.ReplaceCredentials(r.Context(), c.principal.AccountID, id, list, count, digest)
	if errors.As(err, &v) {
		h.renderCredentials(w, r, c, http.StatusUnprocessableEntity, form, v)
		return
	}
	if err != nil {
		h.failElection(w, r, c, err)
		return
	}
	http.Redirect(w, r, "/elections/"+strconv.FormatInt(id, 10)+"?done=credentials_published", http.StatusSeeOther)
}
