package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"syscall"
	"time"
)

// loopbackHost is the only host loadgen ever talks to.
const loopbackHost = "127.0.0.1"

// errNotLoopback refuses a target that is not 127.0.0.1.
var errNotLoopback = errors.New("only 127.0.0.1 targets are allowed")

// checkLoopback accepts "127.0.0.1:PORT" and nothing else: no host
// names, no other addresses, no default host.
func checkLoopback(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("target %q: %w", addr, err)
	}
	if host != loopbackHost || port == "" || port == "0" {
		return fmt.Errorf("target %q: %w", addr, errNotLoopback)
	}
	return nil
}

// dialControl checks, once the address is resolved and before connecting,
// that a connection goes to 127.0.0.1, whatever asked for it.
func dialControl(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.Equal(net.IPv4(127, 0, 0, 1)) {
		return fmt.Errorf("dial %s: %w", address, errNotLoopback)
	}
	return nil
}

// newClient is a keep-alive HTTP/1.1 client that holds one connection
// per worker, never follows redirects and dials 127.0.0.1 only.
func newClient(conns int) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second, Control: dialControl}
	transport := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return dialer.DialContext(ctx, "tcp4", addr)
		},
		Proxy:               nil,
		ForceAttemptHTTP2:   false,
		DisableCompression:  true,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		IdleConnTimeout:     time.Minute,
	}
	return &http.Client{
		Transport: transport,
		Timeout:   30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
