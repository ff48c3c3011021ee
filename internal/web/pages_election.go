package web

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/veche/veche/internal/election"
	"github.com/veche/veche/internal/i18n"
	"github.com/veche/veche/internal/identity"
	"github.com/veche/veche/internal/participation"
	"github.com/veche/veche/internal/validate"
	"github.com/veche/veche/internal/voting"
	"github.com/veche/veche/internal/voting/record"
)

// contestRows is how many contests the draft form offers; a form works
// without JavaScript, so it cannot add rows.
const contestRows = 5

// contestKinds are the kinds of contest in the order the form lists them.
var contestKinds = []voting.Kind{voting.ChooseOne, voting.ChooseUpTo, voting.YesNo}

func (h *electionWeb) electionsPage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	list, err := h.el.List(r.Context(), 0)
	if err != nil {
		h.failElection(w, r, c, err)
		return
	}
	data := map[string]any{"Elections": list}
	if c.principal != nil && c.principal.Can(identity.PermElectionTrustee) {
		mine, err := h.el.ForTrustee(r.Context(), c.principal.AccountID)
		if err != nil {
			h.failElection(w, r, c, err)
			return
		}
		data["Mine"] = mine
	}
	h.render(w, r, c, http.StatusOK, "elections", data)
}

// electionFromForm reads the draft form; malformed numbers and dates are
// field errors.
func electionFromForm(r *http.Request) (election.Input, validate.Errors) {
	var errs validate.Errors
	in := election.Input{Title: r.PostFormValue("title")}
	var err error
	if in.Opens, err = time.Parse(formTime, r.PostFormValue("opens")); err != nil {
		errs.Add("opens", "datetime", nil)
	}
	if in.Closes, err = time.Parse(formTime, r.PostFormValue("closes")); err != nil {
		errs.Add("closes", "datetime", nil)
	}
	for _, f := range strings.FieldsFunc(r.PostFormValue("trustees"), func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' }) {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil || n <= 0 {
			errs.Add("trustees", "number", nil)
			break
		}
		in.Trustees = append(in.Trustees, n)
	}
	number := func(field string) int {
		v := strings.TrimSpace(r.PostFormValue(field))
		if v == "" {
			return 0
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			errs.Add(field, "number", nil)
		}
		return n
	}
	in.Threshold = number("trustees.threshold")
	// Rows up to the last one filled in; a blank row between two filled
	// ones is a contest with nothing in it, and says so.
	last := -1
	for i := range contestRows {
		p := fmt.Sprintf("contests.%d.", i)
		if strings.TrimSpace(r.PostFormValue(p+"title")+r.PostFormValue(p+"options")) != "" {
			last = i
		}
	}
	for i := 0; i <= last; i++ {
		p := fmt.Sprintf("contests.%d.", i)
		ci := election.ContestInput{Title: r.PostFormValue(p + "title"), Kind: voting.Kind(r.PostFormValue(p + "kind")),
			Min: number(p + "min"), Max: number(p + "max")}
		ci.Options = strings.Split(strings.ReplaceAll(r.PostFormValue(p+"options"), "\r\n", "\n"), "\n")
		in.Contests = append(in.Contests, ci)
	}
	return in, errs
}

// electionForm is what the draft form shows for an election's input.
func electionForm(in election.Input) url.Values {
	f := url.Values{"title": {in.Title}, "opens": {in.Opens.UTC().Format(formTime)}, "closes": {in.Closes.UTC().Format(formTime)},
		"trustees.threshold": {strconv.Itoa(in.Threshold)}}
	var ts []string
	for _, t := range in.Trustees {
		ts = append(ts, strconv.FormatInt(t, 10))
	}
	f.Set("trustees", strings.Join(ts, "\n"))
	for i, c := range in.Contests {
		p := fmt.Sprintf("contests.%d.", i)
		f.Set(p+"title", c.Title)
		f.Set(p+"kind", string(c.Kind))
		f.Set(p+"min", strconv.Itoa(c.Min))
		f.Set(p+"max", strconv.Itoa(c.Max))
		f.Set(p+"options", strings.Join(c.Options, "\n"))
	}
	return f
}

// renderElectionForm shows the draft form: to create an election (e nil)
// or to change a draft.
func (h *electionWeb) renderElectionForm(w http.ResponseWriter, r *http.Request, c *reqCtx, status int, e *election.Election, form url.Values, errs validate.Errors) {
	data := map[string]any{"Election": e, "Rows": make([]struct{}, contestRows), "Kinds": contestKinds}
	trustees, err := h.el.TrusteeAccounts(r.Context())
	if err != nil {
		h.failElection(w, r, c, err)
		return
	}
	data["TrusteeAccounts"] = trustees
	if e == nil {
		processes, err := h.sp.core.Processes(r.Context())
		if err != nil {
			h.failElection(w, r, c, err)
			return
		}
		data["Processes"] = processes
	}
	h.renderForm(w, r, c, status, "election-form", data, form, errs)
}

func (h *electionWeb) newElectionForm(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	now := h.el.Now().Truncate(time.Hour)
	form := url.Values{"opens": {now.Add(7 * 24 * time.Hour).Format(formTime)}, "closes": {now.Add(14 * 24 * time.Hour).Format(formTime)},
		"trustees.threshold": {"2"}, "contests.0.kind": {string(voting.ChooseOne)}, "process_id": {r.URL.Query().Get("process")}}
	h.renderElectionForm(w, r, c, http.StatusOK, nil, form, nil)
}

func (h *electionWeb) createElection(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	in, errs := electionFromForm(r)
	process := formInt(r.PostFormValue("process_id"))
	if process == 0 {
		errs.Add("process_id", "required", nil)
	}
	var e *election.Election
	err := errs.Err()
	if err == nil {
		e, err = h.el.Create(r.Context(), c.principal.AccountID, process, in)
	}
	if errors.Is(err, participation.ErrNotFound) {
		err = validate.One("process_id", "invalid", nil)
	}
	var v validate.Errors
	if errors.As(err, &v) {
		h.renderElectionForm(w, r, c, http.StatusUnprocessableEntity, nil, r.PostForm, v)
		return
	}
	if err != nil {
		h.failElection(w, r, c, err)
		return
	}
	http.Redirect(w, r, "/elections/"+strconv.FormatInt(e.ID, 10)+"?done=created", http.StatusSeeOther)
}

func (h *electionWeb) editElectionForm(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	e, err := h.election(r)
	if err == nil && e.State != election.Draft {
		err = &election.StateError{State: e.State, Want: []string{election.Draft}}
	}
	if err != nil {
		h.failElection(w, r, c, err)
		return
	}
	h.renderElectionForm(w, r, c, http.StatusOK, e, electionForm(e.Input()), nil)
}

func (h *electionWeb) updateElection(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	e, err := h.election(r)
	if err != nil {
		h.failElection(w, r, c, err)
		return
	}
	in, errs := electionFromForm(r)
	err = errs.Err()
	if err == nil {
		_, err = h.el.Update(r.Context(), c.principal.AccountID, e.ID, in)
	}
	var v validate.Errors
	if errors.As(err, &v) {
		h.renderElectionForm(w, r, c, http.StatusUnprocessableEntity, e, r.PostForm, v)
		return
	}
	if err != nil {
		h.failElection(w, r, c, err)
		return
	}
	http.Redirect(w, r, "/elections/"+strconv.FormatInt(e.ID, 10)+"?done=updated", http.StatusSeeOther)
}

// officerStep is the page form of an officer's step: do it, and come
// back to the election page saying what was done.
func (h *electionWeb) officerStep(do func(r *http.Request, officer, id int64) (*election.Election, error), done string) handler {
	return func(w http.ResponseWriter, r *http.Request, c *reqCtx) {
		id, err := pathID(r)
		if err == nil {
			_, err = do(r, c.principal.AccountID, id)
		}
		notice := done
		if errors.Is(err, errTallyContinues) {
			notice, err = "tally_running", nil
		}
		if err != nil {
			h.failElection(w, r, c, err)
			return
		}
		http.Redirect(w, r, "/elections/"+strconv.FormatInt(id, 10)+"?done="+notice, http.StatusSeeOther)
	}
}

// electionDone are the notices the election page shows after a step.
var electionDone = []string{"created", "updated", "ceremony_started", "ceremony_cancelled", "credentials_published", "opened", "closed", "tally_running", "tallied"}

func (h *electionWeb) electionPage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	e, err := h.election(r)
	if err != nil {
		h.failElection(w, r, c, err)
		return
	}
	process, err := h.sp.core.Process(r.Context(), e.ProcessID)
	if err != nil {
		h.failElection(w, r, c, err)
		return
	}
	ev, err := h.viewerEligibility(r, c, e.ProcessID)
	if err != nil {
		h.failElection(w, r, c, err)
		return
	}
	you := e.TrusteeIndex(viewerID(c))
	data := map[string]any{"E": e, "Process": process, "Eligibility": ev, "Result": resultView(e),
		"Manage": c.principal.Can(identity.PermElectionsManage), "Authority": c.principal.Can(identity.PermElectionCredentials),
		"Trustee": you, "Steps": electionSteps(e.State),
		"TallyRunning": h.el.TallyRunning(e)}
	if e.State == election.Ceremony {
		st, err := h.el.Ceremony(r.Context(), e.ID)
		if err != nil {
			h.failElection(w, r, c, err)
			return
		}
		data["Ceremony"] = st
		if you != 0 {
			next, waiting := st.Next(you)
			data["Next"], data["WaitingFor"] = next, listIndices(waiting)
			// What a trustee may do when those waited for do not come:
			// complain that their shares are missing, or confirm without
			// their answers (either leaves them out of the key).
			if next == election.StepWait {
				sent := func(kind string) bool { return slices.Contains(st.Received[kind], you) }
				switch {
				case sent(election.KindShare) && !sent(election.KindComplaint):
					data["Fallback"] = election.StepReceive
				case sent(election.KindComplaint) && len(st.Received[election.KindComplaint]) == int(st.Trustees):
					data["Fallback"] = election.StepFinish
				}
			}
		}
	}
	// What a trustee gives `veche trustee --election`: this page's public
	// address, as the site's e-mails link it.
	data["URL"] = strings.TrimSuffix(h.id.Config().PublicURL, "/") + "/elections/" + strconv.FormatInt(e.ID, 10)
	if done := r.URL.Query().Get("done"); done != "" {
		for _, d := range electionDone {
			if d == done {
				data["Notice"] = i18n.T(c.lang, "election.done."+d)
			}
		}
	}
	h.render(w, r, c, http.StatusOK, "election", data)
}

// listIndices writes trustee numbers for a reader: "1, 3".
func listIndices(v []uint32) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.FormatUint(uint64(x), 10)
	}
	return strings.Join(s, ", ")
}

// stepView is one state of the way an election goes, for the page's
// list of steps.
type stepView struct {
	State   string
	Done    bool
	Current bool
}

func electionSteps(state string) []stepView {
	var out []stepView
	reached := true
	for _, s := range election.States {
		if s == election.Scheduled {
			continue
		}
		cur := s == state || (state == election.Scheduled && s == election.Open)
		if cur {
			reached = false
		}
		out = append(out, stepView{State: s, Done: reached && !cur, Current: cur})
	}
	return out
}

// resultsView is a published result with the manifest's titles and each
// option's share of the ballots, for the results table.
type resultsView struct {
	Ballots  uint64
	Trustees string
	Excluded []election.Excluded
	Contests []contestResultView
}

type contestResultView struct {
	ID, Title string
	Rows      []optionResultView
}

type optionResultView struct {
	Title   string
	Blank   bool // the row of ballots that left the question blank
	Votes   uint64
	Percent string
	Width   string // of the bar, as a percentage of the largest count
}

func resultView(e *election.Election) *resultsView {
	res := e.Result()
	if res == nil {
		return nil
	}
	v := &resultsView{Ballots: res.Ballots, Excluded: res.Excluded}
	v.Trustees = listIndices(res.Trustees)
	for i, c := range res.Contests {
		if i >= len(e.Manifest.Contests) {
			break
		}
		mc := e.Manifest.Contests[i]
		cv := contestResultView{ID: c.ID, Title: mc.Title}
		for j, o := range c.Options {
			title := o.ID
			if j < len(mc.Options) {
				title = mc.Options[j].Title
			}
			cv.Rows = append(cv.Rows, optionResultView{Title: title, Votes: o.Votes})
		}
		// A question with one answer at most that may be left blank: the
		// ballots that chose none are the rest, so the rows add up to the
		// ballots counted. (With several answers allowed, the totals do not
		// say how many ballots chose none.)
		if mc.Max == 1 && mc.Min == 0 {
			var chosen uint64
			for _, o := range c.Options {
				chosen += o.Votes
			}
			if chosen <= res.Ballots {
				cv.Rows = append(cv.Rows, optionResultView{Blank: true, Votes: res.Ballots - chosen})
			}
		}
		top := uint64(0)
		for _, row := range cv.Rows {
			top = max(top, row.Votes)
		}
		for k := range cv.Rows {
			row := &cv.Rows[k]
			row.Percent, row.Width = "0", "0"
			if res.Ballots > 0 {
				row.Percent = strconv.FormatFloat(100*float64(row.Votes)/float64(res.Ballots), 'f', 1, 64)
			}
			if top > 0 {
				row.Width = strconv.FormatFloat(100*float64(row.Votes)/float64(top), 'f', 1, 64) + "%"
			}
		}
		v.Contests = append(v.Contests, cv)
	}
	return v
}

func (h *electionWeb) resultsPage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	e, err := h.election(r)
	if err != nil {
		h.failElection(w, r, c, err)
		return
	}
	d, err := h.el.DecryptionStatus(r.Context(), e.ID)
	if err != nil {
		h.failElection(w, r, c, err)
		return
	}
	valid := 0
	if d != nil {
		valid = len(d.Received) - len(d.Failed)
	}
	h.render(w, r, c, http.StatusOK, "election-results", map[string]any{"E": e, "Result": resultView(e), "Decryptions": d, "Valid": valid})
}

func (h *electionWeb) ceremonyPage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	e, err := h.election(r)
	if err != nil {
		h.failElection(w, r, c, err)
		return
	}
	st, err := h.el.Ceremony(r.Context(), e.ID)
	if err != nil {
		h.failElection(w, r, c, err)
		return
	}
	rows := make([]ceremonyRow, 0, st.Trustees)
	for i := uint32(1); i <= st.Trustees; i++ {
		row := ceremonyRow{Index: i, Fingerprint: st.Fingerprints[i]}
		for _, k := range []string{election.KindShare, election.KindComplaint, election.KindAnswer, election.KindResult} {
			row.Sent = append(row.Sent, slices.Contains(st.Received[k], i))
		}
		if st.Outcome != nil {
			row.Qualified = st.Outcome.Qualifies(i)
			for _, d := range st.Outcome.Disqualified {
				if d.Dealer == i {
					row.Reason = d.Reason
				}
			}
		}
		rows = append(rows, row)
	}
	h.render(w, r, c, http.StatusOK, "election-ceremony", map[string]any{"E": e, "Status": st, "Rows": rows, "You": e.TrusteeIndex(viewerID(c))})
}

// ceremonyRow is one trustee's line of the ceremony table: their
// commitment's fingerprint once it is in, and which of their other
// messages are in (shares, complaint, answer, result).
type ceremonyRow struct {
	Index       uint32
	Fingerprint string
	Sent        []bool
	Qualified   bool
	Reason      string
}

func (h *electionWeb) ballotBoxPage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	e, err := h.election(r)
	if err != nil {
		h.failElection(w, r, c, err)
		return
	}
	box, err := h.el.Ballots(r.Context(), e.ID, int(formInt(r.URL.Query().Get("page"))))
	if err != nil {
		h.failElection(w, r, c, err)
		return
	}
	data := map[string]any{"E": e, "Box": box}
	form := url.Values{}
	status := http.StatusOK
	var errs validate.Errors
	if code := strings.TrimSpace(r.URL.Query().Get("tracking_code")); code != "" {
		form.Set("tracking_code", code)
		found, err := h.el.Track(r.Context(), e.ID, code)
		var rf *election.Refusal
		switch {
		case errors.As(err, &rf):
			status = http.StatusUnprocessableEntity
			errs = validate.Errors{{Field: "tracking_code", Code: "tracking_code"}}
		case err != nil:
			h.failElection(w, r, c, err)
			return
		default:
			data["Searched"] = true
			data["Found"] = found
		}
	}
	h.renderForm(w, r, c, status, "election-ballots", data, form, errs)
}

func (h *electionWeb) recordZip(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	e, err := h.election(r)
	if err != nil {
		h.failElection(w, r, c, err)
		return
	}
	rec, err := h.el.Record(r.Context(), e.ID, logVerifierKey(h.Log))
	if err != nil {
		h.failElection(w, r, c, err)
		return
	}
	// The archive streams straight out; a failure midway cuts it short,
	// which a reader of the zip notices.
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-record.zip"`, e.ManifestID))
	w.Header().Set("Cache-Control", "no-store")
	if err := record.WriteZip(newProgressWriter(w), rec); err != nil {
		h.Logger.Error("web: election record", "election", e.ID, "err", err)
	}
}

// progressWriter moves the write deadline on as the download goes: a
// record of a large election streams for longer than the server's write
// timeout, which then bounds a stall rather than the whole download.
type progressWriter struct {
	w     io.Writer
	rc    *http.ResponseController
	stall time.Duration // how long a download may make no progress
	every time.Duration // how often the deadline is moved
	last  time.Time
}

func newProgressWriter(w http.ResponseWriter) *progressWriter {
	return &progressWriter{w: w, rc: http.NewResponseController(w), stall: time.Minute, every: time.Second}
}

func (p *progressWriter) Write(b []byte) (int, error) {
	if now := time.Now(); now.Sub(p.last) >= p.every {
		p.last = now
		_ = p.rc.SetWriteDeadline(now.Add(p.stall)) // a writer without deadlines keeps the server's
	}
	return p.w.Write(b)
}
