package capture

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"strconv"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// Passwords are stored as PBKDF2-HMAC-SHA256 in the PHC string format,
//
//	$pbkdf2-sha256$i=<iterations>$<salt>$<key>
//
// with a random 16-byte salt and a 32-byte key, both in unpadded
// standard base64. Go's standard library has it, and its cost is a
// number that can be chosen: bcrypt's lowest cost still spends a
// millisecond of CPU per hash, which alone held registrations and
// password sign-ins near a thousand a second on two cores. Hashes
// stored by earlier versions (bcrypt) still verify.
const passwordScheme = "$pbkdf2-sha256$"

// DefaultPasswordIterations is the PBKDF2 iteration count of stored
// passwords: the minimum RFC 8018 (§4.2) recommends. The accounts of a
// local mock are throw-away test data that never leave the machine, so
// a production count (hundreds of thousands) would buy nothing but slow
// registrations; the hash is still salted, one-way and iterated, so a
// password a tester typed cannot be read back from the data directory.
// It costs about 0.2 ms.
const DefaultPasswordIterations = 1000

const (
	saltLen = 16
	keyLen  = sha256.Size
)

var b64 = base64.RawStdEncoding

// hashPassword returns the stored form of password.
func hashPassword(password string, iterations int) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key, err := pbkdf2.Key(sha256.New, password, salt, iterations, keyLen)
	if err != nil {
		return "", err
	}
	return passwordScheme + "i=" + strconv.Itoa(iterations) + "$" + b64.EncodeToString(salt) + "$" +
		b64.EncodeToString(key), nil
}

// checkPassword says whether password is the one stored; a stored form
// it cannot read matches nothing.
func checkPassword(stored, password string) bool {
	rest, ok := strings.CutPrefix(stored, passwordScheme)
	if !ok {
		// Hashes written before PBKDF2: bcrypt ($2a$, $2b$, $2y$).
		return strings.HasPrefix(stored, "$2") &&
			bcrypt.CompareHashAndPassword([]byte(stored), []byte(password)) == nil
	}
	params, rest, _ := strings.Cut(rest, "$")
	salt64, key64, _ := strings.Cut(rest, "$")
	count, ok := strings.CutPrefix(params, "i=")
	iterations, err := strconv.Atoi(count)
	if !ok || err != nil || iterations < 1 || iterations > maxIterations {
		return false
	}
	salt, err1 := b64.DecodeString(salt64)
	want, err2 := b64.DecodeString(key64)
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got, err := pbkdf2.Key(sha256.New, password, salt, iterations, len(want))
	return err == nil && subtle.ConstantTimeCompare(got, want) == 1
}

// maxIterations bounds what a damaged or hand-edited hash may make a
// sign-in compute.
const maxIterations = 10_000_000
