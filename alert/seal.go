package alert

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the length of a Sealer's key: AES-256.
const KeySize = 32

// sealPrefix versions the sealed form.
const sealPrefix = "v1."

// sealAAD binds sealed values to their use: a sealed destination cannot be passed
// off as something else sealed with the same key.
var sealAAD = []byte("drainpipe alert destination")

// Sealer encrypts destination URLs (they hold webhook paths, routing keys and
// passwords) before they are stored, with AES-256-GCM. The key stays on the node
// (a file in the data directory); the store, which may be a shared NATS cluster,
// only ever holds the sealed form, and an id that is a keyed hash (id).
type Sealer struct {
	aead cipher.AEAD
	// idKey keys the ids of destinations (id), derived from the key.
	idKey []byte
}

// NewSealer returns a Sealer with a KeySize-byte key.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("alert key: want %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("alert key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("alert key: %w", err)
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte("drainpipe alert destination id"))
	return &Sealer{aead: aead, idKey: m.Sum(nil)}, nil
}

// id names a destination URL for comparison: the same URL has the same id on
// every node with the same key, whereas each Seal of it differs. It is a keyed
// hash, so the store learns nothing of the URL from it.
func (s *Sealer) id(plain string) string {
	m := hmac.New(sha256.New, s.idKey)
	m.Write([]byte(plain))
	return hex.EncodeToString(m.Sum(nil)[:8])
}

// Seal encrypts plain with a fresh random nonce.
func (s *Sealer) Seal(plain string) (string, error) {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("seal: %w", err)
	}
	out := s.aead.Seal(nonce, nonce, []byte(plain), sealAAD)
	return sealPrefix + base64.RawURLEncoding.EncodeToString(out), nil
}

// errUnseal is the one error Open gives: it says nothing of the value.
var errUnseal = errors.New("cannot decrypt a stored destination: was the data directory's alerts.key replaced?")

// Open decrypts a value made by Seal with the same key.
func (s *Sealer) Open(sealed string) (string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(sealed, sealPrefix))
	if err != nil || !strings.HasPrefix(sealed, sealPrefix) || len(raw) < s.aead.NonceSize() {
		return "", errUnseal
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, raw[:n], raw[n:], sealAAD)
	if err != nil {
		return "", errUnseal
	}
	return string(plain), nil
}
