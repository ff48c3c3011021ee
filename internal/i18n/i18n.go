// Package i18n holds veche's message catalogs and picks a language for each
// reader. veche speaks Belarusian, Russian and English; every message key
// exists in all three (a test enforces it), so no page falls back to another
// language mid-sentence.
//
// Catalogs are flat JSON objects: locales/<lang>.json for the foundation
// and locales/<area>/<lang>.json for each feature area, merged into one
// catalog per language (a key defined twice is a build-time panic, which
// every test run catches). Messages take named
// parameters written {name}. Language choice follows an explicit choice (a
// cookie set by the language switcher, or an account's saved locale) and
// then the browser's Accept-Language header (RFC 9110 §12.5.4), matched
// with golang.org/x/text/language.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"golang.org/x/text/language"
)

// Lang is a supported language code.
type Lang string

// The supported languages, in the order the language switcher shows them.
const (
	Belarusian Lang = "be"
	Russian    Lang = "ru"
	English    Lang = "en"
)

// Default is used when nothing else matches.
const Default = English

// Langs lists the supported languages.
var Langs = []Lang{Belarusian, Russian, English}

// Names are each language's name in itself, for the switcher.
var Names = map[Lang]string{Belarusian: "Беларуская", Russian: "Русский", English: "English"}

//go:embed locales
var files embed.FS

var catalogs = mustLoad()

func mustLoad() map[Lang]map[string]string {
	out := map[Lang]map[string]string{}
	for _, l := range Langs {
		areas, err := fs.Glob(files, "locales/*/"+string(l)+".json")
		if err != nil {
			panic(err)
		}
		m := map[string]string{}
		for _, name := range append([]string{"locales/" + string(l) + ".json"}, areas...) {
			b, err := files.ReadFile(name)
			if err != nil {
				panic(err)
			}
			part := map[string]string{}
			if err := json.Unmarshal(b, &part); err != nil {
				panic(fmt.Sprintf("i18n: %s: %v", name, err))
			}
			for k, v := range part {
				if _, dup := m[k]; dup {
					panic(fmt.Sprintf("i18n: %s: key %q is already defined in another catalog file", name, k))
				}
				m[k] = v
			}
		}
		out[l] = m
	}
	return out
}

var matcher = language.NewMatcher([]language.Tag{language.English, language.MustParse("be"), language.Russian})

// Parse returns the supported language named by s, if any.
func Parse(s string) (Lang, bool) {
	for _, l := range Langs {
		if string(l) == s {
			return l, true
		}
	}
	return "", false
}

// Negotiate picks the language for a request: an explicit choice wins,
// then the Accept-Language header, then [Default].
func Negotiate(explicit, acceptLanguage string) Lang {
	if l, ok := Parse(explicit); ok {
		return l
	}
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return Default
	}
	_, idx, conf := matcher.Match(tags...)
	if conf == language.No {
		return Default
	}
	return []Lang{English, Belarusian, Russian}[idx]
}

// T returns the message for key in lang with {name} parameters filled from
// kv, given as alternating names and values. A missing key renders as the
// key itself, which tests catch.
func T(lang Lang, key string, kv ...any) string {
	msg, ok := catalogs[lang][key]
	if !ok {
		msg, ok = catalogs[Default][key]
		if !ok {
			return key
		}
	}
	if len(kv) == 0 || !strings.Contains(msg, "{") {
		return msg
	}
	pairs := make([]string, 0, len(kv))
	for i := 0; i+1 < len(kv); i += 2 {
		pairs = append(pairs, "{"+fmt.Sprint(kv[i])+"}", fmt.Sprint(kv[i+1]))
	}
	return strings.NewReplacer(pairs...).Replace(msg)
}

// Has reports whether key exists in the catalog.
func Has(key string) bool { _, ok := catalogs[Default][key]; return ok }

// Keys lists every key of lang's catalog, sorted.
func Keys(lang Lang) []string {
	keys := make([]string, 0, len(catalogs[lang]))
	for k := range catalogs[lang] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
