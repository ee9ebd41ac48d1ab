package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// soakMix is the soak's mixed traffic against one server: workers run
// short journeys one after the other, in the order of soakSchedule, until
// the deadline or the request budget ends the run.
type soakMix struct {
	client *http.Client
	base   string
	nonce  string
	conns  int
	// tokens are social tokens for the 310 calls; worker w uses tokens
	// w, w+conns, w+2·conns, …, so no two calls in flight share one.
	tokens []string
	budget int64
	sent   atomic.Int64
	seq    atomic.Int64 // numbers the unique values
	stats  [numCalls]callStats
}

// journey is one short sequence of requests that a worker runs.
type journey func(*soakWorker, context.Context) error

// soakSchedule is the order in which every worker runs the journeys,
// starting at its own offset so that the workers do different things at
// any one time.
var soakSchedule = []journey{
	(*soakWorker).register, (*soakWorker).flow, (*soakWorker).backchannel, (*soakWorker).signIn,
	(*soakWorker).auth310, (*soakWorker).qr, (*soakWorker).flow, (*soakWorker).backchannel,
	(*soakWorker).errors, (*soakWorker).signIn, (*soakWorker).socialJourney, (*soakWorker).auth310,
}

// newSoakMix prepares the traffic: it mints the social tokens of the 310
// calls (tokensPerConn per worker).
func newSoakMix(ctx context.Context, client *http.Client, addr string, conns, tokensPerConn int, budget int64) (*soakMix, error) {
	m := &soakMix{client: client, base: "http://" + addr, nonce: nonce(), conns: conns, budget: budget}
	t := target{client: client, base: m.base, conns: conns, nonce: m.nonce, tokens: conns * tokensPerConn}
	tokens, err := mintTokens(ctx, t)
	if err != nil {
		return nil, err
	}
	m.tokens = tokens
	return m, nil
}

// unique is a value that no other request of this run uses.
func (m *soakMix) unique() string {
	return m.nonce + "s" + strconv.FormatInt(m.seq.Add(1), 10)
}

// drive runs the workers until the deadline or the budget.
func (m *soakMix) drive(ctx context.Context, deadline time.Time) {
	var wg sync.WaitGroup
	for w := range m.conns {
		wg.Go(func() {
			k := &soakWorker{m: m, w: w}
			k.run(ctx, deadline)
		})
	}
	wg.Wait()
}

// do sends one request of the given kind and checks its answer; an
// unexpected answer counts as an error of that kind.
func (m *soakMix) do(ctx context.Context, kind callKind, r soakRequest, want expect) ([]byte, error) {
	if m.sent.Add(1) > m.budget {
		return nil, errBudget
	}
	st := &m.stats[kind]
	st.requests.Add(1)
	req, err := r.newRequest(ctx, m.base)
	if err != nil {
		return nil, err
	}
	body, err := exchange(m.client, req, want)
	if err != nil && ctx.Err() == nil {
		st.fail(err)
	}
	return body, err
}

// field reads a string member of an answer of the given kind; a missing
// one counts as an unexpected answer.
func (m *soakMix) field(kind callKind, body []byte, name string) (string, error) {
	s, err := stringField(body, name)
	if err != nil {
		m.stats[kind].fail(err)
	}
	return s, err
}

// totals adds up the counters of every kind.
func (m *soakMix) totals() (requests, errors int64) {
	for i := range m.stats {
		requests += m.stats[i].requests.Load()
		errors += m.stats[i].errors.Load()
	}
	return requests, errors
}

// printCalls prints each kind's requests, unexpected answers and first
// unexpected answer.
func (m *soakMix) printCalls(out io.Writer) {
	fmt.Fprintf(out, "%-20s %10s %8s\n", "call", "requests", "errors")
	for i := range m.stats {
		st := &m.stats[i]
		fmt.Fprintf(out, "%-20s %10d %8d\n", callNames[i], st.requests.Load(), st.errors.Load())
		if first := st.first.Load(); first != nil {
			fmt.Fprintf(out, "  first unexpected answer: %s\n", *first)
		}
	}
}
