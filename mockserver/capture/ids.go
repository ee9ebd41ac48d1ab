package capture

import (
	"crypto/rand"
	mrand "math/rand/v2"
)

const lowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789"

// NewRequestID returns a request id as Capture writes them: 16 lowercase
// letters and digits. Request ids identify, they protect nothing, so the
// fast generator is enough.
func NewRequestID() string {
	b := make([]byte, 16)
	for i := range b {
		b[i] = lowerAlnum[mrand.IntN(len(lowerAlnum))]
	}
	return string(b)
}

// newSecret returns n unpredictable lowercase letters and digits, for
// tokens and authorization codes.
func newSecret(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		// 252 is the largest multiple of 36 below 256; rejecting the
		// rest keeps the letters uniform.
		for b[i] >= 252 {
			var one [1]byte
			rand.Read(one[:])
			b[i] = one[0]
		}
		b[i] = lowerAlnum[int(b[i])%len(lowerAlnum)]
	}
	return string(b)
}
