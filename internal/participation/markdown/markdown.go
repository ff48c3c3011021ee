// Package markdown renders the Markdown that officials and citizens write
// (consultation drafts, petitions, comments, answers) into HTML that is
// safe to put in a page.
//
// Parsing follows CommonMark (https://spec.commonmark.org/) with GitHub's
// table and strikethrough extensions, through goldmark; goldmark never
// passes raw HTML through, and its output is then sanitised again with
// bluemonday's user-generated-content policy, so that a script, an event
// handler attribute or a javascript: link written by anyone is removed
// whatever the parser does. Links get rel="nofollow noopener" and open in
// the same tab (a new tab without warning is a WCAG 3.2.5 concern).
package markdown

import (
	"bytes"
	"html/template"
	"regexp"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

var (
	md = goldmark.New(goldmark.WithExtensions(extension.Table, extension.Strikethrough))

	policy = func() *bluemonday.Policy {
		p := bluemonday.UGCPolicy()
		p.RequireNoFollowOnLinks(true)
		p.AddTargetBlankToFullyQualifiedLinks(false)
		return p
	}()
)

// HTML renders src to sanitised HTML.
func HTML(src string) template.HTML {
	var buf bytes.Buffer
	if err := md.Convert([]byte(src), &buf); err != nil {
		// goldmark only fails on writer errors, which a bytes.Buffer
		// never returns; show the text escaped rather than nothing.
		return template.HTML(template.HTMLEscapeString(src))
	}
	return template.HTML(policy.SanitizeBytes(buf.Bytes()))
}

// Section is one part of a document split at its second-level headings.
type Section struct {
	Heading string // the heading text, "" for text before the first heading
	Body    string // the Markdown under the heading
}

var h2 = regexp.MustCompile(`^##[ \t]+(.+?)[ \t#]*$`)

// Split cuts a document into sections at each "## " heading outside fenced
// code blocks, so that citizens can comment on one section of a draft. A
// document without such headings is one section.
func Split(src string) []Section {
	var out []Section
	cur := Section{}
	var body []string
	fence := ""
	flush := func() {
		cur.Body = strings.Trim(strings.Join(body, "\n"), "\n")
		if cur.Heading != "" || strings.TrimSpace(cur.Body) != "" {
			out = append(out, cur)
		}
		body = nil
	}
	for _, line := range strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n") {
		trimmed := strings.TrimLeft(line, " ")
		if fence == "" && (strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~")) {
			fence = trimmed[:3]
		} else if fence != "" && strings.HasPrefix(trimmed, fence) {
			fence = ""
		} else if fence == "" {
			if m := h2.FindStringSubmatch(line); m != nil {
				flush()
				cur = Section{Heading: m[1]}
				continue
			}
		}
		body = append(body, line)
	}
	flush()
	return out
}

// LinkCount counts the links in src (Markdown links, autolinks and bare
// URLs), for the pre-moderation of links from new accounts.
func LinkCount(src string) int {
	return len(urlPattern.FindAllStringIndex(src, -1))
}

var urlPattern = regexp.MustCompile(`(?i)\b(?:https?://|www\.)[^\s<>()\]]+`)
