package web

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/veche/veche/internal/i18n"
	"github.com/veche/veche/internal/participation"
	"github.com/veche/veche/internal/participation/activity"
)

// eventURL is the page an activity event is about.
func eventURL(e activity.Event) string {
	space := spaceURL(e.SpaceKind, e.SpaceID)
	item := strconv.FormatInt(e.ItemID, 10)
	switch e.Kind {
	case activity.Comment:
		if e.SectionID != 0 {
			return space + "?section=" + strconv.FormatInt(e.SectionID, 10) + "#c" + item
		}
		return space + "#c" + item
	case activity.Answer:
		if e.ItemID != 0 {
			return space + "#c" + item
		}
		return space + "#s" + strconv.FormatInt(e.SectionID, 10)
	case activity.PetitionPublished, activity.ThresholdReached, activity.Response:
		return "/petitions/" + item
	case activity.Report:
		return space + "/report"
	case activity.Results:
		return space + "/results"
	}
	return space
}

// eventText is the sentence an event is shown as, in lang. It names the
// space, the section or the petition number, never a person.
func eventText(lang i18n.Lang, e activity.Event) string {
	key := "search.activity.event." + e.Kind
	if e.Section != "" && (e.Kind == activity.Comment || e.Kind == activity.Answer) {
		key += "_section"
	}
	return i18n.T(lang, key, "space", e.SpaceTitle, "section", e.Section, "number", e.ItemID,
		"kind", i18n.T(lang, "space.kind."+e.SpaceKind))
}

func (s *Server) activityFeed(r *http.Request) (*participation.Process, *activity.Page, error) {
	id, err := pathID(r)
	if err != nil {
		return nil, nil, err
	}
	p, err := s.sp.core.Process(r.Context(), id)
	if err != nil {
		return nil, nil, err
	}
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	feed, err := activity.New(s.sp.core.DB(), s.sp.core.Now).Feed(r.Context(), id, page)
	return p, feed, err
}

func (s *Server) activityPage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	p, feed, err := s.activityFeed(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	type event struct {
		activity.Event
		Text, URL string
	}
	events := make([]event, 0, len(feed.Events))
	for _, e := range feed.Events {
		events = append(events, event{e, eventText(c.lang, e), eventURL(e)})
	}
	data := map[string]any{"Process": p, "Events": events, "Feed": feed}
	base := fmt.Sprintf("/processes/%d/activity?page=", p.ID)
	if feed.Page > 1 {
		data["Prev"] = base + strconv.Itoa(feed.Page-1)
	}
	if feed.More {
		data["Next"] = base + strconv.Itoa(feed.Page+1)
	}
	s.render(w, r, c, http.StatusOK, "activity", data)
}

func (s *Server) apiActivity(r *http.Request, c *reqCtx, _ *emptyBody) (answer, error) {
	_, feed, err := s.activityFeed(r)
	if err != nil {
		return answer{}, err
	}
	type event struct {
		activity.Event
		URL string `json:"url"`
	}
	events := make([]event, 0, len(feed.Events))
	for _, e := range feed.Events {
		events = append(events, event{e, eventURL(e)})
	}
	return answer{http.StatusOK, map[string]any{"events": events, "page": feed.Page, "more": feed.More}}, nil
}

// Atom (RFC 4287) types: just what the feed needs.
type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Base    string      `xml:"xml:base,attr"`
	Lang    string      `xml:"xml:lang,attr"`
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Updated string      `xml:"updated"`
	Links   []atomLink  `xml:"link"`
	Author  atomAuthor  `xml:"author"`
	Entries []atomEntry `xml:"entry"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomAuthor struct {
	Name string `xml:"name"`
}

type atomEntry struct {
	ID      string   `xml:"id"`
	Title   string   `xml:"title"`
	Updated string   `xml:"updated"`
	Link    atomLink `xml:"link"`
}

func (s *Server) activityAtom(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	p, feed, err := s.activityFeed(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	// Links are relative to the feed's own address (xml:base); ids are
	// tag URIs (RFC 4151) that stay the same wherever the feed is read.
	host := r.Host
	if host == "" {
		host = "veche"
	}
	tag := fmt.Sprintf("tag:%s,2026:process/%d", host, p.ID)
	updated := p.CreatedAt
	f := atomFeed{Base: fmt.Sprintf("/processes/%d/activity.atom", p.ID), Lang: string(c.lang), ID: tag + "/activity",
		Title:  i18n.T(c.lang, "search.activity.title", "title", p.Title),
		Links:  []atomLink{{Rel: "self", Href: fmt.Sprintf("/processes/%d/activity.atom", p.ID)}, {Rel: "alternate", Href: fmt.Sprintf("/processes/%d/activity", p.ID)}},
		Author: atomAuthor{Name: "veche"}}
	for _, e := range feed.Events {
		if e.At.After(updated) {
			updated = e.At
		}
		f.Entries = append(f.Entries, atomEntry{
			ID:      fmt.Sprintf("%s/%s/%d/%d/%d", tag, e.Kind, e.SpaceID, e.ItemID, e.At.UnixMicro()),
			Title:   eventText(c.lang, e),
			Updated: e.At.UTC().Format(time.RFC3339),
			Link:    atomLink{Href: eventURL(e)},
		})
	}
	f.Updated = updated.UTC().Format(time.RFC3339)
	w.Header().Set("Content-Type", "application/atom+xml; charset=utf-8")
	w.Write([]byte(xml.Header))
	enc := xml.NewEncoder(w)
	enc.Indent("", " ")
	enc.Encode(f)
}
