//go:build linux || darwin || freebsd || openbsd || netbsd

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The IRC clients as the tests drive them: each runs in a tmux of the
// test's own, with a home directory of its own (no configuration, servers
// or scripts of the machine's, nothing connects at start), and writes
// what it shows to log files the tests read, a file for each window (a
// channel, a private conversation) and, for irssi, one for all of them.

// irssiClient is irssi, at a terminal.
type irssiClient struct {
	t    *testing.T
	tm   *tmuxTerm
	home string
	all  *logFile // every line of every window
}

// startIrssi runs irssi with a home of its own, as nick.
func startIrssi(t *testing.T, nick string) *irssiClient {
	t.Helper()
	requireCommand(t, "irssi", "the IRC gateway's end-to-end tests run a real IRC client")
	home := t.TempDir()
	logs := filepath.Join(home, "logs")
	if err := os.Mkdir(logs, 0o700); err != nil {
		t.Fatal(err)
	}
	// No servers or networks, so -! has nothing to connect to anyway;
	// no reconnect within a test (the room sends its members away, and
	// a reconnect would be the client's, not the test's); nothing
	// written back to the config; the lines typed are never taken for
	// a paste.
	config := fmt.Sprintf(`settings = {
  core = {
    real_name = "%[1]s";
    user_name = "%[1]s";
    nick = "%[1]s";
    settings_autosave = "no";
    server_reconnect_time = "3600";
    resolve_prefer_ipv6 = "no";
  };
  "fe-common/core" = {
    autolog = "yes";
    autolog_path = "%[2]s/$0.log";
    autolog_level = "ALL";
    beep_msg_level = "";
  };
  "fe-text" = { paste_detect_time = "0"; };
};
logs = { "%[2]s/all.log" = { auto_open = "yes"; level = "ALL"; }; };
`, nick, logs)
	if err := os.WriteFile(filepath.Join(home, "config"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	ir := &irssiClient{t: t, home: home, all: &logFile{t: t, dir: logs, name: "all.log"}}
	ir.tm = startTmux(t, "exec irssi --home="+home+" -!")
	quitAtCleanup(t, ir.tm, "/quit")
	ir.all.wait(`Irssi v\d`)
	return ir
}

// window is the log of irssi's window for target: a channel, or a nick
// for a private conversation.
func (ir *irssiClient) window(target string) *logFile {
	return &logFile{t: ir.t, dir: filepath.Join(ir.home, "logs"), name: target + ".log"}
}

// send types line at irssi's prompt and presses Enter.
func (ir *irssiClient) send(line string) {
	ir.t.Helper()
	ir.tm.run("send-keys", "-l", line)
	ir.tm.keys("Enter")
}

// connect connects to the room's IRC port with the options the host
// printed for irssi (TLS, pinned), presenting the client certificate in
// certFile ("" for none), as nick, with the admin password when it is not
// "".
func (ir *irssiClient) connect(r *ircRoom, certFile, password, nick string) {
	ir.t.Helper()
	ir.connectWith(r, r.irssiOptions, certFile, password, nick)
}

// connectPinned is connect, pinned to pin with pinOption
// (-tls_pinned_pubkey or -tls_pinned_cert).
func (ir *irssiClient) connectPinned(r *ircRoom, pinOption, pin, certFile, password, nick string) {
	ir.t.Helper()
	ir.connectWith(r, "-tls "+pinOption+" "+pin, certFile, password, nick)
}

func (ir *irssiClient) connectWith(r *ircRoom, options, certFile, password, nick string) {
	ir.t.Helper()
	ir.send("/set nick " + nick)
	line := "/connect " + options
	if certFile != "" {
		line += " -tls_cert " + certFile
	}
	line += " " + r.ircHost + " " + r.ircPort
	if password != "" {
		line += " " + password + " " + nick
	}
	ir.send(line)
}

// weechatClient is weechat, at a terminal.
type weechatClient struct {
	t    *testing.T
	tm   *tmuxTerm
	home string
	tls  string // its options' prefix (weechatTLSPrefix)
}

// weechatTLSPrefix is what weechat calls its TLS options: "tls" since
// 4.0, "ssl" before (Debian 12 has 3.8), which ignores the other name
// and connects without TLS.
func weechatTLSPrefix(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("weechat", "--version").Output()
	if err != nil {
		t.Fatalf("weechat --version: %v", err)
	}
	m := regexp.MustCompile(`^(\d+)\.`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("weechat --version said %q", out)
	}
	if major, _ := strconv.Atoi(string(m[1])); major < 4 {
		return "ssl"
	}
	return "tls"
}

// startWeechat runs weechat with a home of its own, with only its IRC and
// logger plugins, and a server "lab" for the room's IRC port, pinned to
// pin (the certificate's figure), with the client certificate in
// certFile, as nick, and with password ("" for none) as the admin
// password by SASL PLAIN; it connects at once.
func startWeechat(t *testing.T, r *ircRoom, pin, certFile, nick, password string) *weechatClient {
	t.Helper()
	requireCommand(t, "weechat", "the IRC gateway's end-to-end tests run a real IRC client")
	home := t.TempDir()
	tls := weechatTLSPrefix(t)
	server := "/server add lab " + r.ircHost + "/" + r.ircPort + " -" + tls + " -" + tls + "_fingerprint=" + pin +
		" -" + tls + "_cert=" + certFile + " -nicks=" + nick + " -username=" + nick + " -realname=" + nick +
		" -noautoreconnect"
	if password != "" {
		server += " -sasl_mechanism=plain -sasl_username=" + nick + " -sasl_password=" + password
	}
	// Each -r command is one of weechat's, run at start in order: logs
	// written at once into home/logs, a file per buffer; no paste
	// question; the server, then the connection.
	commands := []string{
		"/set weechat.look.paste_max_lines -1",
		"/set logger.file.flush_delay 0",
		"/set logger.file.path " + filepath.Join(home, "logs"),
		"/set logger.file.mask $plugin.$name.weechatlog",
		server,
		"/connect lab",
	}
	args := []string{"weechat", "-d", home, "-a", "-P", "irc,logger"}
	for _, c := range commands {
		args = append(args, "-r", c)
	}
	wc := &weechatClient{t: t, home: home, tls: tls}
	wc.tm = startTmux(t, "exec "+shellQuote(args))
	quitAtCleanup(t, wc.tm, "/quit")
	return wc
}

// buffer is the log of weechat's buffer name: "server.lab", or
// "lab.#channel", or "lab.nick" for a private conversation.
func (wc *weechatClient) buffer(name string) *logFile {
	return &logFile{t: wc.t, dir: filepath.Join(wc.home, "logs"), name: "irc." + name + ".weechatlog"}
}

// send types line at weechat's prompt, in the buffer shown, and presses
// Enter.
func (wc *weechatClient) send(line string) {
	wc.t.Helper()
	wc.tm.run("send-keys", "-l", line)
	wc.tm.keys("Enter")
}

// quitAtCleanup has the client in tm's pane (run there with exec, so
// that it is the pane's process) end itself with quit, its command to
// leave, when the test ends, before its tmux server is killed, and waits
// for it: killed with its terminal, a client may still be writing its
// logs into the test's directories while they are removed.
func quitAtCleanup(t *testing.T, tm *tmuxTerm, quit string) {
	t.Helper()
	pid, err := strconv.Atoi(strings.TrimSpace(tm.run("display-message", "-p", "#{pane_pid}")))
	if err != nil {
		t.Fatalf("the client's process id: %v", err)
	}
	t.Cleanup(func() {
		tm.cmd("send-keys", "-l", quit).Run()
		tm.cmd("send-keys", "Enter").Run()
		for deadline := time.Now().Add(screenWait); syscall.Kill(pid, 0) == nil; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Errorf("the IRC client (process %d) did not quit within %v; killed", pid, screenWait)
				syscall.Kill(pid, syscall.SIGKILL)
				return
			}
		}
	})
}

// pin sets the server's pin to the certificate's figure pin.
func (wc *weechatClient) pin(pin string) {
	wc.t.Helper()
	wc.send("/set irc.server.lab." + wc.tls + "_fingerprint " + pin)
}

// wrongPin is pin with its last hex digit changed.
func wrongPin(pin string) string {
	last := pin[len(pin)-1]
	swap := byte('0')
	if last == '0' {
		swap = '1'
	}
	return pin[:len(pin)-1] + string(swap)
}

// shellQuote writes args as one sh command line.
func shellQuote(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(quoted, " ")
}
