package web

// The activity feed in the accessibility sweep (a11y_test.go), on the
// process of the participation fixture, whose spaces have comments,
// answers, a report and a petition; the feed and results exports are
// downloads, with nothing for axe to check.

import "fmt"

func init() {
	for path, why := range map[string]string{
		"/processes/{id}/activity.atom":       "an Atom feed",
		"/consultations/{id}/results.csv":     "a CSV download",
		"/consultations/{id}/results.json":    "a JSON download",
		"/spaces/{id}/petitions/results.csv":  "a CSV download",
		"/spaces/{id}/petitions/results.json": "a JSON download",
	} {
		notHTML[path] = why
	}
	a11yAreaVisits = append(a11yAreaVisits, func(fx *a11yFixture) map[string][]a11yVisit {
		process := int64(1)
		if fx.e != nil {
			process = fx.participationData().process
		}
		return map[string][]a11yVisit{
			"/search": {
				{"/search", 200},
				{"/search?q=oaks", 200},
				{"/search?q=oaks&kind=proposal&status=finished&sort=oldest&process=parks&page=0", 422},
			},
			"/processes/{id}/activity": {
				{fmt.Sprintf("/processes/%d/activity", process), 200},
				{fmt.Sprintf("/processes/%d/activity?page=2", process), 200},
			},
		}
	})
}
