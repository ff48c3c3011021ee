package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/veche/veche/internal/participation/search"
	"github.com/veche/veche/internal/validate"
)

// searchQuery reads a search from the address: q, process, kind, status,
// district, sort, page. A process or page that is not a whole number is
// marked -1, which [search.Query.Check] refuses with the field named.
func searchQuery(r *http.Request) search.Query {
	v := r.URL.Query()
	q := search.Query{Text: v.Get("q"), Kind: v.Get("kind"), State: v.Get("status"), District: v.Get("district"), Sort: v.Get("sort")}
	q.Process = queryNumber(v.Get("process"))
	q.Page = int(queryNumber(v.Get("page")))
	return q
}

// queryNumber is a positive whole number from the address, 0 when absent,
// and -1 when present but not one.
func queryNumber(s string) int64 {
	if s == "" {
		return 0
	}
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil || n < 1 {
		return -1
	}
	return n
}

// hitURL is the page of a search result.
func hitURL(h search.Hit) string {
	id := strconv.FormatInt(h.ID, 10)
	switch h.Kind {
	case search.KindProcess:
		return "/processes/" + id
	case search.KindSection:
		return spaceURL(h.SpaceKind, h.SpaceID) + "#s" + id
	case search.KindComment:
		u := spaceURL(h.SpaceKind, h.SpaceID)
		if h.SectionID != 0 {
			u += "?section=" + strconv.FormatInt(h.SectionID, 10)
		}
		return u + "#c" + id
	case search.KindPetition:
		return "/petitions/" + id
	case search.KindProject:
		return spaceURL(h.SpaceKind, h.SpaceID) + "#p" + id
	}
	return "/processes"
}

// searchPageURL is the address of another page of the same search.
func searchPageURL(q search.Query, page int) string {
	v := url.Values{}
	for k, x := range map[string]string{"q": q.Text, "kind": q.Kind, "status": q.State, "district": q.District} {
		if x != "" {
			v.Set(k, x)
		}
	}
	if q.Process != 0 {
		v.Set("process", strconv.FormatInt(q.Process, 10))
	}
	if q.Sort == search.SortNewest {
		v.Set("sort", q.Sort)
	}
	v.Set("page", strconv.Itoa(page))
	return "/search?" + v.Encode()
}

func (s *Server) searchPage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	q := searchQuery(r)
	data := map[string]any{"Query": q, "Kinds": search.Kinds, "States": search.States}
	processes, err := s.sp.core.Processes(r.Context())
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	data["Processes"] = processes
	if r.URL.RawQuery != "" {
		res, err := s.sp.search.Search(r.Context(), q)
		var invalid validate.Errors
		if errors.As(err, &invalid) {
			data["Query"] = search.Query{Text: q.Text, District: q.District}
			s.renderForm(w, r, c, http.StatusUnprocessableEntity, "search", data, r.URL.Query(), invalid)
			return
		}
		if err != nil {
			s.fail(w, r, c, err)
			return
		}
		type hit struct {
			search.Hit
			URL string
		}
		hits := make([]hit, 0, len(res.Hits))
		for _, h := range res.Hits {
			hits = append(hits, hit{h, hitURL(h)})
		}
		data["Results"], data["Hits"] = res, hits
		if res.Page > 1 {
			data["Prev"] = searchPageURL(res.Query, res.Page-1)
		}
		if res.Page < res.Pages {
			data["Next"] = searchPageURL(res.Query, res.Page+1)
		}
	}
	s.render(w, r, c, http.StatusOK, "search", data)
}

func (s *Server) apiSearch(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	res, err := s.sp.search.Search(r.Context(), searchQuery(r))
	if err != nil {
		return answer{}, err
	}
	type hit struct {
		search.Hit
		URL string `json:"url"`
	}
	hits := make([]hit, 0, len(res.Hits))
	for _, h := range res.Hits {
		hits = append(hits, hit{h, hitURL(h)})
	}
	return answer{http.StatusOK, map[string]any{"query": res.Query, "terms": nonNil(res.Terms), "results": hits,
		"total": res.Total, "page": res.Page, "pages": res.Pages}}, nil
}
