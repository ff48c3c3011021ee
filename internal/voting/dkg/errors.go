package dkg

import (
	"errors"
	"fmt"
)

// ErrMissingShare is wrapped by the error about a share a trustee has not
// received.
var ErrMissingShare = errors.New("dkg: share not received")

// Error is a failure of one trustee's message: what failed, and whose.
// Every error of [Evaluate], [Verify] and the Parse functions about a
// message whose sender is known is an *Error.
type Error struct {
	Trustee uint32 // the sender; 0 if it could not be read
	Message string // "commitment", "complaint", "answer", "result", "share to trustee 4", …
	Err     error  // wraps ErrInvalid, ErrOtherCeremony or ErrMissingShare
}

func (e *Error) Error() string {
	if e.Trustee == 0 {
		return fmt.Sprintf("%s: %v", e.Message, e.Err)
	}
	return fmt.Sprintf("trustee %d's %s: %v", e.Trustee, e.Message, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// fail builds an *Error whose cause wraps ErrInvalid.
func fail(trustee uint32, message, format string, args ...any) *Error {
	return &Error{Trustee: trustee, Message: message, Err: fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)}
}

// Problems lists the *Error values in err, which may join several.
func Problems(err error) []*Error {
	var out []*Error
	var walk func(error)
	walk = func(err error) {
		var e *Error
		switch x := err.(type) {
		case nil:
		case interface{ Unwrap() []error }:
			for _, err := range x.Unwrap() {
				walk(err)
			}
		default:
			if errors.As(err, &e) {
				out = append(out, e)
			}
		}
	}
	walk(err)
	return out
}
