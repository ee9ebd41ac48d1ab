package capture

import (
	"encoding/hex"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

var storedForm = regexp.MustCompile(`^\$pbkdf2-sha256\$i=1000\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

func TestHashPasswordRoundTrip(t *testing.T) {
	for _, password := range []string{"Password1!", "", "ünïcödé pässwörd", strings.Repeat("long", 40)} {
		stored, err := hashPassword(password, DefaultPasswordIterations)
		if err != nil {
			t.Fatal(err)
		}
		if !storedForm.MatchString(stored) {
			t.Errorf("stored form %q is not $pbkdf2-sha256$i=1000$<salt>$<key>", stored)
		}
		if strings.Contains(stored, password) && password != "" {
			t.Errorf("the stored form %q holds the password", stored)
		}
		if !checkPassword(stored, password) {
			t.Errorf("%q does not verify against its own hash", password)
		}
		for _, wrong := range []string{password + "x", strings.ToUpper(password) + "!", "x"} {
			if checkPassword(stored, wrong) {
				t.Errorf("%q verifies against the hash of %q", wrong, password)
			}
		}
	}
}

func TestHashPasswordIsSalted(t *testing.T) {
	a, _ := hashPassword("Password1!", DefaultPasswordIterations)
	b, _ := hashPassword("Password1!", DefaultPasswordIterations)
	if a == b {
		t.Fatalf("two hashes of one password are the same: %s", a)
	}
}

// TestCheckPasswordStandardVector checks the stored form against the
// PBKDF2-HMAC-SHA256 test vector of RFC 7914 §11 (P "passwd", S "salt",
// c 1): what another PBKDF2 implementation computes verifies here.
func TestCheckPasswordStandardVector(t *testing.T) {
	key, _ := hex.DecodeString("55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc" +
		"49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783")
	stored := "$pbkdf2-sha256$i=1$" + b64.EncodeToString([]byte("salt")) + "$" + b64.EncodeToString(key)
	if !checkPassword(stored, "passwd") {
		t.Fatal("the RFC 7914 vector does not verify")
	}
	if checkPassword(stored, "passwe") {
		t.Fatal("a wrong password verifies against the RFC 7914 vector")
	}
	short := "$pbkdf2-sha256$i=1$" + b64.EncodeToString([]byte("salt")) + "$" + b64.EncodeToString(key[:32])
	if !checkPassword(short, "passwd") {
		t.Fatal("the first 32 bytes of the RFC 7914 vector do not verify")
	}
}

// TestCheckPasswordBcrypt: users stored before passwords moved to PBKDF2
// still sign in.
func TestCheckPasswordBcrypt(t *testing.T) {
	stored, err := bcrypt.GenerateFromPassword([]byte("Password1!"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if !checkPassword(string(stored), "Password1!") {
		t.Error("a bcrypt hash does not verify")
	}
	if checkPassword(string(stored), "Password2!") {
		t.Error("a wrong password verifies against a bcrypt hash")
	}
}

func TestCheckPasswordMalformed(t *testing.T) {
	good, _ := hashPassword("pw", DefaultPasswordIterations)
	parts := strings.Split(good, "$") // "", "pbkdf2-sha256", "i=1000", salt, key
	for _, stored := range []string{
		"", "pw", "$pbkdf2-sha256$", "$pbkdf2-sha256$i=1000", "$pbkdf2-sha256$i=1000$" + parts[3],
		"$pbkdf2-sha256$i=0$" + parts[3] + "$" + parts[4],
		"$pbkdf2-sha256$i=-5$" + parts[3] + "$" + parts[4],
		"$pbkdf2-sha256$i=99999999999$" + parts[3] + "$" + parts[4],
		"$pbkdf2-sha256$n=1000$" + parts[3] + "$" + parts[4],
		"$pbkdf2-sha256$i=1000$" + parts[3] + "$",
		"$pbkdf2-sha256$i=1000$!!$" + parts[4],
		"$pbkdf2-sha256$i=1000$" + parts[3] + "$" + parts[4] + "=",
		"$pbkdf2-sha512$i=1000$" + parts[3] + "$" + parts[4],
		"$2a$04$notabcrypthash",
	} {
		if checkPassword(stored, "pw") {
			t.Errorf("%q verifies", stored)
		}
	}
}

// BenchmarkPasswordHash is the hash of a registration at the default
// iteration count, the floor under a registration's latency; checking a
// password at sign-in costs the same.
func BenchmarkPasswordHash(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := hashPassword("password123", DefaultPasswordIterations); err != nil {
			b.Fatal(err)
		}
	}
}
