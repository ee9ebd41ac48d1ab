package app

import (
	"encoding/json"
	"io"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"regsandbox/fixtures"
	"regsandbox/mockserver"
)

// scenariosView starts bundled demo scenarios, imports and exports
// workspaces, and resets everything to the defaults.
type scenariosView struct {
	win     fyne.Window
	srv     *mockserver.Server
	content fyne.CanvasObject

	presets      []fixtures.Preset
	presetList   *widget.List
	description  *widget.Label
	startButton  *widget.Button
	resetButton  *widget.Button
	importButton *widget.Button
	exportButton *widget.Button
	current      *widget.Label
	status       *widget.Label
	selected     int
}

func newScenariosView(w fyne.Window, srv *mockserver.Server) *scenariosView {
	v := &scenariosView{win: w, srv: srv, selected: -1}
	v.presets, _ = srv.Presets()
	v.description = &widget.Label{Wrapping: fyne.TextWrapWord, Text: "Choose a scenario to read what it does."}
	v.status = &widget.Label{Wrapping: fyne.TextWrapWord}
	v.current = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	v.startButton = &widget.Button{Text: "Start this scenario", Icon: theme.MediaPlayIcon(),
		Importance: widget.HighImportance, OnTapped: v.startSelected}
	v.startButton.Disable()
	v.resetButton = &widget.Button{Text: "Reset to defaults", Icon: theme.ViewRefreshIcon(), OnTapped: v.confirmReset}
	v.importButton = &widget.Button{Text: "Import workspace…", Icon: theme.FolderOpenIcon(), OnTapped: v.importWorkspace}
	v.exportButton = &widget.Button{Text: "Export workspace…", Icon: theme.DocumentSaveIcon(), OnTapped: v.exportWorkspace}
	v.presetList = &widget.List{
		Length:     func() int { return len(v.presets) },
		CreateItem: func() fyne.CanvasObject { return widget.NewLabel("scenario name") },
		UpdateItem: func(i widget.ListItemID, o fyne.CanvasObject) { o.(*widget.Label).SetText(v.presets[i].Name) },
		OnSelected: v.choose,
	}
	v.presetList.ExtendBaseWidget(v.presetList)
	detail := container.NewVBox(v.description, v.startButton, widget.NewSeparator(), v.current,
		container.NewHBox(v.importButton, v.exportButton, v.resetButton), v.status)
	split := container.NewHSplit(v.presetList, container.NewPadded(detail))
	split.Offset = 0.3
	v.content = split
	v.refresh()
	return v
}

// refresh shows which workspace is active.
func (v *scenariosView) refresh() {
	v.current.SetText("Active workspace: " + v.srv.Workspace().Name)
}

func (v *scenariosView) choose(i widget.ListItemID) {
	v.selected = i
	v.description.SetText(v.presets[i].Description)
	v.startButton.Enable()
}

func (v *scenariosView) startSelected() {
	if v.selected < 0 {
		return
	}
	p := v.presets[v.selected]
	if err := v.srv.ApplyPreset(p.ID); err != nil {
		v.status.SetText("Could not start " + p.Name + ": " + err.Error())
		return
	}
	v.refresh()
	v.status.SetText("Started " + p.Name + " from a clean state.")
}

func (v *scenariosView) confirmReset() {
	dialog.ShowConfirm("Reset to defaults?",
		"The default workspace comes back and every user, token and recorded request is forgotten.",
		func(ok bool) {
			if ok {
				v.reset()
			}
		}, v.win)
}

func (v *scenariosView) reset() {
	if err := v.srv.Reset(); err != nil {
		v.status.SetText("Reset failed: " + err.Error())
		return
	}
	v.refresh()
	v.status.SetText("Everything is back to the defaults.")
}

func (v *scenariosView) importWorkspace() {
	dialog.ShowFileOpen(func(rc fyne.URIReadCloser, err error) {
		if err != nil || rc == nil {
			return
		}
		defer rc.Close()
		raw, err := io.ReadAll(rc)
		if err == nil {
			err = v.srv.ImportWorkspace(raw)
		}
		v.importDone(rc.URI().Name(), err)
	}, v.win)
}

// importDone reports an import; a refused document changed nothing.
func (v *scenariosView) importDone(name string, err error) {
	if err != nil {
		v.status.SetText("Nothing changed: " + name + " was refused. " + err.Error())
		return
	}
	v.refresh()
	v.status.SetText("Imported " + name + ".")
}

func (v *scenariosView) exportWorkspace() {
	d := dialog.NewFileSave(func(wc fyne.URIWriteCloser, err error) {
		if err != nil || wc == nil {
			return
		}
		defer wc.Close()
		raw, _ := json.MarshalIndent(v.srv.Workspace(), "", "  ")
		if _, err := wc.Write(raw); err != nil {
			v.status.SetText("Export failed: " + err.Error())
			return
		}
		v.status.SetText("Exported to " + wc.URI().Name() + ".")
	}, v.win)
	d.SetFileName("regsandbox-workspace.json")
	d.Show()
}
