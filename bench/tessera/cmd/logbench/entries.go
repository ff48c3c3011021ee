package main

import (
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

// encode returns veche's canonical bytes of e stamped with t, through
// auditlog's own encoder, so that Tessera stores byte for byte the entry
// veche stores (the encoder validates too, as veche's Append does).
func encode(e auditlog.Entry, t time.Time) ([]byte, error) { return e.Encode(t) }
