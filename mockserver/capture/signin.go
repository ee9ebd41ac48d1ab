package capture

import (
	"errors"
	"net/http"

	"regsandbox/mockserver/workspace"
	"regsandbox/storage"
)

// authNative is POST /oauth/auth_native: social sign-in. A known identity
// signs in; an unknown one answers 310 with the profile as pre-filled
// fields (or registers at once with thin_registration=true); an identity
// whose e-mail address belongs to another account answers 380.
func (b *Backend) authNative(r *http.Request, ws *workspace.Workspace) (any, *Error) {
	params, e := allParams(r)
	if e != nil {
		return nil, e
	}
	c, e := begin(ws, params, requiredAuthNative, "")
	if e != nil {
		return nil, e
	}
	thin := params.Get("thin_registration") == "true"
	var answer any
	var failure *Error
	err := b.db.Update(func(tx *storage.Tx) error {
		var err error
		answer, failure, err = b.socialSignIn(tx, ws, c, thin)
		return err
	})
	switch {
	case errors.Is(err, errTaken):
		return nil, errInvalidToken()
	case err != nil:
		return nil, errUnexpected(err.Error())
	}
	return answer, failure
}

// socialSignIn decides auth_native's answer inside one transaction, so the
// token's state and any new user are written together. A failure answer
// still commits: the token must remember that auth_native saw it.
func (b *Backend) socialSignIn(tx *storage.Tx, ws *workspace.Workspace, c *call, thin bool) (any, *Error, error) {
	st, err := socialToken(tx, ws, c.params.Get(pToken))
	if err != nil || st == nil {
		return nil, errInvalidToken(), err
	}
	u, err := userByIdentity(tx, st.Provider, st.Identifier)
	if err != nil {
		return nil, nil, err
	}
	isNew := false
	if u == nil {
		if st.Email != "" {
			owner, err := userByUnique(tx, "email", st.Email)
			if err != nil {
				return nil, nil, err
			}
			if owner != nil {
				st.SeenByAuthNative = true
				return nil, errEmailInUse(owner), tx.Put(keySocial+st.Token, st)
			}
		}
		if !thin {
			if st.SeenByAuthNative {
				// Nothing to remember: keep the call read-only.
				return nil, errRecordNotFound(c, st.SocialToken), nil
			}
			st.SeenByAuthNative = true
			return nil, errRecordNotFound(c, st.SocialToken), tx.Put(keySocial+st.Token, st)
		}
		nu := newUser{attributes: profileAttributes(st.SocialToken), unique: []string{"email"},
			profile: &Profile{Provider: st.Provider, Identifier: st.Identifier}}
		if u, err = b.insertUser(tx, nu); err != nil {
			return nil, nil, err
		}
		st.SeenByAuthNative, st.RegisteredUUID, isNew = true, u.UUID, true
		if err := tx.Put(keySocial+st.Token, st); err != nil {
			return nil, nil, err
		}
	}
	tokens, err := b.issue(tx, ws, u, c)
	return answerFor(u, tokens, &isNew), nil, err
}

// errRecordNotFound is the 310 answer: the profile mapped onto the fields
// of the registration form, so the app can pre-fill it.
func errRecordNotFound(c *call, profile workspace.SocialToken) *Error {
	attrs := profileAttributes(profile)
	formName := c.params.Get("registration_form")
	if formName == "" {
		formName = "socialRegistrationForm"
	}
	fields := map[string]any{}
	if form, ok := c.flow.Form(formName); ok {
		for _, name := range form.Fields {
			field, _ := c.flow.Field(name)
			if v, ok := attrs[field.Attribute]; ok {
				fields[name] = v
			}
		}
	}
	return &Error{Code: 310, Name: "record_not_found", Description: "user not found",
		Message:      "no user is linked to this social identity yet; register it with /oauth/register_native",
		PreregFields: fields, PreregAttributes: attrs}
}

// errEmailInUse is the 380 answer, naming how the existing account signs in.
func errEmailInUse(owner *User) *Error {
	provider := "capture"
	if owner.PasswordHash == "" && len(owner.Profiles) > 0 {
		provider = owner.Profiles[0].Provider
	}
	return &Error{Code: 380, Name: "email_address_in_use",
		Description: "email address is already in use", ExistingProvider: provider}
}

// authTraditional is POST /oauth/auth_native_traditional: sign in with the
// e-mail address and password of the sign-in form.
func (b *Backend) authTraditional(r *http.Request, ws *workspace.Workspace) (any, *Error) {
	params, e := bodyParams(r)
	if e != nil {
		return nil, e
	}
	c, e := begin(ws, params, requiredAuthTraditional, pForm)
	if e != nil {
		return nil, e
	}
	s := b.readForm(c)
	if len(s.invalid) > 0 {
		return nil, errInvalidFields(s.invalid)
	}
	email, _ := s.attributes["email"].(string)
	var answer any
	err := b.db.Update(func(tx *storage.Tx) error {
		u, err := userByUnique(tx, "email", email)
		if err != nil {
			return err
		}
		if u == nil || u.PasswordHash == "" || !checkPassword(u.PasswordHash, s.password) {
			return errBadCredentials
		}
		tokens, err := b.issue(tx, ws, u, c)
		answer = answerFor(u, tokens, nil)
		return err
	})
	switch {
	case errors.Is(err, errBadCredentials):
		return nil, &Error{Code: 210, Name: "invalid_credentials", Description: "some inputs are invalid",
			InvalidFields: map[string][]string{c.form.Name: {
				c.message(workspace.MessageInvalidCredentials, "Incorrect username or password. Please try again.")}}}
	case err != nil:
		return nil, errUnexpected(err.Error())
	}
	return answer, nil
}

var errBadCredentials = errors.New("bad credentials")
