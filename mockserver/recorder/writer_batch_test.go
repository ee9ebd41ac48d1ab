package recorder

import (
	"math/rand/v2"
	"testing"
)

// TestLargeAnswersStoreBeforeTheBatchIsFull: a batch of far fewer than
// maxBatch exchanges is stored in parts once its records and blobs pass
// maxArena, so the writer's memory does not grow with the batch size.
func TestLargeAnswersStoreBeforeTheBatchIsFull(t *testing.T) {
	rec := newTestRecorder(t)
	const n, size = 100, 60 << 10 // 6 MB in all, over maxArena
	rng := rand.New(rand.NewPCG(1, 2))
	batch := make([]*pending, 0, n)
	for range n {
		body := make([]byte, size)
		for i := range body {
			body[i] = 'a' + byte(rng.IntN(26)) // distinct, so no blob is shared
		}
		p := &pending{method: "GET", proto: "HTTP/1.1", status: 200, respBody: body,
			respHeader: []string{"Content-Type", "text/plain"}}
		p.url.Path = "/large"
		p.id, p.start = rec.ids.next()
		batch = append(batch, withHeaderValues(p))
	}
	rec.addPending(n)
	rec.absorb(batch)
	stored := rec.recorded.Load()
	if stored == 0 || stored >= n {
		t.Fatalf("after taking in %d large exchanges, %d were stored; want some, before the batch is full", n, stored)
	}
	rec.storeNow()
	if got := rec.recorded.Load(); got != n {
		t.Fatalf("recorded %d exchanges, want %d", got, n)
	}
}
