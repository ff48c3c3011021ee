package record

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// logEntry is an audit-log entry in the canonical form of package
// auditlog (docs/audit-log.md, "Entry format"): these keys in this order,
// the optional ones left out when empty, detail keys sorted, no HTML
// escaping, no whitespace. The verifier accepts an entry of the span only
// in that form, so that an entry has one reading.
type logEntry struct {
	Time    string            `json:"time"`
	Action  string            `json:"action"`
	Actor   string            `json:"actor,omitempty"`
	Subject string            `json:"subject,omitempty"`
	Digest  string            `json:"digest,omitempty"`
	Detail  map[string]string `json:"detail,omitempty"`
}

// entryTimeLayout is the entry time: UTC, six fractional digits.
const entryTimeLayout = "2006-01-02T15:04:05.000000Z"

// encodeEntry returns the canonical bytes of e.
func encodeEntry(e *logEntry) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// castEntry is the canonical cast entry of a ballot with digest detail,
// stamped t.
func castEntry(t time.Time, detail map[string]string) ([]byte, error) {
	return encodeEntry(&logEntry{Time: t.UTC().Truncate(time.Microsecond).Format(entryTimeLayout), Action: CastAction, Detail: detail})
}

// parseEntry decodes an entry and checks that b is its canonical encoding.
func parseEntry(b []byte) (*logEntry, time.Time, error) {
	var e logEntry
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return nil, time.Time{}, fmt.Errorf("not an audit-log entry: %v", err)
	}
	t, err := time.Parse(entryTimeLayout, e.Time)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("time: %v", err)
	}
	c, err := encodeEntry(&e)
	if err != nil {
		return nil, time.Time{}, err
	}
	if !bytes.Equal(c, b) {
		return nil, time.Time{}, errors.New("not in the canonical form of an audit-log entry")
	}
	return &e, t, nil
}
