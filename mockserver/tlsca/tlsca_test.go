package tlsca

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"regsandbox/storage"
)

// clock is a settable clock for WithClock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func openDB(t *testing.T) *storage.DB {
	t.Helper()
	db, err := storage.Open(storage.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func openAuthority(t *testing.T, db *storage.DB, opts ...Option) *Authority {
	t.Helper()
	a, err := Open(db, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func mustLeaf(t *testing.T, a *Authority) *x509.Certificate {
	t.Helper()
	leaf, err := a.Leaf()
	if err != nil {
		t.Fatal(err)
	}
	return leaf
}

func caPool(t *testing.T, a *Authority) *x509.CertPool {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(a.CACertPEM()) {
		t.Fatal("CACertPEM holds no certificate")
	}
	return pool
}

func verify(leaf *x509.Certificate, pool *x509.CertPool, name string, at time.Time) error {
	_, err := leaf.Verify(x509.VerifyOptions{
		DNSName:     name,
		Roots:       pool,
		CurrentTime: at,
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	return err
}

func readPair(t *testing.T, db *storage.DB, key string) pemPair {
	t.Helper()
	p, found, err := storage.Load[pemPair](db, key)
	if err != nil || !found {
		t.Fatalf("%s: found=%v err=%v", key, found, err)
	}
	return p
}

func pemDER(t *testing.T, s string) []byte {
	t.Helper()
	b, _ := pem.Decode([]byte(s))
	if b == nil {
		t.Fatal("no PEM block")
	}
	return b.Bytes
}

func TestOpenGeneratesCA(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	clk := newClock()
	a := openAuthority(t, db, WithClock(clk.Now))
	ca, err := x509.ParseCertificate(a.CACertDER())
	if err != nil {
		t.Fatal(err)
	}
	if !ca.IsCA || !ca.BasicConstraintsValid || ca.MaxPathLen != 0 || !ca.MaxPathLenZero {
		t.Errorf("basic constraints: IsCA=%v valid=%v MaxPathLen=%d zero=%v", ca.IsCA, ca.BasicConstraintsValid, ca.MaxPathLen, ca.MaxPathLenZero)
	}
	if ca.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign {
		t.Errorf("KeyUsage = %v", ca.KeyUsage)
	}
	if pub, ok := ca.PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve.Params().Name != "P-256" {
		t.Errorf("CA key is %T, want ECDSA P-256", ca.PublicKey)
	}
	if !strings.HasPrefix(ca.Subject.CommonName, "RegSandbox Local CA ") || len(ca.Subject.CommonName) > 64 {
		t.Errorf("CommonName = %q", ca.Subject.CommonName)
	}
	if err := ca.CheckSignatureFrom(ca); err != nil {
		t.Errorf("CA is not self-signed: %v", err)
	}
	if life := ca.NotAfter.Sub(ca.NotBefore); life < 3650*24*time.Hour || life > 3660*24*time.Hour {
		t.Errorf("CA validity = %v, want about 10 years", life)
	}
	if now := clk.Now(); now.Before(ca.NotBefore) || now.After(ca.NotAfter) {
		t.Errorf("CA not valid now: %v..%v", ca.NotBefore, ca.NotAfter)
	}

	// Stored as PEM certificate + PKCS#8 key, and the key matches.
	p := readPair(t, db, keyCA)
	if !bytes.Equal(pemDER(t, p.Cert), ca.Raw) {
		t.Error("stored CA certificate differs from CACertDER")
	}
	if b, _ := pem.Decode([]byte(p.Key)); b == nil || b.Type != "PRIVATE KEY" {
		t.Fatalf("stored key is not a PKCS#8 PEM block")
	} else if key, err := x509.ParsePKCS8PrivateKey(b.Bytes); err != nil {
		t.Fatal(err)
	} else if !key.(*ecdsa.PrivateKey).PublicKey.Equal(ca.PublicKey) {
		t.Error("stored key does not match the CA certificate")
	}

	// The CA is created once: a second Authority on the same db shares it.
	b := openAuthority(t, db)
	if !bytes.Equal(a.CACertDER(), b.CACertDER()) {
		t.Error("second Open created another CA")
	}
}

func TestLeafVerifiesForEveryName(t *testing.T) {
	t.Parallel()
	clk := newClock()
	a := openAuthority(t, openDB(t), WithClock(clk.Now), WithExtraNames("My-Mac.local."))
	if err := a.SetLANAddress("192.168.1.23"); err != nil {
		t.Fatal(err)
	}
	leaf := mustLeaf(t, a)
	pool := caPool(t, a)

	for _, name := range []string{"localhost", "127.0.0.1", "::1", "10.0.2.2", "10.0.3.2", "my-mac.local", "192.168.1.23"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if err := verify(leaf, pool, name, clk.Now()); err != nil {
				t.Error(err)
			}
		})
	}
	t.Run("other names fail", func(t *testing.T) {
		t.Parallel()
		for _, name := range []string{"example.com", "192.168.1.24"} {
			if verify(leaf, pool, name, clk.Now()) == nil {
				t.Errorf("leaf verified for %s", name)
			}
		}
	})
	t.Run("other CA fails", func(t *testing.T) {
		t.Parallel()
		other := openAuthority(t, openDB(t))
		if verify(leaf, caPool(t, other), "localhost", clk.Now()) == nil {
			t.Error("leaf verified against another CA")
		}
	})
	t.Run("properties", func(t *testing.T) {
		t.Parallel()
		if !slices.Equal(leaf.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}) {
			t.Errorf("ExtKeyUsage = %v", leaf.ExtKeyUsage)
		}
		if leaf.IsCA {
			t.Error("leaf is a CA")
		}
		if life := leaf.NotAfter.Sub(leaf.NotBefore); life > 397*24*time.Hour {
			t.Errorf("leaf validity %v exceeds 397 days", life)
		}
		if pub, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve.Params().Name != "P-256" {
			t.Errorf("leaf key is %T, want ECDSA P-256", leaf.PublicKey)
		}
		if !slices.Equal(leaf.DNSNames, []string{"localhost", "my-mac.local"}) {
			t.Errorf("DNSNames = %v", leaf.DNSNames)
		}
	})
}

func TestNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		extra []string
		lan   string
		want  []string
		err   bool
	}{
		{name: "defaults", want: defaultNames},
		{
			name:  "extras canonicalized and deduplicated",
			extra: []string{"LOCALHOST", "[::1]", "dev.example.", "::ffff:10.1.2.3"},
			lan:   " 192.168.0.7 ",
			want:  append(slices.Clone(defaultNames), "dev.example", "10.1.2.3", "192.168.0.7"),
		},
		{name: "bad name", extra: []string{"bad name"}, err: true},
		{name: "host:port", extra: []string{"localhost:8443"}, err: true},
		{name: "unspecified", extra: []string{"0.0.0.0"}, err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, err := Open(openDB(t), WithExtraNames(tt.extra...))
			if tt.err {
				if err == nil {
					t.Fatal("Open accepted invalid names")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.lan != "" {
				if err := a.SetLANAddress(tt.lan); err != nil {
					t.Fatal(err)
				}
			}
			if got := a.Names(); !slices.Equal(got, tt.want) {
				t.Errorf("Names() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSurvivesReopen(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	open := func() (*storage.DB, *Authority) {
		db, err := storage.Open(storage.Options{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		a, err := Open(db)
		if err != nil {
			db.Close()
			t.Fatal(err)
		}
		return db, a
	}

	db, a := open()
	caDER := a.CACertDER()
	leaf := mustLeaf(t, a)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db, a = open()
	defer db.Close()
	if !bytes.Equal(a.CACertDER(), caDER) {
		t.Fatal("CA changed across a restart")
	}
	again := mustLeaf(t, a)
	if !bytes.Equal(again.Raw, leaf.Raw) {
		t.Error("a still-valid leaf was not reused across a restart")
	}
	// The reloaded key still signs: a fresh leaf verifies against the
	// original CA.
	if err := a.Regenerate(); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a.CACertDER(), caDER) {
		t.Error("Regenerate kept the CA")
	}
}

func TestReloadedKeySigns(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	clk := newClock()
	first := openAuthority(t, db, WithClock(clk.Now))
	pool := caPool(t, first)
	mustLeaf(t, first)

	// A new Authority on the same db loads the key from storage; a name
	// change forces it to sign a new leaf with that key.
	second := openAuthority(t, db, WithClock(clk.Now), WithExtraNames("new.test"))
	leaf := mustLeaf(t, second)
	if err := verify(leaf, pool, "new.test", clk.Now()); err != nil {
		t.Fatal(err)
	}
}

func TestRenewal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		at    func(leaf *x509.Certificate) time.Time
		renew bool
	}{
		{"a day later", func(l *x509.Certificate) time.Time { return l.NotBefore.Add(25 * time.Hour) }, false},
		{"just before the renewal point", func(l *x509.Certificate) time.Time { return l.NotAfter.Add(-renewBefore - time.Minute) }, false},
		{"just past the renewal point", func(l *x509.Certificate) time.Time { return l.NotAfter.Add(-renewBefore + time.Minute) }, true},
		{"expired", func(l *x509.Certificate) time.Time { return l.NotAfter.Add(time.Hour) }, true},
		{"clock went back", func(l *x509.Certificate) time.Time { return l.NotBefore.Add(-time.Hour) }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := openDB(t)
			clk := newClock()
			a := openAuthority(t, db, WithClock(clk.Now))
			// Issue the leaf well after the CA, so that moving the clock
			// back stays within the CA's validity.
			clk.Set(clk.Now().Add(10 * 24 * time.Hour))
			old := mustLeaf(t, a)
			clk.Set(tt.at(old))

			// Through the handshake path, as a server would see it.
			cert, err := a.TLSConfig().GetCertificate(&tls.ClientHelloInfo{})
			if err != nil {
				t.Fatal(err)
			}
			got := cert.Leaf
			if renewed := !bytes.Equal(got.Raw, old.Raw); renewed != tt.renew {
				t.Fatalf("renewed = %v, want %v", renewed, tt.renew)
			}
			if err := verify(got, caPool(t, a), "localhost", clk.Now()); err != nil {
				t.Errorf("served leaf does not verify at %v: %v", clk.Now(), err)
			}
			if !bytes.Equal(pemDER(t, readPair(t, db, keyLeaf).Cert), got.Raw) {
				t.Error("stored leaf is not the served one")
			}
		})
	}
}

func TestRenewalOnLANChange(t *testing.T) {
	t.Parallel()
	clk := newClock()
	a := openAuthority(t, openDB(t), WithClock(clk.Now))
	pool := caPool(t, a)

	steps := []struct {
		lan     string
		renew   bool
		covered []string
		absent  []string
	}{
		{lan: "192.168.1.10", renew: true, covered: []string{"192.168.1.10", "localhost"}},
		{lan: "192.168.1.10", renew: false, covered: []string{"192.168.1.10"}},
		{lan: "192.168.1.11", renew: true, covered: []string{"192.168.1.11"}, absent: []string{"192.168.1.10"}},
		{lan: "fe80::1", renew: true, covered: []string{"fe80::1"}, absent: []string{"192.168.1.11"}},
		{lan: "", renew: true, covered: []string{"10.0.2.2"}, absent: []string{"fe80::1"}},
	}
	prev := mustLeaf(t, a)
	for i, s := range steps {
		if err := a.SetLANAddress(s.lan); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		leaf := mustLeaf(t, a)
		if renewed := !bytes.Equal(leaf.Raw, prev.Raw); renewed != s.renew {
			t.Errorf("step %d (%q): renewed = %v, want %v", i, s.lan, renewed, s.renew)
		}
		for _, n := range s.covered {
			if err := verify(leaf, pool, n, clk.Now()); err != nil {
				t.Errorf("step %d: %v", i, err)
			}
		}
		for _, n := range s.absent {
			if verify(leaf, pool, n, clk.Now()) == nil {
				t.Errorf("step %d: leaf still covers %s", i, n)
			}
		}
		prev = leaf
	}

	for _, bad := range []string{"not-an-ip", "0.0.0.0", "fe80::1%en0", "192.168.1.1:8443"} {
		if err := a.SetLANAddress(bad); err == nil {
			t.Errorf("SetLANAddress(%q) accepted", bad)
		}
	}
	if got := a.Names(); !slices.Equal(got, defaultNames) {
		t.Errorf("rejected addresses changed Names(): %v", got)
	}
}

func TestRegenerate(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	clk := newClock()
	a := openAuthority(t, db, WithClock(clk.Now))
	oldCA, _ := x509.ParseCertificate(a.CACertDER())
	oldPool := caPool(t, a)
	mustLeaf(t, a)

	if err := a.Regenerate(); err != nil {
		t.Fatal(err)
	}
	newCA, _ := x509.ParseCertificate(a.CACertDER())
	if bytes.Equal(newCA.Raw, oldCA.Raw) || newCA.Subject.CommonName == oldCA.Subject.CommonName {
		t.Fatalf("Regenerate kept the CA (%q)", newCA.Subject.CommonName)
	}
	leaf := mustLeaf(t, a)
	if err := verify(leaf, caPool(t, a), "localhost", clk.Now()); err != nil {
		t.Errorf("new leaf does not verify against the new CA: %v", err)
	}
	if verify(leaf, oldPool, "localhost", clk.Now()) == nil {
		t.Error("new leaf verifies against the old CA")
	}
	if !bytes.Equal(pemDER(t, readPair(t, db, keyCA).Cert), newCA.Raw) {
		t.Error("the database still holds the old CA")
	}
	if !bytes.Equal(pemDER(t, readPair(t, db, keyLeaf).Cert), leaf.Raw) {
		t.Error("the database still holds the old leaf")
	}
	if b := openAuthority(t, db); !bytes.Equal(b.CACertDER(), newCA.Raw) {
		t.Error("reopening does not load the new CA")
	}
}

func TestReplacesExpiredOrUnreadableCA(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		spoil func(t *testing.T, db *storage.DB, clk *clock, ca *x509.Certificate)
	}{
		{"expired", func(t *testing.T, _ *storage.DB, clk *clock, ca *x509.Certificate) {
			clk.Set(ca.NotAfter.Add(time.Hour))
		}},
		{"unreadable", func(t *testing.T, db *storage.DB, _ *clock, _ *x509.Certificate) {
			if err := db.Update(func(tx *storage.Tx) error { return tx.PutRaw(keyCA, []byte("garbage")) }); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := openDB(t)
			clk := newClock()
			a := openAuthority(t, db, WithClock(clk.Now))
			mustLeaf(t, a)
			old, _ := x509.ParseCertificate(a.CACertDER())
			tt.spoil(t, db, clk, old)

			b := openAuthority(t, db, WithClock(clk.Now))
			if bytes.Equal(b.CACertDER(), old.Raw) {
				t.Fatal("CA was not replaced")
			}
			if err := verify(mustLeaf(t, b), caPool(t, b), "localhost", clk.Now()); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestLeafClampedToCAExpiry(t *testing.T) {
	t.Parallel()
	clk := newClock()
	a := openAuthority(t, openDB(t), WithClock(clk.Now))
	ca := a.CACert()
	// Ten days before the CA expires, the leaf can live ten days only, and
	// must not be reissued on every call because of it.
	clk.Set(ca.NotAfter.Add(-10 * 24 * time.Hour))
	leaf := mustLeaf(t, a)
	if !leaf.NotAfter.Equal(ca.NotAfter) {
		t.Errorf("leaf NotAfter %v, want the CA's %v", leaf.NotAfter, ca.NotAfter)
	}
	if again := mustLeaf(t, a); !bytes.Equal(again.Raw, leaf.Raw) {
		t.Error("clamped leaf was reissued")
	}
	// Likewise while the clock says the CA does not exist yet.
	clk.Set(ca.NotBefore.Add(-time.Hour))
	early := mustLeaf(t, a)
	if again := mustLeaf(t, a); !bytes.Equal(again.Raw, early.Raw) {
		t.Error("leaf reissued on every call while the clock is before the CA")
	}
	// Once the CA has expired, a new CA and leaf take over.
	clk.Set(ca.NotAfter.Add(time.Minute))
	leaf = mustLeaf(t, a)
	if bytes.Equal(a.CACertDER(), ca.Raw) {
		t.Fatal("expired CA kept")
	}
	if err := verify(leaf, caPool(t, a), "localhost", clk.Now()); err != nil {
		t.Error(err)
	}
}

var protoHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	fmt.Fprint(w, r.Proto)
})

func TestHTTPTestServer(t *testing.T) {
	t.Parallel()
	a := openAuthority(t, openDB(t))
	if err := a.SetLANAddress("192.168.7.7"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(protoHandler)
	srv.TLS = a.TLSConfig()
	srv.StartTLS()
	t.Cleanup(srv.Close)
	checkHTTPS(t, a, srv.Listener.Addr().String())
}

// TestServeTLS wires the Authority the way RegSandbox does.
func TestServeTLS(t *testing.T) {
	t.Parallel()
	a := openAuthority(t, openDB(t))
	if err := a.SetLANAddress("192.168.7.7"); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: protoHandler, TLSConfig: a.TLSConfig(), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.ServeTLS(ln, "", "") }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; err != http.ErrServerClosed {
			t.Errorf("ServeTLS: %v", err)
		}
	})
	checkHTTPS(t, a, ln.Addr().String())
}

// checkHTTPS makes requests to the server at addr with clients that trust
// only a's CA.
func checkHTTPS(t *testing.T, a *Authority, addr string) {
	t.Helper()
	_, port, _ := net.SplitHostPort(addr)

	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(a.CACertPEM()) {
		t.Fatal("CACertPEM holds no certificate")
	}
	tests := []struct {
		name   string
		url    string // "localhost" makes the client send SNI; an IP does not
		http2  bool
		wantPM int
	}{
		{"IP, HTTP/2", "https://127.0.0.1:" + port + "/", true, 2},
		{"IP, HTTP/1.1", "https://127.0.0.1:" + port + "/", false, 1},
		{"localhost, HTTP/2", "https://localhost:" + port + "/", true, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tr := &http.Transport{
				TLSClientConfig:   &tls.Config{RootCAs: roots},
				ForceAttemptHTTP2: tt.http2,
				// localhost may resolve to ::1 first; the listener is on
				// 127.0.0.1 only.
				DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
					var d net.Dialer
					return d.DialContext(ctx, network, addr)
				},
			}
			if !tt.http2 {
				tr.TLSClientConfig.NextProtos = []string{"http/1.1"}
			}
			defer tr.CloseIdleConnections()
			resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK || resp.ProtoMajor != tt.wantPM {
				t.Fatalf("status %d, proto %s (server saw %s), want major %d", resp.StatusCode, resp.Proto, body, tt.wantPM)
			}
			cert := resp.TLS.PeerCertificates[0]
			if got, want := nameKey(certNames(cert)), nameKey(a.Names()); got != want {
				t.Errorf("presented certificate covers %q, want %q", got, want)
			}
			if !slices.Contains(certNames(cert), "192.168.7.7") {
				t.Error("presented certificate lacks the LAN address")
			}
		})
	}
}

func TestConcurrentHandshakes(t *testing.T) {
	t.Parallel()
	clk := newClock()
	a := openAuthority(t, openDB(t), WithClock(clk.Now))
	cfg := a.TLSConfig()
	start := clk.Now()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 20 {
				switch {
				case i == 0 && j%5 == 0:
					clk.Set(start.Add(time.Duration(j) * 30 * 24 * time.Hour))
				case i == 1 && j%4 == 0:
					_ = a.SetLANAddress(fmt.Sprintf("192.168.0.%d", j+1))
				case i == 2 && j == 10:
					_ = a.Regenerate()
				}
				cert, err := cfg.GetCertificate(&tls.ClientHelloInfo{ServerName: "localhost"})
				if err != nil || cert == nil || cert.Leaf == nil {
					t.Errorf("GetCertificate: %v", err)
					return
				}
				_ = a.Names()
				_ = a.CACertPEM()
			}
		})
	}
	wg.Wait()
}

func TestNoPrivateKeyExported(t *testing.T) {
	t.Parallel()
	a := openAuthority(t, openDB(t))
	pemBytes := a.CACertPEM()
	if bytes.Contains(pemBytes, []byte("PRIVATE KEY")) {
		t.Fatal("CACertPEM contains a private key")
	}
	block, rest := pem.Decode(pemBytes)
	if block == nil || block.Type != "CERTIFICATE" || len(bytes.TrimSpace(rest)) != 0 {
		t.Fatalf("CACertPEM is not exactly one CERTIFICATE block")
	}
	if !bytes.Equal(block.Bytes, a.CACertDER()) {
		t.Error("CACertPEM and CACertDER differ")
	}
	if _, err := x509.ParsePKCS8PrivateKey(a.CACertDER()); err == nil {
		t.Error("CACertDER parses as a private key")
	}
	// The TLS config carries only the leaf, through GetCertificate.
	cfg := a.TLSConfig()
	if len(cfg.Certificates) != 0 {
		t.Error("TLSConfig holds static certificates")
	}
	cert, err := cfg.GetCertificate(&tls.ClientHelloInfo{})
	if err != nil {
		t.Fatal(err)
	}
	if len(cert.Certificate) != 1 || cert.Leaf.IsCA {
		t.Error("the handshake presents more than the leaf")
	}
}

func TestTLSConfig(t *testing.T) {
	t.Parallel()
	a := openAuthority(t, openDB(t))
	cfg := a.TLSConfig()
	if cfg.MinVersion != tls.VersionTLS12 {
		t.Errorf("MinVersion = %x", cfg.MinVersion)
	}
	if !slices.Equal(cfg.NextProtos, []string{"h2", "http/1.1"}) {
		t.Errorf("NextProtos = %v", cfg.NextProtos)
	}
	// A wrapper that stuffs its own certificate into a clone (as
	// httptest does) must not displace the leaf for clients without SNI.
	wrapped := cfg.Clone()
	wrapped.Certificates = []tls.Certificate{{Certificate: [][]byte{{1}}}}
	perConn, err := wrapped.GetConfigForClient(&tls.ClientHelloInfo{})
	if err != nil || perConn == nil {
		t.Fatalf("GetConfigForClient = %v, %v", perConn, err)
	}
	if len(perConn.Certificates) != 0 || perConn.GetCertificate == nil || perConn.MinVersion != tls.VersionTLS12 {
		t.Error("per-connection config does not serve the leaf")
	}
}

func TestInstallInstructions(t *testing.T) {
	t.Parallel()
	ins := InstallInstructions("https://127.0.0.1:8443/")
	want := map[string][]string{
		"Android emulator": {
			"adb push regsandbox-ca.pem", "Install a certificate › CA certificate",
			"res/xml/network_security_config.xml",
			`<debug-overrides><trust-anchors><certificates src="user" /></trust-anchors></debug-overrides>`,
			`android:networkSecurityConfig`, "https://10.0.2.2:8443", "https://10.0.3.2:8443",
		},
		"iOS simulator": {
			"xcrun simctl keychain booted add-root-cert regsandbox-ca.pem",
			"https://127.0.0.1:8443/__admin/ca.pem",
		},
		"Android phone on the local network":  {"loopback", "Install a certificate › CA certificate", "network_security_config", ":8443"},
		"iPhone or iPad on the local network": {"loopback", "AirDrop", "Certificate Trust Settings", ":8443"},
	}
	if len(ins) != len(want) {
		t.Fatalf("%d instructions, want %d", len(ins), len(want))
	}
	for _, in := range ins {
		t.Run(in.Target, func(t *testing.T) {
			t.Parallel()
			if len(in.Steps) == 0 || len(in.Steps) > 6 {
				t.Errorf("%d steps", len(in.Steps))
			}
			text := strings.Join(in.Steps, "\n")
			for _, s := range want[in.Target] {
				if !strings.Contains(text, s) {
					t.Errorf("steps lack %q", s)
				}
			}
			if md := in.Markdown(); !strings.HasPrefix(md, "### "+in.Target) || !strings.Contains(md, "\n1. ") {
				t.Errorf("Markdown = %q", md)
			}
		})
	}
	if got := urlPort("http://localhost"); got != "80" {
		t.Errorf("urlPort default http = %q", got)
	}
	if got := urlPort("::bad"); got != "<port>" {
		t.Errorf("urlPort unparsable = %q", got)
	}
}
