package dkg

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
)

// The layout of a ceremony directory, as the relay keeps it and the
// election record publishes it (without shares/):
//
//	ceremony.json
//	commitments/trustee-I.json
//	shares/from-I-to-J.json      relayed, not published
//	complaints/trustee-J.json
//	answers/trustee-I.json
//	results/trustee-J.json
//
// Readers take every *.json file of a directory whatever its name, so a
// relay may name files as it likes; the names here are what veche writes.
const (
	CeremonyFile   = "ceremony.json"
	CommitmentsDir = "commitments"
	SharesDir      = "shares"
	ComplaintsDir  = "complaints"
	AnswersDir     = "answers"
	ResultsDir     = "results"
)

// TrusteeFile is the name of trustee i's message in a phase directory.
func TrusteeFile(dir string, i uint32) string { return fmt.Sprintf("%s/trustee-%d.json", dir, i) }

// ShareFile is the name of dealer i's share for trustee j.
func ShareFile(i, j uint32) string { return fmt.Sprintf("%s/from-%d-to-%d.json", SharesDir, i, j) }

// ReadCeremony reads ceremony.json from fsys.
func ReadCeremony(fsys fs.FS) (Ceremony, error) {
	b, err := fs.ReadFile(fsys, CeremonyFile)
	if errors.Is(err, fs.ErrNotExist) {
		return Ceremony{}, fmt.Errorf("no %s: this is not a ceremony directory (the election officer writes %s into it): %w", CeremonyFile, CeremonyFile, err)
	}
	if err != nil {
		return Ceremony{}, err
	}
	c, err := ParseCeremony(b)
	if err != nil {
		return Ceremony{}, fmt.Errorf("%s: %w", CeremonyFile, err)
	}
	return c, nil
}

// ReadRecord reads a ceremony directory: ceremony.json and every message
// of the phases present (a missing directory is an empty phase). An error
// names the file. Shares are not read; see [ReadShares].
func ReadRecord(fsys fs.FS) (*Record, error) {
	cer, err := ReadCeremony(fsys)
	if err != nil {
		return nil, err
	}
	r := &Record{Ceremony: cer}
	var errs []error
	collect := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	collect(readDir(fsys, CommitmentsDir, func(b []byte) (uint32, error) {
		m, err := ParseCommitment(cer, b)
		if err == nil {
			r.Commitments = append(r.Commitments, m)
			return m.Trustee, nil
		}
		return 0, err
	}))
	collect(readDir(fsys, ComplaintsDir, func(b []byte) (uint32, error) {
		m, err := ParseComplaint(cer, b)
		if err == nil {
			r.Complaints = append(r.Complaints, m)
			return m.Trustee, nil
		}
		return 0, err
	}))
	collect(readDir(fsys, AnswersDir, func(b []byte) (uint32, error) {
		m, err := ParseAnswer(cer, b)
		if err == nil {
			r.Answers = append(r.Answers, m)
			return m.Dealer, nil
		}
		return 0, err
	}))
	collect(readDir(fsys, ResultsDir, func(b []byte) (uint32, error) {
		m, err := ParseResult(cer, b)
		if err == nil {
			r.Results = append(r.Results, m)
			return m.Trustee, nil
		}
		return 0, err
	}))
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return r, nil
}

// ReadShares reads the share messages of fsys's shares/ directory that
// are addressed to trustee j (every one when j is 0).
func ReadShares(fsys fs.FS, cer Ceremony, j uint32) ([]*EncryptedShare, error) {
	var out []*EncryptedShare
	err := readDirAll(fsys, SharesDir, func(name string, b []byte) error {
		m, err := ParseEncryptedShare(cer, b)
		if err != nil {
			return err
		}
		if j == 0 || m.Recipient == j {
			out = append(out, m)
		}
		return nil
	})
	return out, err
}

// readDir parses every *.json file of dir, refusing two messages from the
// same sender.
func readDir(fsys fs.FS, dir string, parse func([]byte) (uint32, error)) error {
	from := map[uint32]string{}
	return readDirAll(fsys, dir, func(name string, b []byte) error {
		i, err := parse(b)
		if err != nil {
			return err
		}
		if other, ok := from[i]; ok {
			return fmt.Errorf("two messages from trustee %d (%s and %s): remove the one the trustee did not send", i, other, name)
		}
		from[i] = name
		return nil
	})
}

func readDirAll(fsys fs.FS, dir string, each func(name string, b []byte) error) error {
	entries, err := fs.ReadDir(fsys, dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var errs []error
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if fi, err := e.Info(); err == nil && fi.Size() > maxMessage {
			errs = append(errs, fmt.Errorf("%s: %d bytes, more than the %d a message may have", path.Join(dir, e.Name()), fi.Size(), maxMessage))
			continue
		}
		names = append(names, e.Name())
	}
	slices.Sort(names)
	for _, n := range names {
		name := path.Join(dir, n)
		b, err := fs.ReadFile(fsys, name)
		if err == nil {
			err = each(name, b)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}
