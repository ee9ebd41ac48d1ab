// Package tlsca is RegSandbox's local certificate authority, in the spirit
// of mkcert and mitmproxy: the Capture mobile SDKs insist on https, so
// RegSandbox creates a CA once per machine, keeps it in its database, and
// issues the server's own certificate from it. A developer installs the
// CA certificate on an emulator, simulator or phone once; the server
// certificate can then be renewed (for a new LAN address, or before it
// expires) without touching the devices again.
//
// The CA private key never leaves the machine: it lives in the database
// and no method hands it out. Only the CA certificate is exported.
package tlsca

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"regsandbox/storage"
)

// Storage keys. Both records hold a PEM certificate and its PKCS#8 PEM key.
const (
	keyCA   = "tls/ca"
	keyLeaf = "tls/leaf"
)

const (
	// caLifetime is long because every renewal of the CA means
	// reinstalling it on every device.
	caLifetime = 10 * 365 * 24 * time.Hour
	// leafLifetime stays under the 398 days that Apple enforces for
	// publicly trusted server certificates (and far under the 825 days it
	// allows for user-installed roots), so that no client platform
	// rejects the leaf for being too long-lived.
	leafLifetime = 397 * 24 * time.Hour
	// renewBefore renews the leaf well before it expires, so that a
	// machine that stays off for a few weeks still starts with a valid one.
	renewBefore = 30 * 24 * time.Hour
	// backdate covers devices whose clocks run behind this machine's:
	// emulators restored from snapshots are often minutes or hours late,
	// and a certificate that is "not yet valid" fails just as hard as an
	// expired one.
	backdate = time.Hour
)

// Authority is RegSandbox's local CA together with the server certificate
// ("leaf") it issues. It is safe for concurrent use.
type Authority struct {
	db  *storage.DB
	now func() time.Time

	// mu guards everything below. Handshakes take it too: a handshake is
	// rare in a desktop mock, and one lock keeps renewal obviously
	// correct (two handshakes never issue two leaves).
	mu   sync.Mutex
	ca   *issuer
	leaf *tls.Certificate
	// leafNames is the canonical name set the leaf covers, and wantNames
	// the set it must cover; comparing two strings keeps the per-handshake
	// check cheap.
	leafNames string
	wantNames string
	// leafStored is false while a freshly issued leaf could not be written
	// to the database; the next access retries.
	leafStored bool
	extra      []string
	lan        string
}

// issuer is a parsed CA: certificate and signing key.
type issuer struct {
	cert *x509.Certificate
	key  crypto.Signer
	pem  []byte
}

// Option configures an [Authority].
type Option func(*config) error

type config struct {
	now   func() time.Time
	extra []string
}

// WithClock replaces the wall clock, so tests can move time past a
// certificate's renewal point without waiting a year.
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return errors.New("tlsca: WithClock needs a clock")
		}
		c.now = now
		return nil
	}
}

// WithExtraNames adds host names or IP addresses that the leaf must cover
// besides the defaults (see [Authority.Names]), for example an mDNS name
// such as "my-mac.local". Open fails when a name is not a valid DNS name
// or IP address.
func WithExtraNames(names ...string) Option {
	return func(c *config) error {
		for _, n := range names {
			cn, err := canonicalName(n)
			if err != nil {
				return err
			}
			c.extra = append(c.extra, cn)
		}
		return nil
	}
}

// Open loads the CA stored in db, or creates and stores one on first use.
// The leaf is issued lazily, on the first handshake or call that needs it,
// so that a LAN address set right after Open does not cost a throw-away
// certificate, and a stored leaf that still fits is reused.
//
// A stored CA that has expired or cannot be read is replaced: it could not
// sign anything a device would accept, and refusing to start would leave
// the user no way to recover from the window.
func Open(db *storage.DB, opts ...Option) (*Authority, error) {
	if db == nil {
		return nil, errors.New("tlsca: no database")
	}
	cfg := config{now: time.Now}
	for _, opt := range opts {
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}
	a := &Authority{db: db, now: cfg.now, extra: cfg.extra}
	a.wantNames = nameKey(a.namesLocked())

	now := a.now()
	var (
		ca   *issuer
		leaf *tls.Certificate
	)
	// Creating the CA inside the transaction makes two concurrent first
	// starts agree on one CA: the loser's transaction conflicts, reruns,
	// and finds the winner's record.
	err := db.Update(func(tx *storage.Tx) error {
		ca, leaf = nil, nil
		// A read error fails Open; only a record that was read but
		// cannot be decoded counts as unreadable and gets replaced.
		raw, err := tx.GetRaw(keyCA)
		if err != nil {
			return err
		}
		if raw != nil {
			ca, _ = decodePair(raw).issuer()
		}
		if ca == nil || !now.Before(ca.cert.NotAfter) {
			var pair pemPair
			ca, pair, err = newCA(now)
			if err != nil {
				return err
			}
			// The old leaf, if any, was signed by the old CA.
			if err := tx.Delete(keyLeaf); err != nil {
				return err
			}
			return tx.Put(keyCA, pair)
		}
		raw, err = tx.GetRaw(keyLeaf)
		if err != nil {
			return err
		}
		if raw != nil {
			// A leaf that does not decode, or that another CA signed,
			// is simply reissued.
			leaf, _ = decodePair(raw).leaf(ca)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("tlsca: loading the CA: %w", err)
	}
	a.ca = ca
	if leaf != nil {
		a.adoptLeafLocked(leaf, true)
	}
	return a, nil
}

// SetLANAddress makes the leaf cover ip, this computer's address on the
// local network, so that physical phones can reach the server; an empty
// string removes it. The leaf is reissued on its next use when the address
// changed. It is an IP address rather than a host name because phones on a
// LAN rarely resolve the computer's name; use [WithExtraNames] for names.
func (a *Authority) SetLANAddress(ip string) error {
	var canon string
	if ip != "" {
		var err error
		canon, err = canonicalIP(ip)
		if err != nil {
			return err
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.lan = canon
	a.wantNames = nameKey(a.namesLocked())
	return nil
}

// Names returns the DNS names and IP addresses the leaf must cover:
// localhost, 127.0.0.1 and ::1 for this computer, 10.0.2.2 for the Android
// emulator, 10.0.3.2 for Genymotion, then extra names and the LAN address.
func (a *Authority) Names() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.namesLocked()
}

func (a *Authority) namesLocked() []string {
	names := slices.Clone(defaultNames)
	names = append(names, a.extra...)
	if a.lan != "" {
		names = append(names, a.lan)
	}
	return dedup(names)
}

// CACertPEM returns the CA certificate, PEM-encoded, for installing on
// devices. It holds the certificate only, never the key.
func (a *Authority) CACertPEM() []byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.ca.pem)
}

// CACertDER returns the CA certificate in DER form, which some tools (and
// a ".cer" download) want instead of PEM.
func (a *Authority) CACertDER() []byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.ca.cert.Raw)
}

// CACert returns the parsed CA certificate, for showing its name,
// fingerprint and expiry. Treat it as read-only.
func (a *Authority) CACert() *x509.Certificate {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.ca.cert
}

// Leaf returns the current leaf, issuing or renewing it first when it is
// missing, expires within 30 days, or no longer covers [Authority.Names].
// It returns an error (and no certificate) when a new leaf could not be
// stored; handshakes keep using that leaf meanwhile, and the next call
// retries storing it. Treat the certificate as read-only.
func (a *Authority) Leaf() (*x509.Certificate, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	leaf, err := a.currentLocked()
	if err != nil {
		return nil, err
	}
	return leaf.Leaf, nil
}

// Regenerate replaces the CA and the leaf with new ones, in the database
// too. Every device must then install the new CA certificate; the old one
// no longer matches anything RegSandbox serves.
func (a *Authority) Regenerate() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.replaceCALocked(a.now())
}

// TLSConfig returns a server configuration that presents the current leaf
// and offers HTTP/2. Each call returns a new Config, which the caller may
// adjust before serving: every handshake runs on a copy of it taken at
// that moment. Changes that http.Server makes to its own copy of NextProtos
// (for Server.Protocols) are therefore not seen; to turn HTTP/2 off,
// remove "h2" from NextProtos here instead.
func (a *Authority) TLSConfig() *tls.Config {
	cfg := &tls.Config{
		// TLS 1.0 and 1.1 are disabled on every platform the SDKs run on.
		MinVersion:     tls.VersionTLS12,
		NextProtos:     []string{"h2", "http/1.1"},
		GetCertificate: a.getCertificate,
	}
	// crypto/tls consults GetCertificate for a client that sends no SNI
	// only when Config.Certificates is empty. Clients that dial an IP
	// address send no SNI, and that is most of ours (10.0.2.2, the LAN
	// address, 127.0.0.1), while wrappers such as httptest.Server.StartTLS
	// fill Certificates with their own certificate. Handing every
	// handshake a copy of this Config without Certificates keeps the
	// leaf in charge whoever wraps the Config.
	cfg.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		c := cfg.Clone()
		c.Certificates = nil
		c.GetConfigForClient = nil
		return c, nil
	}
	return cfg
}

// getCertificate serves the current leaf. A leaf that was issued but not
// stored is still served: failing handshakes over a database hiccup would
// help nobody, and [Authority.Leaf] reports the error to the window.
func (a *Authority) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	leaf, err := a.currentLocked()
	if leaf != nil {
		return leaf, nil
	}
	return nil, err
}

// currentLocked returns the leaf to serve, renewing it (and the CA, once
// it has expired) when needed. On error it returns the previous leaf, if
// any, so handshakes can carry on with it.
func (a *Authority) currentLocked() (*tls.Certificate, error) {
	now := a.now()
	if !now.Before(a.ca.cert.NotAfter) {
		if err := a.replaceCALocked(now); err != nil {
			return a.leaf, err
		}
		return a.leaf, nil
	}
	if !a.freshLocked(now) {
		leaf, err := issueLeaf(a.ca, a.namesLocked(), now)
		if err != nil {
			return a.leaf, err
		}
		a.adoptLeafLocked(leaf, false)
	}
	if !a.leafStored {
		pair, err := pairOf(a.leaf)
		if err == nil {
			err = storage.Store(a.db, keyLeaf, pair)
		}
		if err != nil {
			return a.leaf, fmt.Errorf("tlsca: storing the server certificate: %w", err)
		}
		a.leafStored = true
	}
	return a.leaf, nil
}

// freshLocked reports whether the current leaf can be served as it is.
func (a *Authority) freshLocked(now time.Time) bool {
	if a.leaf == nil || a.leafNames != a.wantNames {
		return false
	}
	c := a.leaf.Leaf
	if !now.Before(c.NotAfter) {
		return false
	}
	// A leaf is clamped to its CA's validity, and a clamped leaf cannot be
	// improved on by renewing: without the second conditions it would be
	// reissued on every handshake during the CA's last 30 days, or while
	// the clock is set to before the CA was made.
	if now.Before(c.NotBefore) && c.NotBefore.After(a.ca.cert.NotBefore) {
		return false
	}
	if now.Add(renewBefore).After(c.NotAfter) && c.NotAfter.Before(a.ca.cert.NotAfter) {
		return false
	}
	return true
}

func (a *Authority) adoptLeafLocked(leaf *tls.Certificate, stored bool) {
	a.leaf = leaf
	a.leafNames = nameKey(certNames(leaf.Leaf))
	a.leafStored = stored
}

// replaceCALocked makes a new CA and leaf and stores both in one
// transaction. Nothing changes in memory unless they were stored: a CA that
// exists only until the next restart would have the user install a
// certificate that then silently stops working.
func (a *Authority) replaceCALocked(now time.Time) error {
	ca, caPair, err := newCA(now)
	if err != nil {
		return err
	}
	leaf, err := issueLeaf(ca, a.namesLocked(), now)
	if err != nil {
		return err
	}
	leafPair, err := pairOf(leaf)
	if err != nil {
		return err
	}
	err = a.db.Update(func(tx *storage.Tx) error {
		if err := tx.Put(keyCA, caPair); err != nil {
			return err
		}
		return tx.Put(keyLeaf, leafPair)
	})
	if err != nil {
		return fmt.Errorf("tlsca: storing the new CA: %w", err)
	}
	a.ca = ca
	a.adoptLeafLocked(leaf, true)
	return nil
}
