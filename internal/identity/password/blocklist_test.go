package password

import (
	"strings"
	"testing"
)

func TestCommonPasswordsIsTheShippedList(t *testing.T) {
	b := CommonPasswords()
	if b.Len() != 30000 {
		t.Fatalf("Len = %d, want 30000", b.Len())
	}
	if CommonPasswords() != b {
		t.Fatal("the shipped list is parsed more than once")
	}
	if !strings.Contains(commonPasswordsFile, "License: MIT") || !strings.Contains(commonPasswordsFile, "Dan Wheeler and Dropbox") {
		t.Fatal("common-passwords.txt lost its attribution")
	}
	if len(commonPasswordsFile) > 400<<10 {
		t.Fatalf("common-passwords.txt is %d bytes, over 400 KiB", len(commonPasswordsFile))
	}
}

func TestBlocklistMatchesVariantsOfAListedPassword(t *testing.T) {
	b := CommonPasswords()
	for _, tc := range []struct {
		pw   string
		want bool
	}{
		{"password", true},
		{"PASSWORD", true},
		{"PassWord", true},
		{"password1234567", true},  // trailing digits
		{"password!!!!!!!", true},  // trailing punctuation
		{"Password2024!", true},    // both
		{"2024password", true},     // leading digits
		{"  password  ", true},     // spaces around
		{"pass word", true},        // spaces inside
		{"p@ssw0rd", true},         // leetspeak
		{"P@$$W0RD", true},         // leetspeak, upper case
		{"p4ssw0rd123!", true},     // leetspeak and decoration
		{"1loveyou", true},         // 1 → i
		{"l3tm31n", true},          // 3 → e, 1 → i
		{"f00tba11", true},         // 1 → l ("football")
		{"qwerty123456789", true},  // listed as it is, 15 characters
		{"1qaz2wsx3edc4rfv", true}, // listed keyboard walk
		{"momsanaladventure", true},
		{"correct horse battery staple", false},
		{"veche petition 2024", false},
		{"", false},
		{"!!!!", false},
	} {
		if got := b.Contains(tc.pw); got != tc.want {
			t.Errorf("Contains(%q) = %v, want %v", tc.pw, got, tc.want)
		}
	}
}

func TestNewAndParseBlocklist(t *testing.T) {
	b := NewBlocklist("Veche", " Novgorod ")
	if b.Len() != 2 || !b.Contains("VECHE") || !b.Contains("n0vg0r0d!!") || b.Contains("polotsk") {
		t.Fatalf("NewBlocklist: Len %d, matches wrong", b.Len())
	}
	p, err := ParseBlocklist(strings.NewReader("# comment\n\nPolotsk\r\n  pskov \n#veche\n"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Len() != 2 || !p.Contains("polotsk") || !p.Contains("Pskov") || p.Contains("#veche") || p.Contains("veche") {
		t.Fatalf("ParseBlocklist: Len %d, matches wrong", p.Len())
	}
	var empty *Blocklist
	if empty.Len() != 0 || empty.Contains("password") {
		t.Fatal("nil Blocklist is not empty")
	}
}
