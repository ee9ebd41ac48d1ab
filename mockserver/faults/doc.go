// Package faults makes the mocked back ends misbehave on purpose: it holds
// the catalogue of every documented error of Capture and Onegini (with the
// exact JSON each one answers) and the engine that evaluates the fault rules
// of the workspace against live requests.
//
// # Rules
//
// A rule ([workspace.Fault]) targets one endpoint id (see [Endpoints]) or
// "*", may carry a CEL condition in When, and says what happens when it
// fires. Rules are tried in order; the first enabled, armed rule whose
// endpoint, condition and probability roll all match fires, and only it.
//
// What a rule does, checked when it is saved (see [Engine.Check]):
//
//   - Error names a catalogue entry (see [Lookup]); it is answered with a
//     fresh request_id. Status, when set, replaces the entry's HTTP status.
//   - Status, Headers and Body form a custom answer instead (status 200 when
//     only a body is given).
//   - Malformed answers a cut-off JSON document with the status and content
//     type the endpoint normally uses, as if the connection had broken.
//   - Drop closes the connection without answering (a TCP reset).
//   - Hang holds the request until the client gives up.
//   - DelayMS ± JitterMS waits first; a rule that only delays lets the real
//     back end answer afterwards.
//
// Drop, Hang, Malformed, Error and Body exclude one another. Probability (0
// means always) is rolled with a generator seeded by Seed, so a seeded rule
// fires in the same sequence every time it is armed. Times > 0 disarms the
// rule after that many hits; the counts are runtime state kept by the
// [Engine], not part of the workspace.
//
// # Conditions
//
// When is a CEL expression over one variable, request, that must evaluate
// to a bool:
//
//	request.method    string               "POST"
//	request.path      string               "/oauth/register_native"
//	request.headers   map(string, string)  lowercase names, first value; includes "host"
//	request.query     map(string, string)  first value of each query parameter
//	request.form      map(string, string)  the url-encoded body, first values
//	request.json      dyn                  the JSON body decoded, or null
//	request.body      string               the raw body
//
// For example:
//
//	request.form.emailAddress == "fail@example.com"
//	request.json.data.contains("fail") && request.headers["user-agent"].startsWith("okhttp")
//
// A condition that reads a key the request does not have (a form field that
// was not sent) does not hold; it is not an error. Conditions may use the
// CEL strings extension and optional values (request.form.?locale.orValue("en-US")).
package faults
