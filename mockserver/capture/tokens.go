package capture

import (
	"errors"
	"time"

	"regsandbox/mockserver/workspace"
	"regsandbox/storage"
)

// Token lengths, as seen in Capture answers.
const (
	accessTokenLength = 16
	codeLength        = 14
	socialTokenLength = 40
)

// codeLifetime bounds how long an authorization code can be exchanged.
// Capture's codes are short-lived; ten minutes leaves room for a developer
// stepping through the exchange in a debugger.
const codeLifetime = 10 * time.Minute

// grant ties a token or code to a user and a client.
type grant struct {
	UserUUID    string    `json:"user"`
	ClientID    string    `json:"client"`
	Expires     time.Time `json:"expires,omitzero"`
	RedirectURI string    `json:"redirect_uri,omitempty"`
}

// issued is what a successful sign-in or registration hands out.
type issued struct {
	AccessToken       string
	AuthorizationCode string
}

// issue creates the access token and/or authorization code that
// responseType asks for, inside tx so they land with the user.
func (b *Backend) issue(tx *storage.Tx, ws *workspace.Workspace, u *User, c *call) (issued, error) {
	var out issued
	now := b.now()
	if c.responseType == "token" || c.responseType == "code_and_token" {
		out.AccessToken = newSecret(accessTokenLength)
		life := time.Duration(ws.Capture.AccessTokenSeconds) * time.Second
		g := grant{UserUUID: u.UUID, ClientID: c.client.ID, Expires: now.Add(life)}
		if err := tx.PutTTL(keyAccess+out.AccessToken, g, life+time.Hour); err != nil {
			return out, err
		}
	}
	if c.responseType == "code" || c.responseType == "code_and_token" {
		out.AuthorizationCode = newSecret(codeLength)
		g := grant{UserUUID: u.UUID, ClientID: c.client.ID, Expires: now.Add(codeLifetime), RedirectURI: c.redirectURI}
		if err := tx.PutTTL(keyCode+out.AuthorizationCode, g, codeLifetime+time.Hour); err != nil {
			return out, err
		}
	}
	return out, nil
}

// socialState is a Social Login token with what the back end learnt of it.
type socialState struct {
	workspace.SocialToken
	// SeenByAuthNative is set once auth_native was called with the token;
	// register_native refuses tokens it has not seen.
	SeenByAuthNative bool `json:"seen_by_auth_native"`
	// RegisteredUUID is set once the token registered a user; it cannot
	// register another.
	RegisteredUUID string `json:"registered_uuid,omitempty"`
}

// socialToken loads a token's state: minted tokens live in the database,
// workspace tokens are valid from the start.
func socialToken(tx *storage.Tx, ws *workspace.Workspace, token string) (*socialState, error) {
	var st socialState
	found, err := tx.Get(keySocial+token, &st)
	if err != nil || found {
		return &st, err
	}
	for _, t := range ws.Capture.SocialTokens {
		if t.Token == token {
			return &socialState{SocialToken: t}, nil
		}
	}
	return nil, nil
}

// MintSocialToken creates a Social Login token for the given profile, as
// Social Login would after the user signed in with a provider.
func (b *Backend) MintSocialToken(profile workspace.SocialToken) (string, error) {
	if profile.Provider == "" || profile.Identifier == "" {
		return "", errors.New("provider and identifier are required")
	}
	profile.Token = newSecret(socialTokenLength)
	err := b.db.Update(func(tx *storage.Tx) error {
		return tx.Put(keySocial+profile.Token, socialState{SocialToken: profile})
	})
	return profile.Token, err
}

// profileAttributes maps a social profile to user-record attributes.
func profileAttributes(p workspace.SocialToken) map[string]any {
	attrs := map[string]any{}
	set := func(name, v string) {
		if v != "" {
			attrs[name] = v
		}
	}
	set("email", p.Email)
	set("givenName", p.FirstName)
	set("familyName", p.LastName)
	set("displayName", p.DisplayName)
	return attrs
}
