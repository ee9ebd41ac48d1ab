package capture

import (
	"crypto/subtle"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"regsandbox/mockserver/workspace"
	"regsandbox/storage"
)

// tokenAnswer is the success answer of /oauth/token.
type tokenAnswer struct {
	AccessToken  string `json:"access_token"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	Stat         string `json:"stat"`
}

// oauthError marks an error of /oauth/token, which follows OAuth and
// answers errors with HTTP 400.
func oauthError(e *Error) *Error {
	e.HTTPStatus = http.StatusBadRequest
	return e
}

// token is POST /oauth/token: exchange an authorization code, or a
// refresh token, for an access token. The client authenticates with
// client_id and client_secret in the body or by HTTP Basic.
func (b *Backend) token(r *http.Request, ws *workspace.Workspace) (any, *Error) {
	params, e := bodyParams(r)
	if e != nil {
		return nil, oauthError(e)
	}
	id, secret, basic := r.BasicAuth()
	if !basic {
		id, secret = params.Get(pClientID), params.Get("client_secret")
	}
	grantType := params.Get("grant_type")
	required := map[string][]string{
		"authorization_code": {"code", pRedirectURI},
		"refresh_token":      {"refresh_token"},
	}[grantType]
	var missing []string
	for name, v := range map[string]string{pClientID: id, "client_secret": secret, "grant_type": grantType} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	for _, name := range required {
		if params.Get(name) == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return nil, oauthError(errMissing(strings.Join(sortedNames(missing), ", ")))
	}
	client, ok := ws.Capture.Client(id)
	if !ok || subtle.ConstantTimeCompare([]byte(client.Secret), []byte(secret)) != 1 {
		return nil, oauthError(&Error{Code: 402, Name: "invalid_client_credentials", Description: "client_id and client_secret do not match a client"})
	}
	switch grantType {
	case "authorization_code":
		return b.exchangeCode(ws, client, params.Get("code"), params.Get(pRedirectURI))
	case "refresh_token":
		return b.refresh(ws, client, params.Get("refresh_token"))
	}
	return nil, oauthError(errInvalidArgument("grant_type", "grant_type must be authorization_code or refresh_token"))
}

// sortedNames orders missing parameter names as the endpoint documents them.
func sortedNames(names []string) []string {
	order := map[string]int{pClientID: 0, "client_secret": 1, "grant_type": 2, "code": 3, pRedirectURI: 4, "refresh_token": 5}
	for i := 1; i < len(names); i++ {
		for j := i; j > 0 && order[names[j]] < order[names[j-1]]; j-- {
			names[j], names[j-1] = names[j-1], names[j]
		}
	}
	return names
}

func (b *Backend) exchangeCode(ws *workspace.Workspace, client workspace.CaptureClient, code, redirectURI string) (any, *Error) {
	var answer tokenAnswer
	var failure *Error
	err := b.db.Update(func(tx *storage.Tx) error {
		var g grant
		found, err := tx.Get(keyCode+code, &g)
		switch {
		case err != nil:
			return err
		case !found || g.ClientID != client.ID:
			failure = errInvalidArgument("code", "authorization code is not valid")
			return nil
		case !b.now().Before(g.Expires):
			failure = &Error{Code: 415, Name: "authorization_code_expired", Description: "authorization code expired"}
			return nil
		case g.RedirectURI != redirectURI:
			failure = &Error{Code: 420, Name: "redirect_uri_mismatch", Description: "redirect_uri does not match the one the code was issued for",
				ExpectedValue: g.RedirectURI, SuppliedValue: redirectURI}
			return nil
		}
		// Codes are good for one exchange.
		if err := tx.Delete(keyCode + code); err != nil {
			return err
		}
		answer, err = b.grantTokens(tx, ws, g, newSecret(accessTokenLength))
		return err
	})
	return b.tokenResult(answer, failure, err)
}

func (b *Backend) refresh(ws *workspace.Workspace, client workspace.CaptureClient, refreshToken string) (any, *Error) {
	var answer tokenAnswer
	var failure *Error
	err := b.db.Update(func(tx *storage.Tx) error {
		var g grant
		found, err := tx.Get(keyRefresh+refreshToken, &g)
		if err != nil {
			return err
		}
		if !found || g.ClientID != client.ID {
			failure = errInvalidArgument("refresh_token", "refresh token is not valid")
			return nil
		}
		answer, err = b.grantTokens(tx, ws, g, refreshToken)
		return err
	})
	return b.tokenResult(answer, failure, err)
}

// grantTokens issues a fresh access token for g's user, with refreshToken
// stored as the way to get the next one.
func (b *Backend) grantTokens(tx *storage.Tx, ws *workspace.Workspace, g grant, refreshToken string) (tokenAnswer, error) {
	life := time.Duration(ws.Capture.AccessTokenSeconds) * time.Second
	access := grant{UserUUID: g.UserUUID, ClientID: g.ClientID, Expires: b.now().Add(life)}
	answer := tokenAnswer{AccessToken: newSecret(accessTokenLength), ExpiresIn: ws.Capture.AccessTokenSeconds,
		RefreshToken: refreshToken, Stat: "ok"}
	if err := tx.PutTTL(keyAccess+answer.AccessToken, access, life+time.Hour); err != nil {
		return answer, err
	}
	return answer, tx.Put(keyRefresh+refreshToken, grant{UserUUID: g.UserUUID, ClientID: g.ClientID})
}

func (b *Backend) tokenResult(answer tokenAnswer, failure *Error, err error) (any, *Error) {
	if err != nil {
		return nil, oauthError(errUnexpected(err.Error()))
	}
	if failure != nil {
		return nil, oauthError(failure)
	}
	return answer, nil
}

// entityAnswer is the success answer of /entity.
type entityAnswer struct {
	Stat   string         `json:"stat"`
	Result map[string]any `json:"result"`
}

// entity is GET or POST /entity: the signed-in user's record. The access
// token comes as a parameter or as a Bearer token.
func (b *Backend) entity(r *http.Request, ws *workspace.Workspace) (any, *Error) {
	params, e := allParams(r)
	if e != nil {
		return nil, e
	}
	token := params.Get("access_token")
	if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && token == "" {
		token = strings.TrimSpace(bearer)
	}
	if token == "" {
		e := errMissing("access_token")
		e.ArgumentName = "access_token"
		return nil, e
	}
	if t := params.Get("type_name"); t != "" && t != "user" {
		return nil, &Error{Code: 222, Name: "unknown_entity_type", Description: "unknown entity type '" + t + "'"}
	}
	var u *User
	var g grant
	var found bool
	err := b.db.View(func(tx *storage.Tx) error {
		var err error
		if found, err = tx.Get(keyAccess+token, &g); err != nil || !found {
			return err
		}
		u, err = userByUUID(tx, g.UserUUID)
		return err
	})
	switch {
	case err != nil:
		return nil, errUnexpected(err.Error())
	case !found:
		return nil, errInvalidArgument("access_token", "access_token is not valid")
	case !b.now().Before(g.Expires):
		return nil, &Error{Code: 414, Name: "access_token_expired", Description: "access token expired"}
	case u == nil:
		return nil, &Error{Code: 310, Name: "record_not_found", Description: "the user of this access token no longer exists"}
	}
	return entityAnswer{Stat: "ok", Result: u.Record()}, nil
}

// flowDocument is GET /widget_data/flows/{app}/{flow}/{version}/{locale}.json,
// the flow as the mobile SDKs download it.
func (b *Backend) flowDocument(r *http.Request, ws *workspace.Workspace) (any, *Error) {
	v := mux.Vars(r)
	flow, ok := ws.Capture.Flow(v["flow"])
	if v["app"] != ws.Capture.AppID || !ok || !flow.HasVersion(v["version"]) || !flow.HasLocale(v["locale"]) {
		e := errNoFlow(v["flow"], v["version"], v["locale"])
		e.HTTPStatus = http.StatusNotFound
		return nil, e
	}
	return b.flowDocs.get(ws, flow, v["version"], v["locale"])
}
