// Package app is RegSandbox's desktop window. Its views only show and
// change state through the server's Go API ([mockserver.Server]), the same
// one the admin API uses, so the window and /__admin never disagree.
//
// main.go owns the fyne.App; every view takes what it needs as
// parameters, keeps its widgets on a struct so tests can tap them, and
// sends every update from another goroutine through fyne.Do.
package app

import (
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"regsandbox/assets"
	"regsandbox/mockserver"
	"regsandbox/mockserver/workspace"
)

// Preference keys.
const (
	prefWidth   = "window.width"
	prefHeight  = "window.height"
	prefLastTab = "window.lastTab"
)

// Window is RegSandbox's main window and its views.
type Window struct {
	app  fyne.App
	win  fyne.Window
	srv  *mockserver.Server
	tabs *container.AppTabs
	// storageBanner tells, above every tab, why writes are refused.
	storageBanner *widget.Label
	// content holds the banner over the tabs; it lays out again when
	// the banner shows or hides.
	content      *fyne.Container
	stopWatching func()

	server    *serverView
	requests  *requestsView
	capture   *captureView
	onegini   *oneginiView
	faults    *faultsView
	scenarios *scenariosView
}

// New builds the main window of a over srv, listening on l.
func New(a fyne.App, srv *mockserver.Server, l *mockserver.Listening) *Window {
	a.SetIcon(assets.Icon)
	w := &Window{app: a, win: a.NewWindow("RegSandbox"), srv: srv}
	w.server = newServerView(a, w.win, srv, l)
	w.requests = newRequestsView(w.win, srv)
	w.capture = newCaptureView(w.win, srv)
	w.onegini = newOneginiView(w.win, srv)
	w.faults = newFaultsView(w.win, srv)
	w.scenarios = newScenariosView(w.win, srv)
	w.tabs = container.NewAppTabs(
		container.NewTabItemWithIcon("Server", theme.ComputerIcon(), w.server.content),
		container.NewTabItemWithIcon("Requests", theme.ListIcon(), w.requests.content),
		container.NewTabItemWithIcon("Capture", theme.AccountIcon(), w.capture.content),
		container.NewTabItemWithIcon("Onegini", theme.LoginIcon(), w.onegini.content),
		container.NewTabItemWithIcon("Faults & errors", theme.WarningIcon(), w.faults.content),
		container.NewTabItemWithIcon("Scenarios", theme.FolderOpenIcon(), w.scenarios.content),
	)
	w.tabs.OnSelected = func(*container.TabItem) { a.Preferences().SetInt(prefLastTab, w.tabs.SelectedIndex()) }
	w.tabs.SelectIndex(a.Preferences().IntWithFallback(prefLastTab, 0))
	w.storageBanner = widget.NewLabel("")
	w.storageBanner.Importance = widget.DangerImportance
	w.storageBanner.Wrapping = fyne.TextWrapWord
	w.storageBanner.Hide()
	w.content = container.NewBorder(w.storageBanner, nil, nil, nil, w.tabs)
	w.win.SetContent(w.content)
	w.win.Resize(fyne.NewSize(
		float32(a.Preferences().FloatWithFallback(prefWidth, 1100)),
		float32(a.Preferences().FloatWithFallback(prefHeight, 720))))
	w.addShortcuts()
	srv.OnWorkspaceChange(func(ws *workspace.Workspace) { fyne.Do(func() { w.workspaceChanged(ws) }) })
	w.followExchanges()
	w.watchStatus(statusCheckEvery)
	return w
}

// statusCheckEvery is how often the window asks whether the data
// directory still takes writes and whether recording is paused.
const statusCheckEvery = time.Second

// watchStatus shows the storage banner while the server refuses writes
// (a full disk), and hides it when they resume; it also follows pauses
// of recording made through the admin API.
func (w *Window) watchStatus(period time.Duration) {
	stop := make(chan struct{})
	w.showStorageProblem(w.srv.StorageProblem())
	go func() {
		ticker := time.NewTicker(period)
		defer ticker.Stop()
		for {
			select {
			case <-stop:
				return
			case <-ticker.C:
				// The disk is looked at here, not on the UI thread.
				problem := w.srv.StorageProblem()
				fyne.Do(func() {
					w.showStorageProblem(problem)
					w.requests.syncPause()
				})
			}
		}
	}()
	w.stopWatching = func() { close(stop) }
}

func (w *Window) showStorageProblem(problem error) {
	text := ""
	if problem != nil {
		text = "Nothing can be saved: " + problem.Error() +
			". Registrations, configuration changes and the request log fail until there is room again."
	}
	if text == w.storageBanner.Text && (text != "") == w.storageBanner.Visible() {
		return
	}
	w.storageBanner.SetText(text)
	if text == "" {
		w.storageBanner.Hide()
	} else {
		w.storageBanner.Show()
	}
	// A border layout does not notice a child that shows or hides.
	w.content.Refresh()
}

// workspaceChanged redraws the views that show configuration.
func (w *Window) workspaceChanged(*workspace.Workspace) {
	w.server.refresh()
	w.capture.reload()
	w.onegini.reload()
	w.faults.reload()
	w.scenarios.refresh()
}

// followExchanges keeps the views that show live state current as
// exchanges are recorded; the events arrive on the recorder's goroutine.
func (w *Window) followExchanges() {
	events, cancel := w.srv.Recorder().Subscribe()
	// Calls answered while the views were being built came before the
	// subscription: read them now.
	w.requests.reload()
	w.win.SetOnClosed(func() {
		cancel()
		if w.stopWatching != nil {
			w.stopWatching()
		}
		w.rememberSize()
	})
	go coalesce(events, liveRefresh, func() {
		fyne.Do(func() {
			w.requests.reload()
			w.faults.reload()
		})
	})
}

// liveRefresh bounds how often bursts of exchanges redraw the window.
const liveRefresh = 150 * time.Millisecond

// coalesce calls redraw at most once per period while events arrive, and
// once more after the last one, so a load test does not flood the UI.
func coalesce[T any](events <-chan T, period time.Duration, redraw func()) {
	ticker := time.NewTicker(period)
	defer ticker.Stop()
	dirty := false
	for {
		select {
		case _, open := <-events:
			if !open {
				return
			}
			dirty = true
		case <-ticker.C:
			if dirty {
				dirty = false
				redraw()
			}
		}
	}
}

func (w *Window) rememberSize() {
	size := w.win.Canvas().Size()
	w.app.Preferences().SetFloat(prefWidth, float64(size.Width))
	w.app.Preferences().SetFloat(prefHeight, float64(size.Height))
}

// addShortcuts binds Ctrl/Cmd+1… to the tabs, Ctrl/Cmd+F to searching
// the requests and Ctrl/Cmd+E to exporting them as HAR.
func (w *Window) addShortcuts() {
	add := func(key fyne.KeyName, fn func()) {
		w.win.Canvas().AddShortcut(&desktop.CustomShortcut{KeyName: key, Modifier: fyne.KeyModifierShortcutDefault},
			func(fyne.Shortcut) { fn() })
	}
	for i := range w.tabs.Items {
		add(fyne.KeyName(string(rune('1'+i))), func() { w.tabs.SelectIndex(i) })
	}
	add(fyne.KeyF, w.searchRequests)
	add(fyne.KeyE, w.requests.exportHAR)
}

// searchRequests opens the Requests tab with the cursor in its search.
func (w *Window) searchRequests() {
	w.tabs.Select(w.tabs.Items[1])
	w.win.Canvas().Focus(w.requests.search)
}

// ShowAndRun shows the window and runs the app until it is closed.
func (w *Window) ShowAndRun() { w.win.ShowAndRun() }

// Content is the window's content, for tests.
func (w *Window) Content() fyne.CanvasObject { return w.win.Content() }
