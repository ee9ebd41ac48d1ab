package capture

import (
	"encoding/json"
	"slices"
	"strconv"
	"sync"

	"regsandbox/mockserver/workspace"
)

// flowDocJSON is a flow localized for one locale, as the mobile SDKs
// download it to learn the fields of each form.
type flowDocJSON struct {
	Version string                  `json:"version"`
	Locale  string                  `json:"locale"`
	Fields  map[string]fieldDocJSON `json:"fields"`
	Forms   map[string]formDocJSON  `json:"forms"`
}

type fieldDocJSON struct {
	Name        string        `json:"name"`
	Type        string        `json:"type"`
	Label       string        `json:"label,omitempty"`
	Placeholder string        `json:"placeholder,omitempty"`
	SchemaID    string        `json:"schemaId,omitempty"`
	Options     []string      `json:"options,omitempty"`
	Validation  []ruleDocJSON `json:"validation"`
}

type ruleDocJSON struct {
	Rule    string `json:"rule"`
	Value   any    `json:"value"`
	Message string `json:"message"`
}

type formDocJSON struct {
	Fields []formFieldJSON `json:"fields"`
}

type formFieldJSON struct {
	Name     string `json:"name"`
	Required bool   `json:"required"`
}

func flowDoc(flow *workspace.Flow, version, locale string) flowDocJSON {
	doc := flowDocJSON{Version: version, Locale: locale,
		Fields: map[string]fieldDocJSON{}, Forms: map[string]formDocJSON{}}
	for _, f := range flow.Fields {
		fd := fieldDocJSON{Name: f.Name, Type: f.Type, SchemaID: f.Attribute, Options: f.Options,
			Label: workspace.Localized(f.Label, locale), Placeholder: workspace.Localized(f.Placeholder, locale),
			Validation: []ruleDocJSON{}}
		for _, v := range f.Validations {
			fd.Validation = append(fd.Validation, ruleDocJSON{Rule: v.Rule, Value: ruleValue(v),
				Message: workspace.Localized(v.Messages, locale)})
		}
		doc.Fields[f.Name] = fd
	}
	for _, form := range flow.Forms {
		fd := formDocJSON{Fields: []formFieldJSON{}}
		for _, name := range form.Fields {
			field, _ := flow.Field(name)
			required := slices.ContainsFunc(field.Validations, func(v workspace.Validation) bool {
				return v.Rule == workspace.RuleRequired
			})
			fd.Fields = append(fd.Fields, formFieldJSON{Name: name, Required: required})
		}
		doc.Forms[form.Name] = fd
	}
	return doc
}

// ruleValue writes numbers as numbers and rules without a value as true,
// as flow documents do.
func ruleValue(v workspace.Validation) any {
	if v.Value == "" {
		return true
	}
	if n, err := strconv.Atoi(v.Value); err == nil {
		return n
	}
	return v.Value
}

// flowDocCache keeps the encoded flow documents of one workspace: the
// mobile SDKs download them on every start, and they change only with the
// workspace.
type flowDocCache struct {
	mu   sync.Mutex
	ws   *workspace.Workspace
	docs map[[3]string]json.RawMessage
}

// get returns the encoded document, building it on first use; a new
// workspace snapshot empties the cache.
func (c *flowDocCache) get(ws *workspace.Workspace, flow *workspace.Flow, version, locale string) (any, *Error) {
	key := [3]string{flow.Name, version, locale}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ws != ws {
		c.ws, c.docs = ws, map[[3]string]json.RawMessage{}
	}
	if raw, ok := c.docs[key]; ok {
		return raw, nil
	}
	raw, err := json.Marshal(flowDoc(flow, version, locale))
	if err != nil {
		return nil, errUnexpected("could not encode the flow")
	}
	c.docs[key] = raw
	return json.RawMessage(raw), nil
}
