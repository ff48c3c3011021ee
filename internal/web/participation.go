package web

import (
	"errors"
	"html/template"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/veche/veche/internal/i18n"
	"github.com/veche/veche/internal/participation"
	"github.com/veche/veche/internal/participation/budget"
	"github.com/veche/veche/internal/participation/consultation"
	"github.com/veche/veche/internal/participation/feedback"
	"github.com/veche/veche/internal/participation/moderation"
	"github.com/veche/veche/internal/participation/notify"
	"github.com/veche/veche/internal/participation/petition"
	"github.com/veche/veche/internal/participation/search"
	"github.com/veche/veche/internal/participation/survey"
)

// spaces are the services of the participation spaces, built on the
// participation core.
type spaces struct {
	core          *participation.Service
	consultations *consultation.Service
	petitions     *petition.Service
	surveys       *survey.Service
	feedback      *feedback.Service
	budgets       *budget.Service
	moderation    *moderation.Service
	search        *search.Service
	notify        *notify.Service
}

func newSpaces(core *participation.Service) spaces {
	if core == nil {
		return spaces{}
	}
	return spaces{
		core:          core,
		consultations: consultation.New(core),
		petitions:     petition.New(core),
		surveys:       survey.New(core),
		feedback:      feedback.New(core),
		budgets:       budget.New(core),
		moderation:    moderation.New(core),
		search:        search.New(core.DB(), core, core.Now),
		notify:        notify.New(core, ""),
	}
}

// spaceURL is the page of a space of the given kind.
func spaceURL(kind string, id int64) string {
	n := strconv.FormatInt(id, 10)
	switch kind {
	case participation.KindConsultation:
		return "/consultations/" + n
	case participation.KindPetitions:
		return "/spaces/" + n + "/petitions"
	case participation.KindBudget:
		return "/budgets/" + n
	case participation.KindSurvey:
		return "/surveys/" + n
	}
	return "/processes"
}

// classifyParticipation maps the participation errors to a status and a
// machine code; classify calls it.
func classifyParticipation(err error) (int, string, bool) {
	switch {
	case errors.Is(err, participation.ErrNotFound):
		return http.StatusNotFound, "not_found", true
	case errors.Is(err, participation.ErrOutsidePhase):
		return http.StatusConflict, "outside_phase", true
	case errors.Is(err, participation.ErrNotEligible):
		return http.StatusForbidden, "not_eligible", true
	case errors.Is(err, participation.ErrAlreadyClaimed):
		return http.StatusConflict, "residence_claimed", true
	case errors.Is(err, participation.ErrNotInCensus):
		return http.StatusUnprocessableEntity, "not_in_census", true
	case errors.Is(err, petition.ErrAlreadySigned):
		return http.StatusConflict, "already_signed", true
	case errors.Is(err, petition.ErrNotSigned):
		return http.StatusConflict, "not_signed", true
	case errors.Is(err, petition.ErrNotOpen):
		return http.StatusConflict, "petition_not_open", true
	case errors.Is(err, petition.ErrNotPending):
		return http.StatusConflict, "petition_not_pending", true
	case errors.Is(err, petition.ErrNotPublished):
		return http.StatusConflict, "petition_not_published", true
	case errors.Is(err, consultation.ErrNotAuthor):
		return http.StatusForbidden, "not_author", true
	case errors.Is(err, consultation.ErrNoReport):
		return http.StatusConflict, "report_too_early", true
	}
	return 0, "", false
}

// participationMessage explains a refusal with its circumstances: when
// the space opens or closed, and why the person is not eligible.
func participationMessage(lang i18n.Lang, err error) (string, bool) {
	var pe *participation.PhaseError
	if errors.As(err, &pe) {
		if pe.State == participation.Upcoming {
			return i18n.T(lang, "error.outside_phase.upcoming", "date", formatTime(pe.Opens)), true
		}
		return i18n.T(lang, "error.outside_phase.closed", "date", formatTime(pe.Closes)), true
	}
	var ne *participation.NotEligibleError
	if errors.As(err, &ne) {
		return eligibilityMessage(lang, ne), true
	}
	return "", false
}

func eligibilityMessage(lang i18n.Lang, ne *participation.NotEligibleError) string {
	return i18n.T(lang, "eligibility.refused."+ne.Reason, "districts", strings.Join(ne.Districts, ", "), "age", ne.MinAge)
}

func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// formInt reads a positive integer form or query value; 0 when absent or
// malformed.
func formInt(v string) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// participationFuncs are the template functions of the participation
// pages, added to the shared function map before templates are parsed.
var participationFuncs = template.FuncMap{
	"inc":  func(i int) int { return i + 1 },
	"join": strings.Join,
	// pages lists the page numbers a pager links: the first and last,
	// and two either side of the current one, with 0 for each gap, so a
	// list of thousands of pages stays a dozen links long.
	"pages": pagerWindow,
	// commentView and meterView pair the page's view with one item, for
	// templates that recurse or repeat.
	"commentView": func(v *view, c *consultation.Comment) any {
		return struct {
			V *view
			C *consultation.Comment
		}{v, c}
	},
	"meterView": func(v *view, p *petition.Petition) any {
		return struct {
			V *view
			P *petition.Petition
		}{v, p}
	},
	"reportLinks": reportLinks,
}

func init() {
	for k, f := range participationFuncs {
		templateFuncs[k] = f
	}
}

var reportRef = regexp.MustCompile(`(^|[\s(])#([cs])(\d+)\b`)

// reportLinks turns "#c123" and "#s4" in a consultation report into
// Markdown links to comment 123 and section 4 of space.
func reportLinks(report string, space int64) string {
	base := "/consultations/" + strconv.FormatInt(space, 10)
	return reportRef.ReplaceAllStringFunc(report, func(m string) string {
		sub := reportRef.FindStringSubmatch(m)
		return sub[1] + "[#" + sub[2] + sub[3] + "](" + base + "#" + sub[2] + sub[3] + ")"
	})
}

// pagerWindow is the pages template function: the pages to link out of
// 1..total around current, 0 standing for a run of pages left out (a gap
// of a single page is linked instead).
func pagerWindow(current, total int) []int {
	const around = 2
	var out []int
	for n := 1; n <= total; n++ {
		if n == 1 || n == total || (n >= current-around && n <= current+around) {
			out = append(out, n)
			continue
		}
		if n == current-around-1 && n == 2 || n == current+around+1 && n == total-1 {
			out = append(out, n) // a gap of one page: link it
			continue
		}
		if len(out) > 0 && out[len(out)-1] != 0 {
			out = append(out, 0)
		}
	}
	return out
}
