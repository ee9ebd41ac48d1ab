package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
)

// scenario is one kind of request that a load repeats, with what a
// correct answer looks like.
type scenario struct {
	name   string
	method string
	path   string
	// header is sent with every request; it is shared and never changed.
	header http.Header
	// body returns the body of request seq sent by worker w; nil for none.
	body func(w int, seq int64) []byte
	// status and expect describe a correct answer: its HTTP status and a
	// fragment of its body.
	status int
	expect []byte
	// seq numbers the requests of the scenario across phases and targets,
	// so that values meant to be unique never repeat.
	seq atomic.Int64
}

// request builds the next request of worker w for the target at base.
func (s *scenario) request(ctx context.Context, base string, w int) (*http.Request, error) {
	seq := s.seq.Add(1)
	var body io.Reader = http.NoBody
	if s.body != nil {
		body = bytes.NewReader(s.body(w, seq))
	}
	req, err := http.NewRequestWithContext(ctx, s.method, base+s.path, body)
	if err != nil {
		return nil, err
	}
	for k, v := range s.header {
		req.Header[k] = v
	}
	return req, nil
}

// unique is a per-request suffix that is unique within this loadgen run
// (the nonce tells runs apart).
func unique(nonce string, seq int64) string {
	return nonce + "n" + strconv.FormatInt(seq, 10)
}
