package password

import (
	"bufio"
	_ "embed"
	"io"
	"strings"
	"sync"
	"unicode"
)

// A Blocklist is a set of passwords that must not be chosen. Matching
// ignores case, decoration (digits, punctuation, symbols and spaces around
// the password) and simple leetspeak, so "P@ssw0rd2024!" matches
// "password". The nil *Blocklist is empty.
type Blocklist struct {
	words map[string]struct{}
}

//go:embed common-passwords.txt
var commonPasswordsFile string

var commonPasswords = sync.OnceValue(func() *Blocklist {
	b, err := ParseBlocklist(strings.NewReader(commonPasswordsFile))
	if err != nil {
		panic("password: embedded blocklist: " + err.Error()) // cannot happen reading a string
	}
	return b
})

// CommonPasswords returns the shipped blocklist: the 30,000 most common
// passwords of a 10-million-password breach corpus, as listed by zxcvbn
// (MIT License). It is parsed on first use and shared.
func CommonPasswords() *Blocklist { return commonPasswords() }

// NewBlocklist returns a Blocklist of the given words.
func NewBlocklist(words ...string) *Blocklist {
	b := &Blocklist{words: make(map[string]struct{}, len(words))}
	for _, w := range words {
		b.add(w)
	}
	return b
}

// ParseBlocklist reads a Blocklist with one word per line; blank lines and
// lines starting with '#' are skipped.
func ParseBlocklist(r io.Reader) (*Blocklist, error) {
	b := &Blocklist{words: make(map[string]struct{})}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		b.add(line)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return b, nil
}

func (b *Blocklist) add(w string) {
	w = strings.ToLower(Normalize(strings.TrimSpace(w)))
	if w != "" {
		b.words[w] = struct{}{}
	}
}

// Len returns the number of words in b.
func (b *Blocklist) Len() int {
	if b == nil {
		return 0
	}
	return len(b.words)
}

// Contains reports whether pw, or a variant of it without case, spaces,
// decoration or leetspeak, is in b.
func (b *Blocklist) Contains(pw string) bool {
	if b.Len() == 0 {
		return false
	}
	for _, v := range blocklistVariants(pw) {
		if _, ok := b.words[v]; ok {
			return true
		}
	}
	return false
}

// blocklistVariants returns the spellings of pw looked up in a blocklist:
// lowercased, with and without inner spaces, with decoration stripped from
// the end (and from both ends), and with leetspeak undone before or after
// the stripping.
func blocklistVariants(pw string) []string {
	lower := strings.ToLower(Normalize(pw))
	var out []string
	seen := make(map[string]bool)
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, base := range []string{lower, strings.ReplaceAll(lower, " ", "")} {
		for _, s := range []string{base, strings.TrimRightFunc(base, isDecoration), strings.TrimFunc(base, isDecoration)} {
			add(s)
			for _, d := range undoLeet(s) {
				add(d)
				add(strings.TrimRightFunc(d, isDecoration))
				add(strings.TrimFunc(d, isDecoration))
			}
		}
	}
	return out
}

func isDecoration(r rune) bool {
	return unicode.IsDigit(r) || unicode.IsPunct(r) || unicode.IsSymbol(r) || unicode.IsSpace(r)
}

var leet = strings.NewReplacer("0", "o", "3", "e", "4", "a", "5", "s", "7", "t", "@", "a", "$", "s")

// undoLeet maps simple leetspeak back to letters. '1' stands for 'i' or
// 'l', so a password with a '1' has two readings.
func undoLeet(s string) []string {
	if !strings.ContainsAny(s, "013457@$") {
		return nil
	}
	s = leet.Replace(s)
	if !strings.Contains(s, "1") {
		return []string{s}
	}
	return []string{strings.ReplaceAll(s, "1", "i"), strings.ReplaceAll(s, "1", "l")}
}
