package capture

import (
	"net/url"
	"strings"

	"regsandbox/mockserver/workspace"
)

// call is one request to a flow-based endpoint once its common parameters
// have been checked.
type call struct {
	params       url.Values
	client       workspace.CaptureClient
	flow         *workspace.Flow
	version      string
	locale       string
	form         *workspace.Form
	redirectURI  string
	responseType string
}

// Parameter names shared by the flow-based endpoints.
const (
	pClientID     = "client_id"
	pFlow         = "flow"
	pFlowVersion  = "flow_version"
	pLocale       = "locale"
	pRedirectURI  = "redirect_uri"
	pResponseType = "response_type"
	pForm         = "form"
	pToken        = "token"
)

// begin runs the checks every flow-based endpoint shares, in Capture's
// order: missing arguments, the client and its permission, the flow with
// its version and locale, then the form (when formParam is not empty).
// required lists the parameters that must be present, in the order they
// are reported.
func begin(ws *workspace.Workspace, params url.Values, required []string, formParam string) (*call, *Error) {
	c := &call{params: params}
	client, clientKnown := ws.Capture.Client(params.Get(pClientID))
	if e := checkMissing(params, required, client); e != nil {
		return nil, e
	}
	if !clientKnown {
		return nil, errInvalidArgument(pClientID, "client_id '"+params.Get(pClientID)+"' is not a valid client")
	}
	if !client.HasFeature(workspace.FeatureLoginClient) {
		return nil, errPermission()
	}
	c.client = client
	if e := c.checkRedirect(params); e != nil {
		return nil, e
	}
	if e := c.pickFlow(ws, params); e != nil {
		return nil, e
	}
	if formParam == "" {
		return c, nil
	}
	name := params.Get(formParam)
	form, ok := c.flow.Form(name)
	if !ok {
		return nil, errNoSuchForm(name)
	}
	c.form = form
	return c, nil
}

func checkMissing(params url.Values, required []string, client workspace.CaptureClient) *Error {
	var missing []string
	for _, name := range required {
		if params.Get(name) != "" {
			continue
		}
		if name == pFlow && client.DefaultFlowName != "" || name == pFlowVersion && client.DefaultFlowVersion != "" {
			continue
		}
		missing = append(missing, name)
	}
	if len(missing) > 0 {
		return errMissing(strings.Join(missing, ", "))
	}
	return nil
}

func (c *call) checkRedirect(params url.Values) *Error {
	c.redirectURI = params.Get(pRedirectURI)
	if c.redirectURI != "" && !strings.HasPrefix(c.redirectURI, "http:") && !strings.HasPrefix(c.redirectURI, "https:") {
		return errInvalidArgument(pRedirectURI, "redirect_uri must begin with http: or https:")
	}
	c.responseType = params.Get(pResponseType)
	switch c.responseType {
	case "":
		c.responseType = "token"
	case "token", "code", "code_and_token":
	default:
		return errInvalidArgument(pResponseType, "response_type must be one of token, code, code_and_token")
	}
	return nil
}

// pickFlow resolves flow, version and locale, falling back to the client's
// defaults for the parameters the request left out.
func (c *call) pickFlow(ws *workspace.Workspace, params url.Values) *Error {
	name := params.Get(pFlow)
	if name == "" {
		name = c.client.DefaultFlowName
	}
	c.version = params.Get(pFlowVersion)
	if c.version == "" {
		c.version = c.client.DefaultFlowVersion
	}
	c.locale = params.Get(pLocale)
	flow, ok := ws.Capture.Flow(name)
	if !ok || !flow.HasVersion(c.version) || !flow.HasLocale(c.locale) {
		return errNoFlow(name, c.version, c.locale)
	}
	c.flow = flow
	return nil
}

// message returns a flow message in the call's locale.
func (c *call) message(id, fallback string) string {
	if s := workspace.Localized(c.flow.Messages[id], c.locale); s != "" {
		return s
	}
	return fallback
}
