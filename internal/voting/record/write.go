package record

import (
	"archive/zip"
	"bufio"
	"compress/flate"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/veche/veche/internal/voting"
	"github.com/veche/veche/internal/voting/dkg"
)

// sink creates the files of a record, one at a time.
type sink interface {
	create(name string) (io.Writer, error)
	// done ends the file last created.
	done() error
}

// WriteDir writes r as files under dir, which is created and must not
// exist yet or be empty.
func WriteDir(dir string, r *Record) error {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("election record: %s is not empty", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return write(&dirSink{dir: dir}, r)
}

type dirSink struct {
	dir string
	f   *os.File
	w   *bufio.Writer
}

func (s *dirSink) create(name string) (io.Writer, error) {
	p := filepath.Join(s.dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, err
	}
	f, err := os.Create(p)
	if err != nil {
		return nil, err
	}
	s.f, s.w = f, bufio.NewWriterSize(f, 1<<20)
	return s.w, nil
}

func (s *dirSink) done() error {
	err := s.w.Flush()
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	s.f, s.w = nil, nil
	return err
}

// WriteZip writes r to w as a zip archive of the files of the layout
// (Deflate at its fastest level; Zip64 when a file passes 4 GiB). The
// archive is written in one pass; w need not seek.
func WriteZip(w io.Writer, r *Record) error {
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.BestSpeed)
	})
	if err := write(&zipSink{zw: zw}, r); err != nil {
		return err
	}
	return zw.Close()
}

type zipSink struct {
	zw *zip.Writer
	w  *bufio.Writer
}

func (s *zipSink) create(name string) (io.Writer, error) {
	f, err := s.zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate})
	if err != nil {
		return nil, err
	}
	s.w = bufio.NewWriterSize(f, 1<<20)
	return s.w, nil
}

func (s *zipSink) done() error { return s.w.Flush() }

// writeFile writes one whole file.
func writeFile(s sink, name string, b []byte) error {
	w, err := s.create(name)
	if err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		return err
	}
	return s.done()
}

func writeJSON(s sink, name string, v json.Marshaler) error {
	b, err := v.MarshalJSON()
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return writeFile(s, name, b)
}

// The "type" of election.json and log/range.json, as every JSON object
// of the voting package says its type.
const (
	typeElection = "election"
	typeRange    = "log-range"
)

type wireElection struct {
	Type     string `json:"type"`
	Election string `json:"election"`
	Manifest string `json:"manifest"`
	JointKey string `json:"joint_key"`
}

type wireRange struct {
	Type   string   `json:"type"`
	First  int64    `json:"first"`
	End    int64    `json:"end"`
	Hashes []string `json:"hashes"`
}

func write(s sink, r *Record) error {
	switch {
	case r.Manifest == nil || r.JointKey == nil || r.Ceremony == nil:
		return errors.New("election record: no manifest, joint key or ceremony")
	case r.Tally == nil || r.Result == nil:
		return errors.New("election record: no tally or result")
	case r.Credentials == nil || r.Ballots == nil || r.Log.Entries == nil:
		return errors.New("election record: no credentials, ballots or log entries")
	}
	if err := writeHeader(s, r.Manifest, r.JointKey); err != nil {
		return err
	}
	if err := writeCeremony(s, r.Ceremony); err != nil {
		return err
	}
	if err := writeCredentials(s, r); err != nil {
		return err
	}
	counted, err := writeBallots(s, r)
	if err != nil {
		return err
	}
	cb, err := json.Marshal(counted)
	if err != nil {
		return err
	}
	if err := writeFile(s, CountedFile, cb); err != nil {
		return err
	}
	if err := writeJSON(s, TallyFile, r.Tally); err != nil {
		return err
	}
	for _, p := range r.Decryptions {
		if err := writeJSON(s, dkg.TrusteeFile(DecryptionsDir, p.Trustee()), p); err != nil {
			return err
		}
	}
	if err := writeJSON(s, ResultFile, r.Result); err != nil {
		return err
	}
	return writeLog(s, &r.Log)
}

// writeHeader writes election.json and manifest.json.
func writeHeader(s sink, m *voting.Manifest, key *voting.JointKey) error {
	d := m.Digest()
	el, err := json.Marshal(wireElection{
		Type:     typeElection,
		Election: m.ID,
		Manifest: hex.EncodeToString(d[:]),
		JointKey: hex.EncodeToString(key.Bytes()),
	})
	if err != nil {
		return err
	}
	if err := writeFile(s, ElectionFile, el); err != nil {
		return err
	}
	return writeJSON(s, ManifestFile, m)
}

func writeCeremony(s sink, c *dkg.Record) error {
	cb, err := c.Ceremony.MarshalJSON()
	if err != nil {
		return err
	}
	if err := writeFile(s, CeremonyDir+"/"+dkg.CeremonyFile, cb); err != nil {
		return err
	}
	for _, m := range c.Commitments {
		if err := writeJSON(s, CeremonyDir+"/"+dkg.TrusteeFile(dkg.CommitmentsDir, m.Trustee), m); err != nil {
			return err
		}
	}
	for _, m := range c.Complaints {
		if err := writeJSON(s, CeremonyDir+"/"+dkg.TrusteeFile(dkg.ComplaintsDir, m.Trustee), m); err != nil {
			return err
		}
	}
	for _, m := range c.Answers {
		if err := writeJSON(s, CeremonyDir+"/"+dkg.TrusteeFile(dkg.AnswersDir, m.Dealer), m); err != nil {
			return err
		}
	}
	for _, m := range c.Results {
		if err := writeJSON(s, CeremonyDir+"/"+dkg.TrusteeFile(dkg.ResultsDir, m.Trustee), m); err != nil {
			return err
		}
	}
	return nil
}

func writeCredentials(s sink, r *Record) error {
	w, err := s.create(CredentialsFile)
	if err != nil {
		return err
	}
	for c, err := range r.Credentials {
		if err != nil {
			return fmt.Errorf("%s: %w", CredentialsFile, err)
		}
		if _, err := io.WriteString(w, c.String()+"\n"); err != nil {
			return err
		}
	}
	return s.done()
}

// writeBallots writes the ballot box and returns the counted positions:
// r.Counted, or the last ballot of each credential.
func writeBallots(s sink, r *Record) ([]int64, error) {
	w, err := s.create(BallotsFile)
	if err != nil {
		return nil, err
	}
	last := map[string]int64{}
	var line []byte
	pos := int64(0)
	for c, err := range r.Ballots {
		if err != nil {
			return nil, fmt.Errorf("%s: %w", BallotsFile, err)
		}
		b, err := c.Ballot.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("%s: ballot %d: %w", BallotsFile, pos, err)
		}
		line = appendCastLine(line[:0], c.LogIndex, c.Ballot.TrackingCode(), b)
		if _, err := w.Write(line); err != nil {
			return nil, err
		}
		if r.Counted == nil {
			last[string(c.Ballot.Credential().Bytes())] = pos
		}
		pos++
	}
	if err := s.done(); err != nil {
		return nil, err
	}
	if r.Counted != nil {
		return r.Counted, nil
	}
	counted := make([]int64, 0, len(last))
	seen := make([]bool, pos)
	for _, p := range last {
		seen[p] = true
	}
	for p, ok := range seen {
		if ok {
			counted = append(counted, int64(p))
		}
	}
	return counted, nil
}

// appendCastLine appends the canonical line of a cast:
// {"log_index":N,"tracking_code":"…","ballot":{…}} and a newline.
func appendCastLine(dst []byte, logIndex int64, code string, ballot []byte) []byte {
	dst = append(dst, `{"log_index":`...)
	dst = strconv.AppendInt(dst, logIndex, 10)
	dst = append(dst, `,"tracking_code":"`...)
	dst = append(dst, code...)
	dst = append(dst, `","ballot":`...)
	dst = append(dst, ballot...)
	return append(dst, "}\n"...)
}

func writeLog(s sink, l *LogEvidence) error {
	if err := writeFile(s, LogKeyFile, []byte(l.Key+"\n")); err != nil {
		return err
	}
	if err := writeFile(s, CheckpointFile, l.Checkpoint); err != nil {
		return err
	}
	w, err := s.create(EntriesFile)
	if err != nil {
		return err
	}
	n := int64(0)
	for e, err := range l.Entries {
		if err != nil {
			return fmt.Errorf("%s: %w", EntriesFile, err)
		}
		for _, c := range e {
			if c == '\n' {
				return fmt.Errorf("%s: entry %d holds a newline", EntriesFile, l.First+n)
			}
		}
		if _, err := w.Write(e); err != nil {
			return err
		}
		if _, err := w.Write([]byte{'\n'}); err != nil {
			return err
		}
		n++
	}
	if err := s.done(); err != nil {
		return err
	}
	return writeRange(s, l.First, l.First+n, l.Hashes)
}

func writeRange(s sink, first, end int64, hashes []tlog.Hash) error {
	wr := wireRange{Type: typeRange, First: first, End: end, Hashes: make([]string, len(hashes))}
	for i, h := range hashes {
		wr.Hashes[i] = hex.EncodeToString(h[:])
	}
	b, err := json.Marshal(wr)
	if err != nil {
		return err
	}
	return writeFile(s, RangeFile, b)
}
