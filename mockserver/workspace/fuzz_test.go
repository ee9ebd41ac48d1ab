package workspace_test

import (
	"testing"

	"regsandbox/fixtures"
	"regsandbox/mockserver/workspace"
)

// FuzzParse feeds arbitrary documents to the importer: it either refuses
// them or returns a workspace that validates and survives a round trip.
func FuzzParse(f *testing.F) {
	f.Add(string(fixtures.DefaultWorkspace))
	f.Add(`{"capture":{"app_id":"a","clients":[],"flows":[{"name":"f","versions":["1"],"locales":["en-US"],"fields":[],"forms":[]}]},"onegini":{"idps":[],"api_clients":[],"app_clients":[]},"faults":[]}`)
	f.Add(`{"faults":[{"endpoint":"*","probability":1e309}]}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, doc string) {
		ws, err := workspace.Parse([]byte(doc))
		if err != nil {
			return
		}
		if err := ws.Validate(); err != nil {
			t.Fatalf("Parse accepted an invalid workspace: %v", err)
		}
		if ws.Clone() == nil {
			t.Fatal("Clone returned nil")
		}
	})
}
