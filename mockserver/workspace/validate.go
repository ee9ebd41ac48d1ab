package workspace

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// ValidationError lists every problem of a workspace document, so a user
// fixing an import sees them all at once.
type ValidationError struct {
	Problems []string
}

func (e *ValidationError) Error() string {
	return "invalid workspace: " + strings.Join(e.Problems, "; ")
}

type problems []string

func (p *problems) addf(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

// Validate checks the structure of the workspace: unique names, references
// between forms and fields, rule values. Scripts and fault conditions are
// compiled by the server, which owns the engines.
func (ws *Workspace) Validate() error {
	var p problems
	ws.Capture.validate(&p)
	ws.Onegini.validate(&p)
	validateFaults(ws.Faults, &p)
	if len(p) > 0 {
		return &ValidationError{Problems: p}
	}
	return nil
}

func (c *Capture) validate(p *problems) {
	if c.AppID == "" {
		p.addf("capture.app_id is empty")
	}
	seen := map[string]bool{}
	for i, cl := range c.Clients {
		if cl.ID == "" {
			p.addf("capture.clients[%d].id is empty", i)
		}
		if seen[cl.ID] {
			p.addf("capture.clients: %q appears twice", cl.ID)
		}
		seen[cl.ID] = true
		if cl.DefaultFlowName != "" {
			if _, ok := c.Flow(cl.DefaultFlowName); !ok {
				p.addf("capture.clients[%s].default_flow_name %q is not a flow", cl.ID, cl.DefaultFlowName)
			}
		}
	}
	flows := map[string]bool{}
	for i := range c.Flows {
		f := &c.Flows[i]
		if f.Name == "" || flows[f.Name] {
			p.addf("capture.flows[%d]: name %q is empty or appears twice", i, f.Name)
		}
		flows[f.Name] = true
		f.validate(p)
	}
	tokens := map[string]bool{}
	for i, st := range c.SocialTokens {
		if st.Token == "" || tokens[st.Token] {
			p.addf("capture.social_tokens[%d]: token is empty or appears twice", i)
		}
		tokens[st.Token] = true
		if st.Provider == "" || st.Identifier == "" {
			p.addf("capture.social_tokens[%d]: provider and identifier are required", i)
		}
	}
}

func (f *Flow) validate(p *problems) {
	where := "flow " + f.Name
	if len(f.Versions) == 0 {
		p.addf("%s has no versions", where)
	}
	if len(f.Locales) == 0 {
		p.addf("%s has no locales", where)
	}
	fields := map[string]bool{}
	for _, fd := range f.Fields {
		if fd.Name == "" || fields[fd.Name] {
			p.addf("%s: field name %q is empty or appears twice", where, fd.Name)
		}
		fields[fd.Name] = true
		fd.validate(where, f, p)
	}
	forms := map[string]bool{}
	for _, fm := range f.Forms {
		if fm.Name == "" || forms[fm.Name] {
			p.addf("%s: form name %q is empty or appears twice", where, fm.Name)
		}
		forms[fm.Name] = true
		for _, name := range fm.Fields {
			if !fields[name] {
				p.addf("%s: form %s uses field %q, which the flow does not define", where, fm.Name, name)
			}
		}
	}
}

var knownTypes = map[string]bool{FieldText: true, FieldEmail: true, FieldPassword: true,
	FieldDateSelect: true, FieldSelect: true, FieldCheckbox: true}

func (fd *Field) validate(where string, f *Flow, p *problems) {
	where += ", field " + fd.Name
	if !knownTypes[fd.Type] {
		p.addf("%s: unknown type %q", where, fd.Type)
	}
	for _, v := range fd.Validations {
		switch v.Rule {
		case RuleRequired, RuleUnique:
		case RuleMatch:
			if _, ok := f.Field(v.Value); !ok {
				p.addf("%s: match refers to unknown field %q", where, v.Value)
			}
		case RuleFormat:
			if v.Value != "email" {
				if _, err := regexp.Compile(v.Value); err != nil {
					p.addf("%s: format %q is not email nor a valid regular expression: %v", where, v.Value, err)
				}
			}
		case RuleMinLength, RuleMaxLength, RuleMinYears:
			if n, err := strconv.Atoi(v.Value); err != nil || n < 0 {
				p.addf("%s: %s needs a non-negative number, got %q", where, v.Rule, v.Value)
			}
		default:
			p.addf("%s: unknown rule %q", where, v.Rule)
		}
		if len(v.Messages) == 0 {
			p.addf("%s: rule %s has no message", where, v.Rule)
		}
	}
}

func (o *Onegini) validate(p *problems) {
	idps := map[string]bool{}
	for i, idp := range o.IdPs {
		if idp.ID == "" || idps[idp.ID] {
			p.addf("onegini.idps[%d]: id %q is empty or appears twice", i, idp.ID)
		}
		idps[idp.ID] = true
	}
	for _, list := range []struct {
		name    string
		clients []OneginiClient
	}{{"api_clients", o.APIClients}, {"app_clients", o.AppClients}} {
		ids := map[string]bool{}
		for i, c := range list.clients {
			if c.ID == "" || ids[c.ID] {
				p.addf("onegini.%s[%d]: id %q is empty or appears twice", list.name, i, c.ID)
			}
			ids[c.ID] = true
		}
	}
}

func validateFaults(faults []Fault, p *problems) {
	ids := map[string]bool{}
	for i, f := range faults {
		if f.ID != "" && ids[f.ID] {
			p.addf("faults[%d]: id %q appears twice", i, f.ID)
		}
		ids[f.ID] = true
		if f.Endpoint == "" {
			p.addf("faults[%d]: endpoint is empty (use \"*\" for every endpoint)", i)
		}
		if f.Probability < 0 || f.Probability > 1 {
			p.addf("faults[%d]: probability must be between 0 and 1", i)
		}
		if f.DelayMS < 0 || f.JitterMS < 0 || f.Times < 0 {
			p.addf("faults[%d]: delay_ms, jitter_ms and times cannot be negative", i)
		}
		if f.Status != 0 && (f.Status < 100 || f.Status > 599) {
			p.addf("faults[%d]: status %d is not an HTTP status", i, f.Status)
		}
	}
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
