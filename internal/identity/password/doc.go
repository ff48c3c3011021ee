// Package password owns how veche stores and accepts passwords: Argon2id
// hashing in the PHC string format, and the policy a new password must
// meet.
//
// # Storage
//
// Passwords are hashed with Argon2id (RFC 9106) through
// golang.org/x/crypto/argon2, at the OWASP Password Storage Cheat Sheet
// minimum for Argon2id: 19 MiB of memory, 2 passes, 1 lane
// ([DefaultParams]). A hash is stored as a PHC string,
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>
//
// with salt and hash in unpadded standard base64, the format of the
// reference implementation (github.com/P-H-C/phc-winner-argon2), so a
// stored row carries its own parameters and can be upgraded on the next
// sign-in ([Hasher.Verify] reports needsRehash). A [Hasher] bounds how many
// hashes run at once, because each one holds its memory cost for its whole
// run and a flood of sign-ins must not exhaust the node's memory; callers
// that cannot get a slot before their context ends get [ErrBusy].
// Parameters read from a stored hash are bounded so that a tampered row
// cannot make one verification cost a gigabyte-scale allocation.
//
// Passwords are compared as Unicode text, not bytes: [Normalize] (NFC,
// Unicode spaces mapped to U+0020, as the OpaqueString profile of RFC 8265
// does) is applied before hashing and before every policy check, so the
// same password typed on two keyboards hashes alike.
//
// # Policy
//
// [Policy] follows NIST SP 800-63B-4 §3.1.1.2 (password verifiers): a
// minimum length of 15 characters for a password used as a single factor,
// a maximum of at least 64 (veche allows 128), length counted in Unicode
// code points, every printable character and the space allowed, no
// composition rules, and a check against a blocklist of commonly used,
// expected or compromised values, including context-specific words such as
// the user name and the service's name.
//
// The shipped blocklist, common-passwords.txt, is the "passwords"
// frequency list of zxcvbn 4.4.2 (Copyright (c) 2012-2016 Dan Wheeler and
// Dropbox, Inc., MIT License; the notice is kept at the top of the file):
// the 30,000 most common passwords of Mark Burnett's 10 million password
// corpus.
package password
