package workspace_test

import (
	"errors"
	"strings"
	"testing"

	"regsandbox/fixtures"
	"regsandbox/mockserver/workspace"
)

func TestDefaultWorkspaceIsValid(t *testing.T) {
	t.Parallel()
	ws, err := workspace.Parse(fixtures.DefaultWorkspace)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := ws.Capture.Client("12345abcde12345abcde12345abcde12"); !ok {
		t.Error("seed client missing")
	}
	if ws.Settings.MaxBodyBytes != workspace.DefaultMaxBodyBytes {
		t.Errorf("max body = %d", ws.Settings.MaxBodyBytes)
	}
}

func TestValidationListsEveryProblem(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		mutate  func(ws *workspace.Workspace)
		problem string
	}{
		{"unknown rule", func(ws *workspace.Workspace) { ws.Capture.Flows[0].Fields[0].Validations[0].Rule = "sameAs" }, `unknown rule "sameAs"`},
		{"bad regexp", func(ws *workspace.Workspace) {
			ws.Capture.Flows[0].Fields[0].Validations[1].Value = "([a-z"
		}, "not email nor a valid regular expression"},
		{"length not a number", func(ws *workspace.Workspace) { ws.Capture.Flows[0].Fields[1].Validations[1].Value = "eight" }, "minLength needs a non-negative number"},
		{"form uses unknown field", func(ws *workspace.Workspace) {
			ws.Capture.Flows[0].Forms[0].Fields = append(ws.Capture.Flows[0].Forms[0].Fields, "ghost")
		}, `uses field "ghost"`},
		{"duplicate client", func(ws *workspace.Workspace) {
			ws.Capture.Clients = append(ws.Capture.Clients, ws.Capture.Clients[0])
		}, "appears twice"},
		{"match unknown field", func(ws *workspace.Workspace) {
			ws.Capture.Flows[0].Fields[2].Validations[1].Value = "nothing"
		}, `match refers to unknown field "nothing"`},
		{"fault without endpoint", func(ws *workspace.Workspace) { ws.Faults = []workspace.Fault{{ID: "f"}} }, "endpoint is empty"},
		{"fault bad probability", func(ws *workspace.Workspace) {
			ws.Faults = []workspace.Fault{{ID: "f", Endpoint: "*", Probability: 2}}
		}, "probability"},
		{"duplicate idp", func(ws *workspace.Workspace) { ws.Onegini.IdPs = append(ws.Onegini.IdPs, ws.Onegini.IdPs[0]) }, "appears twice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ws, _ := workspace.Parse(fixtures.DefaultWorkspace)
			tc.mutate(ws)
			err := ws.Validate()
			var invalid *workspace.ValidationError
			if !errors.As(err, &invalid) || !strings.Contains(err.Error(), tc.problem) {
				t.Errorf("Validate() = %v, want a problem containing %q", err, tc.problem)
			}
		})
	}
}

func TestParseRefusesUnknownKeys(t *testing.T) {
	t.Parallel()
	_, err := workspace.Parse([]byte(`{"capture":{"app_id":"x","clients":[],"flows":[]},"onegini":{},"nonsense":1}`))
	if err == nil || !strings.Contains(err.Error(), "nonsense") {
		t.Errorf("err = %v", err)
	}
}

func TestCloneIsDeep(t *testing.T) {
	t.Parallel()
	ws, _ := workspace.Parse(fixtures.DefaultWorkspace)
	c := ws.Clone()
	c.Capture.Flows[0].Fields[0].Validations[0].Messages["en-US"] = "changed"
	if ws.Capture.Flows[0].Fields[0].Validations[0].Messages["en-US"] == "changed" {
		t.Error("Clone shares maps with the original")
	}
}

func TestLocalized(t *testing.T) {
	t.Parallel()
	texts := map[string]string{"en-US": "Hello", "fr-FR": "Bonjour"}
	for locale, want := range map[string]string{"fr-FR": "Bonjour", "de-DE": "Hello", "en-US": "Hello"} {
		if got := workspace.Localized(texts, locale); got != want {
			t.Errorf("Localized(%s) = %q, want %q", locale, got, want)
		}
	}
}
