// Package dkg is the trustees' key ceremony: a verifiable distributed key
// generation by which n trustees make the election's joint public key K,
// each trustee ending with a share of the secret key such that any t of
// them can decrypt and fewer than t learn nothing, with no trusted dealer.
//
// It is the joint-Feldman protocol of Pedersen ("A threshold cryptosystem
// without a trusted party", EUROCRYPT 1991) with the complaint rounds of
// Gennaro, Jarecki, Krawczyk and Rabin ("Secure distributed key generation
// for discrete-log based cryptosystems", Journal of Cryptology 20, 2007,
// figure 1, the JF-DKG steps), over ristretto255:
//
//   - each trustee i draws a polynomial f_i of degree t−1, publishes the
//     Feldman commitments A_ik = a_ik·G of its coefficients and a Schnorr
//     proof of knowledge of a_i0 bound to the ceremony, its index and the
//     whole message ([Commitment]), which rules out rogue-key
//     contributions (a dealer cannot publish a function of the others'
//     A_j0 without knowing its discrete logarithm);
//   - it sends each other trustee j its share s_ij = f_i(j), encrypted to
//     j's age X25519 recipient and signed with its Ed25519 key
//     ([EncryptedShare]), so that the server relaying the messages learns
//     no share and cannot substitute one;
//   - each recipient checks s_ij·G = Σ_k j^k·A_ik and files a [Complaint]
//     against every dealer whose share fails; an accused dealer answers by
//     revealing the shares in clear ([Answer]); anyone checks them against
//     the commitments;
//   - QUAL, the set of qualified dealers, follows from the published
//     [Record] alone (see [Evaluate]); K = Σ_{i∈QUAL} A_i0, trustee j's
//     secret share is s_j = Σ_{i∈QUAL} s_ij and its verification key
//     K_j = s_j·G = Σ_{i∈QUAL} Σ_k j^k·A_ik, computable by anyone;
//   - each trustee signs a [Result] naming the record digest, QUAL, K and
//     its K_j, so that a relay showing different trustees different
//     records is caught by [Verify].
//
// # The bias of joint-Feldman
//
// Gennaro et al. (2007, §3) show that in joint-Feldman a rushing adversary
// can bias the distribution of K: having seen the honest commitments, it
// decides whether dealers it controls get disqualified, and so chooses K
// among a few values. Their fix (New-DKG, hiding Pedersen commitments
// first) doubles the rounds. veche does not use it because the bias does
// not help against what K is for, ElGamal encryption with threshold
// decryption: as in Gennaro, Jarecki, Krawczyk and Rabin, "Secure
// applications of Pedersen's distributed key generation protocol" (CT-RSA
// 2003), a simulator embeds a challenge key Y as one honest trustee's
// contribution, and whatever the adversary does, K = Y + δ·G where δ is
// known to the simulator (it extracts the corrupted dealers' a_i0 from
// their proofs of knowledge), so an encryption under Y converts into
// one under K and the adversary's advantage against K is its advantage
// against a uniform key. The choice of K is public in the record, and no
// secret depends on K being uniform. docs/election-record.md (Key
// ceremony) states the argument and the rules.
//
// # Relay and channels
//
// The protocol assumes private, authenticated point-to-point channels and
// a broadcast channel. veche builds them over an untrusted relay (files
// now, the server later): privacy by age encryption, authentication by
// the signatures and the proof of knowledge, and broadcast by each
// trustee signing the digest of the record it used. A relay can still
// withhold messages; a withheld share is not a complaint by default (a
// complaint makes the dealer reveal the share), see [Trustee.Receive].
// The first messages are authenticated only by their content: trustees
// compare [Commitment.Fingerprint] over a channel the relay does not
// control.
//
// The package is pure: messages are bytes in and out, and [ReadRecord]
// reads a ceremony directory from any [io/fs.FS].
package dkg
