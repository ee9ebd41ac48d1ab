package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
)

// servePprof serves Go's profiles on addr (REGSANDBOX_PPROF, loopback
// only) so the server can be profiled under a real load; off by default.
func servePprof(addr string, stderr io.Writer) {
	if addr == "" {
		return
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil || !isLoopbackHost(host) {
		fmt.Fprintf(stderr, "regsandbox: REGSANDBOX_PPROF=%q ignored: give a loopback host:port such as 127.0.0.1:6060\n", addr)
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	l, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(stderr, "regsandbox: pprof:", err)
		return
	}
	fmt.Fprintf(stderr, "regsandbox: profiles on http://%s/debug/pprof/\n", l.Addr())
	go http.Serve(l, mux) //nolint:errcheck // ends with the process
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
