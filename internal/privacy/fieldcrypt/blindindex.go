package fieldcrypt

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
)

// BlindIndex returns a keyed hash of a normalised value for exact-match
// lookups on an encrypted field (sign-in by email): HMAC-SHA256 (RFC 2104)
// under a 32-byte subkey derived for purpose from the index key with
// HKDF-SHA256 (RFC 5869, info "veche blind index v1\x00" + purpose). The
// same value hashes alike under one purpose and unrelatedly under another,
// and without the index key the hash reveals nothing an attacker could
// check a guess against. Normalise first (e.g. lowercase and NFC for an
// email address): the index matches bytes exactly.
//
// It panics if the Service was built without an index key.
func (s *Service) BlindIndex(purpose string, normalized string) []byte {
	m := hmac.New(sha256.New, s.indexSubkey(purpose))
	m.Write([]byte(normalized))
	return m.Sum(nil)
}

func (s *Service) indexSubkey(purpose string) []byte {
	if k, ok := s.subkeys.Load(purpose); ok {
		return k.([]byte)
	}
	if len(s.indexKey) < 32 {
		panic("fieldcrypt: BlindIndex needs an index key of 32 bytes (New was given none)")
	}
	k, err := hkdf.Key(sha256.New, s.indexKey, nil, "veche blind index v1\x00"+purpose, 32)
	if err != nil {
		panic("fieldcrypt: hkdf: " + err.Error())
	}
	s.subkeys.Store(purpose, k)
	return k
}
