package workspace

// CaptureClient returns the Capture client with the given id.
func (c *Capture) Client(id string) (CaptureClient, bool) {
	for _, cl := range c.Clients {
		if cl.ID == id {
			return cl, true
		}
	}
	return CaptureClient{}, false
}

// Flow returns the flow with the given name.
func (c *Capture) Flow(name string) (*Flow, bool) {
	for i := range c.Flows {
		if c.Flows[i].Name == name {
			return &c.Flows[i], true
		}
	}
	return nil, false
}

// HasVersion reports whether the flow has the version.
func (f *Flow) HasVersion(version string) bool { return contains(f.Versions, version) }

// HasLocale reports whether the flow has the locale.
func (f *Flow) HasLocale(locale string) bool { return contains(f.Locales, locale) }

// Form returns the form with the given name; names are case-sensitive, as
// in Capture.
func (f *Flow) Form(name string) (*Form, bool) {
	for i := range f.Forms {
		if f.Forms[i].Name == name {
			return &f.Forms[i], true
		}
	}
	return nil, false
}

// Field returns the field with the given name.
func (f *Flow) Field(name string) (*Field, bool) {
	for i := range f.Fields {
		if f.Fields[i].Name == name {
			return &f.Fields[i], true
		}
	}
	return nil, false
}

// Localized picks the text for locale from a locale → text map, falling
// back to en-US and then to any text at all so a message is never empty.
func Localized(texts map[string]string, locale string) string {
	if s, ok := texts[locale]; ok {
		return s
	}
	if s, ok := texts["en-US"]; ok {
		return s
	}
	for _, s := range texts {
		return s
	}
	return ""
}

// IdP returns the Onegini identity provider with the given id.
func (o *Onegini) IdP(id string) (*IdP, bool) {
	for i := range o.IdPs {
		if o.IdPs[i].ID == id {
			return &o.IdPs[i], true
		}
	}
	return nil, false
}

// APIClient returns the Onegini API client with the given id.
func (o *Onegini) APIClient(id string) (OneginiClient, bool) {
	return findClient(o.APIClients, id)
}

// AppClient returns the Onegini app client with the given id.
func (o *Onegini) AppClient(id string) (OneginiClient, bool) {
	return findClient(o.AppClients, id)
}

func findClient(clients []OneginiClient, id string) (OneginiClient, bool) {
	for _, c := range clients {
		if c.ID == id {
			return c, true
		}
	}
	return OneginiClient{}, false
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
