package app

import (
	"net"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"regsandbox/mockserver"
)

// serverView shows where the server listens and the base URLs a device
// needs to reach it.
type serverView struct {
	app     fyne.App
	content fyne.CanvasObject
	urls    []*widget.Entry
}

func newServerView(a fyne.App, srv *mockserver.Server, l *mockserver.Listening) *serverView {
	v := &serverView{app: a}
	form := widget.NewForm()
	for _, row := range baseURLs(l) {
		entry := &widget.Entry{Text: row.url}
		entry.Disable()
		v.urls = append(v.urls, entry)
		copyURL := row.url
		copyButton := &widget.Button{Icon: theme.ContentCopyIcon(), Importance: widget.LowImportance,
			OnTapped: func() { a.Clipboard().SetContent(copyURL) }}
		form.Append(row.label, container.NewBorder(nil, nil, nil, copyButton, entry))
	}
	title := widget.NewLabelWithStyle("RegSandbox is serving", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	hint := widget.NewLabel("Point your app at one of these base URLs. Workspace: " + srv.Workspace().Name)
	v.content = container.NewVBox(title, hint, form)
	return v
}

type urlRow struct{ label, url string }

// baseURLs lists the addresses a simulator, an emulator and the admin
// API use to reach the server.
func baseURLs(l *mockserver.Listening) []urlRow {
	var rows []urlRow
	add := func(label, scheme, addr string) {
		if addr == "" {
			return
		}
		_, port, _ := net.SplitHostPort(addr)
		rows = append(rows, urlRow{label + " (" + scheme + ")", scheme + "://" + addr})
		rows = append(rows, urlRow{"Android emulator (" + scheme + ")", scheme + "://10.0.2.2:" + port})
	}
	add("This machine", "http", l.HTTPAddr)
	add("This machine", "https", l.HTTPSAddr)
	rows = append(rows, urlRow{"Admin API", l.AdminURL()})
	return rows
}
