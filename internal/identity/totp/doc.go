// Package totp owns the second factor a citizen keeps in an authenticator
// app, and the recovery codes that replace it when the phone is lost.
//
// Codes are TOTP (RFC 6238): HOTP (RFC 4226) over the number of 30-second
// steps since the Unix epoch, HMAC-SHA-1, 6 digits, with a 160-bit shared
// secret as RFC 4226 §4 recommends. These are the only parameters every
// authenticator app supports, so they are fixed. Enrolment hands the
// secret to the app as an otpauth:// URI in the Key Uri Format of Google
// Authenticator (github.com/google/google-authenticator/wiki/Key-Uri-Format),
// shown as a QR code. HOTP values come from github.com/pquerna/otp.
//
// Verify accepts the code of the current step and of one step either side
// (RFC 6238 §5.2 allows that skew for clock drift and typing time), and
// it returns the step that matched. RFC 6238 §5.2 also requires that a
// verifier not accept the same code twice; the common libraries leave
// that to the caller, so Verify takes the last step accepted for the
// account and refuses that step and earlier ones with ErrReplayed. The
// caller stores the returned step in the same transaction that records
// the sign-in.
//
// Recovery codes are single-use random strings in Crockford's base32
// (www.crockford.com/base32.html), shown as "xxxxx-xxxxx" and stored only
// as SHA-256 hashes.
package totp
