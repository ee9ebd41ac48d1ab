package faults

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"regsandbox/mockserver/workspace"
)

// DefaultMaxBody is how much of a request body conditions can see.
const DefaultMaxBody = 1 << 20

// Engine evaluates fault rules against requests. It is safe for
// concurrent use: Match never waits for SetRules, which swaps in a new,
// immutable rule set.
type Engine struct {
	now     func() time.Time
	sleep   func(context.Context, time.Duration) error
	maxBody int64

	// ctx is cancelled by Close, to release delayed and hung requests.
	ctx    context.Context
	cancel context.CancelFunc

	set atomic.Pointer[ruleSet]

	// mu serializes SetRules and guards the maps below.
	mu sync.Mutex
	// states outlive rule sets, so saving one rule does not re-arm the
	// others; keyed by rule id.
	states map[string]*ruleState
	// conditions are reused across rule sets, by source text, since
	// compiling is the slow part of SetRules.
	conditions map[string]*condition
}

// Option configures an [Engine].
type Option func(*Engine)

// WithClock replaces the wall clock that stamps decisions.
func WithClock(now func() time.Time) Option { return func(e *Engine) { e.now = now } }

// WithSleep replaces how delays wait, so tests need not. sleep must
// return ctx's error when ctx is done first.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(e *Engine) { e.sleep = sleep }
}

// WithMaxBody sets how many bytes of a request body the middleware reads
// for conditions; a larger body reads as empty. The default is
// DefaultMaxBody.
func WithMaxBody(n int64) Option { return func(e *Engine) { e.maxBody = n } }

// NewEngine returns an engine without rules.
func NewEngine(opts ...Option) *Engine {
	e := &Engine{now: time.Now, sleep: sleepContext, maxBody: DefaultMaxBody,
		states: map[string]*ruleState{}, conditions: map[string]*condition{}}
	e.ctx, e.cancel = context.WithCancel(context.Background())
	for _, opt := range opts {
		opt(e)
	}
	e.set.Store(&ruleSet{})
	return e
}

// Close releases every request a rule is delaying or holding (their
// connections are closed without an answer); from then on such rules drop
// at once. Call it before http.Server.Shutdown, which would otherwise wait
// for hung requests.
func (e *Engine) Close() { e.cancel() }

// sleepContext waits for d or until ctx is done.
func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ruleSet is an immutable, compiled list of the enabled rules.
type ruleSet struct {
	rules []compiledRule
	// needs are the request fields the conditions read.
	needs fieldMask
}

// compiledRule is a rule ready to match.
type compiledRule struct {
	fault workspace.Fault
	cond  *condition // nil without a When
	entry *Entry     // nil without an Error
	state *ruleState
}

// candidate reports whether the rule may fire on endpoint, before its
// condition and probability are looked at.
func (c *compiledRule) candidate(endpoint string) bool {
	return (c.fault.Endpoint == endpoint || (c.fault.Endpoint == AnyEndpoint && endpoint != "")) && c.state.armed()
}

// interest reports whether any rule may fire on endpoint and whether one
// of those needs to see the body: to evaluate its condition, or to find
// the locale of its error's messages.
func (s *ruleSet) interest(endpoint string) (found, body bool) {
	for i := range s.rules {
		c := &s.rules[i]
		if !c.candidate(endpoint) {
			continue
		}
		found = true
		if (c.cond != nil && c.cond.needs&(fieldForm|fieldJSON|fieldBody) != 0) ||
			(c.entry != nil && len(c.entry.Messages) > 0) {
			return true, true
		}
	}
	return found, false
}

// SetRules replaces the rules. Every rule, enabled or not, is checked
// (see [Engine.Check]); if one is invalid, none are taken and the error
// lists every problem as a [*RuleError]. Hit counts and seeded sequences
// carry over for rules whose id and settings did not change.
func (e *Engine) SetRules(rules []workspace.Fault) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	set := &ruleSet{}
	states := make(map[string]*ruleState, len(rules))
	conditions := make(map[string]*condition, len(rules))
	var errs []error
	for i, f := range rules {
		key := stateKey(f, i)
		if _, dup := states[key]; dup {
			errs = append(errs, &RuleError{Index: i, ID: f.ID, Name: f.Name, Field: "id", Message: "another rule has the same id"})
			continue
		}
		cond, problems := e.compile(f, conditions)
		errs = append(errs, ruleErrors(i, f, problems)...)
		states[key] = e.stateFor(key, f)
		if len(problems) > 0 || !f.Enabled {
			continue
		}
		set.rules = append(set.rules, compiledRule{fault: f, cond: cond, entry: lookup(f.Error), state: states[key]})
		if cond != nil {
			set.needs |= cond.needs
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	e.states, e.conditions = states, conditions
	e.set.Store(set)
	return nil
}

// Check verifies one rule as SetRules would, for validation on save: the
// endpoint, the error id, the settings and the condition. It returns nil
// or errors of type [*RuleError].
func (e *Engine) Check(rule workspace.Fault) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, problems := e.compile(rule, map[string]*condition{})
	return errors.Join(ruleErrors(0, rule, problems)...)
}

// compile checks f and compiles its condition, reusing one compiled
// before; the condition is recorded in keep. e.mu must be held.
func (e *Engine) compile(f workspace.Fault, keep map[string]*condition) (*condition, []problem) {
	problems := checkResponse(f)
	if f.When == "" {
		return nil, problems
	}
	cond := e.conditions[f.When]
	if cond == nil {
		var issues []issue
		cond, issues = compileCondition(f.When)
		for _, is := range issues {
			problems = append(problems, problem{field: "when", line: is.line, column: is.column, message: is.message})
		}
	}
	if cond != nil {
		keep[f.When] = cond
	}
	return cond, problems
}

// ruleErrors names the rule in each of its problems.
func ruleErrors(i int, f workspace.Fault, problems []problem) []error {
	out := make([]error, 0, len(problems))
	for _, p := range problems {
		out = append(out, &RuleError{Index: i, ID: f.ID, Name: f.Name, Field: p.field,
			Line: p.line, Column: p.column, Message: p.message})
	}
	return out
}

// stateKey is the rule's id; rules without one (a hand-written workspace)
// are told apart by position.
func stateKey(f workspace.Fault, i int) string {
	if f.ID != "" {
		return f.ID
	}
	return "#" + strconv.Itoa(i)
}

// stateFor returns the rule's current state when its settings did not
// change, and a fresh one otherwise: editing a rule re-arms it, saving
// another rule does not. e.mu must be held.
func (e *Engine) stateFor(key string, f workspace.Fault) *ruleState {
	fp := fingerprint(f)
	if st := e.states[key]; st != nil && st.fingerprint == fp {
		return st
	}
	return newRuleState(f, fp)
}

// fingerprint is the rule's settings as one comparable string.
func fingerprint(f workspace.Fault) string {
	raw, err := json.Marshal(f)
	if err != nil {
		// A Fault is strings, numbers and a string map.
		panic("faults: encoding a rule: " + err.Error())
	}
	return string(raw)
}

// Remaining returns how many more times the rule with the given id fires
// before it disarms: -1 when it has no limit, 0 when it is disarmed or
// unknown.
func (e *Engine) Remaining(id string) int {
	e.mu.Lock()
	st := e.states[id]
	e.mu.Unlock()
	if st == nil {
		return 0
	}
	if !st.limited {
		return -1
	}
	return int(max(st.remaining.Load(), 0))
}

// Disarmed reports whether the rule with the given id has used up its
// times and no longer fires.
func (e *Engine) Disarmed(id string) bool {
	e.mu.Lock()
	st := e.states[id]
	e.mu.Unlock()
	return st != nil && !st.armed()
}

// Rearm restores the rule's times and restarts its seeded sequence, as
// if it had just been saved. It reports whether the rule exists.
func (e *Engine) Rearm(id string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	st := e.states[id]
	if st == nil {
		return false
	}
	st.reset()
	return true
}

// ruleState is the runtime state of a rule: hits left and its generator.
type ruleState struct {
	fingerprint string
	limited     bool
	times       int64
	seed        int64
	remaining   atomic.Int64

	mu  sync.Mutex
	rng *rand.Rand // nil when seed is 0
}

// newRuleState arms f.
func newRuleState(f workspace.Fault, fp string) *ruleState {
	st := &ruleState{fingerprint: fp, limited: f.Times > 0, times: int64(f.Times), seed: f.Seed}
	st.reset()
	return st
}

// reset re-arms the rule and restarts its sequence.
func (s *ruleState) reset() {
	s.remaining.Store(s.times)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seed != 0 {
		s.rng = rand.New(rand.NewPCG(uint64(s.seed), uint64(s.seed)))
	}
}

// armed reports whether the rule may still fire.
func (s *ruleState) armed() bool { return !s.limited || s.remaining.Load() > 0 }

// take uses one hit, and reports the hits left (-1 without a limit) and
// whether one was left to take. The compare-and-swap makes concurrent
// requests share the last hit out: exactly one of them gets it.
func (s *ruleState) take() (int64, bool) {
	if !s.limited {
		return -1, true
	}
	for {
		n := s.remaining.Load()
		if n <= 0 {
			return 0, false
		}
		if s.remaining.CompareAndSwap(n, n-1) {
			return n - 1, true
		}
	}
}

// roll reports whether a rule firing with probability p (0 meaning
// always) fires this time.
func (s *ruleState) roll(p float64) bool {
	if p == 0 || p >= 1 {
		return true
	}
	return s.float64() < p
}

// float64 draws from the rule's sequence, or from the shared generator
// when the rule is not seeded.
func (s *ruleState) float64() float64 {
	if s.seed == 0 {
		return rand.Float64()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rng.Float64()
}

// jitter returns delay ± up to jitter, never negative.
func (s *ruleState) jitter(delay, jitter time.Duration) time.Duration {
	if jitter <= 0 {
		return delay
	}
	offset := time.Duration(s.float64()*float64(2*jitter+1)) - jitter
	return max(delay+offset, 0)
}

// Decision is a rule that fired for a request, with what it will do.
type Decision struct {
	// Rule is the rule that fired.
	Rule workspace.Fault
	// Delay is how long this request waits, jitter included.
	Delay time.Duration
	// Remaining is how many more times the rule fires after this one; -1
	// when it has no limit.
	Remaining int
	// At is when the rule fired.
	At time.Time

	entry  *Entry
	locale string
	engine *Engine
}

// Match returns the decision of the first enabled, armed rule for
// endpoint whose condition holds for r and body and whose probability
// roll passes, or nil when no rule fires. The rule's hit is used up.
// body is the request body, or nil when no condition reads it; r.Body is
// not read. A rule for [AnyEndpoint] does not match the empty endpoint.
//
// A condition that fails to evaluate does not hold; its error is returned
// (joined with any others) alongside the decision of a later rule, so the
// caller can tell why a rule did not fire.
func (e *Engine) Match(r *http.Request, endpoint string, body []byte) (*Decision, error) {
	set := e.set.Load()
	if len(set.rules) == 0 {
		return nil, nil
	}
	var act *activation
	var errs []error
	for i := range set.rules {
		c := &set.rules[i]
		if !c.candidate(endpoint) {
			continue
		}
		if c.cond != nil {
			if act == nil {
				act = &activation{r: r, body: body, needs: set.needs}
			}
			ok, err := c.cond.eval(act)
			if err != nil {
				errs = append(errs, fmt.Errorf("fault rule %q: when: %w", ruleLabel(c.fault), err))
			}
			if !ok {
				continue
			}
		}
		if !c.state.roll(c.fault.Probability) {
			continue
		}
		left, ok := c.state.take()
		if !ok {
			// A concurrent request took the last hit.
			continue
		}
		return e.decide(c, r, body, left), errors.Join(errs...)
	}
	return nil, errors.Join(errs...)
}

// decide builds the decision of a rule that fired.
func (e *Engine) decide(c *compiledRule, r *http.Request, body []byte, left int64) *Decision {
	d := &Decision{
		Rule:      c.fault,
		Delay:     c.state.jitter(time.Duration(c.fault.DelayMS)*time.Millisecond, time.Duration(c.fault.JitterMS)*time.Millisecond),
		Remaining: int(left),
		At:        e.now(),
		entry:     c.entry,
		engine:    e,
	}
	if c.entry != nil && len(c.entry.Messages) > 0 {
		d.locale = requestLocale(r, body)
	}
	return d
}

// ruleLabel names a rule in messages.
func ruleLabel(f workspace.Fault) string {
	if f.Name != "" {
		return f.Name
	}
	return f.ID
}
