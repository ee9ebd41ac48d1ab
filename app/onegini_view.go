package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"regsandbox/mockserver"
	"regsandbox/mockserver/onegini"
	"regsandbox/mockserver/script"
	"regsandbox/mockserver/workspace"
)

// Script slots of an IdP.
var scriptSlots = []string{"init", "complete", "backchannel"}

// oneginiView edits the custom-registration IdPs and their CEL scripts,
// test-runs a script on a sample request, shows the IdP cache, and edits
// the API and app clients.
type oneginiView struct {
	win     fyne.Window
	srv     *mockserver.Server
	content fyne.CanvasObject

	idpList  *widget.List
	ids      []string
	original string
	draft    workspace.IdP

	idEntry      *widget.Entry
	nameEntry    *widget.Entry
	enabled      *widget.Check
	twoStep      *widget.Check
	slot         *widget.RadioGroup
	editor       *widget.Entry
	check        *widget.Label
	saveButton   *widget.Button
	deleteButton *widget.Button
	status       *widget.Label

	samplePayload *widget.Entry
	sampleUser    *widget.Entry
	runButton     *widget.Button
	result        *widget.Entry

	cacheList    *widget.List
	cacheEntries []onegini.CacheEntry

	clients *oneginiClientsPanel
}

func newOneginiView(w fyne.Window, srv *mockserver.Server) *oneginiView {
	v := &oneginiView{win: w, srv: srv}
	v.idpList = &widget.List{
		Length:     func() int { return len(v.ids) },
		CreateItem: func() fyne.CanvasObject { return widget.NewLabel("IdP identifier") },
		UpdateItem: func(i widget.ListItemID, o fyne.CanvasObject) { o.(*widget.Label).SetText(v.idpLine(v.ids[i])) },
		OnSelected: func(i widget.ListItemID) { v.edit(v.ids[i]) },
	}
	v.idpList.ExtendBaseWidget(v.idpList)
	v.buildEditor()
	v.buildTestPanel()
	v.clients = newOneginiClientsPanel(srv)
	addIdP := &widget.Button{Text: "Add IdP", Icon: theme.ContentAddIcon(), OnTapped: v.addIdP}
	left := container.NewBorder(nil, addIdP, nil, nil, v.idpList)
	scriptTabs := container.NewAppTabs(
		container.NewTabItem("Script", v.editorPane()),
		container.NewTabItem("Test run", v.testPane()),
		container.NewTabItem("Cache", v.cachePane()),
	)
	split := container.NewHSplit(left, scriptTabs)
	split.Offset = 0.22
	v.content = container.NewAppTabs(
		container.NewTabItem("Identity providers", split),
		container.NewTabItem("Clients", v.clients.content),
	)
	v.reload()
	return v
}

func (v *oneginiView) idpLine(id string) string {
	idp, ok := v.srv.Workspace().Onegini.IdP(id)
	if !ok {
		return id
	}
	state := "one-step"
	if idp.TwoStep {
		state = "two-step"
	}
	if !idp.Enabled {
		state = "disabled"
	}
	return id + " (" + state + ")"
}

func (v *oneginiView) buildEditor() {
	v.idEntry = &widget.Entry{}
	v.idEntry.OnChanged = func(s string) { v.draft.ID = s }
	v.idEntry.ExtendBaseWidget(v.idEntry)
	v.nameEntry = &widget.Entry{}
	v.nameEntry.OnChanged = func(s string) { v.draft.Name = s }
	v.nameEntry.ExtendBaseWidget(v.nameEntry)
	v.enabled = &widget.Check{Text: "Enabled", OnChanged: func(b bool) { v.draft.Enabled = b }}
	v.enabled.ExtendBaseWidget(v.enabled)
	v.twoStep = &widget.Check{Text: "Two-step (init, then complete)", OnChanged: func(b bool) { v.draft.TwoStep = b }}
	v.twoStep.ExtendBaseWidget(v.twoStep)
	v.slot = &widget.RadioGroup{Options: scriptSlots, Horizontal: true, Required: true, OnChanged: v.showSlot}
	v.slot.ExtendBaseWidget(v.slot)
	v.editor = &widget.Entry{MultiLine: true, TextStyle: fyne.TextStyle{Monospace: true}, Wrapping: fyne.TextWrapOff}
	v.editor.OnChanged = v.scriptTyped
	v.editor.ExtendBaseWidget(v.editor)
	v.check = &widget.Label{Wrapping: fyne.TextWrapWord}
	v.status = &widget.Label{Wrapping: fyne.TextWrapWord}
	v.saveButton = &widget.Button{Text: "Save IdP", Icon: theme.DocumentSaveIcon(), Importance: widget.HighImportance, OnTapped: v.save}
	v.deleteButton = &widget.Button{Text: "Delete IdP", Icon: theme.DeleteIcon(), Importance: widget.DangerImportance, OnTapped: v.delete}
}

func (v *oneginiView) editorPane() fyne.CanvasObject {
	form := widget.NewForm(widget.NewFormItem("Identifier", v.idEntry), widget.NewFormItem("Name", v.nameEntry))
	top := container.NewVBox(form, container.NewHBox(v.enabled, v.twoStep), v.slot)
	bottom := container.NewVBox(v.check, container.NewHBox(v.saveButton, v.deleteButton), v.status)
	return container.NewBorder(top, bottom, nil, nil, v.editor)
}

func (v *oneginiView) reload() {
	v.ids = v.ids[:0]
	for _, idp := range v.srv.Workspace().Onegini.IdPs {
		v.ids = append(v.ids, idp.ID)
	}
	v.idpList.Refresh()
	v.clients.reload()
}

// edit loads an IdP into the draft that the editor writes into.
func (v *oneginiView) edit(id string) {
	idp, ok := v.srv.Workspace().Onegini.IdP(id)
	if !ok {
		return
	}
	v.original = id
	v.draft = *idp
	v.idEntry.SetText(v.draft.ID)
	v.nameEntry.SetText(v.draft.Name)
	v.enabled.SetChecked(v.draft.Enabled)
	v.twoStep.SetChecked(v.draft.TwoStep)
	slot := v.slot.Selected
	if slot == "" {
		slot = "backchannel"
	}
	v.slot.Selected = ""
	v.slot.SetSelected(slot)
	v.status.SetText("")
	v.refreshCache()
}

func (v *oneginiView) addIdP() {
	v.original = ""
	v.draft = workspace.IdP{ID: "NewIdp", Enabled: true, Scripts: workspace.Scripts{
		Complete: "{\"status\": 2000, \"user\": {\"id\": uuid()}}"}}
	v.idEntry.SetText(v.draft.ID)
	v.nameEntry.SetText("")
	v.enabled.SetChecked(true)
	v.twoStep.SetChecked(false)
	v.slot.SetSelected("complete")
	v.status.SetText("Name the IdP and save it.")
}

// slotScript points at the draft's script of a slot.
func (v *oneginiView) slotScript(slot string) *string {
	switch slot {
	case "init":
		return &v.draft.Scripts.Init
	case "complete":
		return &v.draft.Scripts.Complete
	default:
		return &v.draft.Scripts.Backchannel
	}
}

func (v *oneginiView) showSlot(slot string) {
	if slot == "" {
		return
	}
	// SetText fires OnChanged, which checks the script too.
	v.editor.SetText(*v.slotScript(slot))
	v.scriptTyped(v.editor.Text)
}

// scriptTyped keeps the draft and checks the script as the user types.
func (v *oneginiView) scriptTyped(source string) {
	*v.slotScript(v.slot.Selected) = source
	v.check.SetText(checkMessage(source, v.srv.Onegini().CheckScript(source)))
}

// checkMessage describes a compile result for the status line.
func checkMessage(source string, err error) string {
	if strings.TrimSpace(source) == "" {
		return "No script: a call to this slot answers 500 internal_server_error."
	}
	var compile *script.CompileError
	if errors.As(err, &compile) {
		var lines []string
		for _, is := range compile.Issues {
			lines = append(lines, fmt.Sprintf("Line %d, column %d: %s", is.Line, is.Column, is.Message))
		}
		return strings.Join(lines, "\n")
	}
	if err != nil {
		return err.Error()
	}
	return "✓ The script compiles."
}

func (v *oneginiView) save() {
	draft, original := v.draft, v.original
	ws := v.srv.Workspace().Clone()
	i := slices.IndexFunc(ws.Onegini.IdPs, func(idp workspace.IdP) bool { return idp.ID == original })
	if i < 0 {
		ws.Onegini.IdPs = append(ws.Onegini.IdPs, draft)
	} else {
		ws.Onegini.IdPs[i] = draft
	}
	if err := v.srv.SetWorkspace(ws); err != nil {
		v.status.SetText("Not saved (the running scripts are unchanged): " + err.Error())
		return
	}
	v.original = draft.ID
	v.status.SetText("Saved " + draft.ID + "; the next request runs these scripts.")
}

// delete removes the IdP being edited; its calls then answer 404
// invalid_idp_identifier.
func (v *oneginiView) delete() {
	id := v.original
	ws := v.srv.Workspace().Clone()
	ws.Onegini.IdPs = slices.DeleteFunc(ws.Onegini.IdPs, func(idp workspace.IdP) bool { return idp.ID == id })
	if err := v.srv.SetWorkspace(ws); err != nil {
		v.status.SetText("Not deleted: " + err.Error())
		return
	}
	v.status.SetText("Deleted " + id + "; its calls now answer 404 invalid_idp_identifier.")
	v.idpList.UnselectAll()
	v.reload()
}

func (v *oneginiView) buildTestPanel() {
	v.samplePayload = &widget.Entry{MultiLine: true, Text: `{"userId": "user-123"}`, TextStyle: fyne.TextStyle{Monospace: true}}
	v.samplePayload.ExtendBaseWidget(v.samplePayload)
	v.sampleUser = &widget.Entry{PlaceHolder: "userIdentifier (optional)"}
	v.sampleUser.ExtendBaseWidget(v.sampleUser)
	v.result = &widget.Entry{MultiLine: true, TextStyle: fyne.TextStyle{Monospace: true}}
	v.result.ExtendBaseWidget(v.result)
	v.runButton = &widget.Button{Text: "Run the script", Icon: theme.MediaPlayIcon(), Importance: widget.HighImportance, OnTapped: v.run}
}

func (v *oneginiView) testPane() fyne.CanvasObject {
	hint := widget.NewLabel("Runs the script in the editor against this request and the IdP's live cache. Nothing is stored.")
	hint.Wrapping = fyne.TextWrapWord
	form := widget.NewForm(widget.NewFormItem("requestPayload", v.samplePayload), widget.NewFormItem("userIdentifier", v.sampleUser))
	return container.NewBorder(container.NewVBox(hint, form, v.runButton), nil, nil, nil, v.result)
}

func (v *oneginiView) run() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	res, err := v.srv.Onegini().RunScript(ctx, v.editor.Text, onegini.RunInput{RequestPayload: v.samplePayload.Text,
		UserIdentifier: v.sampleUser.Text, IdP: v.draft.ID})
	if err != nil {
		v.result.SetText("The script failed; the call would answer 500 internal_server_error.\n\n" + err.Error())
		return
	}
	raw, _ := json.MarshalIndent(res, "", "  ")
	v.result.SetText(string(raw))
}

func (v *oneginiView) cachePane() fyne.CanvasObject {
	v.cacheList = &widget.List{
		Length:     func() int { return len(v.cacheEntries) },
		CreateItem: func() fyne.CanvasObject { return widget.NewLabel("key = value (expires in 100 s)") },
		UpdateItem: func(i widget.ListItemID, o fyne.CanvasObject) {
			o.(*widget.Label).SetText(cacheLine(v.cacheEntries[i]))
		},
	}
	v.cacheList.ExtendBaseWidget(v.cacheList)
	refresh := &widget.Button{Text: "Refresh", Icon: theme.ViewRefreshIcon(), OnTapped: v.refreshCache}
	clear := &widget.Button{Text: "Clear cache", Icon: theme.DeleteIcon(), OnTapped: func() {
		v.srv.Onegini().ClearCache(v.draft.ID)
		v.refreshCache()
	}}
	return container.NewBorder(container.NewHBox(refresh, clear), nil, nil, nil, v.cacheList)
}

func cacheLine(e onegini.CacheEntry) string {
	value, _ := json.Marshal(e.Value)
	if e.Expires.IsZero() {
		return fmt.Sprintf("%s = %s (never expires)", e.Key, value)
	}
	return fmt.Sprintf("%s = %s (expires in %s)", e.Key, value, time.Until(e.Expires).Round(time.Second))
}

func (v *oneginiView) refreshCache() {
	if v.cacheList == nil || v.draft.ID == "" {
		return
	}
	entries, err := v.srv.Onegini().CacheEntries(v.draft.ID)
	if err == nil {
		v.cacheEntries = entries
	}
	v.cacheList.Refresh()
}
