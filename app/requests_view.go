package app

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"regsandbox/mockserver"
	"regsandbox/mockserver/recorder"
)

// requestPage is how many list rows are read at a time; the list reads
// the next page when it scrolls near the end, so 100,000 stored exchanges
// cost no more than the rows on screen.
const requestPage = 200

const allChoice = "All"

// requestsView is the live inspector: a virtualized list of exchanges
// with filters, the details of the chosen one, and the timeline of the
// registration it belongs to.
type requestsView struct {
	win     fyne.Window
	srv     *mockserver.Server
	content fyne.CanvasObject

	endpoint *widget.Select
	outcome  *widget.Select
	search   *widget.Entry
	count    *widget.Label

	rows    []recorder.Summary
	next    string
	loading bool
	list    *widget.List

	chosen      *recorder.Exchange
	reveal      *widget.Check
	requestText *widget.Entry
	answerText  *widget.Entry
	summary     *widget.Label
	timeline    *widget.List
	journey     []recorder.Exchange

	curlButton   *widget.Button
	replayButton *widget.Button
	harButton    *widget.Button
	clearButton  *widget.Button
	pauseButton  *widget.Button
	status       *widget.Label
}

func newRequestsView(w fyne.Window, srv *mockserver.Server) *requestsView {
	v := &requestsView{win: w, srv: srv}
	v.buildFilters()
	v.buildList()
	v.buildDetail()
	top := container.NewBorder(nil, nil, nil, container.NewHBox(v.pauseButton, v.harButton, v.clearButton),
		container.NewHBox(widget.NewLabel("Endpoint"), v.endpoint, widget.NewLabel("Outcome"), v.outcome,
			container.NewGridWrap(fyne.NewSize(260, v.search.MinSize().Height), v.search), v.count))
	split := container.NewHSplit(v.list, v.detailPane())
	split.Offset = 0.42
	v.content = container.NewBorder(top, v.status, nil, nil, split)
	v.reload()
	return v
}

func (v *requestsView) buildFilters() {
	endpoints := append([]string{allChoice}, mockserver.Endpoints()...)
	v.endpoint = &widget.Select{Options: endpoints, Selected: allChoice, OnChanged: func(string) { v.reload() }}
	v.outcome = &widget.Select{Options: []string{allChoice, recorder.OutcomeOK, recorder.OutcomeError,
		recorder.OutcomeFault, recorder.OutcomeDropped, recorder.OutcomePanic}, Selected: allChoice,
		OnChanged: func(string) { v.reload() }}
	v.search = &widget.Entry{PlaceHolder: "Search URLs, bodies, headers"}
	v.search.OnChanged = func(string) { v.reload() }
	v.search.ExtendBaseWidget(v.search)
	v.count = widget.NewLabel("")
	v.status = widget.NewLabel("")
	v.harButton = &widget.Button{Text: "Export HAR…", Icon: theme.DocumentSaveIcon(), OnTapped: v.exportHAR}
	v.clearButton = &widget.Button{Text: "Clear", Icon: theme.DeleteIcon(), OnTapped: v.clear}
	v.pauseButton = &widget.Button{OnTapped: v.togglePause}
	v.syncPause()
}

// togglePause pauses recording, or resumes it.
func (v *requestsView) togglePause() {
	rec := v.srv.Recorder()
	rec.SetPaused(!rec.Paused())
	v.syncPause()
	if rec.Paused() {
		v.status.SetText("Recording paused: calls are answered but not recorded.")
	} else {
		v.status.SetText("Recording again.")
	}
}

// syncPause shows on the button what tapping it does; the admin API may
// have paused or resumed recording meanwhile.
func (v *requestsView) syncPause() {
	text, icon := "Pause recording", theme.MediaPauseIcon()
	if v.srv.Recorder().Paused() {
		text, icon = "Resume recording", theme.MediaRecordIcon()
	}
	if v.pauseButton.Text != text {
		v.pauseButton.Text, v.pauseButton.Icon = text, icon
		v.pauseButton.Refresh()
	}
}

func (v *requestsView) buildList() {
	v.list = &widget.List{
		Length: func() int { return len(v.rows) },
		CreateItem: func() fyne.CanvasObject {
			return widget.NewLabel("12:00:00.000  POST  capture.register_native_traditional  200 ok  12.3 ms")
		},
		UpdateItem: func(i widget.ListItemID, o fyne.CanvasObject) {
			o.(*widget.Label).SetText(rowText(v.rows[i]))
			if i >= len(v.rows)-20 {
				v.loadMore()
			}
		},
		OnSelected: func(i widget.ListItemID) { v.show(v.rows[i].ID) },
	}
	v.list.ExtendBaseWidget(v.list)
}

// rowText is one line of the list: time, method, endpoint, status,
// outcome, duration.
func rowText(s recorder.Summary) string {
	what := s.Endpoint
	if what == "" {
		what = s.Path
	}
	outcome := s.Outcome
	if outcome != recorder.OutcomeOK {
		outcome = "⚠ " + outcome
	}
	return fmt.Sprintf("%s  %-4s %s  %d %s  %.1f ms", s.Time.Local().Format("15:04:05.000"), s.Method, what,
		s.Status, outcome, s.DurationMS)
}

func (v *requestsView) query() recorder.Query {
	q := recorder.Query{Text: strings.TrimSpace(v.search.Text), Limit: requestPage}
	if v.endpoint.Selected != allChoice {
		q.Endpoint = v.endpoint.Selected
	}
	if v.outcome.Selected != allChoice {
		q.Outcome = v.outcome.Selected
	}
	return q
}

// reload reads the first page again, keeping the chosen exchange.
func (v *requestsView) reload() {
	rows, next, err := v.srv.Recorder().ListSummaries(v.query())
	if err != nil {
		v.status.SetText("Could not read the log: " + err.Error())
		return
	}
	v.rows, v.next = rows, next
	v.count.SetText(fmt.Sprintf("%d stored", v.srv.Recorder().Count()))
	v.list.Refresh()
}

// loadMore appends the next page when the list nears its end.
func (v *requestsView) loadMore() {
	if v.next == "" || v.loading {
		return
	}
	v.loading = true
	q := v.query()
	q.Before = v.next
	rows, next, err := v.srv.Recorder().ListSummaries(q)
	v.loading = false
	if err != nil {
		return
	}
	v.rows, v.next = append(v.rows, rows...), next
	// The list is being laid out; refresh once it is done.
	go fyne.Do(v.list.Refresh)
}

func (v *requestsView) buildDetail() {
	mono := fyne.TextStyle{Monospace: true}
	v.requestText = &widget.Entry{MultiLine: true, TextStyle: mono, Wrapping: fyne.TextWrapBreak}
	v.requestText.ExtendBaseWidget(v.requestText)
	v.answerText = &widget.Entry{MultiLine: true, TextStyle: mono, Wrapping: fyne.TextWrapBreak}
	v.answerText.ExtendBaseWidget(v.answerText)
	v.summary = &widget.Label{Wrapping: fyne.TextWrapWord, Text: "Choose a request to see it in full."}
	v.reveal = &widget.Check{Text: "Reveal secrets", OnChanged: func(bool) { v.redraw() }}
	v.reveal.ExtendBaseWidget(v.reveal)
	v.curlButton = &widget.Button{Text: "Copy as curl", Icon: theme.ContentCopyIcon(), OnTapped: v.copyCurl}
	v.replayButton = &widget.Button{Text: "Replay", Icon: theme.MediaReplayIcon(), OnTapped: v.replay}
	v.timeline = &widget.List{
		Length: func() int { return len(v.journey) },
		CreateItem: func() fyne.CanvasObject {
			return widget.NewLabel("+0.000 s  capture.auth_native  310 record_not_found")
		},
		UpdateItem: func(i widget.ListItemID, o fyne.CanvasObject) { o.(*widget.Label).SetText(v.journeyLine(i)) },
		OnSelected: func(i widget.ListItemID) { v.show(v.journey[i].ID) },
	}
	v.timeline.ExtendBaseWidget(v.timeline)
}

func (v *requestsView) detailPane() fyne.CanvasObject {
	tabs := container.NewAppTabs(
		container.NewTabItem("Request", v.requestText),
		container.NewTabItem("Response", v.answerText),
		container.NewTabItem("Journey", v.timeline),
	)
	actions := container.NewHBox(v.curlButton, v.replayButton, v.reveal)
	return container.NewBorder(container.NewVBox(v.summary, actions), nil, nil, nil, tabs)
}

// show loads an exchange and its journey into the detail pane.
func (v *requestsView) show(id string) {
	ex, found, err := v.srv.Recorder().Get(id, v.reveal.Checked)
	if err != nil || !found {
		v.summary.SetText("This exchange is no longer stored.")
		return
	}
	v.chosen = &ex
	v.journey, _ = v.srv.Recorder().Flow(ex.FlowID)
	v.timeline.Refresh()
	v.redraw()
}

// redraw fills the detail pane from the chosen exchange.
func (v *requestsView) redraw() {
	if v.chosen == nil {
		return
	}
	if ex, found, _ := v.srv.Recorder().Get(v.chosen.ID, v.reveal.Checked); found {
		v.chosen = &ex
	}
	ex := v.chosen
	v.summary.SetText(exchangeSummary(ex))
	v.requestText.SetText(requestText(ex))
	v.answerText.SetText(answerText(ex))
}

func exchangeSummary(ex *recorder.Exchange) string {
	line := fmt.Sprintf("%s %s → %d (%s) in %.1f ms", ex.Method, ex.URL, ex.Status, ex.Outcome, ex.DurationMS)
	if ex.Endpoint != "" {
		line += " · " + ex.Endpoint
	}
	if ex.Fault != "" {
		line += " · fault " + ex.Fault + " answered"
	}
	if ex.Script != nil {
		line += fmt.Sprintf(" · %s script of %s: status %d, cost %d", ex.Script.Slot, ex.Script.IdP, ex.Script.Status, ex.Script.Cost)
		if ex.Script.Error != "" {
			line += " (" + ex.Script.Error + ")"
		}
	}
	return line
}

// requestText shows the request line, headers and the decoded form or
// JSON, which is what developers want to check first.
func requestText(ex *recorder.Exchange) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s\n", ex.Method, ex.URL, ex.Proto)
	writeHeaders(&b, ex.RequestHeaders)
	if len(ex.Form) > 0 {
		b.WriteString("\nForm fields\n")
		keys := make([]string, 0, len(ex.Form))
		for k := range ex.Form {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "  %s = %s\n", k, strings.Join(ex.Form[k], ", "))
		}
	}
	if ex.JSON != nil {
		raw, _ := json.MarshalIndent(ex.JSON, "", "  ")
		b.WriteString("\nJSON body\n" + string(raw) + "\n")
	} else if ex.RequestBody != "" && len(ex.Form) == 0 {
		b.WriteString("\n" + ex.RequestBody + "\n")
	}
	return b.String()
}

func answerText(ex *recorder.Exchange) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d\n", ex.Status)
	writeHeaders(&b, ex.ResponseHeaders)
	b.WriteString("\n")
	var pretty any
	if json.Unmarshal([]byte(ex.ResponseBody), &pretty) == nil {
		raw, _ := json.MarshalIndent(pretty, "", "  ")
		b.Write(raw)
	} else {
		b.WriteString(ex.ResponseBody)
	}
	return b.String()
}

func writeHeaders(b *strings.Builder, h map[string][]string) {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		fmt.Fprintf(b, "%s: %s\n", k, strings.Join(h[k], ", "))
	}
}

// journeyLine is one step of the registration's timeline, timed from its
// first call.
func (v *requestsView) journeyLine(i int) string {
	ex := v.journey[i]
	at := ex.Time.Sub(v.journey[0].Time).Seconds()
	what := ex.Endpoint
	if what == "" {
		what = ex.Path
	}
	return fmt.Sprintf("+%.3f s  %s  %d %s", at, what, ex.Status, answerName(ex))
}

// answerName is the error name of an answer, or its outcome.
func answerName(ex recorder.Exchange) string {
	var body struct {
		Error string `json:"error"`
		Stat  string `json:"stat"`
	}
	if json.Unmarshal([]byte(ex.ResponseBody), &body) == nil && body.Error != "" {
		return body.Error
	}
	return ex.Outcome
}

func (v *requestsView) copyCurl() {
	if v.chosen == nil {
		return
	}
	fyne.CurrentApp().Clipboard().SetContent(recorder.Curl(*v.chosen, v.srv.BaseURL(), v.reveal.Checked))
	v.status.SetText("Copied the curl command.")
}

func (v *requestsView) replay() {
	if v.chosen == nil {
		return
	}
	status, err := v.srv.Replay(v.chosen.ID)
	if err != nil {
		v.status.SetText("Replay failed: " + err.Error())
		return
	}
	v.status.SetText(fmt.Sprintf("Replayed: the server answered %d; the new exchange is at the top.", status))
	v.reload()
}

func (v *requestsView) clear() {
	dialog.ShowConfirm("Clear the log?", "Every recorded request is forgotten.", func(ok bool) {
		if !ok {
			return
		}
		if err := v.srv.Recorder().Clear(); err != nil {
			v.status.SetText("Not cleared: " + err.Error())
			return
		}
		v.chosen, v.journey = nil, nil
		v.timeline.Refresh()
		v.reload()
	}, v.win)
}

func (v *requestsView) exportHAR() {
	d := dialog.NewFileSave(func(wc fyne.URIWriteCloser, err error) {
		if err != nil || wc == nil {
			return
		}
		defer wc.Close()
		raw, err := v.harOfListed()
		if err == nil {
			_, err = wc.Write(raw)
		}
		if err != nil {
			v.status.SetText("Export failed: " + err.Error())
			return
		}
		v.status.SetText("Exported " + wc.URI().Name() + ".")
	}, v.win)
	d.SetFileName("regsandbox.har")
	d.Show()
}

// harOfListed exports what the filters show, secrets masked unless the
// user chose to reveal them.
func (v *requestsView) harOfListed() ([]byte, error) {
	q := v.query()
	q.Limit, q.Reveal = recorder.MaxPage, v.reveal.Checked
	page, err := v.srv.Recorder().List(q)
	if err != nil {
		return nil, err
	}
	return recorder.HAR(v.srv.BaseURL(), page.Exchanges, v.reveal.Checked)
}
