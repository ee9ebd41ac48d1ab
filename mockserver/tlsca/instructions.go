package tlsca

import (
	"net/url"
	"strconv"
	"strings"
)

// CAFileName is the file name under which the window exports the CA
// certificate; the install instructions refer to the file by this name.
const CAFileName = "regsandbox-ca.pem"

// CAPath is where the admin API is expected to serve the CA certificate
// (PEM). The admin API answers only on loopback by default, which is why
// the instructions for physical phones export the file instead.
const CAPath = "/__admin/ca.pem"

// Instruction tells how to make one kind of client trust the CA.
type Instruction struct {
	// Target names the client, such as "Android emulator".
	Target string
	// Steps are short ordered steps in Markdown: commands, paths and
	// file contents are in backquotes so they can be copied verbatim.
	Steps []string
}

// Markdown renders the instruction as a heading and a numbered list.
func (in Instruction) Markdown() string {
	var b strings.Builder
	b.WriteString("### " + in.Target + "\n\n")
	for i, s := range in.Steps {
		b.WriteString(strconv.Itoa(i+1) + ". " + s + "\n")
	}
	return b.String()
}

// InstallInstructions returns the steps that make the Android emulator,
// the iOS simulator and physical phones trust RegSandbox's CA. baseURL is
// the server's URL as seen from this computer, such as
// "https://127.0.0.1:8443"; its port is reused in the addresses that the
// emulators and phones must dial.
func InstallInstructions(baseURL string) []Instruction {
	base := strings.TrimSuffix(baseURL, "/")
	port := urlPort(base)
	const nsc = "`res/xml/network_security_config.xml` containing " +
		"`<network-security-config><debug-overrides><trust-anchors><certificates src=\"user\" /></trust-anchors></debug-overrides></network-security-config>`"
	const manifest = "reference it as `android:networkSecurityConfig=\"@xml/network_security_config\"` on the manifest's `<application>`"
	const androidInstall = "Settings › Security › Encryption & credentials › Install a certificate › CA certificate, and pick `" + CAFileName + "` (menu names vary a little between Android versions)"
	return []Instruction{
		{
			Target: "Android emulator",
			Steps: []string{
				"Export the CA from the RegSandbox window as `" + CAFileName + "`, then run `adb push " + CAFileName + " /sdcard/Download/`.",
				"On the emulator open " + androidInstall + ".",
				"Apps targeting API 24+ trust user-installed CAs only when told to: add " + nsc + ", and " + manifest + ". Debug overrides apply to debuggable builds only, so release builds are unaffected.",
				"Point the SDK at `https://10.0.2.2:" + port + "` (Genymotion: `https://10.0.3.2:" + port + "`), the emulator's address for this computer's loopback.",
			},
		},
		{
			Target: "iOS simulator",
			Steps: []string{
				"Export the CA from the RegSandbox window as `" + CAFileName + "`, or on this Mac run `curl -ko " + CAFileName + " " + base + CAPath + "` (-k because the CA is not trusted yet; the download never leaves loopback).",
				"With the simulator booted, run `xcrun simctl keychain booted add-root-cert " + CAFileName + "`; repeat for each simulated device and after erasing one.",
				"Relaunch the app and use `" + base + "`: the simulator shares the Mac's network, so `localhost` and `127.0.0.1` reach RegSandbox.",
			},
		},
		{
			Target: "Android phone on the local network",
			Steps: []string{
				"The admin API (`" + CAPath + "`) answers only on loopback, so export `" + CAFileName + "` from the RegSandbox window and copy it to the phone: `adb push " + CAFileName + " /sdcard/Download/` over USB, or mail it to yourself.",
				"On the phone open " + androidInstall + ".",
				"Add the same network security config as for the emulator: " + nsc + ", and " + manifest + ".",
				"Enter this computer's LAN address in the RegSandbox window so the server certificate covers it, make RegSandbox listen on the LAN, and point the SDK at `https://<LAN address>:" + port + "`.",
			},
		},
		{
			Target: "iPhone or iPad on the local network",
			Steps: []string{
				"The admin API (`" + CAPath + "`) answers only on loopback, so export `" + CAFileName + "` from the RegSandbox window and AirDrop or mail it to the device.",
				"Open it and allow the profile download, then install it in Settings › General › VPN & Device Management (iOS 14 and earlier: Settings › General › Profiles).",
				"Enable full trust in Settings › General › About › Certificate Trust Settings by turning on the RegSandbox Local CA entry; iOS does not trust an installed root for TLS until then.",
				"Enter this computer's LAN address in the RegSandbox window so the server certificate covers it, make RegSandbox listen on the LAN, and point the SDK at `https://<LAN address>:" + port + "`.",
			},
		},
	}
}

// urlPort returns the port of baseURL, the scheme's default port when it
// has none, or a placeholder when it cannot be parsed.
func urlPort(baseURL string) string {
	u, err := url.Parse(baseURL)
	if err != nil || u.Host == "" {
		return "<port>"
	}
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "http" {
		return "80"
	}
	return "443"
}
