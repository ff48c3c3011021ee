package web

import (
	"slices"
	"testing"
)

// TestPagerWindowLinksTheEndsAndTheNeighbours: a pager of thousands of
// pages stays a dozen links long; a gap of one page is linked rather than
// shown as a gap.
func TestPagerWindowLinksTheEndsAndTheNeighbours(t *testing.T) {
	for _, tc := range []struct {
		current, total int
		want           []int
	}{
		{1, 1, []int{1}},
		{1, 5, []int{1, 2, 3, 4, 5}},
		{1, 10, []int{1, 2, 3, 0, 10}},
		{5, 10, []int{1, 2, 3, 4, 5, 6, 7, 0, 10}},
		{6, 10, []int{1, 0, 4, 5, 6, 7, 8, 9, 10}},
		{10, 10, []int{1, 0, 8, 9, 10}},
		{250, 500, []int{1, 0, 248, 249, 250, 251, 252, 0, 500}},
		{900, 500, []int{1, 0, 500}}, // a page past the end links both ends
	} {
		if got := pagerWindow(tc.current, tc.total); !slices.Equal(got, tc.want) {
			t.Errorf("pagerWindow(%d, %d) = %v, want %v", tc.current, tc.total, got, tc.want)
		}
	}
}
