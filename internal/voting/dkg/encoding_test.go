package dkg

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
)

func marshal(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// recordFS lays r out as a ceremony directory.
func recordFS(tb testing.TB, r *run) fstest.MapFS {
	fsys := fstest.MapFS{CeremonyFile: {Data: marshal(tb, r.cer)}}
	for _, m := range r.record.Commitments {
		fsys[TrusteeFile(CommitmentsDir, m.Trustee)] = &fstest.MapFile{Data: marshal(tb, m)}
	}
	for _, m := range r.shares {
		fsys[ShareFile(m.Dealer, m.Recipient)] = &fstest.MapFile{Data: marshal(tb, m)}
	}
	for _, m := range r.record.Complaints {
		fsys[TrusteeFile(ComplaintsDir, m.Trustee)] = &fstest.MapFile{Data: marshal(tb, m)}
	}
	for _, m := range r.record.Answers {
		fsys[TrusteeFile(AnswersDir, m.Dealer)] = &fstest.MapFile{Data: marshal(tb, m)}
	}
	for _, m := range r.record.Results {
		fsys[TrusteeFile(ResultsDir, m.Trustee)] = &fstest.MapFile{Data: marshal(tb, m)}
	}
	return fsys
}

func TestRecordRoundTripsThroughFiles(t *testing.T) {
	r := complete(t)
	fsys := recordFS(t, r)
	back, err := ReadRecord(fsys)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := Verify(r.record)
	got, err := Verify(back)
	if err != nil {
		t.Fatal(err)
	}
	if got.Digest != want.Digest || got.JointKey.Equal(want.JointKey) != 1 || len(got.Confirmed) != 4 {
		t.Fatal("the record read from files is not the record written")
	}
	shares, err := ReadShares(fsys, r.cer, 3)
	if err != nil || len(shares) != 3 {
		t.Fatalf("shares to trustee 3: %d, %v", len(shares), err)
	}
	// Files are read whatever their names; two from one sender are not.
	fsys["complaints/copy.json"] = fsys[TrusteeFile(ComplaintsDir, 2)]
	if _, err := ReadRecord(fsys); err == nil || !strings.Contains(err.Error(), "two messages from trustee 2 (complaints/copy.json and complaints/trustee-2.json)") {
		t.Fatalf("ReadRecord with a duplicate: %v", err)
	}
}

func TestParseRefusesWhatIsNotCanonical(t *testing.T) {
	r := complete(t)
	commitment := string(marshal(t, r.record.Commitments[0]))
	complaint := string(marshal(t, r.record.Complaints[2]))
	noComplaint := string(marshal(t, r.record.Complaints[0]))
	answer := string(marshal(t, r.record.Answers[0]))
	result := string(marshal(t, r.record.Results[0]))
	share := string(marshal(t, r.shares[0]))
	A0 := hexElement(r.record.Commitments[0].Coefficients[0])
	identity := strings.Repeat("00", 32)
	other := testCeremony(4, 3)
	other.Threshold = 2

	parse := map[string]func(Ceremony, []byte) error{
		"commitment": func(c Ceremony, b []byte) error { _, err := ParseCommitment(c, b); return err },
		"complaint":  func(c Ceremony, b []byte) error { _, err := ParseComplaint(c, b); return err },
		"answer":     func(c Ceremony, b []byte) error { _, err := ParseAnswer(c, b); return err },
		"result":     func(c Ceremony, b []byte) error { _, err := ParseResult(c, b); return err },
		"share":      func(c Ceremony, b []byte) error { _, err := ParseEncryptedShare(c, b); return err },
	}
	tests := []struct {
		name, kind, text string
		cer              Ceremony
		want             string
	}{
		{"commitment as is", "commitment", commitment, r.cer, ""},
		{"complaint as is", "complaint", complaint, r.cer, ""},
		{"answer as is", "answer", answer, r.cer, ""},
		{"result as is", "result", result, r.cer, ""},
		{"share as is", "share", share, r.cer, ""},
		{"identity commitment", "commitment", strings.Replace(commitment, A0, identity, 1), r.cer, "trustee 1's commitment: dkg: invalid: coefficient commitment 0 is the identity"},
		{"non-canonical element", "commitment", strings.Replace(commitment, A0, "01"+strings.Repeat("00", 31), 1), r.cer, "coefficient commitment 0: voting: not a canonical encoding"},
		{"element with the high bit", "commitment", strings.Replace(commitment, A0, A0[:62]+"ff", 1), r.cer, "not a canonical encoding"},
		{"uppercase hex", "commitment", strings.Replace(commitment, A0, strings.ToUpper(A0), 1), r.cer, "not lowercase hexadecimal"},
		{"short element", "commitment", strings.Replace(commitment, A0, A0[:60], 1), r.cer, "30 bytes, want 32"},
		{"unknown field", "commitment", strings.Replace(commitment, `"trustee"`, `"extra": 1, "trustee"`, 1), r.cer, `unknown field "extra"`},
		{"trailing data", "commitment", commitment + "{}", r.cer, "data after the JSON value"},
		{"wrong type", "commitment", complaint, r.cer, `a message of type "dkg-complaint", not "dkg-commitment"`},
		{"another ceremony", "commitment", commitment, other, "trustee 1's commitment: dkg: message of another ceremony"},
		{"non-canonical scalar", "answer", strings.Replace(answer, hexScalar(r.record.Answers[0].Shares[0].Share), strings.Repeat("ff", 32), 1), r.cer, "trustee 2's answer: dkg: invalid: share for trustee 3: voting: not a canonical encoding"},
		{"complaint accusing nobody", "complaint", noComplaint, r.cer, ""},
		{"complaint without a list", "complaint", strings.Replace(noComplaint, `[]`, `null`, 1), r.cer, "trustee 1's complaint: dkg: invalid: no accused list"},
		{"complaint, unknown reason", "complaint", strings.Replace(complaint, `"invalid"`, `"rude"`, 1), r.cer, `reason "rude" is none of`},
		{"share with padding-free base64", "share", strings.Replace(share, `=",`, `",`, 1), r.cer, "not canonical standard base64"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := parse[tc.kind](tc.cer, []byte(tc.text))
			switch {
			case tc.want == "" && err != nil:
				t.Fatal(err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			case tc.want != "" && !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrOtherCeremony):
				t.Fatalf("%v wraps neither ErrInvalid nor ErrOtherCeremony", err)
			}
		})
	}
}

func TestParseCeremony(t *testing.T) {
	ok := `{"protocol":"veche-dkg-v1","election_id":"e","manifest_digest":"` + strings.Repeat("ab", 32) + `","trustees":5,"threshold":3}`
	tests := []struct{ name, text, want string }{
		{"valid", ok, ""},
		{"threshold above n", strings.Replace(ok, `"threshold":3`, `"threshold":6`, 1), "threshold must be between 1 and trustees (5), not 6"},
		{"no threshold", strings.Replace(ok, `"threshold":3`, `"threshold":0`, 1), "threshold must be between 1"},
		{"too many trustees", strings.Replace(ok, `"trustees":5`, `"trustees":1001`, 1), "trustees must be between 1 and 1000"},
		{"other protocol", strings.Replace(ok, "v1", "v2", 1), `protocol "veche-dkg-v2"`},
		{"short digest", strings.Replace(ok, "abab\"", "\"", 1), "manifest_digest: 30 bytes, want 32"},
		{"no election", strings.Replace(ok, `"e"`, `""`, 1), "election_id must be"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseCeremony([]byte(tc.text))
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if again, _ := json.Marshal(c); string(again) != ok {
					t.Fatalf("re-encoded as %s", again)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

func TestFingerprintIsShortAndFollowsTheMessage(t *testing.T) {
	r := newRun(t, 2, 1)
	a, b := r.record.Commitments[0].Fingerprint(), r.record.Commitments[1].Fingerprint()
	if len(a) != 39 || a == b || strings.Count(a, " ") != 7 {
		t.Fatalf("fingerprints %q, %q", a, b)
	}
}

// FuzzParseCommitment feeds the decoder of the first ceremony message
// arbitrary bytes: it must not panic, and whatever it accepts re-encodes
// to a message that decodes to the same one.
func FuzzParseCommitment(f *testing.F) {
	r := newRun(f, 3, 2)
	for _, m := range r.record.Commitments {
		f.Add(marshal(f, m))
	}
	f.Add([]byte(`{"type":"dkg-commitment"}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseCommitment(r.cer, b)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error is not an *Error: %v", err)
			}
			return
		}
		again, err := ParseCommitment(r.cer, marshal(t, m))
		if err != nil {
			t.Fatalf("an accepted commitment does not re-parse: %v", err)
		}
		if again.Digest() != m.Digest() {
			t.Fatal("re-encoding changed the commitment")
		}
	})
}

func benchmarkCeremony(b *testing.B, n, t uint32) {
	for b.Loop() {
		r := newRun(b, n, t).deal().receive().answer()
		r.finish()
		if _, err := Verify(r.record); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCeremony runs a whole ceremony in one process: every
// trustee's commitments, shares (age-encrypted), checks, results, and a
// verification of the record. Each trustee does 1/n of it on its own
// machine.
func BenchmarkCeremony(b *testing.B) {
	for _, tc := range []struct{ n, t uint32 }{{5, 3}, {20, 11}} {
		b.Run(fmt.Sprintf("n=%d,t=%d", tc.n, tc.t), func(b *testing.B) { benchmarkCeremony(b, tc.n, tc.t) })
	}
}

// BenchmarkVerify is the independent verifier's part alone.
func BenchmarkVerify(b *testing.B) {
	for _, tc := range []struct{ n, t uint32 }{{5, 3}, {20, 11}} {
		b.Run(fmt.Sprintf("n=%d,t=%d", tc.n, tc.t), func(b *testing.B) {
			r := newRun(b, tc.n, tc.t).deal().receive().answer()
			r.finish()
			for b.Loop() {
				if _, err := Verify(r.record); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
