package record

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"path"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/veche/veche/internal/voting"
	"github.com/veche/veche/internal/voting/dkg"
)

// source is where a record read by Read comes from, for the streams.
type source struct {
	fsys fs.FS
	lim  Limits
	// first and end are log/range.json's span.
	first, end int64
}

// Open reads the record at path: a directory, or a zip archive of the
// layout (at its root or under one top-level directory). Close the
// returned closer when done with the record's streams.
func Open(name string, lim Limits) (*Record, io.Closer, error) {
	fi, err := os.Stat(name)
	if err != nil {
		return nil, nil, err
	}
	if fi.IsDir() {
		r, err := Read(os.DirFS(name), lim)
		return r, io.NopCloser(nil), err
	}
	zr, err := zip.OpenReader(name)
	if err != nil {
		return nil, nil, fmt.Errorf("election record %s: neither a directory nor a zip archive: %w", name, err)
	}
	var fsys fs.FS = zr
	if _, err := fs.Stat(zr, ElectionFile); err != nil {
		if top, ok := singleTopDir(zr); ok {
			fsys, _ = fs.Sub(zr, top)
		}
	}
	r, err := Read(fsys, lim)
	if err != nil {
		zr.Close()
		return nil, nil, err
	}
	return r, zr, nil
}

// singleTopDir reports the one directory at the root of fsys that holds
// election.json, if the root holds nothing else.
func singleTopDir(fsys fs.FS) (string, bool) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil || len(entries) != 1 || !entries[0].IsDir() {
		return "", false
	}
	top := entries[0].Name()
	_, err = fs.Stat(fsys, path.Join(top, ElectionFile))
	return top, err == nil
}

// Read reads a record from fsys. The small files are read and parsed now;
// an error names the file. The streams (Credentials, Ballots,
// Log.Entries) are read each time they are iterated, one line at a time.
// Read checks encodings, not the election: that is [Verify]'s work.
func Read(fsys fs.FS, lim Limits) (*Record, error) {
	lim = lim.withDefaults()
	src := &source{fsys: fsys, lim: lim}
	r := &Record{src: src}
	var errs []error
	fail := func(name string, err error) {
		errs = append(errs, &Problem{Object: name, Err: err})
	}

	if b, err := src.small(ManifestFile); err != nil {
		fail(ManifestFile, err)
	} else if r.Manifest, err = voting.ParseManifest(b); err != nil {
		fail(ManifestFile, err)
	}
	if b, err := src.small(ElectionFile); err != nil {
		fail(ElectionFile, err)
	} else if err := r.parseElection(b); err != nil {
		fail(ElectionFile, err)
	}
	if sub, err := fs.Sub(fsys, CeremonyDir); err != nil {
		fail(CeremonyDir, err)
	} else if r.Ceremony, err = dkg.ReadRecord(sub); err != nil {
		fail(CeremonyDir, err)
	}
	if b, err := src.small(CountedFile); err != nil {
		fail(CountedFile, err)
	} else if err := unmarshalStrict(b, &r.Counted); err != nil {
		fail(CountedFile, err)
	} else if r.Counted == nil {
		r.Counted = []int64{}
	}
	if b, err := src.small(TallyFile); err != nil {
		fail(TallyFile, err)
	} else if r.Tally, err = voting.ParseEncryptedTally(b); err != nil {
		fail(TallyFile, err)
	}
	if err := r.readDecryptions(); err != nil {
		errs = append(errs, err)
	}
	if b, err := src.small(ResultFile); err != nil {
		fail(ResultFile, err)
	} else if r.Result, err = voting.ParseResult(b); err != nil {
		fail(ResultFile, err)
	}
	if b, err := src.small(LogKeyFile); err != nil {
		fail(LogKeyFile, err)
	} else {
		r.Log.Key = strings.TrimSpace(string(b))
	}
	if b, err := src.small(CheckpointFile); err != nil {
		fail(CheckpointFile, err)
	} else {
		r.Log.Checkpoint = b
	}
	if b, err := src.small(RangeFile); err != nil {
		fail(RangeFile, err)
	} else if err := r.parseRange(b); err != nil {
		fail(RangeFile, err)
	}
	for _, name := range []string{CredentialsFile, BallotsFile, EntriesFile} {
		if _, err := fs.Stat(fsys, name); err != nil {
			fail(name, err)
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, errors.Join(errs...))
	}
	r.Credentials = src.credentials
	r.Ballots = src.ballots
	r.Log.Entries = src.entries
	return r, nil
}

// small reads a whole file of at most lim.MaxFileSize bytes.
func (s *source) small(name string) ([]byte, error) {
	f, err := s.fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, s.lim.MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > s.lim.MaxFileSize {
		return nil, fmt.Errorf("more than %d bytes", s.lim.MaxFileSize)
	}
	return b, nil
}

// unmarshalStrict decodes one JSON value, refusing unknown fields and
// trailing data.
func unmarshalStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON value")
	}
	return nil
}

// electionHeader is election.json as read, checked by Verify.
type electionHeader struct {
	id       string
	manifest [32]byte
}

func (r *Record) parseElection(b []byte) error {
	var w wireElection
	if err := unmarshalStrict(b, &w); err != nil {
		return err
	}
	if w.Type != typeElection {
		return fmt.Errorf("type %q, want %q", w.Type, typeElection)
	}
	d, err := decodeHex(w.Manifest, 32)
	if err != nil {
		return fmt.Errorf("manifest: %v", err)
	}
	r.header = &electionHeader{id: w.Election}
	copy(r.header.manifest[:], d)
	k, err := decodeHex(w.JointKey, voting.ElementSize)
	if err != nil {
		return fmt.Errorf("joint_key: %v", err)
	}
	if r.JointKey, err = voting.ParseJointKey(k); err != nil {
		return err
	}
	return nil
}

func (r *Record) readDecryptions() error {
	entries, err := fs.ReadDir(r.src.fsys, DecryptionsDir)
	if err != nil {
		return &Problem{Object: DecryptionsDir, Err: err}
	}
	var errs []error
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		name := path.Join(DecryptionsDir, e.Name())
		if len(r.Decryptions) >= r.src.lim.MaxTrustees {
			return &Problem{Object: DecryptionsDir, Err: fmt.Errorf("more than %d partial decryptions", r.src.lim.MaxTrustees)}
		}
		b, err := r.src.small(name)
		if err == nil {
			var p *voting.PartialDecryption
			if p, err = voting.ParsePartialDecryption(b); err == nil {
				r.Decryptions = append(r.Decryptions, p)
				r.decryptionFiles = append(r.decryptionFiles, name)
				continue
			}
		}
		errs = append(errs, &Problem{Object: name, Err: err})
	}
	return errors.Join(errs...)
}

// maxRangeHashes bounds log/range.json: a proof has at most two hashes
// per level of a tree of 2⁶³ entries.
const maxRangeHashes = 2 * 64

func (r *Record) parseRange(b []byte) error {
	var w wireRange
	if err := unmarshalStrict(b, &w); err != nil {
		return err
	}
	if w.Type != typeRange {
		return fmt.Errorf("type %q, want %q", w.Type, typeRange)
	}
	if len(w.Hashes) > maxRangeHashes {
		return fmt.Errorf("%d hashes, a range proof has at most %d", len(w.Hashes), maxRangeHashes)
	}
	if w.First < 0 || w.End < w.First || w.End-w.First > r.src.lim.MaxEntries {
		return fmt.Errorf("span [%d, %d) is not a span of at most %d entries", w.First, w.End, r.src.lim.MaxEntries)
	}
	r.Log.First, r.src.first, r.src.end = w.First, w.First, w.End
	r.Log.Hashes = make([]tlog.Hash, len(w.Hashes))
	for i, s := range w.Hashes {
		h, err := decodeHex(s, tlog.HashSize)
		if err != nil {
			return fmt.Errorf("hash %d: %v", i, err)
		}
		copy(r.Log.Hashes[i][:], h)
	}
	return nil
}

// lines yields the lines of a stream (without their newline) with their
// 1-based numbers, refusing a line longer than lim.MaxLine, more than max
// lines and a last line without its newline.
func (s *source) lines(name string, max int64) iter.Seq2[[]byte, error] {
	return func(yield func([]byte, error) bool) {
		f, err := s.fsys.Open(name)
		if err != nil {
			yield(nil, &Problem{Object: name, Err: err})
			return
		}
		defer f.Close()
		br := bufio.NewReaderSize(f, 1<<20)
		var long []byte
		for n := int64(1); ; n++ {
			line, err := br.ReadSlice('\n')
			if errors.Is(err, bufio.ErrBufferFull) {
				long = append(long[:0], line...)
				for errors.Is(err, bufio.ErrBufferFull) && len(long) <= s.lim.MaxLine {
					line, err = br.ReadSlice('\n')
					long = append(long, line...)
				}
				line = long
			}
			if len(line) > s.lim.MaxLine+1 {
				yield(nil, &Problem{Object: fmt.Sprintf("%s line %d", name, n), Err: fmt.Errorf("longer than %d bytes", s.lim.MaxLine)})
				return
			}
			if err == io.EOF {
				if len(line) > 0 {
					yield(nil, &Problem{Object: fmt.Sprintf("%s line %d", name, n), Err: errors.New("the last line has no newline: the file is cut short")})
				}
				return
			}
			if err != nil {
				yield(nil, &Problem{Object: fmt.Sprintf("%s line %d", name, n), Err: err})
				return
			}
			if n > max {
				yield(nil, &Problem{Object: name, Err: fmt.Errorf("more than %d lines", max)})
				return
			}
			if !yield(line[:len(line)-1], nil) {
				return
			}
		}
	}
}

func (s *source) credentials(yield func(*voting.PublicCredential, error) bool) {
	n := 0
	for line, err := range s.lines(CredentialsFile, s.lim.MaxCredentials) {
		n++
		if err != nil {
			yield(nil, err)
			return
		}
		c, err := parseCredentialLine(line)
		if err != nil {
			err = &Problem{Object: fmt.Sprintf("%s line %d", CredentialsFile, n), Err: err}
		}
		if !yield(c, err) || err != nil {
			return
		}
	}
}

func parseCredentialLine(line []byte) (*voting.PublicCredential, error) {
	var c voting.PublicCredential
	if err := c.UnmarshalText(line); err != nil {
		return nil, err
	}
	return &c, nil
}

func (s *source) ballots(yield func(*Cast, error) bool) {
	n := 0
	for line, err := range s.lines(BallotsFile, s.lim.MaxBallots) {
		n++
		if err != nil {
			yield(nil, err)
			return
		}
		c, err := parseCastLine(line)
		if err != nil {
			err = &Problem{Object: fmt.Sprintf("%s line %d", BallotsFile, n), Err: err}
		}
		if !yield(c, err) || err != nil {
			return
		}
	}
}

func (s *source) entries(yield func([]byte, error) bool) {
	n := int64(0)
	for line, err := range s.lines(EntriesFile, s.lim.MaxEntries) {
		if err != nil {
			yield(nil, err)
			return
		}
		n++
		if !yield(line, nil) {
			return
		}
	}
	if want := s.end - s.first; n != want {
		yield(nil, &Problem{Object: EntriesFile, Err: fmt.Errorf("%d entries, %s says the span has %d", n, RangeFile, want)})
	}
}

// castLine splits a ballot-box line into its parts, accepting only the
// canonical form appendCastLine writes.
func splitCastLine(line []byte) (logIndex int64, code string, ballot []byte, err error) {
	rest, ok := bytes.CutPrefix(line, []byte(`{"log_index":`))
	if !ok {
		return 0, "", nil, errors.New(`does not start with {"log_index":`)
	}
	i := bytes.IndexByte(rest, ',')
	if i < 0 {
		return 0, "", nil, errors.New("no tracking_code")
	}
	digits := rest[:i]
	if len(digits) == 0 || len(digits) > 19 || (digits[0] == '0' && len(digits) > 1) {
		return 0, "", nil, errors.New("log_index is not a decimal number without leading zeros")
	}
	if logIndex, err = strconv.ParseInt(string(digits), 10, 64); err != nil {
		return 0, "", nil, errors.New("log_index is not a decimal number without leading zeros")
	}
	rest, ok = bytes.CutPrefix(rest[i:], []byte(`,"tracking_code":"`))
	if !ok {
		return 0, "", nil, errors.New(`log_index is not followed by "tracking_code"`)
	}
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return 0, "", nil, errors.New("tracking_code is not a string")
	}
	code = string(rest[:j])
	rest, ok = bytes.CutPrefix(rest[j:], []byte(`","ballot":`))
	if !ok {
		return 0, "", nil, errors.New(`tracking_code is not followed by "ballot"`)
	}
	ballot, ok = bytes.CutSuffix(rest, []byte("}"))
	if !ok {
		return 0, "", nil, errors.New("does not end with }")
	}
	return logIndex, code, ballot, nil
}

func parseCastLine(line []byte) (*Cast, error) {
	idx, code, raw, err := splitCastLine(line)
	if err != nil {
		return nil, err
	}
	b, err := voting.ParseBallot(raw)
	if err != nil {
		return nil, err
	}
	return &Cast{Ballot: b, LogIndex: idx, TrackingCode: code}, nil
}

// decodeHex decodes exactly n bytes of lowercase hexadecimal.
func decodeHex(s string, n int) ([]byte, error) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != n || hex.EncodeToString(b) != s {
		return nil, fmt.Errorf("not %d bytes of lowercase hexadecimal", n)
	}
	return b, nil
}
