// Package fieldcrypt owns the encryption of personal data at rest with a
// key per person ("subject"), and the erasure of that data by destroying
// the key (crypto-shredding).
//
// # Key hierarchy
//
//	key-encryption key (KEK), versioned          LocalKeyring: <data>/keys/kek/local-N.json
//	  │  wraps (tink keyset encryption,           VaultTransitKeyring: a Transit key in Vault/OpenBao
//	  │  associated data = subject)
//	  ▼
//	data key (DEK) of one subject                 table subject_keys: wrapped keyset + KEK version
//	  │  seals (AES-256-GCM, associated data =
//	  │  subject, table, column, row)
//	  ▼
//	personal-data field                           any table: 1-byte format version + tink ciphertext
//
// This is envelope encryption as tink (github.com/tink-crypto/tink-go)
// does it: each subject's data key is a tink AES-256-GCM keyset (GCM per
// NIST SP 800-38D, 96-bit random nonces, 128-bit tags), stored only as
// written by keyset.Handle.WriteWithAssociatedData under the KEK. Unwrapped
// data keys are cached for a short time (Options.CacheTTL) in a size-bound
// LRU, so a remote KEK (Vault) is called once per person and cache period,
// not per field.
//
// # Formats
//
// A sealed field is FormatV1 (one byte) followed by tink's ciphertext:
// 5 bytes of key prefix (0x01 and the key id), a 12-byte nonce, the
// ciphertext and a 16-byte tag; [Overhead] is 34 bytes. Its associated
// data is the length-prefixed encoding of ("veche field v1", subject,
// table, column, row), so a ciphertext copied to another row, column or
// person fails to open with [ErrTampered]. A wrapped keyset is tink's
// EncryptedKeyset protobuf, its associated data "veche subject key v1",
// NUL, subject.
//
// # Blind indexes
//
// Exact-match lookups on encrypted fields (sign-in by email) use
// [Service.BlindIndex]: HMAC-SHA256 (RFC 2104) under a per-purpose key
// derived from the instance's index key with HKDF-SHA256 (RFC 5869). The
// index is kept in a column of its own; a blind index is deterministic, so
// it reveals equal values among rows (which is what a lookup needs) but
// not the values.
//
// # Erasure, backups and rotation
//
// [Service.Erase] destroys a subject's wrapped key and keeps a marker row.
// Every copy of their sealed data, in any table, search index or data
// backup, becomes unreadable at once: the right to erasure (GDPR Art. 17)
// without hunting down each copy, and encryption as the "appropriate
// technical measure" of Art. 32. Data backups leave subject_keys out;
// [ExportKeys] and [ImportKeys] back it up separately, still wrapped, and
// an import never un-erases anyone. Rotating the KEK ([LocalKeyring.Rotate],
// [Service.Rewrap], `veche rotate-keys`) and retiring the old version
// ([LocalKeyring.Retire]) makes stale copies of wrapped keys (older key
// exports, freed database pages) useless too.
//
// See docs/privacy-encryption.md for the design in full, the Vault set-up,
// failure modes and measurements.
package fieldcrypt
