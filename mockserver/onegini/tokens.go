package onegini

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"regsandbox/storage"
)

// signingKey is the ES256 key that signs id_tokens, with its key id.
type signingKey struct {
	private *ecdsa.PrivateKey
	id      string
}

// privateJWK is the stored form of the key (RFC 7517), so it can be read
// and exported with standard tools.
type privateJWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
	X   string `json:"x"`
	Y   string `json:"y"`
	D   string `json:"d"`
}

var b64 = base64.RawURLEncoding

// loadSigningKey reads the key from db, making and storing one when there
// is none. It runs in one transaction so two back ends starting on the same
// database agree on one key.
func loadSigningKey(db *storage.DB) (*signingKey, error) {
	var key *signingKey
	err := db.Update(func(tx *storage.Tx) error {
		var jwk privateJWK
		found, err := tx.Get(keySigningKey, &jwk)
		if err != nil {
			return err
		}
		if found {
			key, err = jwk.decode()
			return err
		}
		if key, err = newSigningKey(); err != nil {
			return err
		}
		return tx.Put(keySigningKey, key.jwk())
	})
	if err != nil {
		return nil, fmt.Errorf("onegini: loading the id_token signing key: %w", err)
	}
	return key, nil
}

// newSigningKey makes a P-256 key.
func newSigningKey() (*signingKey, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	return withKeyID(priv)
}

// withKeyID computes the RFC 7638 thumbprint of priv's public key.
func withKeyID(priv *ecdsa.PrivateKey) (*signingKey, error) {
	x, y, err := publicCoordinates(&priv.PublicKey)
	if err != nil {
		return nil, err
	}
	// The thumbprint hashes the required members in lexical order.
	sum := sha256.Sum256([]byte(`{"crv":"P-256","kty":"EC","x":"` + x + `","y":"` + y + `"}`))
	return &signingKey{private: priv, id: b64.EncodeToString(sum[:])}, nil
}

// publicCoordinates returns the base64url x and y of a P-256 public key.
func publicCoordinates(pub *ecdsa.PublicKey) (x, y string, err error) {
	point, err := pub.Bytes() // 0x04 || X || Y
	if err != nil {
		return "", "", err
	}
	return b64.EncodeToString(point[1:33]), b64.EncodeToString(point[33:]), nil
}

// jwk returns the key in its stored form.
func (k *signingKey) jwk() privateJWK {
	x, y, _ := publicCoordinates(&k.private.PublicKey) // checked in withKeyID
	d, _ := k.private.Bytes()
	return privateJWK{Kty: "EC", Crv: "P-256", Kid: k.id, Alg: "ES256", Use: "sig",
		X: x, Y: y, D: b64.EncodeToString(d)}
}

// decode rebuilds the key from its stored form.
func (j *privateJWK) decode() (*signingKey, error) {
	if j.Kty != "EC" || j.Crv != "P-256" {
		return nil, errors.New("the stored key is not a P-256 key")
	}
	d, err := b64.DecodeString(j.D)
	if err != nil {
		return nil, err
	}
	priv, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d)
	if err != nil {
		return nil, err
	}
	return withKeyID(priv)
}

// oauthToken is complete's token answer, in the documentation's key order.
type oauthToken struct {
	TokenType    string `json:"token_type"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	IDToken      string `json:"id_token,omitempty"`
	ExpiresIn    int    `json:"expires_in"`
}

// ScopeOpenID makes complete issue an id_token.
const ScopeOpenID = "openid"

// tokenRequest is what a token is issued for.
type tokenRequest struct {
	issuer     string
	clientID   string
	userID     string
	attributes map[string]any
	scopes     []string
	now        time.Time
	lifetime   time.Duration
}

// issue makes the tokens of a successful complete.
func (k *signingKey) issue(t tokenRequest) (*oauthToken, error) {
	tok := &oauthToken{TokenType: "bearer", AccessToken: opaqueToken(), RefreshToken: opaqueToken(),
		ExpiresIn: int(t.lifetime / time.Second)}
	if !slices.Contains(t.scopes, ScopeOpenID) {
		return tok, nil
	}
	var err error
	tok.IDToken, err = k.idToken(t)
	return tok, err
}

// idToken signs the OpenID Connect id_token. The script's user attributes
// become claims too ("ID token with user data"), but never replace the
// registered claims.
func (k *signingKey) idToken(t tokenRequest) (string, error) {
	claims := jwt.MapClaims{}
	for name, v := range t.attributes {
		claims[name] = v
	}
	claims["iss"] = t.issuer
	claims["sub"] = t.userID
	claims["aud"] = t.clientID
	claims["iat"] = t.now.Unix()
	claims["auth_time"] = t.now.Unix()
	claims["exp"] = t.now.Add(t.lifetime).Unix()
	token := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	token.Header["kid"] = k.id
	return token.SignedString(k.private)
}

// opaqueToken returns 32 random bytes as 64 upper-case hex digits, the
// shape of the Token Server's access and refresh tokens.
func opaqueToken() string {
	var b [32]byte
	rand.Read(b[:]) // never fails: crypto/rand crashes the program instead
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

// issuerFor is the iss claim: the workspace's issuer, or the address the
// request came to, as the Token Server's discovery document names itself.
func issuerFor(configured string, r *http.Request) string {
	if configured != "" {
		return configured
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
