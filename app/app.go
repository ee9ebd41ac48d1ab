// Package app is RegSandbox's desktop window. Its views only show and
// change state through the server's Go API ([mockserver.Server]), the same
// one the admin API uses, so the window and /__admin never disagree.
package app

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"

	"regsandbox/mockserver"
)

// Window is RegSandbox's main window and its views.
type Window struct {
	win    fyne.Window
	server *serverView
}

// New builds the main window of a; main.go owns the fyne.App.
func New(a fyne.App, srv *mockserver.Server, l *mockserver.Listening) *Window {
	w := &Window{win: a.NewWindow("RegSandbox")}
	w.server = newServerView(a, srv, l)
	w.win.SetContent(container.NewAppTabs(
		container.NewTabItem("Server", w.server.content),
	))
	w.win.Resize(fyne.NewSize(900, 640))
	return w
}

// ShowAndRun shows the window and runs the app until it is closed.
func (w *Window) ShowAndRun() { w.win.ShowAndRun() }
