package tlsca

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"
	"unicode/utf8"
)

// pemPair is how a certificate and its key are stored: both PEM, the key
// as PKCS#8, so that the records can be inspected (or rescued) with
// openssl if ever needed.
type pemPair struct {
	Cert string `json:"cert"`
	Key  string `json:"key"`
}

func decodePair(raw []byte) pemPair {
	var p pemPair
	_ = json.Unmarshal(raw, &p) // an undecodable record fails to parse later
	return p
}

// keyPair parses the pair, checking that the key matches the certificate.
func (p pemPair) keyPair() (*tls.Certificate, error) {
	kp, err := tls.X509KeyPair([]byte(p.Cert), []byte(p.Key))
	if err != nil {
		return nil, err
	}
	if kp.Leaf == nil {
		if kp.Leaf, err = x509.ParseCertificate(kp.Certificate[0]); err != nil {
			return nil, err
		}
	}
	return &kp, nil
}

func (p pemPair) issuer() (*issuer, error) {
	kp, err := p.keyPair()
	if err != nil {
		return nil, err
	}
	key, ok := kp.PrivateKey.(crypto.Signer)
	if !ok || !kp.Leaf.IsCA {
		return nil, errors.New("tlsca: stored CA is not a CA certificate with a signing key")
	}
	return &issuer{cert: kp.Leaf, key: key, pem: certPEM(kp.Leaf.Raw)}, nil
}

// leaf parses a stored leaf and accepts it only if ca signed it.
func (p pemPair) leaf(ca *issuer) (*tls.Certificate, error) {
	kp, err := p.keyPair()
	if err != nil {
		return nil, err
	}
	if err := kp.Leaf.CheckSignatureFrom(ca.cert); err != nil {
		return nil, err
	}
	return kp, nil
}

func pairOf(c *tls.Certificate) (pemPair, error) {
	key, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		return pemPair{}, err
	}
	return pemPair{Cert: string(certPEM(c.Certificate[0])), Key: string(keyPEM(key))}, nil
}

func certPEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func keyPEM(pkcs8 []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})
}

// newCA creates a self-signed CA. ECDSA P-256 because every Android and
// iOS version the SDKs support accepts it, and it is fast to generate.
func newCA(now time.Time) (*issuer, pemPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, pemPair{}, err
	}
	serial, err := newSerial()
	if err != nil {
		return nil, pemPair{}, err
	}
	suffix := make([]byte, 4)
	if _, err := rand.Read(suffix); err != nil {
		return nil, pemPair{}, err
	}
	notBefore := now.Add(-backdate)
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{
			Organization: []string{"RegSandbox local development CA"},
			// The host name says which computer a CA in a device's
			// trust list belongs to; the random suffix tells apart the
			// CAs of successive Regenerate calls, which would otherwise
			// look identical in Settings.
			CommonName: fmt.Sprintf("RegSandbox Local CA %s %s", shortHostname(), hex.EncodeToString(suffix)),
		},
		NotBefore:             notBefore,
		NotAfter:              notBefore.Add(caLifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		// Path length zero: this CA signs leaves only, so a leaked leaf
		// key can never mint further certificates.
		MaxPathLen:     0,
		MaxPathLenZero: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, pemPair{}, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, pemPair{}, err
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, pemPair{}, err
	}
	pair := pemPair{Cert: string(certPEM(der)), Key: string(keyPEM(pkcs8))}
	return &issuer{cert: cert, key: key, pem: certPEM(der)}, pair, nil
}

// issueLeaf signs a server certificate for names with ca.
func issueLeaf(ca *issuer, names []string, now time.Time) (*tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	notBefore := now.Add(-backdate)
	notAfter := notBefore.Add(leafLifetime)
	// A certificate outliving its issuer fails verification anyway, and
	// some clients reject it outright.
	if notAfter.After(ca.cert.NotAfter) {
		notAfter = ca.cert.NotAfter
	}
	if notBefore.Before(ca.cert.NotBefore) {
		notBefore = ca.cert.NotBefore
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		// Clients match names against the SANs only (iOS 13 and Go
		// ignore the common name), so the subject is just a label.
		Subject: pkix.Name{
			Organization: []string{"RegSandbox"},
			CommonName:   "RegSandbox local server",
		},
		NotBefore: notBefore,
		NotAfter:  notAfter,
		// ECDSA keys sign but never encipher, so KeyEncipherment would
		// be wrong here.
		KeyUsage: x509.KeyUsageDigitalSignature,
		// iOS 13 and macOS 10.15 require the serverAuth purpose.
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	for _, n := range names {
		if addr, err := netip.ParseAddr(n); err == nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, net.IP(addr.AsSlice()))
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, nil
}

// newSerial returns a random positive 128-bit serial number: browsers and
// Apple reject two certificates from one issuer with the same serial, and
// random serials cannot collide across Regenerate calls or machines.
func newSerial() (*big.Int, error) {
	for {
		n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
		if err != nil {
			return nil, err
		}
		if n.Sign() > 0 {
			return n, nil
		}
	}
}

// shortHostname returns this computer's name, trimmed to keep the CA's
// common name within the 64 characters X.509 allows.
func shortHostname() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		return "unknown-host"
	}
	host, _, _ = strings.Cut(host, ".")
	host = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, host)
	for len(host) > 30 {
		_, size := utf8.DecodeLastRuneInString(host)
		host = host[:len(host)-size]
	}
	if host == "" {
		return "unknown-host"
	}
	return host
}
