package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"
)

// decodeJSON reads one JSON object from the request body into dst, which
// must be a pointer to a struct. Anything but exactly one well-formed object
// of the right shape is refused with a message naming what was wrong:
// invalid UTF-8 (which encoding/json would silently replace), syntax errors
// with their offset, wrong types with the field, unknown fields, trailing
// data, and bodies over the size limit.
func decodeJSON(r *http.Request, dst any) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return mbe
		}
		return &decodeError{http.StatusBadRequest, "the request body could not be read"}
	}
	return decodeJSONBytes(body, dst)
}

func decodeJSONBytes(body []byte, dst any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return &decodeError{http.StatusBadRequest, "the request body is empty; send a JSON object"}
	}
	if !utf8.Valid(body) {
		return &decodeError{http.StatusBadRequest, "the request body is not valid UTF-8"}
	}
	if esc, ok := loneSurrogate(body); ok {
		return &decodeError{http.StatusBadRequest, fmt.Sprintf("the escape %s is half of a UTF-16 surrogate pair, not a character", esc)}
	}
	// encoding/json decodes null into a struct as "nothing to do", and
	// reports other non-objects as type errors without saying so plainly.
	if first := bytes.TrimLeft(body, " \t\r\n")[0]; first != '{' && json.Valid(body) {
		return &decodeError{http.StatusBadRequest, "the body must be a JSON object, not " + jsonValueKind(first)}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return &decodeError{http.StatusBadRequest, fmt.Sprintf("malformed JSON at byte %d", se.Offset)}
		case errors.As(err, &te):
			if te.Field == "" {
				return &decodeError{http.StatusBadRequest, fmt.Sprintf("the body must be a JSON object, not %s", te.Value)}
			}
			return &decodeError{http.StatusBadRequest, fmt.Sprintf("field %q must be %s, not %s", te.Field, jsonKind(te.Type.Kind().String()), te.Value)}
		case errors.Is(err, io.ErrUnexpectedEOF):
			return &decodeError{http.StatusBadRequest, "malformed JSON: the body ends too early"}
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return &decodeError{http.StatusBadRequest, "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")}
		default:
			return &decodeError{http.StatusBadRequest, "malformed JSON"}
		}
	}
	if dec.More() {
		return &decodeError{http.StatusBadRequest, "the body holds more than one JSON value"}
	}
	if _, err := dec.Token(); err != io.EOF {
		return &decodeError{http.StatusBadRequest, "the body holds more than one JSON value"}
	}
	return nil
}

// jsonValueKind names the kind of JSON value that starts with b, in the
// words encoding/json uses for type errors.
func jsonValueKind(b byte) string {
	switch b {
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	default:
		return "number"
	}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "int", "int64", "int32", "uint", "uint64", "float64":
		return "a number"
	case "slice":
		return "an array"
	default:
		return "an object"
	}
}

// loneSurrogate finds a \uXXXX escape of a UTF-16 surrogate that is not
// part of a high+low pair. encoding/json would silently turn it into
// U+FFFD, the same loss that invalid UTF-8 bytes are refused for.
func loneSurrogate(body []byte) (string, bool) {
	hex4 := func(i int) (rune, bool) {
		if i+6 > len(body) || body[i] != '\\' || body[i+1] != 'u' {
			return 0, false
		}
		var r rune
		for _, c := range body[i+2 : i+6] {
			switch {
			case '0' <= c && c <= '9':
				r = r<<4 | rune(c-'0')
			case 'a' <= c && c <= 'f':
				r = r<<4 | rune(c-'a'+10)
			case 'A' <= c && c <= 'F':
				r = r<<4 | rune(c-'A'+10)
			default:
				return 0, false
			}
		}
		return r, true
	}
	for i := 0; i < len(body); i++ {
		if body[i] != '\\' {
			continue
		}
		r, ok := hex4(i)
		if !ok {
			i++ // skip the escaped character, e.g. the second \ of \\
			continue
		}
		switch {
		case 0xD800 <= r && r <= 0xDBFF:
			if lo, ok := hex4(i + 6); ok && 0xDC00 <= lo && lo <= 0xDFFF {
				i += 11
				continue
			}
			return string(body[i : i+6]), true
		case 0xDC00 <= r && r <= 0xDFFF:
			return string(body[i : i+6]), true
		}
		i += 5
	}
	return "", false
}
