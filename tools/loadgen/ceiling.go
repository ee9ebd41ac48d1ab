package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// ceilingCommand is the hidden subcommand that runs the bare server in a
// child process, so that it shares the machine with loadgen exactly as
// the real server does.
const ceilingCommand = "ceiling"

// ceilingLine starts the line the bare server prints once it serves.
const ceilingLine = "ceiling listening http="

// ceilingLifetime bounds the bare server's life even if loadgen vanishes
// without closing its stdin.
const ceilingLifetime = 30 * time.Minute

// answer is a recorded HTTP answer.
type answer struct {
	Status int         `json:"status"`
	Header http.Header `json:"header"`
	Body   []byte      `json:"body"`
}

// recordAnswer sends one request of sc to the real server and keeps its
// answer, for the bare server to repeat.
func recordAnswer(ctx context.Context, client *http.Client, base string, sc *scenario) (answer, error) {
	req, err := sc.request(ctx, base, 0)
	if err != nil {
		return answer{}, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	if resp.StatusCode != sc.status || !strings.Contains(string(body), string(sc.expect)) {
		return answer{}, fmt.Errorf("%s: unexpected answer %d: %.300s", sc.name, resp.StatusCode, body)
	}
	h := resp.Header.Clone()
	// net/http writes these itself, as it does for the real server.
	h.Del("Date")
	h.Del("Content-Length")
	return answer{Status: resp.StatusCode, Header: h, Body: body}, nil
}

// ceiling is the bare server's child process.
type ceiling struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	addr  string
}

// startCeiling starts the bare server with the answers to give, by path.
func startCeiling(answers map[string]answer) (*ceiling, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, ceilingCommand)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &ceiling{cmd: cmd, stdin: stdin}
	if err := json.NewEncoder(stdin).Encode(answers); err != nil {
		c.stop()
		return nil, err
	}
	if c.addr, err = readListening(stdout, ceilingLine, 10*time.Second); err != nil {
		c.stop()
		return nil, fmt.Errorf("bare server: %w", err)
	}
	return c, checkLoopback(c.addr)
}

// pid is the bare server's process id.
func (c *ceiling) pid() int { return c.cmd.Process.Pid }

// stop closes the bare server's stdin, which ends it, and kills it if it
// does not end within a few seconds.
func (c *ceiling) stop() {
	c.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		c.cmd.Process.Kill()
		<-done
	}
}

// readListening waits for the line that starts with prefix and returns
// the first word after the prefix (the address).
func readListening(r io.Reader, prefix string, timeout time.Duration) (string, error) {
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), prefix); ok {
				found <- strings.Fields(rest + " ")[0]
				break
			}
		}
		close(found)
		// Keep reading so the child never blocks on a full pipe.
		io.Copy(io.Discard, r)
	}()
	select {
	case addr, ok := <-found:
		if !ok || addr == "" {
			return "", errors.New("exited before printing its listening line")
		}
		return addr, nil
	case <-time.After(timeout):
		return "", fmt.Errorf("no listening line within %s", timeout)
	}
}

// serveCeiling is the bare server: it reads the answers from stdin,
// serves them on 127.0.0.1 and stops when stdin closes.
func serveCeiling(stdin io.Reader, stdout io.Writer) error {
	var answers map[string]answer
	dec := json.NewDecoder(stdin)
	if err := dec.Decode(&answers); err != nil {
		return fmt.Errorf("reading the answers: %w", err)
	}
	ln, err := net.Listen("tcp4", loopbackHost+":0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: bareHandler(answers), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	fmt.Fprintln(stdout, ceilingLine+ln.Addr().String())
	waitForEOF(io.MultiReader(dec.Buffered(), stdin), ceilingLifetime)
	return srv.Close()
}

// bareHandler answers every path with its recorded answer, after reading
// the request body as the real server does.
func bareHandler(answers map[string]answer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		a, ok := answers[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		for k, v := range a.Header {
			h[k] = slices.Clone(v)
		}
		w.WriteHeader(a.Status)
		w.Write(a.Body)
	})
}

// waitForEOF returns when r ends or after limit.
func waitForEOF(r io.Reader, limit time.Duration) {
	done := make(chan struct{})
	go func() {
		io.Copy(io.Discard, r)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(limit):
	}
}
