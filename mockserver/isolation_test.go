package mockserver_test

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"regsandbox/mockserver"
)

// TestSlowClientsAreCutOff: a client that sends its headers a byte at a
// time, one that stalls in its body and one that idles on a kept-alive
// connection all lose the connection once their time is up, while others
// are served meanwhile (slowloris).
func TestSlowClientsAreCutOff(t *testing.T) {
	t.Parallel()
	const header, read, idle = 300 * time.Millisecond, 600 * time.Millisecond, 300 * time.Millisecond
	_, l := newServer(t, mockserver.WithConnTimeouts(header, read, idle))
	tests := []struct {
		name  string
		send  string // then nothing more
		limit time.Duration
	}{
		{"headers never finished", "POST /oauth/auth_native HTTP/1.1\r\nHost: x\r\nContent-Type: app", header},
		{"body never finished", "POST /oauth/auth_native HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n" +
			"Content-Type: application/x-www-form-urlencoded\r\n\r\nclient_id=", read},
		{"idle after an answer", "GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n", idle},
	}
	// The group returns once its parallel cases are done.
	t.Run("clients", func(t *testing.T) {
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				slowClient(t, l.HTTPAddr, tc.send, tc.limit)
			})
		}
	})
	// Meanwhile, and after, others are served.
	resp, err := http.Get("http://" + l.HTTPAddr + "/__admin/health")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("health after slow clients: %v %v", resp, err)
	}
	resp.Body.Close()
}

// slowClient sends send and then nothing, and wants the server to close
// the connection within limit (and some slack for a loaded machine).
func slowClient(t *testing.T, addr, send string, limit time.Duration) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	if _, err := io.WriteString(conn, send); err != nil {
		t.Fatal(err)
	}
	// Read until the server closes; an answer may come first.
	conn.SetReadDeadline(start.Add(limit + 5*time.Second))
	_, err = io.Copy(io.Discard, conn)
	if elapsed := time.Since(start); err != nil || elapsed > limit+3*time.Second || elapsed < limit/2 {
		t.Fatalf("connection closed after %v (limit %v): %v", elapsed, limit, err)
	}
}

// TestNoCORSByDefault: neither a browser's preflight nor a cross-origin
// call gets an Access-Control header, from the mock or the admin API, so
// a web page the user happens to open cannot drive either.
func TestNoCORSByDefault(t *testing.T) {
	t.Parallel()
	_, l := newServer(t)
	for _, tc := range []struct{ method, path string }{
		{http.MethodOptions, "/oauth/register_native_traditional"},
		{http.MethodPost, "/oauth/register_native_traditional"},
		{http.MethodOptions, "/oauth/api/v3/custom-registration/ExampleId/backchannel"},
		{http.MethodOptions, "/__admin/workspace"},
		{http.MethodGet, "/__admin/workspace"},
		{http.MethodPost, "/__admin/reset"},
	} {
		req, err := http.NewRequest(tc.method, "http://"+l.HTTPAddr+tc.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Origin", "https://evil.example")
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		for name := range resp.Header {
			if strings.HasPrefix(name, "Access-Control-") {
				t.Errorf("%s %s from another origin: %s: %s", tc.method, tc.path, name, resp.Header.Get(name))
			}
		}
	}
}

// TestAdminRefusesWebPages: a page open in the user's browser reaches
// 127.0.0.1 too. It may not change anything through the admin API —
// neither by a cross-site form or script nor under a host name of its own
// that resolves to this machine (DNS rebinding) — while the user, tools
// and links to the CA keep working.
func TestAdminRefusesWebPages(t *testing.T) {
	t.Parallel()
	_, l := newServer(t)
	base := "http://" + l.HTTPAddr
	_, port, _ := net.SplitHostPort(l.HTTPAddr)
	rule := `{"id":"keep","endpoint":"*","status":418,"enabled":false}`
	if resp := must(http.Post(base+"/__admin/faults", "application/json", strings.NewReader(rule))); resp.StatusCode != http.StatusCreated {
		t.Fatalf("adding a rule: %d", resp.StatusCode)
	}
	tests := []struct {
		name, method, path, host string
		header                   map[string]string
		want                     int
	}{
		{"form post from another site", "POST", "/__admin/reset", "", map[string]string{"Origin": "https://evil.example", "Content-Type": "application/x-www-form-urlencoded"}, 403},
		{"script from another site", "PUT", "/__admin/recording", "", map[string]string{"Sec-Fetch-Site": "cross-site", "Content-Type": "text/plain"}, 403},
		{"sandboxed page", "DELETE", "/__admin/faults/keep", "", map[string]string{"Origin": "null"}, 403},
		{"rebound host name", "GET", "/__admin/workspace", "evil.example:" + port, nil, 403},
		{"rebound host name, change", "POST", "/__admin/reset", "evil.example:" + port, map[string]string{"Origin": "http://evil.example:" + port}, 403},
		{"link to the CA from another site", "GET", "/__admin/ca.pem", "", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, 200},
		{"typed in the address bar", "GET", "/__admin/health", "localhost:" + port, map[string]string{"Sec-Fetch-Site": "none"}, 200},
		{"same origin", "PUT", "/__admin/recording", "", map[string]string{"Origin": base, "Sec-Fetch-Site": "same-origin", "Content-Type": "application/json"}, 200},
		{"a tool", "PUT", "/__admin/recording", "", map[string]string{"Content-Type": "application/json"}, 200},
	}
	for _, tc := range tests {
		body := ""
		if tc.path == "/__admin/recording" {
			body = `{"paused":false}`
		}
		req, err := http.NewRequest(tc.method, base+tc.path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if tc.host != "" {
			req.Host = tc.host
		}
		for k, v := range tc.header {
			req.Header.Set(k, v)
		}
		resp := must(http.DefaultClient.Do(req))
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s: %s %s: %d, want %d", tc.name, tc.method, tc.path, resp.StatusCode, tc.want)
		}
	}
	// The refused reset and delete changed nothing.
	raw, _ := io.ReadAll(must(http.Get(base + "/__admin/faults")).Body)
	if !strings.Contains(string(raw), `"keep"`) {
		t.Errorf("the rule is gone: %s", raw)
	}
}
