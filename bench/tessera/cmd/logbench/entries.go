package main

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"

	"github.com/veche/veche/internal/auditlog"
)

// entrySource makes the synthetic entry stream both systems write: entry n
// is the same for every system and every run (only its timestamp, taken at
// append time, differs), so every case writes a prefix of one sequence.
type entrySource struct {
	ps auditlog.Pseudonymizer
}

func newEntrySource() entrySource {
	return entrySource{ps: auditlog.NewPseudonymizer([]byte("logbench fixed pseudonym key, not a secret"))}
}

var actions = []string{"proposal.submitted", "comment.posted", "vote.cast", "consultation.opened", "role.granted"}

// entry returns entry n: a veche-style audit entry, about 220 bytes once
// encoded (action, actor and subject pseudonyms, a content digest, the
// entry number as a public detail).
func (s entrySource) entry(n int) auditlog.Entry {
	num := strconv.Itoa(n)
	return auditlog.Entry{
		Action:  actions[n%len(actions)],
		Actor:   s.ps.Of("account", strconv.Itoa(n%997)),
		Subject: s.ps.Of("consultation", strconv.Itoa(n%31)),
		Digest:  auditlog.Digest([]byte("content of entry " + num)),
		Detail:  map[string]string{"n": num},
	}
}

// wireEntry and timeLayout mirror veche's canonical entry encoding
// (internal/auditlog/entry.go, documented as the log's entry format), so
// that Tessera stores byte-for-byte the kind of entry veche stores. The
// encoder in veche is unexported; this copy only produces bytes and does
// not validate (veche's Append validates, a cost Tessera's side skips).
type wireEntry struct {
	Time    string            `json:"time"`
	Action  string            `json:"action"`
	Actor   string            `json:"actor,omitempty"`
	Subject string            `json:"subject,omitempty"`
	Digest  string            `json:"digest,omitempty"`
	Detail  map[string]string `json:"detail,omitempty"`
}

const timeLayout = "2006-01-02T15:04:05.000000Z"

// encode returns the canonical JSON of e stamped with t.
func encode(e auditlog.Entry, t time.Time) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(wireEntry{
		Time:    t.UTC().Truncate(time.Microsecond).Format(timeLayout),
		Action:  e.Action,
		Actor:   e.Actor,
		Subject: e.Subject,
		Digest:  e.Digest,
		Detail:  e.Detail,
	}); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
