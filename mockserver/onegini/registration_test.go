package onegini_test

import (
	"net/url"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"regsandbox/mockserver/workspace"
)

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// qrCode runs the QR backchannel for userID and returns the code.
func (e *env) qrCode(userID string) string {
	e.t.Helper()
	a := e.backchannel("QrCodeIdp", `{"data":`+jsonString(`{"userId":"`+userID+`"}`)+`}`)
	if a.status != 200 {
		e.t.Fatalf("QR backchannel: %d %s", a.status, a.raw)
	}
	code, _ := a.body["data"].(string)
	if !uuidPattern.MatchString(code) {
		e.t.Fatalf("QR backchannel data = %q, want a uuid", code)
	}
	return code
}

// TestQRFlow is the official QR-code example end to end: the backchannel
// stores uuid → userId for 100 s, complete uses it once.
func TestQRFlow(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	code := e.qrCode("u-123")

	a := e.complete("QrCodeIdp", `{"data":`+jsonString(code)+`}`)
	wantStatus(t, a, 2000)
	tok, _ := a.body["oauth_token"].(map[string]any)
	if tok["token_type"] != "bearer" || len(tok["access_token"].(string)) != 64 ||
		len(tok["refresh_token"].(string)) != 64 || tok["expires_in"] != float64(3600) {
		t.Errorf("oauth_token = %v", tok)
	}
	equal(t, "outcome script", a.outcome.Script, "complete")

	a = e.complete("QrCodeIdp", `{"data":`+jsonString(code)+`}`)
	wantStatus(t, a, 5000)
	equal(t, "data", a.body["data"], any("unknown or expired QR code"))
	if _, ok := a.body["oauth_token"]; ok {
		t.Errorf("a 5000 answer carries an oauth_token: %s", a.raw)
	}
}

func TestQRCodeExpires(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	fresh, stale := e.qrCode("u-fresh"), e.qrCode("u-stale")
	e.clock.Advance(99 * time.Second)
	wantStatus(t, e.complete("QrCodeIdp", `{"data":`+jsonString(fresh)+`}`), 2000)
	e.clock.Advance(time.Second)
	wantStatus(t, e.complete("QrCodeIdp", `{"data":`+jsonString(stale)+`}`), 5000)
	if entries, _ := e.backend.CacheEntries("QrCodeIdp"); len(entries) != 0 {
		t.Errorf("expired entries still listed: %+v", entries)
	}
}

// TestQRCodeUsedOnce races completes for one code: exactly one registers.
func TestQRCodeUsedOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	code := e.qrCode("u-race")
	var mu sync.Mutex
	statuses := map[float64]int{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			a := e.complete("QrCodeIdp", `{"data":`+jsonString(code)+`}`)
			mu.Lock()
			statuses[a.body["status"].(float64)]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if statuses[2000] != 1 || statuses[5000] != 7 {
		t.Errorf("statuses = %v, want one 2000 and seven 5000", statuses)
	}
}

func TestTwoStep(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	a := e.init("ExampleId", `{"data":"hello"}`)
	wantStatus(t, a, 2000)
	wantHeaders(t, a.header)
	id, _ := a.body["transaction_id"].(string)
	if !uuidPattern.MatchString(id) || a.body["data"] == nil {
		t.Fatalf("init answer = %s", a.raw)
	}

	body := `{"transaction_id":"` + id + `","data":` + jsonString(`{"userId":"u-42"}`) + `}`
	a = e.complete("ExampleId", `{"transaction_id":"`+id+`","data":"{}"}`)
	wantStatus(t, a, 4000) // retryable: the transaction stays open
	a = e.complete("ExampleId", body)
	wantStatus(t, a, 2000)
	equal(t, "data", a.body["data"], any(`{"registered":"u-42"}`))
	if a.body["oauth_token"] == nil {
		t.Errorf("no oauth_token: %s", a.raw)
	}
	// Used up.
	wantError(t, e.complete("ExampleId", body), 400, "invalid_request", "The transaction_id is unknown or expired.")
}

func TestTwoStepErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	id := e.init("ExampleId", "").body["transaction_id"].(string)
	e.clock.Advance(11 * time.Minute)
	expired := e.complete("ExampleId", `{"transaction_id":"`+id+`","data":"{\"userId\":\"u\"}"}`)
	fresh := e.init("ExampleId", "").body["transaction_id"].(string)
	for _, tc := range []struct {
		name       string
		a          answer
		code, desc string
	}{
		{"init of a one-step IdP", e.init("QrCodeIdp", ""), "invalid_request", "The specified IdP is a one-step identity provider: it has no init step."},
		{"complete without transaction_id", e.complete("ExampleId", `{"data":"{\"userId\":\"u\"}"}`), "invalid_request", "The transaction_id parameter is required for a two-step identity provider."},
		{"unknown transaction_id", e.complete("ExampleId", `{"transaction_id":"nope"}`), "invalid_request", "The transaction_id is unknown or expired."},
		{"expired transaction_id", expired, "invalid_request", "The transaction_id is unknown or expired."},
		{"scope the client lacks", e.complete("ExampleId", `{"transaction_id":"`+fresh+`","scope":["admin"]}`), "invalid_scope", "The requested scope is invalid, unknown or malformed."},
		{"malformed scope", e.complete("ExampleId", `{"transaction_id":"`+fresh+`","scope":[1]}`), "invalid_request", "The scope parameter must be an array of strings or a space-separated string."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, tc.a, 400, tc.code, tc.desc)
		})
	}
	// The refused scope left the transaction usable.
	wantStatus(t, e.complete("ExampleId", `{"transaction_id":"`+fresh+`","data":"{\"userId\":\"u\"}"}`), 2000)
}

// TestRegistrationData: what init's script passes on reaches complete's.
func TestRegistrationData(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(ws *workspace.Workspace) {
		idp, _ := ws.Onegini.IdP("ExampleId")
		idp.Scripts.Init = `{"status": 2000, "registrationData": "user-from-init"}`
		idp.Scripts.Complete = `{"status": 2000, "user": {"id": registrationData}, "responsePayload": registrationData}`
	})
	id := e.init("ExampleId", "").body["transaction_id"].(string)
	a := e.complete("ExampleId", `{"transaction_id":"`+id+`"}`)
	wantStatus(t, a, 2000)
	equal(t, "data", a.body["data"], any("user-from-init"))
}

func TestInvalidProfile(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(ws *workspace.Workspace) {
		idp, _ := ws.Onegini.IdP("QrCodeIdp")
		idp.Scripts.Complete = `{"status": 2000, "cache": {"set": {"k": 1}}}`
	})
	wantError(t, e.complete("QrCodeIdp", ""), 400, "invalid_profile", "The specified profile is invalid.")
	if entries, _ := e.backend.CacheEntries("QrCodeIdp"); len(entries) != 0 {
		t.Errorf("a refused complete stored %+v", entries)
	}
}

func TestFailedInitOpensNoTransaction(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(ws *workspace.Workspace) {
		idp, _ := ws.Onegini.IdP("ExampleId")
		idp.Scripts.Init = `{"status": 4001, "responsePayload": "try again"}`
	})
	a := e.init("ExampleId", "")
	equal(t, "body", a.raw, `{"data":"try again","status":4001}`)
}

// completeQR registers userID through the QR flow with the given extra
// complete parameters and returns the answer.
func (e *env) completeQR(userID, extra string) answer {
	e.t.Helper()
	return e.complete("QrCodeIdp", `{"data":`+jsonString(e.qrCode(userID))+extra+`}`)
}

func TestIDToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	for _, tc := range []struct {
		name    string
		extra   string
		idToken bool
	}{
		{"default scopes include openid", ``, true},
		{"openid requested", `,"scope":["openid"]`, true},
		{"openid as an OAuth string", `,"scope":"profile openid"`, true},
		{"no openid", `,"scope":["profile"]`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := e.completeQR("u-id", tc.extra)
			wantStatus(t, a, 2000)
			raw, has := a.body["oauth_token"].(map[string]any)["id_token"].(string)
			if has != tc.idToken {
				t.Fatalf("id_token present = %v, want %v: %s", has, tc.idToken, a.raw)
			}
			if has {
				e.verifyIDToken(raw, "u-id", e.url)
			}
		})
	}
}

// verifyIDToken checks the signature and the claims of an id_token.
func (e *env) verifyIDToken(raw, sub, iss string) {
	e.t.Helper()
	claims := jwt.MapClaims{}
	tok, err := jwt.ParseWithClaims(raw, claims, func(tok *jwt.Token) (any, error) {
		equal(e.t, "kid", tok.Header["kid"], any(e.backend.KeyID()))
		return e.backend.PublicKey(), nil
	}, jwt.WithValidMethods([]string{"ES256"}), jwt.WithTimeFunc(e.clock.Now),
		jwt.WithIssuer(iss), jwt.WithAudience(appID), jwt.WithSubject(sub))
	if err != nil || !tok.Valid {
		e.t.Fatalf("id_token does not verify: %v", err)
	}
	if exp, _ := claims.GetExpirationTime(); !exp.Equal(e.clock.Now().Add(time.Hour)) {
		e.t.Errorf("exp = %v, want an hour from now", exp)
	}
}

func TestIDTokenIssuerAndAttributes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(ws *workspace.Workspace) {
		ws.Onegini.Issuer = "https://tokenserver.example.com"
		idp, _ := ws.Onegini.IdP("QrCodeIdp")
		idp.Scripts.Complete = `{"status": 2000, "user": {"id": "u-attr", "attributes": {"email": "jane@example.com", "sub": "forged"}}}`
	})
	a := e.complete("QrCodeIdp", "")
	raw := a.body["oauth_token"].(map[string]any)["id_token"].(string)
	e.verifyIDToken(raw, "u-attr", "https://tokenserver.example.com")
	claims := jwt.MapClaims{}
	jwt.NewParser().ParseUnverified(raw, claims)
	equal(t, "email claim", claims["email"], any("jane@example.com"))
}

func TestCompleteByForm(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	form := url.Values{"client_id": {appID}, "client_secret": {appSecret},
		"data": {e.qrCode("u-form")}, "scope": {"openid", "profile"}}
	a := e.do(call{path: completePath("QrCodeIdp"), body: form.Encode(), form: true})
	wantStatus(t, a, 2000)
	if _, ok := a.body["oauth_token"].(map[string]any)["id_token"]; !ok {
		t.Errorf("no id_token: %s", a.raw)
	}
}

func TestSigningKeyPersists(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	again := newBackend(t, e.db)
	equal(t, "key id after a restart", again.KeyID(), e.backend.KeyID())
	if !again.PublicKey().Equal(e.backend.PublicKey()) {
		t.Error("the key changed across a restart")
	}
}
