package web

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// argonParams are the cost of an argon2id hash. They are written into the
// hash, so a hash made with other parameters still verifies.
type argonParams struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
	KeyLen  uint32
}

// defaultArgon follows RFC 9106's second recommended option with 2 lanes:
// 64 MiB, 3 passes (about 0.1 s on one core of a current server). Logins
// hash at most maxHashing passwords at a time, so a flood of logins costs at
// most maxHashing × 64 MiB.
var defaultArgon = argonParams{Memory: 64 * 1024, Time: 3, Threads: 2, KeyLen: 32}

// Bounds on the parameters a configured hash may ask for, so a bad line in
// the configuration cannot make every login allocate gigabytes.
const (
	maxArgonMemory  = 1 << 20 // KiB: 1 GiB
	maxArgonTime    = 20
	maxArgonThreads = 16
)

// HashPassword hashes a password for the Users of Config: argon2id with a
// random 16-byte salt, encoded with its parameters in the PHC string format
// ($argon2id$v=19$m=65536,t=3,p=2$salt$hash), as `hotline passwd` would
// write it into the configuration. Hashes made by bcrypt ($2a$, $2b$, $2y$,
// e.g. by htpasswd -B) are accepted too.
func HashPassword(pw string) (string, error) {
	return hashPassword(pw, defaultArgon)
}

func hashPassword(pw string, p argonParams) (string, error) {
	if pw == "" {
		return "", errors.New("web: empty password")
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// passwordHash is a parsed configured hash.
type passwordHash struct {
	argon  bool
	params argonParams
	salt   []byte
	key    []byte
	bcrypt []byte
}

func parsePasswordHash(s string) (passwordHash, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "$2a$") || strings.HasPrefix(s, "$2b$") || strings.HasPrefix(s, "$2y$") {
		if _, err := bcrypt.Cost([]byte(s)); err != nil {
			return passwordHash{}, fmt.Errorf("bcrypt hash: %w", err)
		}
		return passwordHash{bcrypt: []byte(s)}, nil
	}
	parts := strings.Split(s, "$")
	// "", "argon2id", "v=19", "m=…,t=…,p=…", salt, key
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return passwordHash{}, errors.New("not an argon2id ($argon2id$v=19$m=…,t=…,p=…$salt$hash) or bcrypt hash: " +
			"write it with web.HashPassword, not the password itself")
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return passwordHash{}, fmt.Errorf("argon2id version %q: want v=%d", parts[2], argon2.Version)
	}
	var p argonParams
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return passwordHash{}, fmt.Errorf("argon2id parameters %q: want m=…,t=…,p=…", parts[3])
	}
	if p.Memory < 8*uint32(p.Threads) || p.Memory > maxArgonMemory || p.Time < 1 || p.Time > maxArgonTime ||
		p.Threads < 1 || p.Threads > maxArgonThreads {
		return passwordHash{}, fmt.Errorf("argon2id parameters %q out of range (m ≤ %d KiB, 1 ≤ t ≤ %d, 1 ≤ p ≤ %d)",
			parts[3], maxArgonMemory, maxArgonTime, maxArgonThreads)
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return passwordHash{}, errors.New("argon2id salt: not base64 of at least 8 bytes")
	}
	key, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 64 {
		return passwordHash{}, errors.New("argon2id hash: not base64 of 16 to 64 bytes")
	}
	p.KeyLen = uint32(len(key))
	return passwordHash{argon: true, params: p, salt: salt, key: key}, nil
}

// verify reports whether pw is the password of h, comparing the derived
// key in constant time.
func (h passwordHash) verify(pw string) bool {
	if !h.argon {
		return bcrypt.CompareHashAndPassword(h.bcrypt, []byte(pw)) == nil
	}
	key := argon2.IDKey([]byte(pw), h.salt, h.params.Time, h.params.Memory, h.params.Threads, h.params.KeyLen)
	return subtle.ConstantTimeCompare(key, h.key) == 1
}

// tokenPrefix starts the hash of an API token as Config.Tokens holds it.
const tokenPrefix = "sha256:"

// HashToken is the form of an API token that Config.Tokens holds:
// "sha256:" and the hex SHA-256 of the token. API tokens are long random
// strings (NewToken), so a fast hash is enough: nothing can be guessed from
// it. The token itself is what a client sends (Authorization: Bearer …).
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return tokenPrefix + hex.EncodeToString(sum[:])
}

// NewToken makes a random API token (32 bytes, URL-safe base64 with the
// prefix "hl_") and its hash for the configuration.
func NewToken() (token, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	token = "hl_" + base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token), nil
}

func parseTokenHash(s string) ([32]byte, error) {
	var out [32]byte
	s = strings.ToLower(strings.TrimSpace(s))
	if !strings.HasPrefix(s, tokenPrefix) {
		return out, errors.New(`not a token hash ("sha256:" and 64 hex digits): write it with web.HashToken`)
	}
	b, err := hex.DecodeString(s[len(tokenPrefix):])
	if err != nil || len(b) != 32 {
		return out, errors.New(`not a token hash ("sha256:" and 64 hex digits)`)
	}
	copy(out[:], b)
	return out, nil
}

// randomID returns n random bytes as URL-safe base64.
func randomID(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("web: crypto/rand: " + err.Error()) // never fails on Linux ≥ 3.17
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
