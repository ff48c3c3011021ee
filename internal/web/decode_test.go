package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/store/storetest"
)

// TestDecodeJSONBytesNamesWhatIsWrong checks that every way a JSON body can
// be wrong is refused with 400 and a message a client developer can act on.
func TestDecodeJSONBytesNamesWhatIsWrong(t *testing.T) {
	cases := []struct {
		name, body string
		want       string // part of the message; "" = accepted
	}{
		{"an object", `{"email":"a@example.org","password":"p"}`, ""},
		{"an object with spaces around", " \n\t{\"email\":\"a\"}\r\n ", ""},
		{"an empty object", `{}`, ""},
		{"JSON escapes", `{"email":"\u0061\n"}`, ""},

		{"empty", ``, "the request body is empty"},
		{"only spaces", " \n\t ", "the request body is empty"},
		{"malformed", `{"email":}`, "malformed JSON at byte"},
		{"cut short", `{"email":"a"`, "ends too early"},
		{"single quotes", `{'email':'a'}`, "malformed JSON at byte"},
		{"trailing comma", `{"email":"a",}`, "malformed JSON at byte"},
		{"a number for a string", `{"email":5}`, `field "email" must be a string, not number`},
		{"a bool for a string", `{"password":true}`, `field "password" must be a string, not bool`},
		{"an object for a string", `{"email":{"a":1}}`, `field "email" must be a string, not object`},
		{"an array for a string", `{"email":["a"]}`, `field "email" must be a string, not array`},
		{"an unknown field", `{"email":"a","admin":true}`, `unknown field "admin"`},
		{"a field in the wrong case only", `{"EMAIL":"a"}`, ""},
		{"invalid UTF-8 in a value", "{\"email\":\"a\xff\"}", "not valid UTF-8"},
		{"invalid UTF-8 in a key", "{\"e\xc3mail\":\"a\"}", "not valid UTF-8"},
		{"two objects", `{} {}`, "more than one JSON value"},
		{"trailing garbage", `{}x`, "more than one JSON value"},
		{"a closing bracket after", `{}]`, "more than one JSON value"},
		{"an array", `[{"email":"a"}]`, "must be a JSON object, not array"},
		{"a string", `"a@example.org"`, "must be a JSON object, not string"},
		{"a number", `42`, "must be a JSON object, not number"},
		{"true", `true`, "must be a JSON object, not bool"},
		{"null", `null`, "must be a JSON object, not null"},
		{"null with spaces", " null ", "must be a JSON object, not null"},
		{"a bare word", `nul`, "malformed JSON"},
		{"deep nesting", `{"email":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`, "malformed JSON"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var dst credentialsBody
			err := decodeJSONBytes([]byte(tc.body), &dst)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var de *decodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %T %v, want *decodeError", err, err)
			}
			if de.status != http.StatusBadRequest || !strings.Contains(de.msg, tc.want) {
				t.Fatalf("%d %q, want 400 with %q", de.status, de.msg, tc.want)
			}
			if strings.Contains(de.msg, "json:") || strings.Contains(de.msg, "web.") {
				t.Errorf("message shows Go internals: %q", de.msg)
			}
		})
	}
	// Duplicate keys: the last one wins (as encoding/json does), which is
	// harmless since each field is read once.
	var dst credentialsBody
	if err := decodeJSONBytes([]byte(`{"email":"a","email":"b"}`), &dst); err != nil || dst.Email != "b" {
		t.Errorf("duplicate key: %v %q", err, dst.Email)
	}
}

// FuzzDecodeJSON checks that no body makes decoding panic, that every
// refusal is a *decodeError with a 4xx status and a message, and that what
// is accepted really is one JSON object of the right shape.
func FuzzDecodeJSON(f *testing.F) {
	for _, seed := range []string{
		`{"email":"a@example.org","password":"correct horse battery staple"}`,
		`{}`, ``, ` `, `null`, `[]`, `"x"`, `1e999`, `{"email":5}`, `{"nope":1}`, `{} {}`, `{}x`,
		"{\"email\":\"\xff\"}", `{"email":"\ud800"}`, `{"email":"a"`, `{"password":[[[[]]]]}`,
		`{"email":null}`, "\ufeff{}", `{"Email":"A","PASSWORD":"b"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var dst credentialsBody
		err := decodeJSONBytes(body, &dst)
		if err == nil {
			trimmed := bytes.TrimSpace(body)
			if !json.Valid(trimmed) || len(trimmed) == 0 || trimmed[0] != '{' {
				t.Fatalf("accepted %q, which is not one JSON object", body)
			}
			return
		}
		var de *decodeError
		if !errors.As(err, &de) {
			t.Fatalf("%q: error %T %v, want *decodeError", body, err, err)
		}
		if de.status < 400 || de.status > 499 || de.msg == "" {
			t.Fatalf("%q: %d %q", body, de.status, de.msg)
		}
	})
}

// TestOversizedBodiesAreRefused sends bodies over the 64 KiB limit to a
// page form and to API endpoints: 413, and nothing stored.
func TestOversizedBodiesAreRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db, nil)
		e.createUser("ala@example.org")
		big := strings.Repeat("a", maxBody+1)
		count := func() int {
			return dbCount(t, db, "SELECT COUNT(*) FROM accounts") + dbCount(t, db, "SELECT COUNT(*) FROM sessions") +
				dbCount(t, db, "SELECT COUNT(*) FROM email_tokens") + dbCount(t, db, "SELECT COUNT(*) FROM mail_outbox")
		}
		pageCases := []struct {
			name string
			path string
			form url.Values
		}{
			{"registration with a huge password", "/register", url.Values{"email": {"new@example.org"}, "password": {big}}},
			{"registration with a huge extra field", "/register", url.Values{"email": {"new@example.org"}, "password": {testPassword}, "x": {big}}},
			{"sign-in with a huge password", "/signin", url.Values{"email": {"ala@example.org"}, "password": {big}}},
			{"password reset request", "/password/forgot", url.Values{"email": {"ala@example.org"}, "pad": {big}}},
		}
		for _, tc := range pageCases {
			before := count()
			p := e.browser().post(tc.path, tc.form)
			if p.status != http.StatusRequestEntityTooLarge || !strings.Contains(p.body, "The request is too large") {
				t.Errorf("%s: %d, want 413 with a page saying so\n%s", tc.name, p.status, p.body)
			}
			if count() != before {
				t.Errorf("%s: something was stored", tc.name)
			}
		}
		apiCases := []struct {
			name, path string
			body       map[string]string
		}{
			{"registration", "/api/v1/accounts", map[string]string{"email": "new@example.org", "password": big}},
			{"sign-in", "/api/v1/sessions", map[string]string{"email": "ala@example.org", "password": big}},
			{"reset request", "/api/v1/password-resets", map[string]string{"email": "ala@example.org" + big}},
		}
		for _, tc := range apiCases {
			before := count()
			st, out, _ := e.api().call("POST", tc.path, tc.body)
			if st != http.StatusRequestEntityTooLarge || errorCode(out) != "body_too_large" {
				t.Errorf("%s: %d %v, want 413 body_too_large", tc.name, st, out)
			}
			if count() != before {
				t.Errorf("%s: something was stored", tc.name)
			}
		}
		// Just under the limit is read (and refused for what it says).
		st, out, _ := e.api().call("POST", "/api/v1/accounts", map[string]string{"email": "new@example.org", "password": strings.Repeat("a", maxBody-100)})
		if st != http.StatusUnprocessableEntity {
			t.Errorf("a body just under the limit: %d %v", st, out)
		}
	})
}

func TestLoneSurrogateEscapesAreRefused(t *testing.T) {
	tests := []struct {
		body string
		ok   bool
	}{
		{`{"email": "a\ud83d\ude00b"}`, true}, // a pair: 😀
		{`{"email": "a\\udc00"}`, true},       // an escaped backslash, then text
		{`{"email": "\u00e9"}`, true},
		{`{"email": "a\udc00"}`, false},
		{`{"email": "a\ud83d"}`, false},
		{`{"email": "a\ud83dx"}`, false},
		{`{"email": "a\ud83d\u0041"}`, false},
		{`{"email": "\uDBFF\uDFFF"}`, true},
	}
	for _, tt := range tests {
		var b credentialsBody
		err := decodeJSONBytes([]byte(tt.body), &b)
		if (err == nil) != tt.ok {
			t.Errorf("decode %s: err = %v, want ok=%v", tt.body, err, tt.ok)
		}
		if err == nil && strings.ContainsRune(b.Email, '\uFFFD') {
			t.Errorf("decode %s gave U+FFFD", tt.body)
		}
	}
}
