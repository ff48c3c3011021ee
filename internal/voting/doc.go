// Package voting is the cryptography of veche's end-to-end verifiable
// elections, in the tradition of Helios, ElectionGuard and Belenios:
// exponential ElGamal over the prime-order group ristretto255 (RFC 9496,
// github.com/gtank/ristretto255 on filippo.io/edwards25519), zero-knowledge
// proofs made non-interactive by the strong Fiat–Shamir transform, and
// threshold decryption. It imports neither storage nor the web layer, so
// the same code runs in the server, in `veche verify-election`, in the
// trustees' `veche trustee` and, compiled to WebAssembly, in the voter's
// booth.
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
package voting
