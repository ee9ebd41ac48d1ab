package capture

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"unicode/utf8"

	"regsandbox/mockserver/workspace"
	"regsandbox/storage"
)

// Required parameters of each endpoint, in the order Capture reports them.
var (
	requiredRegisterTraditional = []string{pClientID, pFlow, pFlowVersion, pLocale, pRedirectURI, pForm}
	requiredRegisterNative      = []string{pClientID, pFlow, pFlowVersion, pLocale, pRedirectURI, pToken, pForm}
	requiredAuthNative          = []string{pClientID, pFlow, pFlowVersion, pLocale, pRedirectURI, pToken}
	requiredAuthTraditional     = []string{pClientID, pFlow, pFlowVersion, pLocale, pRedirectURI, pForm}
)

// bodyParams reads the url-encoded body; the registration calls ignore
// the query string, as documented.
func bodyParams(r *http.Request) (url.Values, *Error) {
	if err := r.ParseForm(); err != nil {
		return nil, errUnreadable(err)
	}
	return r.PostForm, checkUTF8(r.PostForm)
}

// checkUTF8 refuses parameters that are not valid UTF-8 once decoded
// (a raw byte or an escape such as %FF): stored as they are, they would
// come back altered in every JSON answer, and a user would be registered
// under an e-mail address nobody can type.
func checkUTF8(params url.Values) *Error {
	for name, values := range params {
		if !utf8.ValidString(name) {
			return errInvalidArgument("", "a parameter name is not valid UTF-8")
		}
		for _, v := range values {
			if !utf8.ValidString(v) {
				return errInvalidArgument(name, "the value of '"+name+"' is not valid UTF-8")
			}
		}
	}
	return nil
}

// errUnreadable answers a body that cannot be parsed: 413 when it is too
// large, otherwise the invalid_argument Capture gives malformed input.
func errUnreadable(err error) *Error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return &Error{Code: 200, Name: "invalid_argument", HTTPStatus: http.StatusRequestEntityTooLarge,
			Description: fmt.Sprintf("the request body is larger than %d bytes", tooLarge.Limit)}
	}
	return errInvalidArgument("", "the request is not a valid url-encoded form: "+err.Error())
}

// allParams reads body and query string together: the iOS SDK sends
// auth_native's parameters in the query string with an empty body.
func allParams(r *http.Request) (url.Values, *Error) {
	if err := r.ParseForm(); err != nil {
		return nil, errUnreadable(err)
	}
	return r.Form, checkUTF8(r.Form)
}

// registerTraditional is POST /oauth/register_native_traditional.
func (b *Backend) registerTraditional(r *http.Request, ws *workspace.Workspace) (any, *Error) {
	params, e := bodyParams(r)
	if e != nil {
		return nil, e
	}
	c, e := begin(ws, params, requiredRegisterTraditional, pForm)
	if e != nil {
		return nil, e
	}
	u, tokens, e := b.register(ws, c, b.readForm(c), nil)
	if e != nil {
		return nil, e
	}
	return answerFor(u, tokens, nil), nil
}

// registerNative is POST /oauth/register_native: social registration with
// a token that auth_native has already seen.
func (b *Backend) registerNative(r *http.Request, ws *workspace.Workspace) (any, *Error) {
	params, e := bodyParams(r)
	if e != nil {
		return nil, e
	}
	c, e := begin(ws, params, requiredRegisterNative, pForm)
	if e != nil {
		return nil, e
	}
	var social *socialState
	err := b.db.View(func(tx *storage.Tx) error {
		var err error
		social, err = socialToken(tx, ws, params.Get(pToken))
		return err
	})
	if err != nil {
		return nil, errUnexpected(err.Error())
	}
	if social == nil || !social.SeenByAuthNative || social.RegisteredUUID != "" {
		return nil, errInvalidToken()
	}
	u, tokens, e := b.register(ws, c, b.readForm(c), social)
	if e != nil {
		return nil, e
	}
	return answerFor(u, tokens, ptr(true)), nil
}

// register validates a submission completely and creates the user with
// its tokens, linking the social identity when there is one.
func (b *Backend) register(ws *workspace.Workspace, c *call, s *submission, social *socialState) (*User, issued, *Error) {
	if len(s.invalid) > 0 {
		// Report taken values together with the other failures.
		var taken map[string][]string
		if err := b.db.View(func(tx *storage.Tx) (err error) { taken, err = s.takenValues(tx, c); return }); err != nil {
			return nil, issued{}, errUnexpected(err.Error())
		}
		return nil, issued{}, errInvalidFields(s.failures(taken))
	}
	nu := newUser{attributes: s.attributes, unique: uniqueAttributes(s.unique)}
	if s.password != "" {
		hash, err := hashPassword(s.password, b.iterations)
		if err != nil {
			return nil, issued{}, errUnexpected(err.Error())
		}
		nu.passwordHash = hash
	}
	if social != nil {
		nu.attributes = profileAttributes(social.SocialToken)
		maps.Copy(nu.attributes, s.attributes)
		nu.profile = &Profile{Provider: social.Provider, Identifier: social.Identifier}
	}
	return b.create(ws, c, s, nu, social)
}

// uniqueAttributes adds email to the attributes a form makes unique:
// Capture never lets two records share an e-mail address, and sign-in
// finds users through that index.
func uniqueAttributes(fromRules []string) []string {
	if slices.Contains(fromRules, "email") {
		return fromRules
	}
	return append(slices.Clone(fromRules), "email")
}

// errFieldsTaken carries the 390 answer out of a transaction.
type errFieldsTaken struct{ e *Error }

func (errFieldsTaken) Error() string { return "unique values taken" }

func (b *Backend) create(ws *workspace.Workspace, c *call, s *submission, nu newUser, social *socialState) (*User, issued, *Error) {
	var u *User
	var tokens issued
	err := b.db.Update(func(tx *storage.Tx) error {
		taken, err := s.takenValues(tx, c)
		if err != nil {
			return err
		}
		if len(taken) > 0 {
			return errFieldsTaken{errInvalidFields(s.failures(taken))}
		}
		if u, err = b.insertUser(tx, nu); err != nil {
			return err
		}
		if social != nil {
			st := *social
			st.SeenByAuthNative, st.RegisteredUUID = true, u.UUID
			if err := tx.Put(keySocial+st.Token, st); err != nil {
				return err
			}
		}
		tokens, err = b.issue(tx, ws, u, c)
		return err
	})
	var taken errFieldsTaken
	switch {
	case errors.As(err, &taken):
		return nil, issued{}, taken.e
	case errors.Is(err, errTaken) && social != nil:
		// The identity registered meanwhile through another token.
		return nil, issued{}, errInvalidToken()
	case errors.Is(err, errTaken):
		return nil, issued{}, errInvalidFields(emailTaken(c))
	case err != nil:
		return nil, issued{}, errUnexpected(err.Error())
	}
	return u, tokens, nil
}

// emailTaken is the 390 answer for an e-mail address that is taken when
// the form has no unique rule of its own on it: the message goes to the
// form's e-mail field.
func emailTaken(c *call) map[string][]string {
	field := "emailAddress"
	for _, name := range c.form.Fields {
		if f, _ := c.flow.Field(name); f.Attribute == "email" {
			field = name
		}
	}
	return map[string][]string{field: {c.message(workspace.MessageEmailInUse, "Email address is already in use.")}}
}
