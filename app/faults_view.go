package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"regsandbox/mockserver"
	"regsandbox/mockserver/faults"
	"regsandbox/mockserver/workspace"
)

// faultsView holds the fault rules and the gallery of documented errors.
type faultsView struct {
	win     fyne.Window
	srv     *mockserver.Server
	content fyne.CanvasObject

	rules    []mockserver.FaultState
	ruleList *widget.List
	chosen   int
	draft    workspace.Fault
	editor   *fyne.Container
	preview  *widget.Entry
	status   *widget.Label

	saveButton   *widget.Button
	newButton    *widget.Button
	deleteButton *widget.Button
	upButton     *widget.Button
	downButton   *widget.Button
	rearmButton  *widget.Button

	gallery *galleryPanel
}

func newFaultsView(w fyne.Window, srv *mockserver.Server) *faultsView {
	v := &faultsView{win: w, srv: srv, chosen: -1}
	v.status = &widget.Label{Wrapping: fyne.TextWrapWord}
	v.preview = &widget.Entry{MultiLine: true, TextStyle: fyne.TextStyle{Monospace: true}, Wrapping: fyne.TextWrapBreak}
	v.preview.ExtendBaseWidget(v.preview)
	v.ruleList = &widget.List{
		Length:     func() int { return len(v.rules) },
		CreateItem: func() fyne.CanvasObject { return widget.NewLabel("● rule name — endpoint (3 left)") },
		UpdateItem: func(i widget.ListItemID, o fyne.CanvasObject) { o.(*widget.Label).SetText(ruleLine(v.rules[i])) },
		OnSelected: v.choose,
	}
	v.ruleList.ExtendBaseWidget(v.ruleList)
	v.saveButton = &widget.Button{Text: "Save rule", Icon: theme.DocumentSaveIcon(), Importance: widget.HighImportance, OnTapped: v.save}
	v.newButton = &widget.Button{Text: "New rule", Icon: theme.ContentAddIcon(), OnTapped: v.newRule}
	v.deleteButton = &widget.Button{Icon: theme.DeleteIcon(), OnTapped: v.delete}
	v.upButton = &widget.Button{Icon: theme.MoveUpIcon(), OnTapped: func() { v.move(-1) }}
	v.downButton = &widget.Button{Icon: theme.MoveDownIcon(), OnTapped: func() { v.move(1) }}
	v.rearmButton = &widget.Button{Text: "Re-arm", Icon: theme.ViewRefreshIcon(), OnTapped: v.rearm}
	v.editor = container.NewVBox(widget.NewLabel("Choose a rule, or make a new one. Rules are tried in order; the first that matches answers."))
	v.gallery = newGalleryPanel(srv, v.galleryArmed)

	left := container.NewBorder(nil, container.NewHBox(v.newButton, v.upButton, v.downButton, v.deleteButton), nil, nil, v.ruleList)
	right := container.NewBorder(nil, v.status, nil, nil,
		container.NewVSplit(container.NewVScroll(v.editor), container.NewBorder(widget.NewLabel("Preview of the answer"), nil, nil, nil, v.preview)))
	split := container.NewHSplit(left, right)
	split.Offset = 0.32
	v.content = container.NewAppTabs(
		container.NewTabItem("Rules", split),
		container.NewTabItem("Error gallery", v.gallery.content),
	)
	v.reload()
	return v
}

// ruleLine shows a rule's state at a glance: armed or not, what it does,
// where, and how many hits remain.
func ruleLine(f mockserver.FaultState) string {
	mark := "●"
	if !f.Enabled || f.Remaining == 0 {
		mark = "○"
	}
	name := f.Name
	if name == "" {
		name = f.ID
	}
	line := fmt.Sprintf("%s %s — %s", mark, name, f.Endpoint)
	switch {
	case f.Times > 0 && f.Remaining == 0:
		line += " (used up)"
	case f.Times > 0:
		line += fmt.Sprintf(" (%d left)", f.Remaining)
	}
	return line
}

func (v *faultsView) reload() {
	v.rules = v.srv.Faults()
	v.ruleList.Refresh()
}

func (v *faultsView) choose(i widget.ListItemID) {
	v.chosen = i
	v.draft = v.rules[i].Fault
	v.draft.Headers = cloneTexts(v.rules[i].Headers)
	v.render()
}

func (v *faultsView) newRule() {
	v.ruleList.UnselectAll()
	v.chosen = -1
	v.draft = workspace.Fault{Name: "New rule", Endpoint: faults.AnyEndpoint, Error: "capture.unexpected_error", Times: 1, Enabled: true}
	v.render()
}

// render builds the editor over the draft; every widget writes into it.
func (v *faultsView) render() {
	d := &v.draft
	endpoint := &widget.Select{Options: append([]string{faults.AnyEndpoint}, mockserver.Endpoints()...), Selected: d.Endpoint,
		OnChanged: func(s string) { d.Endpoint = s; v.showPreview() }}
	errorSelect := &widget.SelectEntry{}
	errorSelect.ExtendBaseWidget(errorSelect)
	errorSelect.SetOptions(catalogueIDs())
	errorSelect.SetText(d.Error)
	errorSelect.OnChanged = func(s string) { d.Error = s; v.showPreview() }
	when := &widget.Entry{Text: d.When, PlaceHolder: `request.form.emailAddress == "fail@example.com"`, MultiLine: true}
	when.OnChanged = func(s string) { d.When = s }
	when.ExtendBaseWidget(when)
	form := widget.NewForm(
		widget.NewFormItem("Name", boundEntry(&d.Name, "")),
		widget.NewFormItem("Endpoint", endpoint),
		widget.NewFormItem("Only when (CEL)", when),
		widget.NewFormItem("Answer with error", errorSelect),
		widget.NewFormItem("…or status", intEntry(&d.Status, "custom HTTP status")),
		widget.NewFormItem("…and body", boundEntry(&d.Body, "custom body")),
		widget.NewFormItem("Delay (ms)", intEntry(&d.DelayMS, "0")),
		widget.NewFormItem("Jitter (ms)", intEntry(&d.JitterMS, "0")),
		widget.NewFormItem("Probability", floatEntry(&d.Probability, "0 or 1 = always")),
		widget.NewFormItem("Only the next N times", intEntry(&d.Times, "0 = every time")),
		widget.NewFormItem("Misbehave", v.behaviour()),
		widget.NewFormItem("", &widget.Check{Text: "Armed", Checked: d.Enabled, OnChanged: func(b bool) { d.Enabled = b }}),
	)
	v.editor.Objects = []fyne.CanvasObject{form, container.NewHBox(v.saveButton, v.rearmButton)}
	v.editor.Refresh()
	v.showPreview()
}

// behaviour chooses how the connection misbehaves instead of answering.
func (v *faultsView) behaviour() fyne.CanvasObject {
	d := &v.draft
	options := []string{"answer", "drop the connection", "hang until the client gives up", "malformed body"}
	selected := options[0]
	switch {
	case d.Drop:
		selected = options[1]
	case d.Hang:
		selected = options[2]
	case d.Malformed:
		selected = options[3]
	}
	return &widget.Select{Options: options, Selected: selected, OnChanged: func(s string) {
		d.Drop, d.Hang, d.Malformed = s == options[1], s == options[2], s == options[3]
		v.showPreview()
	}}
}

func catalogueIDs() []string {
	var ids []string
	for _, e := range mockserver.ErrorCatalogue() {
		ids = append(ids, e.ID)
	}
	return ids
}

// showPreview shows exactly what the draft would answer.
func (v *faultsView) showPreview() {
	endpoint := v.draft.Endpoint
	if endpoint == faults.AnyEndpoint {
		endpoint = "capture.register_native_traditional"
	}
	status, headers, body, err := v.srv.PreviewFault(v.draft, endpoint)
	if err != nil {
		v.preview.SetText(err.Error())
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d\n", status)
	writeHeaders(&b, headers)
	var pretty bytes.Buffer
	if json.Indent(&pretty, body, "", "  ") == nil {
		body = pretty.Bytes()
	}
	b.WriteString("\n" + string(body))
	v.preview.SetText(b.String())
}

func (v *faultsView) save() {
	var err error
	if v.chosen < 0 {
		_, err = v.srv.AddFault(v.draft)
	} else {
		_, err = v.srv.UpdateFault(v.draft.ID, v.draft)
	}
	if err != nil {
		v.status.SetText("Not saved: " + err.Error())
		return
	}
	v.status.SetText("Saved; the rule is " + map[bool]string{true: "armed.", false: "disarmed."}[v.draft.Enabled])
	v.reload()
}

func (v *faultsView) delete() {
	if v.chosen < 0 {
		return
	}
	if err := v.srv.DeleteFault(v.rules[v.chosen].ID); err != nil {
		v.status.SetText("Not deleted: " + err.Error())
		return
	}
	v.chosen = -1
	v.ruleList.UnselectAll()
	v.reload()
}

func (v *faultsView) move(by int) {
	if v.chosen < 0 {
		return
	}
	to := v.chosen + by
	if err := v.srv.MoveFault(v.rules[v.chosen].ID, to); err != nil {
		v.status.SetText(err.Error())
		return
	}
	v.reload()
	if to >= 0 && to < len(v.rules) {
		v.ruleList.Select(to)
	}
}

func (v *faultsView) rearm() {
	if v.chosen >= 0 && v.srv.RearmFault(v.rules[v.chosen].ID) {
		v.status.SetText("Re-armed.")
	}
	v.reload()
}

// galleryArmed is told when the gallery armed a rule.
func (v *faultsView) galleryArmed(f mockserver.FaultState) {
	v.reload()
	v.status.SetText("Armed: " + f.Name)
}

func intEntry(n *int, placeholder string) *widget.Entry {
	e := &widget.Entry{PlaceHolder: placeholder}
	if *n != 0 {
		e.Text = strconv.Itoa(*n)
	}
	e.OnChanged = func(s string) { *n, _ = strconv.Atoi(strings.TrimSpace(s)) }
	e.ExtendBaseWidget(e)
	return e
}

func floatEntry(f *float64, placeholder string) *widget.Entry {
	e := &widget.Entry{PlaceHolder: placeholder}
	if *f != 0 {
		e.Text = strconv.FormatFloat(*f, 'g', -1, 64)
	}
	e.OnChanged = func(s string) { *f, _ = strconv.ParseFloat(strings.TrimSpace(s), 64) }
	e.ExtendBaseWidget(e)
	return e
}

// galleryPanel shows every documented error with its exact JSON and
// localized messages, and makes the next request fail with it in one click.
type galleryPanel struct {
	srv     *mockserver.Server
	content fyne.CanvasObject
	armed   func(mockserver.FaultState)

	entries  []faults.Entry
	list     *widget.List
	chosen   int
	body     *widget.Entry
	about    *widget.Label
	locale   *widget.RadioGroup
	endpoint *widget.Select
	failNext *widget.Button
}

func newGalleryPanel(srv *mockserver.Server, armed func(mockserver.FaultState)) *galleryPanel {
	g := &galleryPanel{srv: srv, armed: armed, entries: mockserver.ErrorCatalogue(), chosen: -1}
	sort.SliceStable(g.entries, func(i, j int) bool { return g.entries[i].Backend < g.entries[j].Backend })
	g.body = &widget.Entry{MultiLine: true, TextStyle: fyne.TextStyle{Monospace: true}, Wrapping: fyne.TextWrapBreak}
	g.body.ExtendBaseWidget(g.body)
	g.about = &widget.Label{Wrapping: fyne.TextWrapWord, Text: "Every documented error of both back ends. Choose one to see its exact answer."}
	g.locale = &widget.RadioGroup{Options: []string{"en-US", "fr-FR"}, Selected: "en-US", Horizontal: true,
		OnChanged: func(string) { g.show() }}
	g.locale.ExtendBaseWidget(g.locale)
	g.endpoint = &widget.Select{}
	g.failNext = &widget.Button{Text: "Fail the next request with this", Icon: theme.ErrorIcon(),
		Importance: widget.DangerImportance, OnTapped: g.armNext}
	g.list = &widget.List{
		Length:     func() int { return len(g.entries) },
		CreateItem: func() fyne.CanvasObject { return widget.NewLabel("capture 390 invalid_form_fields") },
		UpdateItem: func(i widget.ListItemID, o fyne.CanvasObject) {
			e := g.entries[i]
			o.(*widget.Label).SetText(fmt.Sprintf("%s %s %s (HTTP %d)", e.Backend, e.Code, e.Name, e.Status))
		},
		OnSelected: func(i widget.ListItemID) { g.chosen = i; g.show() },
	}
	g.list.ExtendBaseWidget(g.list)
	actions := container.NewBorder(nil, nil, widget.NewLabel("on"), g.failNext, g.endpoint)
	split := container.NewHSplit(g.list, container.NewBorder(container.NewVBox(g.about, g.locale, actions), nil, nil, nil, g.body))
	split.Offset = 0.4
	g.content = split
	return g
}

func (g *galleryPanel) show() {
	if g.chosen < 0 {
		return
	}
	e := g.entries[g.chosen].Localized(g.locale.Selected)
	g.about.SetText(e.Description)
	var pretty bytes.Buffer
	json.Indent(&pretty, e.Body, "", "  ")
	g.body.SetText(fmt.Sprintf("HTTP %d\n\n%s", e.Status, pretty.String()))
	g.endpoint.Options = slices.Clone(e.Endpoints)
	if !slices.Contains(g.endpoint.Options, g.endpoint.Selected) && len(e.Endpoints) > 0 {
		g.endpoint.Selected = e.Endpoints[0]
	}
	g.endpoint.Refresh()
}

func (g *galleryPanel) armNext() {
	if g.chosen < 0 || g.endpoint.Selected == "" {
		return
	}
	f, err := g.srv.FailNext(g.endpoint.Selected, g.entries[g.chosen].ID)
	if err != nil {
		g.about.SetText("Not armed: " + err.Error())
		return
	}
	g.about.SetText("The next call to " + g.endpoint.Selected + " answers this error.")
	if g.armed != nil {
		g.armed(f)
	}
}
