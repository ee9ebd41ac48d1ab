package app

import (
	"fmt"
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"regsandbox/mockserver/workspace"
)

var fieldTypes = []string{workspace.FieldText, workspace.FieldEmail, workspace.FieldPassword,
	workspace.FieldDateSelect, workspace.FieldSelect, workspace.FieldCheckbox}

var ruleNames = []string{workspace.RuleRequired, workspace.RuleMatch, workspace.RuleFormat,
	workspace.RuleMinLength, workspace.RuleMaxLength, workspace.RuleUnique, workspace.RuleMinYears}

// fieldsPanel lists the flow's fields and edits one at a time: type,
// attribute, labels, and each validation rule with its message per locale.
type fieldsPanel struct {
	view    *captureView
	content fyne.CanvasObject

	list      *widget.List
	names     []string
	selected  string
	draft     workspace.Field
	editor    *fyne.Container
	status    *widget.Label
	newName   *widget.Entry
	addButton *widget.Button
	saveBtn   *widget.Button
}

func newFieldsPanel(v *captureView) *fieldsPanel {
	p := &fieldsPanel{view: v}
	p.status = &widget.Label{Wrapping: fyne.TextWrapWord}
	p.list = &widget.List{
		Length:     func() int { return len(p.names) },
		CreateItem: func() fyne.CanvasObject { return widget.NewLabel("field name") },
		UpdateItem: func(i widget.ListItemID, o fyne.CanvasObject) { o.(*widget.Label).SetText(p.names[i]) },
		OnSelected: func(i widget.ListItemID) { p.edit(p.names[i]) },
	}
	p.list.ExtendBaseWidget(p.list)
	p.newName = &widget.Entry{PlaceHolder: "new field name"}
	p.addButton = &widget.Button{Text: "Add", Icon: theme.ContentAddIcon(), OnTapped: p.addField}
	p.saveBtn = &widget.Button{Text: "Save field", Icon: theme.DocumentSaveIcon(), Importance: widget.HighImportance, OnTapped: p.saveField}
	p.editor = container.NewVBox(widget.NewLabel("Choose a field to edit its rules and messages."))
	left := container.NewBorder(nil, container.NewBorder(nil, nil, nil, p.addButton, p.newName), nil, nil, p.list)
	right := container.NewBorder(nil, container.NewVBox(p.status), nil, nil, container.NewVScroll(p.editor))
	split := container.NewHSplit(left, right)
	split.Offset = 0.25
	p.content = split
	return p
}

func (p *fieldsPanel) reload() {
	p.names = p.names[:0]
	f := p.view.flow()
	if f == nil {
		p.list.Refresh()
		return
	}
	for _, fd := range f.Fields {
		p.names = append(p.names, fd.Name)
	}
	p.list.Refresh()
	if _, ok := f.Field(p.selected); ok {
		p.edit(p.selected)
	}
}

// edit shows a draft copy of the field; nothing is saved until Save.
func (p *fieldsPanel) edit(name string) {
	f := p.view.flow()
	field, ok := f.Field(name)
	if !ok {
		return
	}
	p.selected = name
	p.draft = cloneField(*field)
	p.status.SetText("")
	p.render(f.Locales)
}

func cloneField(f workspace.Field) workspace.Field {
	out := f
	out.Label = cloneTexts(f.Label)
	out.Placeholder = cloneTexts(f.Placeholder)
	out.Options = slices.Clone(f.Options)
	out.Validations = make([]workspace.Validation, len(f.Validations))
	for i, v := range f.Validations {
		out.Validations[i] = v
		out.Validations[i].Messages = cloneTexts(v.Messages)
	}
	return out
}

func cloneTexts(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// render rebuilds the editor from the draft; every widget writes straight
// into the draft so that what the user typed survives a refused save.
func (p *fieldsPanel) render(locales []string) {
	d := &p.draft
	typeSelect := &widget.Select{Options: fieldTypes, Selected: d.Type, OnChanged: func(s string) { d.Type = s }}
	attribute := boundEntry(&d.Attribute, "attribute of the user record, e.g. givenName")
	form := widget.NewForm(
		widget.NewFormItem("Name", widget.NewLabel(d.Name)),
		widget.NewFormItem("Type", typeSelect),
		widget.NewFormItem("Attribute", attribute),
	)
	for _, loc := range locales {
		form.Append("Label ("+loc+")", textEntry(d.Label, loc))
	}
	rules := container.NewVBox()
	for i := range d.Validations {
		rules.Add(p.ruleCard(i, locales))
	}
	addRule := &widget.Button{Text: "Add rule", Icon: theme.ContentAddIcon(), OnTapped: func() {
		d.Validations = append(d.Validations, workspace.Validation{Rule: workspace.RuleRequired, Messages: map[string]string{}})
		p.render(locales)
	}}
	deleteField := &widget.Button{Text: "Delete field", Icon: theme.DeleteIcon(), Importance: widget.DangerImportance, OnTapped: p.deleteField}
	p.editor.Objects = []fyne.CanvasObject{form, widget.NewLabelWithStyle("Validation rules", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		rules, addRule, container.NewHBox(p.saveBtn, deleteField)}
	p.editor.Refresh()
}

// ruleCard edits validation i of the draft.
func (p *fieldsPanel) ruleCard(i int, locales []string) fyne.CanvasObject {
	v := &p.draft.Validations[i]
	if v.Messages == nil {
		v.Messages = map[string]string{}
	}
	rule := &widget.Select{Options: ruleNames, Selected: v.Rule, OnChanged: func(s string) { v.Rule = s }}
	value := boundEntry(&v.Value, "value: other field, email or regexp, number")
	form := widget.NewForm(widget.NewFormItem("Rule", rule), widget.NewFormItem("Value", value))
	for _, loc := range locales {
		form.Append("Message ("+loc+")", textEntry(v.Messages, loc))
	}
	remove := &widget.Button{Icon: theme.DeleteIcon(), Importance: widget.LowImportance, OnTapped: func() {
		p.draft.Validations = slices.Delete(p.draft.Validations, i, i+1)
		p.render(locales)
	}}
	return widget.NewCard("", "", container.NewBorder(nil, nil, nil, remove, form))
}

func (p *fieldsPanel) saveField() {
	draft := cloneField(p.draft)
	err := p.view.editFlow(func(f *workspace.Flow) {
		if field, ok := f.Field(draft.Name); ok {
			*field = draft
		}
	})
	p.report(err, "Saved "+draft.Name+"; the next request uses it.")
}

func (p *fieldsPanel) addField() {
	name := p.newName.Text
	if name == "" {
		p.status.SetText("Type the new field's name first.")
		return
	}
	err := p.view.editFlow(func(f *workspace.Flow) {
		f.Fields = append(f.Fields, workspace.Field{Name: name, Type: workspace.FieldText, Attribute: name,
			Label: map[string]string{"en-US": name}})
	})
	if err == nil {
		p.newName.SetText("")
		p.selected = name
	}
	p.report(err, "Added "+name+"; add it to a form in the Forms tab.")
}

func (p *fieldsPanel) deleteField() {
	name := p.draft.Name
	err := p.view.editFlow(func(f *workspace.Flow) {
		f.Fields = slices.DeleteFunc(f.Fields, func(fd workspace.Field) bool { return fd.Name == name })
		for i := range f.Forms {
			f.Forms[i].Fields = slices.DeleteFunc(f.Forms[i].Fields, func(n string) bool { return n == name })
		}
	})
	if err == nil {
		p.selected = ""
		p.editor.Objects = []fyne.CanvasObject{widget.NewLabel("Choose a field to edit its rules and messages.")}
		p.editor.Refresh()
	}
	p.report(err, "Deleted "+name+".")
}

func (p *fieldsPanel) report(err error, success string) {
	if err != nil {
		p.status.SetText(fmt.Sprintf("Not saved: %v", err))
		return
	}
	p.status.SetText(success)
}

// boundEntry is an entry that writes into *s as the user types.
func boundEntry(s *string, placeholder string) *widget.Entry {
	e := &widget.Entry{Text: *s, PlaceHolder: placeholder}
	e.OnChanged = func(text string) { *s = text }
	e.ExtendBaseWidget(e)
	return e
}

// textEntry edits one locale of a localized text.
func textEntry(texts map[string]string, locale string) *widget.Entry {
	e := &widget.Entry{Text: texts[locale]}
	e.OnChanged = func(text string) { texts[locale] = text }
	e.ExtendBaseWidget(e)
	return e
}
