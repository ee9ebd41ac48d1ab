package app

import (
	"slices"
	"sort"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"regsandbox/mockserver/workspace"
)

// flowPanel edits the chosen flow's versions, locales and the messages
// that belong to no single rule (wrong password, invalid date, ...).
type flowPanel struct {
	view    *captureView
	content fyne.CanvasObject

	versions   *widget.Entry
	locales    *widget.Entry
	messages   *fyne.Container
	draft      map[string]map[string]string
	saveButton *widget.Button
	status     *widget.Label
}

func newFlowPanel(v *captureView) *flowPanel {
	p := &flowPanel{view: v}
	p.versions = &widget.Entry{MultiLine: true, PlaceHolder: "one version per line"}
	p.versions.ExtendBaseWidget(p.versions)
	p.locales = &widget.Entry{PlaceHolder: "en-US, fr-FR"}
	p.locales.ExtendBaseWidget(p.locales)
	p.messages = container.NewVBox()
	p.status = &widget.Label{Wrapping: fyne.TextWrapWord}
	p.saveButton = &widget.Button{Text: "Save flow", Icon: theme.DocumentSaveIcon(), Importance: widget.HighImportance, OnTapped: p.save}
	hint := widget.NewLabel("A request naming a version or locale that is not listed answers 500 unexpected_error, as Capture does.")
	hint.Wrapping = fyne.TextWrapWord
	form := widget.NewForm(widget.NewFormItem("Versions", p.versions), widget.NewFormItem("Locales", p.locales))
	p.content = container.NewVScroll(container.NewVBox(form, hint,
		widget.NewLabelWithStyle("Other messages", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		p.messages, p.saveButton, p.status))
	return p
}

func (p *flowPanel) reload() {
	f := p.view.flow()
	if f == nil {
		return
	}
	p.versions.SetText(strings.Join(f.Versions, "\n"))
	p.locales.SetText(strings.Join(f.Locales, ", "))
	p.draft = map[string]map[string]string{}
	ids := make([]string, 0, len(f.Messages))
	for id, texts := range f.Messages {
		p.draft[id] = cloneTexts(texts)
		ids = append(ids, id)
	}
	sort.Strings(ids)
	form := widget.NewForm()
	for _, id := range ids {
		for _, loc := range f.Locales {
			form.Append(id+" ("+loc+")", textEntry(p.draft[id], loc))
		}
	}
	p.messages.Objects = []fyne.CanvasObject{form}
	p.messages.Refresh()
}

func (p *flowPanel) save() {
	versions := splitList(p.versions.Text)
	locales := splitList(p.locales.Text)
	messages := p.draft
	err := p.view.editFlow(func(f *workspace.Flow) {
		f.Versions, f.Locales, f.Messages = versions, locales, messages
	})
	if err != nil {
		p.status.SetText("Not saved: " + err.Error())
		return
	}
	p.status.SetText("Saved the flow.")
}

// splitList reads a list typed with commas, spaces or new lines.
func splitList(text string) []string {
	items := strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == '\n' || r == ' ' || r == '\t' })
	return slices.Compact(items)
}
