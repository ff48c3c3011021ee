package record

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/veche/veche/internal/voting"
)

var (
	fixtureOnce sync.Once
	fixtureDir  string
	fixtureErr  error
)

// fixture is a small synthetic record, made once: 24 ballots of 3
// options (up to 2 selected) by 20 voters, 2 abstainers, 3 trustees of
// whom 2 decrypt.
func fixture(t *testing.T) string {
	t.Helper()
	fixtureOnce.Do(func() {
		dir, err := os.MkdirTemp("", "record-fixture-")
		if err != nil {
			fixtureErr = err
			return
		}
		fixtureDir = filepath.Join(dir, "r")
		_, fixtureErr = Synthesize(context.Background(), fixtureDir, SyntheticOptions{Ballots: 24, Options: 3, Max: 2, Revotes: 4, Abstain: 2})
	})
	if fixtureErr != nil {
		t.Fatal(fixtureErr)
	}
	return fixtureDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fixtureDir != "" {
		os.RemoveAll(filepath.Dir(fixtureDir))
	}
	os.Exit(code)
}

// copyFixture returns a fresh copy of the fixture to tamper with.
func copyFixture(t *testing.T) string {
	dir := filepath.Join(t.TempDir(), "r")
	if err := os.CopyFS(dir, os.DirFS(fixture(t))); err != nil {
		t.Fatal(err)
	}
	return dir
}

func verifyDir(t *testing.T, dir string, opts Options) (*Report, error) {
	t.Helper()
	r, c, err := Open(dir, Limits{})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return Verify(context.Background(), r, opts)
}

func TestSynthesizedRecordVerifies(t *testing.T) {
	rep, err := verifyDir(t, fixture(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Ballots != 24 || rep.Counted != 20 || rep.Credentials != 22 || rep.Casts != 24 {
		t.Errorf("counts: %d ballots, %d counted, %d credentials, %d casts; want 24, 20, 22, 24", rep.Ballots, rep.Counted, rep.Credentials, rep.Casts)
	}
	if len(rep.Steps) != 9 {
		t.Errorf("%d steps, want 9", len(rep.Steps))
	}
	if rep.Result == nil || rep.Result.Ballots != 20 {
		t.Errorf("result %+v", rep.Result)
	}
}

func TestZipAndDirectoryRoundTrip(t *testing.T) {
	r, c, err := Open(fixture(t), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Read, then WriteDir, gives the same files byte for byte.
	again := filepath.Join(t.TempDir(), "again")
	if err := WriteDir(again, r); err != nil {
		t.Fatal(err)
	}
	want, got := listFiles(t, fixture(t)), listFiles(t, again)
	if len(want) != len(got) {
		t.Fatalf("%d files written, the fixture has %d", len(got), len(want))
	}
	for name, b := range want {
		if !bytes.Equal(got[name], b) {
			t.Errorf("%s differs after Read and WriteDir", name)
		}
	}
	// A zip archive verifies like the directory.
	zipPath := filepath.Join(t.TempDir(), "record.zip")
	f, err := os.Create(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteZip(f, r); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := verifyDir(t, zipPath, Options{}); err != nil {
		t.Fatalf("the zip archive: %v", err)
	}
}

func listFiles(t *testing.T, dir string) map[string][]byte {
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The tampering helpers edit a file of the record in place.

func edit(t *testing.T, dir, name string, f func(string) string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	s := f(string(b))
	if s == string(b) {
		t.Fatalf("tampering left %s unchanged", name)
	}
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// editLine edits line n (1-based) of a file.
func editLine(t *testing.T, dir, name string, n int, f func(string) string) {
	t.Helper()
	edit(t, dir, name, func(s string) string {
		lines := strings.SplitAfter(s, "\n")
		lines[n-1] = f(strings.TrimSuffix(lines[n-1], "\n")) + "\n"
		if lines[n-1] == "\n" {
			lines[n-1] = ""
		}
		return strings.Join(lines, "")
	})
}

func line(t *testing.T, dir, name string, n int) string {
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(string(b), "\n")[n-1]
}

// field returns the values of the JSON string field key in s, in order.
func field(s, key string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`"`+key+`":"([^"]*)"`).FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

// swap exchanges the i-th and j-th values of the string field key.
func swap(key string, i, j int) func(string) string {
	return func(s string) string {
		vs := field(s, key)
		a, b := `"`+key+`":"`+vs[i]+`"`, `"`+key+`":"`+vs[j]+`"`
		s = strings.Replace(s, a, "\x00", 1)
		s = strings.Replace(s, b, a, 1)
		return strings.Replace(s, "\x00", b, 1)
	}
}

// set replaces the first value of the string field key.
func set(key, value string) func(string) string {
	return func(s string) string {
		old := `"` + key + `":"` + field(s, key)[0] + `"`
		return strings.Replace(s, old, `"`+key+`":"`+value+`"`, 1)
	}
}

func TestVerifierNamesEveryTamperedObject(t *testing.T) {
	dir := fixture(t)
	otherCred := field(line(t, dir, BallotsFile, 2), "credential")[0]
	otherSig := field(line(t, dir, BallotsFile, 2), "signature")[0]
	_, otherKey, err := note.GenerateKey(nil, "synthetic.veche.example/log")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		tamper func(t *testing.T, dir string)
		opts   Options
		want   []string // each must appear in one problem
	}{
		{"manifest title", func(t *testing.T, d string) {
			edit(t, d, ManifestFile, func(s string) string { return strings.Replace(s, "Synthetic election", "Synthetic e1ection", 1) })
		}, Options{}, []string{"manifest.json: its digest"}},
		{"election id in election.json", func(t *testing.T, d string) {
			edit(t, d, ElectionFile, func(s string) string {
				return strings.Replace(s, `"election":"synthetic-24-3"`, `"election":"synthetic-24-4"`, 1)
			})
		}, Options{}, []string{"election.json: election \"synthetic-24-4\""}},
		{"joint key in election.json", func(t *testing.T, d string) {
			edit(t, d, ElectionFile, set("joint_key", otherCred))
		}, Options{}, []string{"election.json: joint_key is not the key the ceremony made", "ballots.jsonl line 1 "}},
		{"ceremony commitment", func(t *testing.T, d string) {
			edit(t, d, "ceremony/commitments/trustee-2.json", func(s string) string {
				r := regexp.MustCompile(`"response":"(.)`)
				return r.ReplaceAllStringFunc(s, func(m string) string {
					if strings.HasSuffix(m, "0") {
						return m[:len(m)-1] + "1"
					}
					return m[:len(m)-1] + "0"
				})
			})
		}, Options{}, []string{"trustee 2"}},
		{"ceremony result signature", func(t *testing.T, d string) {
			edit(t, d, "ceremony/results/trustee-3.json", func(s string) string {
				sig := field(s, "signature")[0]
				flip := "0"
				if sig[0] == '0' {
					flip = "1"
				}
				return strings.Replace(s, sig, flip+sig[1:], 1)
			})
		}, Options{}, []string{"ceremony/results/trustee-3.json (trustee 3's result)"}},
		{"public credential replaced", func(t *testing.T, d string) {
			// the credential of ballot line 1 is no longer published
			cred := field(line(t, d, BallotsFile, 1), "credential")[0]
			stranger, err := voting.NewCredential("synthetic-24-3", nil)
			if err != nil {
				t.Fatal(err)
			}
			edit(t, d, CredentialsFile, func(s string) string {
				return strings.Replace(s, cred+"\n", stranger.Public().String()+"\n", 1)
			})
		}, Options{}, []string{"ballots.jsonl line 1 (tracking code", "is not a published credential"}},
		{"public credential duplicated", func(t *testing.T, d string) {
			editLine(t, d, CredentialsFile, 2, func(string) string { return line(t, d, CredentialsFile, 1) })
		}, Options{}, []string{"credentials.txt line 2: the same public credential as line 1"}},
		{"public credential malformed", func(t *testing.T, d string) {
			editLine(t, d, CredentialsFile, 3, func(s string) string { return s[:10] })
		}, Options{}, []string{"credentials.txt line 3"}},
		{"ballot ciphertext", func(t *testing.T, d string) {
			editLine(t, d, BallotsFile, 5, swap("ciphertext", 0, 1))
		}, Options{}, []string{"ballots.jsonl line 5 (tracking code", "does not verify"}},
		{"ballot option proof", func(t *testing.T, d string) {
			editLine(t, d, BallotsFile, 6, swap("proof", 1, 2))
		}, Options{}, []string{"ballots.jsonl line 6 (tracking code", `option "o2"`}},
		{"ballot signature", func(t *testing.T, d string) {
			editLine(t, d, BallotsFile, 7, set("signature", otherSig))
		}, Options{}, []string{"ballots.jsonl line 7 (tracking code", "signature does not verify"}},
		{"ballot credential", func(t *testing.T, d string) {
			editLine(t, d, BallotsFile, 8, set("credential", otherCred))
		}, Options{}, []string{"ballots.jsonl line 8 (tracking code", "does not verify"}},
		{"ballot tracking code", func(t *testing.T, d string) {
			editLine(t, d, BallotsFile, 9, set("tracking_code", "00000-00000-00000-00000"))
		}, Options{}, []string{"ballots.jsonl line 9 (tracking code", `gives tracking code "00000-00000-00000-00000"`}},
		{"ballot duplicated", func(t *testing.T, d string) {
			editLine(t, d, BallotsFile, 10, func(s string) string { return s + "\n" + s })
		}, Options{}, []string{"ballots.jsonl line 11 (tracking code", "the same ballot as line 10"}},
		{"ballot dropped", func(t *testing.T, d string) {
			editLine(t, d, BallotsFile, 24, func(string) string { return "" })
		}, Options{}, []string{"which is not in the ballot box"}},
		{"ballots reordered", func(t *testing.T, d string) {
			l3, l4 := line(t, d, BallotsFile, 3), line(t, d, BallotsFile, 4)
			editLine(t, d, BallotsFile, 3, func(string) string { return l4 })
			editLine(t, d, BallotsFile, 4, func(string) string { return l3 })
		}, Options{}, []string{"ballots.jsonl line 4 (tracking code", "out of order: logged at index 1003, before the ballot of the line above (index 1004)"}},
		{"counted set leaves one out", func(t *testing.T, d string) {
			edit(t, d, CountedFile, func(s string) string { return strings.Replace(s, "[0,", "[", 1) })
		}, Options{}, []string{"counted.json: position 0", "leaves out the last ballot of its credential", "tally.json"}},
		{"counted set adds a replaced ballot", func(t *testing.T, d string) {
			edit(t, d, CountedFile, func(s string) string {
				var ps []int64
				json.Unmarshal([]byte(s), &ps)
				for p := int64(0); ; p++ {
					if !slices.Contains(ps, p) {
						ps = append(ps, p)
						break
					}
				}
				slices.Sort(ps)
				b, _ := json.Marshal(ps)
				return string(b)
			})
		}, Options{}, []string{"counted.json: position", "not the last of its credential"}},
		{"log entry changed", func(t *testing.T, d string) {
			editLine(t, d, EntriesFile, 3, func(s string) string { return strings.Replace(s, `"time":"2026-03-01T`, `"time":"2026-03-02T`, 1) })
		}, Options{}, []string{"log/entries.jsonl, log/range.json: the 26 entries of the span", "log/entries.jsonl line 3 (log index 1002): cast at 2026-03-02"}},
		{"cast entry removed from the log", func(t *testing.T, d string) {
			editLine(t, d, EntriesFile, 4, func(string) string { return "" })
		}, Options{}, []string{"log/entries.jsonl: 25 entries, log/range.json says the span has 26"}},
		{"cast entry replaced by another entry", func(t *testing.T, d string) {
			editLine(t, d, EntriesFile, 4, func(string) string {
				return `{"time":"2026-03-01T09:00:00.000000Z","action":"synthetic.filler","detail":{"n":"7"}}`
			})
		}, Options{}, []string{"do not hash to the checkpoint's root", "ballots.jsonl line 3 (tracking code", "the audit log has no cast entry for this ballot"}},
		{"checkpoint", func(t *testing.T, d string) {
			edit(t, d, CheckpointFile, func(s string) string { return strings.Replace(s, "\n1126\n", "\n1127\n", 1) })
		}, Options{}, []string{"log/checkpoint: the signature does not verify"}},
		{"log key not the pinned one", func(t *testing.T, d string) {
			edit(t, d, LogKeyFile, func(s string) string { return otherKey + "\n" })
		}, Options{LogKey: line(t, dir, LogKeyFile, 1)}, []string{"log/key: is not the pinned log key"}},
		{"checkpoint of another key, pinned", func(t *testing.T, d string) {}, Options{LogKey: otherKey}, []string{"log/checkpoint: the signature does not verify"}},
		{"range proof", func(t *testing.T, d string) {
			edit(t, d, RangeFile, func(s string) string {
				hs := regexp.MustCompile(`"[0-9a-f]{64}"`).FindAllString(s, 2)
				s = strings.Replace(s, hs[0], "\x00", 1)
				s = strings.Replace(s, hs[1], hs[0], 1)
				return strings.Replace(s, "\x00", hs[1], 1)
			})
		}, Options{}, []string{"log/entries.jsonl, log/range.json: the 26 entries of the span [1000, 1026) do not hash to the checkpoint's root"}},
		{"encrypted tally", func(t *testing.T, d string) {
			edit(t, d, TallyFile, swap("ciphertext", 0, 1))
		}, Options{}, []string{`tally.json: contest "c", option "o1": not the sum`, `tally.json: contest "c", option "o2": not the sum`}},
		{"partial decryption", func(t *testing.T, d string) {
			edit(t, d, "decryptions/trustee-1.json", swap("share", 0, 1))
		}, Options{}, []string{"decryptions/trustee-1.json: voting: proof does not verify: trustee 1", "result.json: combines trustees [1 2], the decryption uses [2 3]"}},
		{"result total", func(t *testing.T, d string) {
			edit(t, d, ResultFile, func(s string) string {
				return regexp.MustCompile(`"votes":(\d+)`).ReplaceAllStringFunc(s, func(m string) string {
					if strings.HasSuffix(m, ":0") {
						return strings.Replace(m, ":0", ":1", 1)
					}
					return m + "0"
				})
			})
		}, Options{}, []string{`result.json: contest "c", option "o1":`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := copyFixture(t)
			tc.tamper(t, d)
			rep, err := verifyDir(t, d, tc.opts)
			if err == nil {
				t.Fatal("the tampered record verifies")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			msg := err.Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("no problem names %q; got:\n%s", w, msg)
				}
			}
			if rep != nil && rep.OK() {
				t.Error("the report says OK")
			}
		})
	}
}
