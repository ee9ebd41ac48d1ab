// Package workspace defines RegSandbox's configuration as data: the Capture
// application (clients, flows, forms, fields, validation rules and their
// localized messages), the Onegini identity providers with their scripts and
// clients, and the fault rules. A workspace is one JSON document that users
// import, export and keep in git; a new field or message never needs a
// recompilation.
//
// A *Workspace handed out by the server is a snapshot: treat it as
// read-only and use [Workspace.Clone] before changing it.
package workspace

import (
	"encoding/json"
)

// Workspace is the whole configuration of a RegSandbox instance.
type Workspace struct {
	Name     string   `json:"name,omitempty"`
	Capture  Capture  `json:"capture"`
	Onegini  Onegini  `json:"onegini"`
	Faults   []Fault  `json:"faults"`
	Settings Settings `json:"settings"`
}

// Settings tunes the server itself.
type Settings struct {
	// RecordLimit is how many exchanges the inspector keeps; the oldest go
	// first.
	RecordLimit int `json:"record_limit,omitempty"`
	// RecordMaxAgeMinutes drops exchanges older than this.
	RecordMaxAgeMinutes int `json:"record_max_age_minutes,omitempty"`
	// MaxBodyBytes bounds request bodies; larger ones answer 413.
	MaxBodyBytes int64 `json:"max_body_bytes,omitempty"`
}

// Capture is the Janrain / Akamai Identity Cloud registration application.
type Capture struct {
	AppID string `json:"app_id"`
	// AccessTokenSeconds is the lifetime of access tokens (3600 in
	// production).
	AccessTokenSeconds int             `json:"access_token_seconds,omitempty"`
	Clients            []CaptureClient `json:"clients"`
	Flows              []Flow          `json:"flows"`
	// SocialTokens are Social Login tokens valid from the start, each with
	// the profile the identity provider would return.
	SocialTokens []SocialToken `json:"social_tokens,omitempty"`
}

// Capture client features.
const (
	FeatureLoginClient = "login_client"
)

// CaptureClient is an API client of the Capture application.
type CaptureClient struct {
	ID          string   `json:"id"`
	Secret      string   `json:"secret"`
	Description string   `json:"description,omitempty"`
	Features    []string `json:"features"`
	// DefaultFlowName and DefaultFlowVersion make flow and flow_version
	// optional for this client.
	DefaultFlowName    string `json:"default_flow_name,omitempty"`
	DefaultFlowVersion string `json:"default_flow_version,omitempty"`
}

// HasFeature reports whether the client has the named feature.
func (c CaptureClient) HasFeature(name string) bool {
	for _, f := range c.Features {
		if f == name {
			return true
		}
	}
	return false
}

// Flow is a registration flow: its versions and locales share one set of
// fields and forms.
type Flow struct {
	Name     string   `json:"name"`
	Versions []string `json:"versions"`
	Locales  []string `json:"locales"`
	Fields   []Field  `json:"fields"`
	Forms    []Form   `json:"forms"`
	// Messages are the flow's other localized texts, by id (see
	// [MessageInvalidCredentials]).
	Messages map[string]map[string]string `json:"messages,omitempty"`
}

// Ids of flow messages that belong to no single validation rule.
const (
	MessageInvalidCredentials = "invalid_credentials"
	MessageInvalidDate        = "invalid_date"
	MessageInvalidOption      = "invalid_option"
	MessageEmailInUse         = "email_in_use"
)

// Form is a named list of fields, such as registrationForm.
type Form struct {
	Name   string   `json:"name"`
	Fields []string `json:"fields"`
}

// Field types.
const (
	FieldText       = "text"
	FieldEmail      = "email"
	FieldPassword   = "password"
	FieldDateSelect = "dateselect"
	FieldSelect     = "select"
	FieldCheckbox   = "checkbox"
)

// Field is one input of a form, bound to an attribute of the user record.
type Field struct {
	Name string `json:"name"`
	Type string `json:"type"`
	// Attribute is the user-record attribute the value is stored in
	// (email, givenName, birthday, password, ...); empty for inputs that
	// are only checked, such as a password confirmation.
	Attribute   string            `json:"attribute,omitempty"`
	Label       map[string]string `json:"label,omitempty"`
	Placeholder map[string]string `json:"placeholder,omitempty"`
	Options     []string          `json:"options,omitempty"`
	Validations []Validation      `json:"validations,omitempty"`
}

// Validation rules a field can carry.
const (
	RuleRequired  = "required"
	RuleMatch     = "match"
	RuleFormat    = "format"
	RuleMinLength = "minLength"
	RuleMaxLength = "maxLength"
	RuleUnique    = "unique"
	RuleMinYears  = "minYears"
)

// Validation is one rule on a field with its message per locale.
//
// Value depends on the rule: the other field's name for match, "email" or
// a regular expression for format, a number for minLength, maxLength and
// minYears; it is empty for required and unique.
type Validation struct {
	Rule     string            `json:"rule"`
	Value    string            `json:"value,omitempty"`
	Messages map[string]string `json:"messages"`
}

// SocialToken is a Social Login token with the profile behind it.
type SocialToken struct {
	Token       string `json:"token"`
	Provider    string `json:"provider"`
	Identifier  string `json:"identifier"`
	Email       string `json:"email"`
	FirstName   string `json:"firstName"`
	LastName    string `json:"lastName"`
	DisplayName string `json:"displayName"`
}

// Onegini is the OneWelcome (Onegini) Token Server's custom registration.
type Onegini struct {
	// Issuer is the iss claim of the id_tokens it signs.
	Issuer     string          `json:"issuer,omitempty"`
	IdPs       []IdP           `json:"idps"`
	APIClients []OneginiClient `json:"api_clients"`
	AppClients []OneginiClient `json:"app_clients"`
	// AccessTokenSeconds is the lifetime of the oauth_token of complete.
	AccessTokenSeconds int `json:"access_token_seconds,omitempty"`
}

// ScopeUserRegistration is the API client scope the backchannel requires.
const ScopeUserRegistration = "user_registration"

// OneginiClient is an API client (server to server) or an app client (the
// mobile SDK).
type OneginiClient struct {
	ID     string   `json:"id"`
	Secret string   `json:"secret"`
	Scopes []string `json:"scopes"`
}

// HasScope reports whether the client holds the scope.
func (c OneginiClient) HasScope(scope string) bool {
	for _, s := range c.Scopes {
		if s == scope {
			return true
		}
	}
	return false
}

// IdP is a custom-registration identity provider and its scripts.
type IdP struct {
	ID      string `json:"id"`
	Name    string `json:"name,omitempty"`
	Enabled bool   `json:"enabled"`
	// TwoStep IdPs run init before complete; one-step IdPs only complete.
	TwoStep bool    `json:"two_step"`
	Scripts Scripts `json:"scripts"`
}

// Scripts are the CEL sources of an IdP, one per slot.
type Scripts struct {
	Init        string `json:"init,omitempty"`
	Complete    string `json:"complete,omitempty"`
	Backchannel string `json:"backchannel,omitempty"`
}

// Fault is a rule that makes the mock misbehave on purpose. The JSON names
// are part of RegSandbox's contract.
type Fault struct {
	ID          string            `json:"id"`
	Name        string            `json:"name,omitempty"`
	Endpoint    string            `json:"endpoint"`
	When        string            `json:"when,omitempty"`
	Error       string            `json:"error,omitempty"`
	Status      int               `json:"status,omitempty"`
	Headers     map[string]string `json:"headers,omitempty"`
	Body        string            `json:"body,omitempty"`
	DelayMS     int               `json:"delay_ms,omitempty"`
	JitterMS    int               `json:"jitter_ms,omitempty"`
	Drop        bool              `json:"drop,omitempty"`
	Malformed   bool              `json:"malformed,omitempty"`
	Hang        bool              `json:"hang,omitempty"`
	Probability float64           `json:"probability,omitempty"`
	Seed        int64             `json:"seed,omitempty"`
	Times       int               `json:"times,omitempty"`
	Enabled     bool              `json:"enabled"`
}

// Parse decodes a workspace document and validates it.
func Parse(raw []byte) (*Workspace, error) {
	var ws Workspace
	dec := json.NewDecoder(bytesReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ws); err != nil {
		return nil, &ValidationError{Problems: []string{"not a workspace document: " + err.Error()}}
	}
	ws.applyDefaults()
	if err := ws.Validate(); err != nil {
		return nil, err
	}
	return &ws, nil
}

// Clone returns a deep copy that can be changed freely.
func (ws *Workspace) Clone() *Workspace {
	raw, err := json.Marshal(ws)
	if err != nil {
		panic("workspace: cannot encode itself: " + err.Error())
	}
	var out Workspace
	if err := json.Unmarshal(raw, &out); err != nil {
		panic("workspace: cannot decode itself: " + err.Error())
	}
	return &out
}

// Defaults used when a document leaves a setting out.
const (
	DefaultAccessTokenSeconds = 3600
	DefaultRecordLimit        = 100_000
	DefaultRecordMaxAge       = 7 * 24 * 60
	DefaultMaxBodyBytes       = 1 << 20
)

func (ws *Workspace) applyDefaults() {
	if ws.Capture.AccessTokenSeconds == 0 {
		ws.Capture.AccessTokenSeconds = DefaultAccessTokenSeconds
	}
	if ws.Onegini.AccessTokenSeconds == 0 {
		ws.Onegini.AccessTokenSeconds = DefaultAccessTokenSeconds
	}
	if ws.Settings.RecordLimit == 0 {
		ws.Settings.RecordLimit = DefaultRecordLimit
	}
	if ws.Settings.RecordMaxAgeMinutes == 0 {
		ws.Settings.RecordMaxAgeMinutes = DefaultRecordMaxAge
	}
	if ws.Settings.MaxBodyBytes == 0 {
		ws.Settings.MaxBodyBytes = DefaultMaxBodyBytes
	}
}
