package app

import (
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"regsandbox/mockserver"
	"regsandbox/mockserver/workspace"
)

// Client kinds of the Onegini clients panel.
const (
	apiClients = "API clients (backchannel)"
	appClients = "App clients (init, complete)"
)

// oneginiClientsPanel edits the Onegini API and app clients and their scopes.
type oneginiClientsPanel struct {
	srv     *mockserver.Server
	content fyne.CanvasObject

	kind       *widget.RadioGroup
	list       *widget.List
	ids        []string
	original   string
	id, secret *widget.Entry
	scopes     *widget.Entry
	saveButton *widget.Button
	status     *widget.Label
}

func newOneginiClientsPanel(srv *mockserver.Server) *oneginiClientsPanel {
	p := &oneginiClientsPanel{srv: srv}
	p.kind = &widget.RadioGroup{Options: []string{apiClients, appClients}, Horizontal: true, Required: true,
		OnChanged: func(string) { p.reload() }}
	p.kind.ExtendBaseWidget(p.kind)
	p.list = &widget.List{
		Length:     func() int { return len(p.ids) },
		CreateItem: func() fyne.CanvasObject { return widget.NewLabel("client id") },
		UpdateItem: func(i widget.ListItemID, o fyne.CanvasObject) { o.(*widget.Label).SetText(p.ids[i]) },
		OnSelected: func(i widget.ListItemID) { p.edit(p.ids[i]) },
	}
	p.list.ExtendBaseWidget(p.list)
	p.id, p.secret = widget.NewEntry(), widget.NewEntry()
	p.scopes = &widget.Entry{PlaceHolder: "user_registration, openid, profile"}
	p.scopes.ExtendBaseWidget(p.scopes)
	p.status = &widget.Label{Wrapping: fyne.TextWrapWord}
	p.saveButton = &widget.Button{Text: "Save client", Icon: theme.DocumentSaveIcon(), Importance: widget.HighImportance, OnTapped: p.save}
	add := &widget.Button{Text: "New client", Icon: theme.ContentAddIcon(), OnTapped: p.add}
	form := widget.NewForm(widget.NewFormItem("Client id", p.id), widget.NewFormItem("Secret", p.secret),
		widget.NewFormItem("Scopes", p.scopes))
	hint := widget.NewLabel("The backchannel needs an API client with the user_registration scope; an id_token needs openid.")
	hint.Wrapping = fyne.TextWrapWord
	split := container.NewHSplit(container.NewBorder(nil, add, nil, nil, p.list),
		container.NewVBox(form, p.saveButton, hint, p.status))
	split.Offset = 0.3
	p.content = container.NewBorder(p.kind, nil, nil, nil, split)
	p.kind.SetSelected(apiClients)
	return p
}

// clients points at the chosen list of clients in ws.
func (p *oneginiClientsPanel) clients(ws *workspace.Workspace) *[]workspace.OneginiClient {
	if p.kind.Selected == appClients {
		return &ws.Onegini.AppClients
	}
	return &ws.Onegini.APIClients
}

func (p *oneginiClientsPanel) reload() {
	p.ids = p.ids[:0]
	for _, c := range *p.clients(p.srv.Workspace()) {
		p.ids = append(p.ids, c.ID)
	}
	p.list.UnselectAll()
	p.list.Refresh()
}

func (p *oneginiClientsPanel) edit(id string) {
	for _, c := range *p.clients(p.srv.Workspace()) {
		if c.ID == id {
			p.original = id
			p.id.SetText(c.ID)
			p.secret.SetText(c.Secret)
			p.scopes.SetText(strings.Join(c.Scopes, ", "))
		}
	}
}

func (p *oneginiClientsPanel) add() {
	p.original = ""
	p.id.SetText("new-client")
	p.secret.SetText("new-secret")
	p.scopes.SetText("")
}

func (p *oneginiClientsPanel) save() {
	client := workspace.OneginiClient{ID: strings.TrimSpace(p.id.Text), Secret: p.secret.Text, Scopes: []string{}}
	for _, s := range strings.FieldsFunc(p.scopes.Text, func(r rune) bool { return r == ',' || r == ' ' }) {
		client.Scopes = append(client.Scopes, s)
	}
	ws := p.srv.Workspace().Clone()
	list := p.clients(ws)
	i := slices.IndexFunc(*list, func(c workspace.OneginiClient) bool { return c.ID == p.original })
	if i < 0 {
		*list = append(*list, client)
	} else {
		(*list)[i] = client
	}
	if err := p.srv.SetWorkspace(ws); err != nil {
		p.status.SetText("Not saved: " + err.Error())
		return
	}
	p.original = client.ID
	p.status.SetText("Saved " + client.ID + ".")
	p.reload()
}
