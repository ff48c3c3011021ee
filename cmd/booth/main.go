//go:build js && wasm

// Command booth is the cryptography of veche's voting booth: package
// internal/voting compiled to WebAssembly, so that a ballot is encrypted,
// proved well formed and signed on the voter's own device, by the same
// code the server and `veche verify-election` use to check it.
//
// It exposes one global object to JavaScript, vecheBooth, whose functions
// take and return strings and plain objects. None of them throws: a
// failure is an object {error: code, message: text, field: contest id},
// the code being one of "credential", "choices", "manifest", "key",
// "wrong_election", "spent", "no_ballot", "audit" or "internal".
//
//	encrypt(manifestJSON, jointKey, credentialCode, choicesJSON)
//	    → {handle, trackingCode}
//	cast(handle)    → {ballot: ballot JSON, trackingCode}
//	audit(handle)   → {audited: audited ballot JSON, trackingCode}
//	discard(handle) → {}
//	checkCredential(electionID, credentialCode) → {}
//	checkAudit(manifestJSON, jointKey, auditedJSON)
//	    → {choices: {contest: [option, …]}, trackingCode}
//	version         the Go toolchain that built the booth
//
// manifestJSON is the manifest as the election's API serves it, jointKey
// the joint public key as it encodes it (base64url), choicesJSON an
// object from contest id to the list of selected option ids. The pending
// ballot stays inside the WebAssembly module, under its handle, until it
// is cast (its randomness is then erased) or audited (its randomness is
// then revealed, and it can never be cast). The credential code is used
// only to derive the signing key here; nothing returned contains it.
//
// Randomness comes from crypto/rand, which under js/wasm is the
// browser's crypto.getRandomValues.
//
// Build it with `go generate ./internal/web` (see internal/web/booth_gen.go
// and cmd/booth/mkbooth); docs/booth.md describes the booth.
package main

import (
	"encoding/json"
	"errors"
	"runtime"
	"syscall/js"

	"github.com/veche/veche/internal/voting"
)

// booth holds the pending ballots by handle. JavaScript calls into Go one
// at a time on the page's thread, so it needs no lock.
type booth struct {
	next    int
	pending map[int]*voting.PendingBallot
}

func main() {
	b := &booth{next: 1, pending: map[int]*voting.PendingBallot{}}
	api := map[string]any{
		"encrypt":         js.FuncOf(b.encrypt),
		"cast":            js.FuncOf(b.cast),
		"audit":           js.FuncOf(b.audit),
		"discard":         js.FuncOf(b.discard),
		"checkAudit":      js.FuncOf(b.checkAudit),
		"checkCredential": js.FuncOf(checkCredential),
		"version":         runtime.Version(),
	}
	js.Global().Set("vecheBooth", js.ValueOf(api))
	// Tell the page the booth is ready, then serve its calls forever.
	if ready := js.Global().Get("vecheBoothReady"); ready.Type() == js.TypeFunction {
		ready.Invoke()
	}
	select {}
}

// failure is the object a function returns instead of throwing.
func failure(err error) any {
	code := "internal"
	var fe *voting.FieldError
	field := ""
	switch {
	case errors.Is(err, voting.ErrCredential):
		code = "credential"
	case errors.Is(err, voting.ErrInvalidChoices):
		code = "choices"
	case errors.Is(err, voting.ErrInvalidManifest):
		code = "manifest"
	case errors.Is(err, voting.ErrInvalidKey):
		code = "key"
	case errors.Is(err, voting.ErrWrongElection):
		code = "wrong_election"
	case errors.Is(err, voting.ErrSpent):
		code = "spent"
	case errors.Is(err, errNoBallot):
		code = "no_ballot"
	case errors.Is(err, voting.ErrAudit), errors.Is(err, voting.ErrBadProof), errors.Is(err, voting.ErrShape),
		errors.Is(err, voting.ErrEncoding), errors.Is(err, voting.ErrAuditedBallot):
		code = "audit"
	}
	if errors.As(err, &fe) {
		field = fe.Field
	}
	return map[string]any{"error": code, "message": err.Error(), "field": field}
}

var errNoBallot = errors.New("booth: no pending ballot with this handle (already cast, audited or discarded)")

// stringArgs reads n string arguments; a missing or non-string one is "".
func stringArgs(args []js.Value, n int) []string {
	out := make([]string, n)
	for i := 0; i < n && i < len(args); i++ {
		if args[i].Type() == js.TypeString {
			out[i] = args[i].String()
		}
	}
	return out
}

// election builds the election from the manifest and joint key as served.
func election(manifestJSON, jointKey string) (*voting.Election, error) {
	m, err := voting.ParseManifest([]byte(manifestJSON))
	if err != nil {
		return nil, err
	}
	var k voting.JointKey
	if err := k.UnmarshalText([]byte(jointKey)); err != nil {
		return nil, err
	}
	return voting.NewElection(m, &k)
}

func (b *booth) encrypt(_ js.Value, args []js.Value) any {
	a := stringArgs(args, 4)
	e, err := election(a[0], a[1])
	if err != nil {
		return failure(err)
	}
	cred, err := voting.ParseCredential(e.Manifest().ID, a[2])
	if err != nil {
		return failure(err)
	}
	var choices voting.Choices
	if err := json.Unmarshal([]byte(a[3]), &choices); err != nil {
		return failure(&voting.FieldError{Err: voting.ErrInvalidChoices, Field: "", Problem: "the choices are not an object of lists of option ids"})
	}
	p, err := e.Encrypt(cred, choices, nil)
	if err != nil {
		return failure(err)
	}
	h := b.next
	b.next++
	b.pending[h] = p
	return map[string]any{"handle": h, "trackingCode": p.TrackingCode()}
}

// take removes and returns the pending ballot of the handle argument.
func (b *booth) take(args []js.Value) (*voting.PendingBallot, error) {
	if len(args) == 0 || args[0].Type() != js.TypeNumber {
		return nil, errNoBallot
	}
	h := args[0].Int()
	p, ok := b.pending[h]
	if !ok {
		return nil, errNoBallot
	}
	delete(b.pending, h)
	return p, nil
}

func (b *booth) cast(_ js.Value, args []js.Value) any {
	p, err := b.take(args)
	if err != nil {
		return failure(err)
	}
	ballot, err := p.Cast()
	if err != nil {
		return failure(err)
	}
	data, err := ballot.MarshalJSON()
	if err != nil {
		return failure(err)
	}
	return map[string]any{"ballot": string(data), "trackingCode": ballot.TrackingCode()}
}

func (b *booth) audit(_ js.Value, args []js.Value) any {
	p, err := b.take(args)
	if err != nil {
		return failure(err)
	}
	a, err := p.Audit()
	if err != nil {
		return failure(err)
	}
	data, err := a.MarshalJSON()
	if err != nil {
		return failure(err)
	}
	return map[string]any{"audited": string(data), "trackingCode": a.TrackingCode()}
}

func (b *booth) discard(_ js.Value, args []js.Value) any {
	if _, err := b.take(args); err != nil {
		return failure(err)
	}
	return map[string]any{}
}

// checkCredential tells a mistyped credential code before the voter
// reviews their choices; it says nothing about whether the credential
// is one of the election's (only the ballot box knows).
func checkCredential(_ js.Value, args []js.Value) any {
	a := stringArgs(args, 2)
	if _, err := voting.ParseCredential(a[0], a[1]); err != nil {
		return failure(err)
	}
	return map[string]any{}
}

func (b *booth) checkAudit(_ js.Value, args []js.Value) any {
	a := stringArgs(args, 3)
	e, err := election(a[0], a[1])
	if err != nil {
		return failure(err)
	}
	audited, err := voting.ParseAuditedBallot([]byte(a[2]))
	if err != nil {
		return failure(err)
	}
	choices, err := e.VerifyAudit(audited)
	if err != nil {
		return failure(err)
	}
	out := map[string]any{}
	for contest, options := range choices {
		list := make([]any, len(options))
		for i, o := range options {
			list[i] = o
		}
		out[contest] = list
	}
	return map[string]any{"choices": out, "trackingCode": audited.TrackingCode()}
}
