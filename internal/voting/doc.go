// Package voting is the cryptography of veche's end-to-end verifiable
// elections, in the tradition of Helios, ElectionGuard and Belenios:
// exponential ElGamal over the prime-order group ristretto255 (RFC 9496,
// github.com/gtank/ristretto255 on filippo.io/edwards25519), zero-knowledge
// proofs made non-interactive by the strong Fiat–Shamir transform,
// Belenios-style voter credentials, and threshold decryption. It imports
// neither storage nor the web layer, so the same code runs in the server,
// in `veche verify-election`, in the trustees' `veche trustee` and,
// compiled to WebAssembly, in the voter's booth.
//
// docs/election-record.md specifies every formula, hash input and
// encoding, precisely enough that a third party can write a verifier of
// their own; testdata/ holds its known-answer vectors.
//
// Every challenge is computed from a [Transcript] whose first input is the
// domain [Domain] and a label naming the statement, and which binds the
// election's manifest digest, the joint public key, the voter's ballot
// identity, the statement and the commitments (Bernhard, Pereira and
// Warinschi, "How not to prove yourself: pitfalls of the Fiat–Shamir
// heuristic and applications to Helios", ASIACRYPT 2012).
//
// # Using it
//
// An [Election] is a validated [Manifest] with the [JointKey] that the key
// ceremony (package dkg) produced:
//
//	e, err := voting.NewElection(manifest, jointKey)
//
// A credential authority draws each voter's [Credential] with
// [NewCredential] and publishes only [Credential.Public]. In the booth,
// the voter types their code ([ParseCredential]) and chooses:
//
//	p, err := e.Encrypt(cred, voting.Choices{"mayor": {"ada"}}, nil)
//	show(p.TrackingCode())
//	b, err := p.Cast()   // or: a, err := p.Audit(), never both
//
// The server parses and verifies what it receives, one at a time or in
// batches, and keeps the last ballot of each published credential:
//
//	b, err := voting.ParseBallot(body) // at most e.BallotSize() bytes
//	err = e.VerifyBallot(b)            // errors.Is: ErrWrongElection, ErrShape, ErrSignature, ErrBadProof…
//	errs := e.VerifyBallots(ballots)   // the same verdicts, batched on all cores
//
// Anyone checks an audited ballot with [Election.VerifyAudit]. To count,
// sum the ballots, have each trustee decrypt the sums with its
// [TrusteeShare], and combine any threshold of them:
//
//	t := e.NewTally(); t.Add(b) // for each counted ballot
//	pd, err := e.PartialDecrypt(share, t, nil)                // on trustee i's machine
//	result, err := e.Decrypt(t, threshold, verificationKeys, partials)
//
// A partial decryption whose proof fails is excluded and named in the
// [Result]; with fewer than the threshold valid, Decrypt fails with a
// [DecryptionError] naming each trustee that failed.
package voting
