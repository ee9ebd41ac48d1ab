package app

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"regsandbox/mockserver"
	"regsandbox/mockserver/workspace"
)

// captureView edits the Capture application: fields with their rules and
// messages, forms, clients; lists users; mints Social Login tokens.
type captureView struct {
	win     fyne.Window
	srv     *mockserver.Server
	content fyne.CanvasObject

	flowSelect *widget.Select
	flowName   string
	flowPanel  *flowPanel
	fields     *fieldsPanel
	forms      *formsPanel
	clients    *clientsPanel
	users      *usersPanel
	social     *socialPanel
}

func newCaptureView(w fyne.Window, srv *mockserver.Server) *captureView {
	v := &captureView{win: w, srv: srv}
	v.flowSelect = &widget.Select{OnChanged: v.chooseFlow}
	v.flowPanel = newFlowPanel(v)
	v.fields = newFieldsPanel(v)
	v.forms = newFormsPanel(v)
	v.clients = newClientsPanel(v)
	v.users = newUsersPanel(w, srv)
	v.social = newSocialPanel(w, srv)
	tabs := container.NewAppTabs(
		container.NewTabItem("Fields", v.fields.content),
		container.NewTabItem("Versions & locales", v.flowPanel.content),
		container.NewTabItem("Forms", v.forms.content),
		container.NewTabItem("Clients", v.clients.content),
		container.NewTabItem("Users", v.users.content),
		container.NewTabItem("Social login", v.social.content),
	)
	tabs.OnSelected = func(t *container.TabItem) {
		if t.Text == "Users" {
			v.users.refresh()
		}
	}
	top := container.NewBorder(nil, nil, widget.NewLabel("Flow"), nil, v.flowSelect)
	v.content = container.NewBorder(top, nil, nil, nil, tabs)
	v.reload()
	return v
}

// reload shows the active workspace, keeping the chosen flow when it
// still exists.
func (v *captureView) reload() {
	ws := v.srv.Workspace()
	var names []string
	for _, f := range ws.Capture.Flows {
		names = append(names, f.Name)
	}
	v.flowSelect.Options = names
	if _, ok := ws.Capture.Flow(v.flowName); !ok && len(names) > 0 {
		v.flowName = names[0]
	}
	v.flowSelect.Selected = v.flowName
	v.flowSelect.Refresh()
	v.flowPanel.reload()
	v.fields.reload()
	v.forms.reload()
	v.clients.reload()
}

func (v *captureView) chooseFlow(name string) {
	if name == v.flowName {
		return
	}
	v.flowName = name
	v.flowPanel.reload()
	v.fields.reload()
	v.forms.reload()
}

// flow returns the chosen flow of the active workspace.
func (v *captureView) flow() *workspace.Flow {
	f, _ := v.srv.Workspace().Capture.Flow(v.flowName)
	return f
}

// save applies change to a copy of the workspace and activates it. On
// error nothing changes and the editor keeps what the user typed.
func (v *captureView) save(change func(ws *workspace.Workspace)) error {
	ws := v.srv.Workspace().Clone()
	change(ws)
	return v.srv.SetWorkspace(ws)
}

// editFlow is save for a change to the chosen flow.
func (v *captureView) editFlow(change func(f *workspace.Flow)) error {
	return v.save(func(ws *workspace.Workspace) {
		if f, ok := ws.Capture.Flow(v.flowName); ok {
			change(f)
		}
	})
}
