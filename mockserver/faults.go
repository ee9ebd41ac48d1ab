package mockserver

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/google/uuid"

	"regsandbox/mockserver/faults"
	"regsandbox/mockserver/workspace"
)

// FaultState is a fault rule with its runtime state.
type FaultState struct {
	workspace.Fault
	// Remaining is how many more times the rule fires: -1 without limit,
	// 0 once a limited rule is used up (disarmed).
	Remaining int `json:"remaining"`
}

// Endpoints lists the endpoint ids fault rules and filters can name.
func Endpoints() []string { return faults.Endpoints() }

// ErrorCatalogue lists every documented error of both back ends with its
// exact answer.
func ErrorCatalogue() []faults.Entry { return faults.Catalogue() }

// Faults lists the fault rules in the order they are tried.
func (s *Server) Faults() []FaultState {
	rules := s.Workspace().Faults
	out := make([]FaultState, 0, len(rules))
	for _, f := range rules {
		out = append(out, FaultState{Fault: f, Remaining: s.faults.Remaining(f.ID)})
	}
	return out
}

// AddFault appends a rule (an id is given when it has none) and returns
// it as stored.
func (s *Server) AddFault(rule workspace.Fault) (FaultState, error) {
	if rule.ID == "" {
		rule.ID = newFaultID()
	}
	err := s.editFaults(func(rules []workspace.Fault) ([]workspace.Fault, error) {
		if slices.ContainsFunc(rules, func(f workspace.Fault) bool { return f.ID == rule.ID }) {
			return nil, &workspace.ValidationError{Problems: []string{fmt.Sprintf("a fault rule with id %q exists already", rule.ID)}}
		}
		return append(rules, rule), nil
	})
	return FaultState{Fault: rule, Remaining: s.faults.Remaining(rule.ID)}, err
}

// UpdateFault replaces the rule with the given id; a changed rule is
// armed again.
func (s *Server) UpdateFault(id string, rule workspace.Fault) (FaultState, error) {
	rule.ID = id
	err := s.editFaults(func(rules []workspace.Fault) ([]workspace.Fault, error) {
		i := slices.IndexFunc(rules, func(f workspace.Fault) bool { return f.ID == id })
		if i < 0 {
			return nil, fmt.Errorf("%w: no fault rule %q", ErrNotFound, id)
		}
		rules[i] = rule
		return rules, nil
	})
	if err == nil {
		s.faults.Rearm(id)
	}
	return FaultState{Fault: rule, Remaining: s.faults.Remaining(id)}, err
}

// DeleteFault removes the rule with the given id.
func (s *Server) DeleteFault(id string) error {
	return s.editFaults(func(rules []workspace.Fault) ([]workspace.Fault, error) {
		i := slices.IndexFunc(rules, func(f workspace.Fault) bool { return f.ID == id })
		if i < 0 {
			return nil, fmt.Errorf("%w: no fault rule %q", ErrNotFound, id)
		}
		return slices.Delete(rules, i, i+1), nil
	})
}

// MoveFault moves the rule with the given id to position index: rules
// are tried in order and the first that matches answers.
func (s *Server) MoveFault(id string, index int) error {
	return s.editFaults(func(rules []workspace.Fault) ([]workspace.Fault, error) {
		i := slices.IndexFunc(rules, func(f workspace.Fault) bool { return f.ID == id })
		if i < 0 {
			return nil, fmt.Errorf("%w: no fault rule %q", ErrNotFound, id)
		}
		rule := rules[i]
		rules = slices.Delete(rules, i, i+1)
		index = max(0, min(index, len(rules)))
		return slices.Insert(rules, index, rule), nil
	})
}

// RearmFault gives a used-up rule its count of hits back.
func (s *Server) RearmFault(id string) bool { return s.faults.Rearm(id) }

// FailNext arms a rule that answers the next call to endpoint with the
// catalogue error errorID, once: the gallery's one-click action.
func (s *Server) FailNext(endpoint, errorID string) (FaultState, error) {
	entry, ok := faults.Lookup(errorID)
	if !ok {
		return FaultState{}, fmt.Errorf("%w: no error %q in the catalogue", ErrNotFound, errorID)
	}
	return s.AddFault(workspace.Fault{Name: "Next " + endpoint + " fails with " + entry.Name,
		Endpoint: endpoint, Error: errorID, Times: 1, Enabled: true})
}

// PreviewFault returns exactly what rule would answer on endpoint.
func (s *Server) PreviewFault(rule workspace.Fault, endpoint string) (int, http.Header, []byte, error) {
	if err := s.faults.Check(rule); err != nil {
		return 0, nil, nil, err
	}
	return faults.Preview(rule, endpoint)
}

func (s *Server) editFaults(change func([]workspace.Fault) ([]workspace.Fault, error)) error {
	s.faultsMu.Lock()
	defer s.faultsMu.Unlock()
	ws := s.Workspace().Clone()
	rules, err := change(ws.Faults)
	if err != nil {
		return err
	}
	ws.Faults = rules
	return s.SetWorkspace(ws)
}

// checkFaults compiles every rule's condition and checks its answer.
func (s *Server) checkFaults(ws *workspace.Workspace) error {
	var problems []string
	for _, f := range ws.Faults {
		if err := s.faults.Check(f); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if len(problems) > 0 {
		return &workspace.ValidationError{Problems: problems}
	}
	return nil
}

// newFaultID is a short id that is easy to read in the window and logs.
func newFaultID() string { return uuid.NewString()[:8] }
