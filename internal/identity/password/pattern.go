package password

import (
	"strings"
	"unicode"
)

// Sequences people walk when they type a "long" password: digits with
// wrap-around, the keyboard rows read left to right and top to bottom
// (QWERTY and the Russian ЙЦУКЕН), its columns read top to bottom, and
// zig-zags between two rows. A run of runes that steps through one of
// them in one direction is a sequence, and so is a run with a constant
// code point step of -1, 0 or +1, which covers alphabets ("abcdef",
// "абвгд") and plain repeats ("aaaa").
var keyboardWalks = []string{
	"1234567890",
	"qwertyuiopasdfghjklzxcvbnm",
	"1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/",
	"qazwsxedcrfvtgbyhnujmikolp",
	"q1w2e3r4t5y6u7i8o9p0",
	"1q2w3e4r5t6y7u8i9o0p",
	"qawsedrftgyhujikolp",
	"azsxdcfvgbhnjmk",
	"йцукенгшщзхъфывапролджэячсмитьбю",
}

// A step is a set of ways, one bit each, in which one rune can follow
// another: bits 0-2 for the code point steps -1, 0, +1, and two bits per
// keyboard walk for its forward and backward directions.
type step uint64

var walkSteps = func() map[[2]rune]step {
	steps := make(map[[2]rune]step)
	for k, w := range keyboardWalks {
		rs := []rune(w)
		forward, backward := step(1)<<(3+2*k), step(1)<<(4+2*k)
		for i := 1; i < len(rs); i++ {
			steps[[2]rune{rs[i-1], rs[i]}] |= forward
			steps[[2]rune{rs[i], rs[i-1]}] |= backward
		}
	}
	return steps
}()

func stepsBetween(a, b rune) step {
	s := walkSteps[[2]rune{a, b}]
	if d := b - a; d >= -1 && d <= 1 {
		s |= 1 << (d + 1)
	}
	return s
}

// minCopy is the shortest repeat counted as predictable; shorter ones
// occur by chance in ordinary words ("-tion", "-ing").
const minCopy = 4

// skeleton is the form in which patterns are looked for: lower case,
// without spaces.
func skeleton(pw string) []rune {
	return []rune(strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return unicode.ToLower(r)
	}, pw))
}

// unpredictable counts the runes of s that a guesser could not derive
// from the runes before them. A rune is predictable when it continues a
// sequence of at least three runes ("aaa", "abc", "qwe", "890") or lies
// in a copy, at least minCopy runes long, of an earlier part of s
// ("passwordpassword", and "abcabcabc" as an overlapping copy), the way an
// LZ77 compressor finds repeats.
func unpredictable(s []rune) int {
	predictable := make([]bool, len(s))
	for i := 0; i+1 < len(s); {
		way := stepsBetween(s[i], s[i+1])
		j := i + 1
		for way != 0 && j+1 < len(s) && way&stepsBetween(s[j], s[j+1]) != 0 {
			way &= stepsBetween(s[j], s[j+1])
			j++
		}
		if way == 0 || j-i < 2 {
			i++
			continue
		}
		for k := i + 1; k <= j; k++ {
			predictable[k] = true
		}
		i = j
	}
	for i := 1; i < len(s); {
		longest := 0
		for j := 0; j < i; j++ {
			n := 0
			for i+n < len(s) && s[j+n] == s[i+n] {
				n++
			}
			longest = max(longest, n)
		}
		if longest < minCopy {
			i++
			continue
		}
		for k := i; k < i+longest; k++ {
			predictable[k] = true
		}
		i += longest
	}
	n := 0
	for _, p := range predictable {
		if !p {
			n++
		}
	}
	return n
}

// isRepetitive reports whether at least half of pw is predictable. When
// the password ends in digits or symbols, it is also judged without them,
// so "passwordpassword2024!" counts as the repetition it is built on.
func isRepetitive(pw string) bool {
	s := skeleton(pw)
	if 2*unpredictable(s) <= len(s) {
		return true
	}
	// A short stem is too little to judge: "aa" before fourteen random
	// digits is not a pattern.
	stem := []rune(strings.TrimRightFunc(string(s), isDecoration))
	return len(stem) >= 8 && len(stem) < len(s) && 2*unpredictable(stem) <= len(stem)
}

// containsContext reports whether the context words (each at least four
// runes, from the caller: an e-mail local part, a name, the service's
// name) make up more than half of pw, spelt plainly or in leetspeak.
// An e-mail address also contributes its local part, and a word of
// several parts ("anna.maria_k") each part.
func containsContext(pw string, context []string) bool {
	var words [][]rune
	addWord := func(w string) {
		if r := skeleton(w); len(r) >= 4 {
			words = append(words, r)
		}
	}
	for _, c := range context {
		c = Normalize(c)
		addWord(c)
		if local, _, ok := strings.Cut(c, "@"); ok {
			addWord(local)
			c = local
		}
		for _, part := range strings.FieldsFunc(c, func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsDigit(r)
		}) {
			addWord(part)
		}
	}
	if len(words) == 0 {
		return false
	}
	s := skeleton(pw)
	spellings := []string{string(s)}
	spellings = append(spellings, undoLeet(string(s))...)
	for _, sp := range spellings {
		if 2*covered([]rune(sp), words) > len(s) {
			return true
		}
	}
	return false
}

// covered counts the runes of s inside some occurrence of some word.
func covered(s []rune, words [][]rune) int {
	in := make([]bool, len(s))
	for _, w := range words {
		for i := 0; i+len(w) <= len(s); i++ {
			if string(s[i:i+len(w)]) == string(w) {
				for k := i; k < i+len(w); k++ {
					in[k] = true
				}
			}
		}
	}
	n := 0
	for _, c := range in {
		if c {
			n++
		}
	}
	return n
}
