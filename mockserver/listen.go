package mockserver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
)

// Listening is a server bound to its ports. It can be stopped and
// started again on the same ports, as the window's Stop button does.
type Listening struct {
	// HTTPAddr and HTTPSAddr are the bound host:port ("" when off).
	HTTPAddr, HTTPSAddr string
	srv                 *Server
	mu                  sync.Mutex
	servers             []*http.Server
	done                chan error
}

// Listen binds the HTTP listener and, when tlsAddr is set, the HTTPS one
// with a certificate from the local CA, and serves the same routes on
// both (HTTP/2 where the client offers it). Port 0 picks a free
// port; the bound addresses are in the result.
func (s *Server) Listen(httpAddr, tlsAddr string) (*Listening, error) {
	l := &Listening{srv: s, done: make(chan error, 2)}
	if err := l.bind(httpAddr, tlsAddr); err != nil {
		return nil, err
	}
	return l, nil
}

// bind listens on the addresses and serves on them.
func (l *Listening) bind(httpAddr, tlsAddr string) error {
	s := l.srv
	if httpAddr != "" {
		ln, err := net.Listen("tcp", httpAddr)
		if err != nil {
			return fmt.Errorf("cannot listen on %s: %w", httpAddr, err)
		}
		l.HTTPAddr = ln.Addr().String()
		s.baseURL.Store("http://" + l.HTTPAddr)
		l.serve(s, ln, nil)
	}
	if tlsAddr != "" {
		ln, err := net.Listen("tcp", tlsAddr)
		if err != nil {
			l.Shutdown(context.Background())
			return fmt.Errorf("cannot listen on %s: %w", tlsAddr, err)
		}
		l.HTTPSAddr = ln.Addr().String()
		l.serve(s, ln, s.ca.TLSConfig())
	}
	return nil
}

// Running reports whether the listeners serve.
func (l *Listening) Running() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.servers) > 0
}

// Start serves again on the ports bound first; it does nothing while
// running.
func (l *Listening) Start() error {
	if l.Running() {
		return nil
	}
	return l.bind(l.HTTPAddr, l.HTTPSAddr)
}

func (l *Listening) serve(h http.Handler, ln net.Listener, tlsConfig *tls.Config) {
	t := l.srv.cfg.timeouts
	srv := &http.Server{
		Handler:   h,
		TLSConfig: tlsConfig,
		// Slow clients must not hold connections forever.
		ReadHeaderTimeout: t.header,
		ReadTimeout:       t.read,
		IdleTimeout:       t.idle,
		MaxHeaderBytes:    64 << 10,
		// The recorder reuses a slot per connection for its requests.
		ConnContext: l.srv.recorder.ConnContext,
	}
	l.mu.Lock()
	l.servers = append(l.servers, srv)
	l.mu.Unlock()
	go func() {
		var err error
		if tlsConfig != nil {
			err = srv.ServeTLS(ln, "", "")
		} else {
			err = srv.Serve(ln)
		}
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		l.done <- err
	}()
}

// Line is the line RegSandbox prints once it serves, which scripts wait
// for: "regsandbox listening http=HOST:PORT https=HOST:PORT admin=URL".
func (l *Listening) Line() string {
	return fmt.Sprintf("regsandbox listening http=%s https=%s admin=%s", l.HTTPAddr, l.HTTPSAddr, l.AdminURL())
}

// AdminURL is the base URL of the admin API.
func (l *Listening) AdminURL() string {
	if l.HTTPAddr != "" {
		return "http://" + l.HTTPAddr + "/__admin"
	}
	return "https://" + l.HTTPSAddr + "/__admin"
}

// Shutdown stops accepting requests and waits for those in flight until
// ctx ends.
func (l *Listening) Shutdown(ctx context.Context) error {
	l.mu.Lock()
	servers := l.servers
	l.servers = nil
	l.mu.Unlock()
	var errs []error
	for _, srv := range servers {
		if err := srv.Shutdown(ctx); err != nil {
			// Requests a fault rule holds would keep it waiting: cut
			// whatever is left once ctx is over.
			errs = append(errs, err, srv.Close())
		}
	}
	return errors.Join(errs...)
}

// LANAddress returns this machine's first private IPv4 address, the one a
// phone on the same network uses, or "" when there is none.
func LANAddress() string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ""
	}
	for _, a := range addrs {
		if ipnet, ok := a.(*net.IPNet); ok {
			if ip := ipnet.IP.To4(); ip != nil && ip.IsPrivate() {
				return ip.String()
			}
		}
	}
	return ""
}
