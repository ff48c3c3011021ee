package search

import (
	"strings"
	"unicode"
)

// Limits on what a query can ask the engine for.
const (
	maxTerms   = 8
	maxTermLen = 40 // runes
)

// Terms reduces a query to at most eight lower-case words of letters and
// digits, in order and without repeats. Everything else (quotes, *, -,
// brackets, AND/OR/NOT/NEAR written in capitals) separates words, so what
// reaches the engine is never syntax.
func Terms(q string) []string {
	var out []string
	seen := map[string]bool{}
	for _, w := range strings.FieldsFunc(q, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) }) {
		w = strings.ToLower(w)
		if r := []rune(w); len(r) > maxTermLen {
			w = string(r[:maxTermLen])
		}
		if seen[w] {
			continue
		}
		seen[w] = true
		out = append(out, w)
		if len(out) == maxTerms {
			break
		}
	}
	return out
}

// ftsQuery is an FTS5 query matching every term as a prefix: each term is
// a quoted string (which FTS5 never parses as an operator) followed by *.
func ftsQuery(terms []string) string {
	parts := make([]string, len(terms))
	for i, t := range terms {
		parts[i] = `"` + strings.ReplaceAll(t, `"`, "") + `"*`
	}
	return strings.Join(parts, " ")
}

// pgQuery is a tsquery matching every term as a prefix. Terms hold only
// letters and digits, so they cannot carry tsquery operators.
func pgQuery(terms []string) string {
	parts := make([]string, len(terms))
	for i, t := range terms {
		parts[i] = t + ":*"
	}
	return strings.Join(parts, " & ")
}

// Segment is a piece of a snippet; Match marks a searched word. Pages
// write segments as text (escaped) and matches inside <mark>.
type Segment struct {
	Text  string `json:"text"`
	Match bool   `json:"match,omitempty"`
}

// Snippet cuts about width runes of text around the first word that
// starts with one of terms, split into segments with the words that
// match marked. Markdown and line breaks are flattened to spaces.
func Snippet(text string, terms []string, width int) []Segment {
	words := strings.Fields(stripMarkup(text))
	if len(words) == 0 {
		return nil
	}
	matches := func(w string) bool {
		lw := strings.ToLower(strings.TrimFunc(w, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) }))
		for _, t := range terms {
			if strings.HasPrefix(lw, t) {
				return true
			}
		}
		return false
	}
	first := 0
	for i, w := range words {
		if matches(w) {
			first = i
			break
		}
	}
	// Start a few words before the first match, then take words up to width.
	start := max(0, first-6)
	var out []Segment
	n := 0
	add := func(s string, m bool) {
		if len(out) > 0 && out[len(out)-1].Match == m {
			out[len(out)-1].Text += s
			return
		}
		out = append(out, Segment{Text: s, Match: m})
	}
	if start > 0 {
		add("… ", false)
	}
	end := start
	for i := start; i < len(words) && n < width; i++ {
		if i > start {
			add(" ", false)
		}
		add(words[i], matches(words[i]))
		n += len([]rune(words[i])) + 1
		end = i + 1
	}
	if end < len(words) {
		add(" …", false)
	}
	return out
}

// stripMarkup removes the Markdown characters that read badly in a
// snippet; the text stays plain text and is escaped when written.
func stripMarkup(s string) string {
	return strings.NewReplacer("#", " ", "*", " ", "`", " ", ">", " ", "_", " ", "[", " ", "]", " ").Replace(s)
}
