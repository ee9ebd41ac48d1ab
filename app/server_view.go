package app

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"rsc.io/qr"

	"regsandbox/mockserver"
	"regsandbox/mockserver/tlsca"
)

// serverView shows where the server listens, the base URLs a device
// needs, a QR code for a phone, and the HTTPS certificate to install.
type serverView struct {
	app     fyne.App
	win     fyne.Window
	srv     *mockserver.Server
	l       *mockserver.Listening
	content fyne.CanvasObject

	status *widget.Label
	toggle *widget.Button
	// background runs slow work off the UI thread; tests run it in place.
	background func(func())
	urls       []urlRow
	qrFor      *widget.Select
	qrImage    *canvas.Image
	certInfo   *widget.Label
	copied     *widget.Label
}

type urlRow struct{ label, url string }

func newServerView(a fyne.App, w fyne.Window, srv *mockserver.Server, l *mockserver.Listening) *serverView {
	v := &serverView{app: a, win: w, srv: srv, l: l, urls: baseURLs(l, mockserver.LANAddress()),
		background: func(fn func()) { go fn() }}
	v.status = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	v.toggle = &widget.Button{OnTapped: v.startOrStop}
	v.copied = widget.NewLabel("")
	v.qrImage = &canvas.Image{FillMode: canvas.ImageFillContain, ScaleMode: canvas.ImageScalePixels}
	v.qrImage.SetMinSize(fyne.NewSize(220, 220))
	labels := make([]string, 0, len(v.urls))
	for _, row := range v.urls {
		labels = append(labels, row.label)
	}
	v.qrFor = &widget.Select{Options: labels, OnChanged: v.showQR}
	v.certInfo = widget.NewLabel("")
	v.certInfo.Wrapping = fyne.TextWrapWord
	v.refresh()
	if len(labels) > 0 {
		v.qrFor.SetSelected(v.preferredQR(labels))
	}
	v.content = container.NewVScroll(container.NewVBox(
		container.NewBorder(nil, nil, nil, v.toggle, v.status),
		widget.NewLabel("Point your app at one of these base URLs."),
		v.urlForm(),
		v.copied,
		widget.NewSeparator(),
		widget.NewLabelWithStyle("Scan from a phone", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		container.NewBorder(nil, nil, nil, nil, v.qrFor),
		container.NewHBox(v.qrImage),
		widget.NewSeparator(),
		widget.NewLabelWithStyle("HTTPS certificate", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		v.certInfo,
		container.NewHBox(
			&widget.Button{Text: "Export CA certificate…", Icon: theme.DocumentSaveIcon(), OnTapped: v.exportCA},
			&widget.Button{Text: "How to install it", Icon: theme.HelpIcon(), OnTapped: v.showInstructions},
		),
	))
	return v
}

// preferredQR picks the LAN URL when there is one: a QR code is for a phone.
func (v *serverView) preferredQR(labels []string) string {
	for _, l := range labels {
		if strings.HasPrefix(l, "Phone on the LAN") {
			return l
		}
	}
	return labels[0]
}

func (v *serverView) urlForm() fyne.CanvasObject {
	form := widget.NewForm()
	for _, row := range v.urls {
		entry := &widget.Label{Text: row.url, Selectable: true}
		form.Append(row.label, container.NewBorder(nil, nil, nil,
			&widget.Button{Icon: theme.ContentCopyIcon(), Importance: widget.LowImportance,
				OnTapped: func() { v.copy(row.url) }}, entry))
	}
	return form
}

func (v *serverView) copy(text string) {
	v.app.Clipboard().SetContent(text)
	v.copied.SetText("Copied " + text)
}

// startOrStop stops the listeners, or starts them again on the same
// ports. Stopping waits for calls in flight, so it runs off the UI thread.
func (v *serverView) startOrStop() {
	v.toggle.Disable()
	running := v.l.Running()
	v.background(func() {
		var err error
		if running {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			v.l.Shutdown(ctx)
			cancel()
		} else {
			err = v.l.Start()
		}
		fyne.Do(func() {
			v.toggle.Enable()
			v.refresh()
			if err != nil {
				v.status.SetText("Could not start: " + err.Error())
			}
		})
	})
}

// refresh updates the status line and the certificate details.
func (v *serverView) refresh() {
	if v.l.Running() {
		v.status.SetText(fmt.Sprintf("Serving — workspace %q", v.srv.Workspace().Name))
		v.toggle.SetText("Stop")
		v.toggle.SetIcon(theme.MediaStopIcon())
	} else {
		v.status.SetText("Stopped — apps get \"connection refused\" until you start it again")
		v.toggle.SetText("Start")
		v.toggle.SetIcon(theme.MediaPlayIcon())
	}
	leaf, err := v.srv.CA().Leaf()
	if err != nil {
		v.certInfo.SetText("The certificate could not be read: " + err.Error())
		return
	}
	names := append([]string{}, leaf.DNSNames...)
	for _, ip := range leaf.IPAddresses {
		names = append(names, ip.String())
	}
	v.certInfo.SetText(fmt.Sprintf("Issued by %s\nCovers %s\nValid until %s (%d days)",
		v.srv.CA().CACert().Subject.CommonName, strings.Join(names, ", "),
		leaf.NotAfter.Format("2 Jan 2006"), int(time.Until(leaf.NotAfter).Hours()/24)))
}

func (v *serverView) showQR(label string) {
	for _, row := range v.urls {
		if row.label != label {
			continue
		}
		v.qrImage.Image = qrImage(row.url)
		v.qrImage.Refresh()
	}
}

func (v *serverView) exportCA() {
	d := dialog.NewFileSave(func(wc fyne.URIWriteCloser, err error) {
		if err != nil || wc == nil {
			return
		}
		defer wc.Close()
		if _, err := wc.Write(v.srv.CA().CACertPEM()); err != nil {
			dialog.ShowError(err, v.win)
		}
	}, v.win)
	d.SetFileName(tlsca.CAFileName)
	if home, err := os.UserHomeDir(); err == nil {
		if dir, err := storage.ListerForURI(storage.NewFileURI(filepath.Clean(home))); err == nil {
			d.SetLocation(dir)
		}
	}
	d.Show()
}

func (v *serverView) showInstructions() {
	base := "https://" + v.l.HTTPSAddr
	var md strings.Builder
	for _, in := range tlsca.InstallInstructions(base) {
		md.WriteString(in.Markdown())
		md.WriteString("\n\n")
	}
	text := widget.NewRichTextFromMarkdown(md.String())
	text.Wrapping = fyne.TextWrapWord
	scroll := container.NewVScroll(text)
	scroll.SetMinSize(fyne.NewSize(620, 420))
	dialog.ShowCustom("Install the RegSandbox CA", "Close", scroll, v.win)
}

// baseURLs lists the addresses this machine, a simulator, an emulator, a
// phone on the LAN and the admin API use to reach the server.
func baseURLs(l *mockserver.Listening, lan string) []urlRow {
	var rows []urlRow
	add := func(scheme, addr string) {
		if addr == "" {
			return
		}
		host, port, _ := net.SplitHostPort(addr)
		rows = append(rows,
			urlRow{"This machine, iOS simulator (" + scheme + ")", scheme + "://localhost:" + port},
			urlRow{"Android emulator (" + scheme + ")", scheme + "://10.0.2.2:" + port})
		if lan != "" && !isLoopbackHost(host) {
			rows = append(rows, urlRow{"Phone on the LAN (" + scheme + ")", scheme + "://" + lan + ":" + port})
		}
	}
	add("http", l.HTTPAddr)
	add("https", l.HTTPSAddr)
	rows = append(rows, urlRow{"Admin API", l.AdminURL()})
	return rows
}

func isLoopbackHost(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || ip != nil && ip.IsLoopback()
}

// qrImage draws text as a QR code with one pixel per module and a quiet
// zone of four; the canvas scales it up without blurring.
func qrImage(text string) image.Image {
	code, err := qr.Encode(text, qr.M)
	if err != nil {
		return nil
	}
	const quiet = 4
	size := code.Size + 2*quiet
	img := image.NewGray(image.Rect(0, 0, size, size))
	for y := range size {
		for x := range size {
			if code.Black(x-quiet, y-quiet) {
				img.SetGray(x, y, color.Gray{Y: 0})
			} else {
				img.SetGray(x, y, color.Gray{Y: 255})
			}
		}
	}
	return img
}
