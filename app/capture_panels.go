package app

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"regsandbox/mockserver"
	"regsandbox/mockserver/capture"
	"regsandbox/mockserver/workspace"
)

// formsPanel chooses which fields each form of the flow has.
type formsPanel struct {
	view    *captureView
	content fyne.CanvasObject

	formSelect *widget.Select
	fields     *widget.CheckGroup
	status     *widget.Label
	saveButton *widget.Button
}

func newFormsPanel(v *captureView) *formsPanel {
	p := &formsPanel{view: v}
	p.formSelect = &widget.Select{OnChanged: func(string) { p.showForm() }}
	p.fields = &widget.CheckGroup{}
	p.fields.ExtendBaseWidget(p.fields)
	p.status = &widget.Label{Wrapping: fyne.TextWrapWord}
	p.saveButton = &widget.Button{Text: "Save form", Icon: theme.DocumentSaveIcon(), Importance: widget.HighImportance, OnTapped: p.save}
	hint := widget.NewLabel("Form names are case-sensitive, as in Capture. Ticked fields are read and validated.")
	p.content = container.NewBorder(container.NewVBox(container.NewBorder(nil, nil, widget.NewLabel("Form"), nil, p.formSelect), hint),
		container.NewVBox(p.saveButton, p.status), nil, nil, container.NewVScroll(p.fields))
	return p
}

func (p *formsPanel) reload() {
	f := p.view.flow()
	if f == nil {
		return
	}
	p.formSelect.Options = nil
	for _, form := range f.Forms {
		p.formSelect.Options = append(p.formSelect.Options, form.Name)
	}
	if _, ok := f.Form(p.formSelect.Selected); !ok && len(f.Forms) > 0 {
		p.formSelect.Selected = f.Forms[0].Name
	}
	p.formSelect.Refresh()
	p.showForm()
}

func (p *formsPanel) showForm() {
	f := p.view.flow()
	form, ok := f.Form(p.formSelect.Selected)
	if !ok {
		return
	}
	p.fields.Options = nil
	for _, fd := range f.Fields {
		p.fields.Options = append(p.fields.Options, fd.Name)
	}
	p.fields.Selected = slices.Clone(form.Fields)
	p.fields.Refresh()
}

func (p *formsPanel) save() {
	name := p.formSelect.Selected
	// Keep the flow's field order, which is the order errors are listed in.
	var chosen []string
	for _, opt := range p.fields.Options {
		if slices.Contains(p.fields.Selected, opt) {
			chosen = append(chosen, opt)
		}
	}
	err := p.view.editFlow(func(f *workspace.Flow) {
		if form, ok := f.Form(name); ok {
			form.Fields = chosen
		}
	})
	if err != nil {
		p.status.SetText("Not saved: " + err.Error())
		return
	}
	p.status.SetText(fmt.Sprintf("Saved %s with %d fields.", name, len(chosen)))
}

var clientFeatures = []string{workspace.FeatureLoginClient, "direct_access", "access_issuer", "owner"}

// clientsPanel edits the Capture API clients.
type clientsPanel struct {
	view    *captureView
	content fyne.CanvasObject

	list     *widget.List
	ids      []string
	draft    workspace.CaptureClient
	original string
	editor   *fyne.Container
	status   *widget.Label
}

func newClientsPanel(v *captureView) *clientsPanel {
	p := &clientsPanel{view: v}
	p.status = &widget.Label{Wrapping: fyne.TextWrapWord}
	p.list = &widget.List{
		Length:     func() int { return len(p.ids) },
		CreateItem: func() fyne.CanvasObject { return widget.NewLabel("client id") },
		UpdateItem: func(i widget.ListItemID, o fyne.CanvasObject) { o.(*widget.Label).SetText(p.ids[i]) },
		OnSelected: func(i widget.ListItemID) { p.edit(p.ids[i]) },
	}
	p.list.ExtendBaseWidget(p.list)
	p.editor = container.NewVBox(widget.NewLabel("Choose a client, or add one."))
	add := &widget.Button{Text: "Add client", Icon: theme.ContentAddIcon(), OnTapped: p.add}
	split := container.NewHSplit(container.NewBorder(nil, add, nil, nil, p.list),
		container.NewBorder(nil, p.status, nil, nil, container.NewVScroll(p.editor)))
	split.Offset = 0.3
	p.content = split
	return p
}

func (p *clientsPanel) reload() {
	p.ids = p.ids[:0]
	for _, c := range p.view.srv.Workspace().Capture.Clients {
		p.ids = append(p.ids, c.ID)
	}
	p.list.Refresh()
}

func (p *clientsPanel) edit(id string) {
	c, ok := p.view.srv.Workspace().Capture.Client(id)
	if !ok {
		return
	}
	p.original = id
	p.draft = c
	p.draft.Features = slices.Clone(c.Features)
	p.render()
}

func (p *clientsPanel) add() {
	p.original = ""
	p.draft = workspace.CaptureClient{ID: "new-client", Secret: "new-secret", Features: []string{workspace.FeatureLoginClient}}
	p.render()
}

func (p *clientsPanel) render() {
	d := &p.draft
	features := &widget.CheckGroup{Options: clientFeatures, Selected: d.Features, Horizontal: true,
		OnChanged: func(s []string) { d.Features = s }}
	form := widget.NewForm(
		widget.NewFormItem("Client id", boundEntry(&d.ID, "")),
		widget.NewFormItem("Secret", boundEntry(&d.Secret, "")),
		widget.NewFormItem("Description", boundEntry(&d.Description, "")),
		widget.NewFormItem("Features", features),
		widget.NewFormItem("Default flow", boundEntry(&d.DefaultFlowName, "makes flow optional")),
		widget.NewFormItem("Default version", boundEntry(&d.DefaultFlowVersion, "makes flow_version optional")),
	)
	save := &widget.Button{Text: "Save client", Icon: theme.DocumentSaveIcon(), Importance: widget.HighImportance, OnTapped: p.save}
	remove := &widget.Button{Text: "Delete", Icon: theme.DeleteIcon(), Importance: widget.DangerImportance, OnTapped: p.remove}
	p.editor.Objects = []fyne.CanvasObject{form, container.NewHBox(save, remove)}
	p.editor.Refresh()
}

func (p *clientsPanel) save() {
	draft, original := p.draft, p.original
	draft.Features = slices.Clone(draft.Features)
	err := p.view.save(func(ws *workspace.Workspace) {
		i := slices.IndexFunc(ws.Capture.Clients, func(c workspace.CaptureClient) bool { return c.ID == original })
		if i < 0 {
			ws.Capture.Clients = append(ws.Capture.Clients, draft)
		} else {
			ws.Capture.Clients[i] = draft
		}
	})
	if err != nil {
		p.status.SetText("Not saved: " + err.Error())
		return
	}
	p.original = draft.ID
	p.status.SetText("Saved client " + draft.ID + ".")
}

func (p *clientsPanel) remove() {
	id := p.original
	err := p.view.save(func(ws *workspace.Workspace) {
		ws.Capture.Clients = slices.DeleteFunc(ws.Capture.Clients, func(c workspace.CaptureClient) bool { return c.ID == id })
	})
	if err != nil {
		p.status.SetText("Not deleted: " + err.Error())
		return
	}
	p.editor.Objects = nil
	p.editor.Refresh()
	p.status.SetText("Deleted client " + id + ".")
}

// usersPanel lists the registered users and deletes them.
type usersPanel struct {
	win     fyne.Window
	srv     *mockserver.Server
	content fyne.CanvasObject

	users   []capture.User
	list    *widget.List
	detail  *widget.Entry
	summary *widget.Label
	chosen  int
}

func newUsersPanel(w fyne.Window, srv *mockserver.Server) *usersPanel {
	p := &usersPanel{win: w, srv: srv, chosen: -1}
	p.summary = widget.NewLabel("")
	p.detail = &widget.Entry{MultiLine: true, TextStyle: fyne.TextStyle{Monospace: true}}
	p.detail.ExtendBaseWidget(p.detail)
	p.list = &widget.List{
		Length:     func() int { return len(p.users) },
		CreateItem: func() fyne.CanvasObject { return widget.NewLabel("someone@example.com — Display Name") },
		UpdateItem: func(i widget.ListItemID, o fyne.CanvasObject) { o.(*widget.Label).SetText(userLine(p.users[i])) },
		OnSelected: p.show,
	}
	p.list.ExtendBaseWidget(p.list)
	refresh := &widget.Button{Text: "Refresh", Icon: theme.ViewRefreshIcon(), OnTapped: p.refresh}
	remove := &widget.Button{Text: "Delete user", Icon: theme.DeleteIcon(), Importance: widget.DangerImportance, OnTapped: p.confirmDelete}
	split := container.NewHSplit(p.list, p.detail)
	split.Offset = 0.4
	p.content = container.NewBorder(container.NewHBox(refresh, remove, p.summary), nil, nil, nil, split)
	p.refresh()
	return p
}

func userLine(u capture.User) string {
	name, _ := u.Attributes["displayName"].(string)
	line := u.Email()
	if line == "" {
		line = u.UUID
	}
	if name != "" {
		line += " — " + name
	}
	if len(u.Profiles) > 0 {
		line += " (" + u.Profiles[0].Provider + ")"
	}
	return line
}

func (p *usersPanel) refresh() {
	users, err := p.srv.Capture().Users()
	if err != nil {
		p.summary.SetText("Could not read users: " + err.Error())
		return
	}
	p.users = users
	p.summary.SetText(fmt.Sprintf("%d registered", len(users)))
	p.list.UnselectAll()
	p.detail.SetText("")
	p.list.Refresh()
}

func (p *usersPanel) show(i widget.ListItemID) {
	p.chosen = i
	raw, _ := json.MarshalIndent(p.users[i].Record(), "", "  ")
	p.detail.SetText(string(raw))
}

func (p *usersPanel) confirmDelete() {
	if p.chosen < 0 || p.chosen >= len(p.users) {
		return
	}
	u := p.users[p.chosen]
	dialog.ShowConfirm("Delete "+userLine(u)+"?", "The e-mail address and social identity can register again.",
		func(ok bool) {
			if ok {
				p.delete(u.UUID)
			}
		}, p.win)
}

func (p *usersPanel) delete(id string) {
	if err := p.srv.Capture().DeleteUser(id); err != nil {
		p.summary.SetText("Not deleted: " + err.Error())
		return
	}
	p.chosen = -1
	p.refresh()
}

// socialPanel mints Social Login tokens for a chosen profile.
type socialPanel struct {
	srv     *mockserver.Server
	win     fyne.Window
	content fyne.CanvasObject

	profile    workspace.SocialToken
	provider   *widget.Select
	mintButton *widget.Button
	token      *widget.Entry
	status     *widget.Label
}

func newSocialPanel(w fyne.Window, srv *mockserver.Server) *socialPanel {
	p := &socialPanel{srv: srv, win: w, profile: workspace.SocialToken{Provider: "google",
		Identifier: "https://www.google.com/profiles/1001", Email: "sam@example.com",
		FirstName: "Sam", LastName: "Smith", DisplayName: "SamSmith"}}
	p.provider = &widget.Select{Options: []string{"google", "facebook", "apple", "twitter", "linkedin", "microsoft"},
		Selected: p.profile.Provider, OnChanged: func(s string) { p.profile.Provider = s }}
	p.token = &widget.Entry{PlaceHolder: "the minted token appears here"}
	p.token.ExtendBaseWidget(p.token)
	p.status = &widget.Label{Wrapping: fyne.TextWrapWord}
	p.mintButton = &widget.Button{Text: "Mint token", Icon: theme.ConfirmIcon(), Importance: widget.HighImportance, OnTapped: p.mint}
	copyToken := &widget.Button{Icon: theme.ContentCopyIcon(), OnTapped: func() {
		fyne.CurrentApp().Clipboard().SetContent(p.token.Text)
	}}
	form := widget.NewForm(
		widget.NewFormItem("Provider", p.provider),
		widget.NewFormItem("Identifier", boundEntry(&p.profile.Identifier, "")),
		widget.NewFormItem("E-mail", boundEntry(&p.profile.Email, "")),
		widget.NewFormItem("First name", boundEntry(&p.profile.FirstName, "")),
		widget.NewFormItem("Last name", boundEntry(&p.profile.LastName, "")),
		widget.NewFormItem("Display name", boundEntry(&p.profile.DisplayName, "")),
	)
	intro := widget.NewLabel("A Social Login token stands for a user who signed in with a provider. " +
		"Pass it to /oauth/auth_native: it answers 310 record_not_found with this profile until /oauth/register_native uses it.")
	intro.Wrapping = fyne.TextWrapWord
	p.content = container.NewVScroll(container.NewVBox(intro, form, p.mintButton,
		container.NewBorder(nil, nil, nil, copyToken, p.token), p.status))
	return p
}

func (p *socialPanel) mint() {
	token, err := p.srv.Capture().MintSocialToken(p.profile)
	if err != nil {
		p.status.SetText("Not minted: " + err.Error())
		return
	}
	p.token.SetText(token)
	p.status.SetText("Minted a token for " + strings.TrimSpace(p.profile.FirstName+" "+p.profile.LastName) + " (" + p.profile.Provider + ").")
}
