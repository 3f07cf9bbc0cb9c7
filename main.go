// Command chatroom turns a LAN into a chat room: "chatroom host" opens a
// room, "chatroom join" joins one. This file holds the command line: flags,
// messages and the wiring of package host to package join, and of join to
// the terminal (package join/tui): join knows nothing of terminals and the
// terminal nothing of sockets, so this is where the two meet.
package main

import (
	"context"
	"crypto/tls"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"os/user"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/term"

	"chatroom/discovery"
	"chatroom/discovery/doctor"
	"chatroom/host"
	"chatroom/host/room"
	"chatroom/host/wire"
	"chatroom/join"
	"chatroom/join/tui"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3";
// otherwise it comes from the module version, if any.
var version = ""

// passwordEnv holds the admin password for both host and join, so that it
// never needs to appear in a command line (where ps shows it).
const passwordEnv = "CHATROOM_ADMIN_PASSWORD"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// Exit codes, as "chatroom help" documents them for scripts.
const (
	exitOK      = 0
	exitError   = 1 // something went wrong
	exitUsage   = 2 // the command line was wrong
	exitRefused = 3 // the room would not have us: refused, or kicked or banned while in
	exitNoRoom  = 4 // no room found to join or list, or none by the name given
)

// exitCode is the exit status that err ends the command with.
func exitCode(err error) int {
	var uerr *usageError
	var refused *join.RefusedError
	var closed *join.ClosedError
	var noSuchRoom *join.NoRoomCalledError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &uerr):
		return exitUsage
	case errors.As(err, &refused) && turnedAway(refused.Code):
		return exitRefused
	case errors.As(err, &closed) && (closed.Code == wire.CodeKicked || closed.Code == wire.CodeBanned):
		return exitRefused
	case errors.Is(err, join.ErrNoRooms), errors.As(err, &noSuchRoom):
		return exitNoRoom
	}
	return exitError
}

// turnedAway reports whether a refusal with code is the room not having
// this person as they asked (their name, their password, a ban): trying
// again as is would be refused again. A room that is busy or closing is
// an error like any other.
func turnedAway(code string) bool {
	switch code {
	case wire.CodeNameTaken, wire.CodeNameInvalid, wire.CodeBanned, wire.CodeWrongPassword, wire.CodeNoAdmin:
		return true
	}
	return false
}

// usageError is a mistake in the command line: it exits 2 with a hint.
type usageError struct {
	msg     string
	command string // for the hint: "host", "join", or "" for the top level
}

func (e *usageError) Error() string { return e.msg }

type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	logs           *logSwitch // where c.logger writes; made by the first call
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &cli{stdin: stdin, stdout: stdout, stderr: stderr}
	err := c.dispatch(args)
	var uerr *usageError
	switch {
	case err == nil:
	case errors.As(err, &uerr):
		c.errorf("%s", uerr.msg)
		hint := `run "chatroom help" for usage`
		if uerr.command != "" {
			hint = fmt.Sprintf(`run "chatroom help %s" for usage`, uerr.command)
		}
		fmt.Fprintln(stderr, shown("chatroom: hint: "+hint))
	default:
		c.errorf("%s", join.InWords(err))
	}
	return exitCode(err)
}

func (c *cli) errorf(format string, args ...any) {
	fmt.Fprintln(c.stderr, shown("chatroom: error: "+fmt.Sprintf(format, args...)))
}

// infof prints what the person should know, on stderr: stdout is for the
// room's events, so that scripts can read them.
func (c *cli) infof(format string, args ...any) {
	fmt.Fprintln(c.stderr, shown("chatroom: "+fmt.Sprintf(format, args...)))
}

// shown is text of the command's own, as it may reach a terminal: every
// line the command prints goes through it (errorf, infof, the lists of
// rooms, the warnings). Much of what those lines say came from the
// network or from a file: a room's id, name and key from its certificate
// or its mDNS record, the errors a room or a handshake gave, what
// known-rooms holds. The code that put it there should have sanitized it;
// this is the last guard, so that one place that forgot cannot set the
// terminal's title or clear its screen. Every control is shown as text
// (join.Sanitize) but a tab, which separates the columns of "chatroom
// list", and a newline, between the lines of an error that has several;
// those lines are indented, so that none of them can pass for a line of
// the command's own.
func shown(text string) string {
	lines := strings.Split(text, "\n")
	for i, line := range lines {
		fields := strings.Split(line, "\t")
		for j, f := range fields {
			fields[j] = join.Sanitize(f)
		}
		lines[i] = strings.Join(fields, "\t")
	}
	return strings.Join(lines, "\n  ")
}

func (c *cli) dispatch(args []string) error {
	if len(args) == 0 {
		fmt.Fprint(c.stderr, usageTop)
		return &usageError{msg: "no command given"}
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "host":
		return c.host(rest)
	case "join":
		return c.join(rest)
	case "send":
		return c.send(rest)
	case "get":
		return c.get(rest)
	case "list":
		return c.list(rest)
	case "doctor":
		return c.doctor(rest)
	case "help", "-h", "-help", "--help":
		return c.help(rest)
	case "version", "--version":
		fmt.Fprintf(c.stdout, "chatroom %s\n", buildVersion())
		return nil
	default:
		return &usageError{msg: fmt.Sprintf("unknown command %q", cmd)}
	}
}

const usageTop = `chatroom turns a local network into a chat room.

Usage:
  chatroom host [flags]         open a room here and chat in it as its admin
  chatroom join [flags] [ROOM]  join a room found on the network, or at --addr
  chatroom send [flags] [ROOM] TEXT…
                                say TEXT (or each line of input) in a room,
                                wait for the room to confirm it, and leave
  chatroom send [flags] [ROOM] --file PATH [--to NAME]
                                offer a file in a room, upload it, and leave
  chatroom get [flags] [ROOM] N [DIR]
                                fetch file N on offer in a room, and leave
  chatroom list [flags]         list the rooms found on the network
  chatroom doctor [flags]       find out why rooms are not found
  chatroom help [command]       show help
  chatroom version              show the version

Run "chatroom help host" (or join, send, get, list, doctor) for their flags, or
"chatroom host -h". Flags may come before or after a room's name; "--"
ends them.

Exit status:
  0  left normally (/quit, the end of input, Ctrl-C)
  1  an error
  2  the command line was wrong
  3  the room would not have you: your name is taken or not allowed (and
     no other was given), the admin password is wrong, you are banned; or
     you were kicked or banned while in
  4  no room found: none on the network, or none by the name given
`

const usageHost = `Usage: chatroom host [flags]

Opens a room on this machine and joins it as its first admin: each line you
type is a message or a /command, each event in the room is a line of output.
End of input (Ctrl-D) or /quit closes the room.

Flags:
  --name NAME                 the room's name (default: this machine's name)
  --user NAME                 your name in the room (default: your user name)
  --listen ADDR               address to listen on (default: port 7465 on
                              every interface, IPv4 and IPv6, or a free port
                              if it is taken)
  --state DIR                 where the room key and bans are kept
                              (default: %s)
  --admin-password-file FILE  let others join as admins with this password
                              (or set CHATROOM_ADMIN_PASSWORD)
  --no-prompt                 only serve the room; no one chats from here
  --no-advertise              do not announce the room on the network
  --iface NAME                announce on this network interface only
                              (repeat for several; default: every one that
                              is up, can multicast and has an address)
  --backlog N                 how many of the last messages someone who joins
                              is shown (default 50; 0 for none)
  --log FILE                  append what the room shows here to FILE, plain
                              text with dates (made private to you)
  --line-burst N              how many lines a member may send at once
                              (default 10, at most 10000)
  --line-rate N               how many lines a second a member may send
                              after that (default 2; 0.1 to 1000); members'
                              clients pace themselves to both
  --max-conns-per-address N   how many connections one address may hold
                              (default 16, at most 10000)
  --anyone-sets-topic         let every member set the topic with /topic
                              (default: admins only)
  --sync-every DURATION       how often the room's journal is synced to
                              disk (default 1s; 0: when the system does):
                              a power cut loses at most about that much,
                              a crash of the host nothing
  --irc[=ADDR]                let IRC clients in as members, over TLS with
                              the room's key, on ADDR (default: port 6697
                              on every interface); the host prints what to
                              pin in irssi and weechat
  --irc-plain ADDR            let IRC clients in without TLS on ADDR, which
                              must be loopback (127.0.0.1:6667): for bots
                              on this machine only
  --max-file-size SIZE        the largest file a member may offer, kept in
                              the state directory (default 2G; 500M, 1.5GB
                              and 2GiB are sizes too)
  --file-quota SIZE           all offered files together (default 10G, or
                              90%% of the disk's free space if less)
  --file-expiry DURATION      how long an offered file is kept (default 24h)
  --no-files                  take no files: /send is refused
`

const usageJoin = `Usage: chatroom join [flags] [ROOM]

Joins a room: each line you type is a message or a /command, each event in
the room is a line of output. End of input (Ctrl-D) or /quit leaves.

Without --addr, it looks for rooms on the local network: one room found is
joined; among several, ROOM names the one to join (its name, in any case),
or you are asked to choose. When none is found, "chatroom doctor" says why.

Flags:
  --addr HOST:PORT        the room's address, as its host prints it; an
                          IPv6 address goes in brackets ([fd90::1]:7465),
                          a link-local one with your interface after a %
                          ([fe80::1%eth0]:7465)
  --user NAME             your name in the room (default: your user name)
  --fingerprint SHA256:…  the room key the host printed; refuse any other
  --accept-new-key        accept a known room's new key (when its host was
                          set up anew); without it, a changed key is refused
  --admin                 join as an admin; the password comes from
                          CHATROOM_ADMIN_PASSWORD, or is asked for
  --state DIR             where what you type is kept for next time
                          (default: chatroom in your user config directory)
  --iface NAME            look for rooms on this network interface only
                          (repeat for several)
  --no-reconnect          when the connection is lost, stop; by default
                          chatroom comes back by itself and resumes (a
                          room that closed is waited for 10 minutes)
  --json                  write one JSON object per line instead of text:
                          each event, notice and note (see the README)
  --log FILE              append what the room shows to FILE, plain text
                          with dates (made private to you)
  --backlog N             show the last N of the messages from before you
                          joined (0 for none; default: all the room sends)
`

const usageSend = `Usage: chatroom send [flags] [ROOM] TEXT…
       chatroom send [flags] [ROOM] < FILE
       chatroom send [flags] [ROOM] --file PATH [--to NAME] [TEXT…]

Joins a room, says TEXT (the words given, as one line; without them, each
line of input), waits for the room to confirm each line, and leaves: a
one-shot for scripts. Nothing goes to stdout; stderr has what went wrong
(and, as with join, a first visit's key). The exit status is 0 only when
the room confirmed every line.

ROOM and the flags are as for "chatroom join": --addr, --user,
--fingerprint, --accept-new-key, --state, --iface, --no-reconnect. The room
is joined as "chatroom join" joins it, and a lost connection is made again
and the lines that were not confirmed are sent again.

With --file, it offers the file at PATH to the room (or, with --to, to that
member alone), uploads it to the host, waits until the room announces the
offer, and prints the room's line for it on stdout:

  ci offers build.tar.gz (48.2 MB, sha256 3f9a1c2b…) — /get 7

Its progress is on stderr. TEXT, if given, is said in the room as well. An
upload cut short (the connection lost for good, the command stopped) goes
on from where it stopped when the same file is sent again to the same
room. The exit status is 0 only when the room announced the offer.

Flags, besides those of join:
  --file PATH             the file to offer (its name in the room is the
                          last part of PATH)
  --to NAME               offer it to this member alone
`

const usageGet = `Usage: chatroom get [flags] [ROOM] N [DIR]
       chatroom get [flags] [ROOM] --list

Joins a room, fetches the file it has on offer as N (the number in its
"/get N"), checks it against its sha256, and leaves: a one-shot for
scripts. The file lands in DIR (default: $XDG_DOWNLOAD_DIR, else Downloads
in your home), under its name, or "name (1).ext" when that is taken: it
never overwrites a file. Its path is printed on stdout; the progress is on
stderr. A fetch cut short goes on from where it stopped when the same file
is fetched again into the same directory. The exit status is 0 only when
the file is in place and matched its sha256.

With --list, it prints the files on offer instead, one per line: number,
name, size, who offers it, and the start of its sha256, separated by tabs.

ROOM and the flags are as for "chatroom join": --addr, --user,
--fingerprint, --accept-new-key, --state, --iface, --no-reconnect. Without
--addr, a first argument that is a number is N (the one room found is
joined); otherwise it names the room.

Flags, besides those of join:
  --list                  list the files on offer, and fetch none
`

const usageList = `Usage: chatroom list [flags]

Lists the rooms found on the local network, one per line: name, host,
address, id, key (the start of the room key's fingerprint), whether you
have been in it, and the topic when the room has one, separated by tabs:

  Lab 3   lab-pc.local.   10.0.0.5:7465   id 3f9a2c71d0e4b5a6   key Rj1ZqTlE   visited

The status is "visited" (joined before, with this key), "new", or
"visited-other-key" (joined before, but the room shows another key now:
another machine, or its host set up anew). Rooms with one name on two
machines differ in host, id and key.

Flags:
  --json                  one JSON object per room instead (see the README)
  --iface NAME            look on this network interface only (repeat for
                          several; default: every one that is up, can
                          multicast and has an address)
  --state DIR             where the rooms you have been in are kept
                          (default: chatroom in your user config directory)
`

const usageDoctor = `Usage: chatroom doctor [flags]

Finds out why rooms are not found. On each network interface it checks that
it is up, has an address, can multicast and has a route for it; who else
holds UDP port 5353 (avahi-daemon, mDNSResponder: chatroom shares the port
with them); whether a firewall rule drops mDNS or the room's port (the rules
are only read, never changed; reading them may need root). Then it asks who
answers on the network, lists the rooms and the other mDNS programs that
did, and ends with what to do.

One line per finding: ok, info, warn, fail, room (a room that answered),
seen (an mDNS program that answered), and do (what to do).

Exit status: 0 when a room answered, or when no check found a problem (then
no room is on this network); 1 otherwise.

Flags:
  --iface NAME            check this network interface only (repeat for
                          several; default: every one)
  --port N                the room's TCP port, for the firewall check
                          (default %d)
`

func (c *cli) help(args []string) error {
	switch {
	case len(args) == 0:
		fmt.Fprint(c.stdout, usageTop)
	case args[0] == "host":
		fmt.Fprintf(c.stdout, usageHost, defaultStateDirForHelp())
	case args[0] == "join":
		io.WriteString(c.stdout, usageJoin) // not Fprint: the text has a %, of a link-local address
	case args[0] == "send":
		io.WriteString(c.stdout, usageSend)
	case args[0] == "get":
		io.WriteString(c.stdout, usageGet)
	case args[0] == "list":
		fmt.Fprint(c.stdout, usageList)
	case args[0] == "doctor":
		fmt.Fprintf(c.stdout, usageDoctor, host.DefaultPort)
	default:
		return &usageError{msg: fmt.Sprintf("no help for %q: there is no such command", args[0])}
	}
	return nil
}

// newFlagSet returns a flag set whose errors come back to run, which
// prints them in the one error format, and whose -h prints usage (once:
// parse prints it, the flag package never does).
func (c *cli) newFlagSet(name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() { fmt.Fprint(c.stdout, usage) }
	return fs
}

// parse parses args, with flags before and after the other arguments, as
// people type them ("join "lab 3" --user bob"); "--" ends the flags. At
// most maxArgs arguments that are not flags are allowed; fs.Args holds
// them afterwards. Its errors are usage errors in words, not the flag
// package's.
func (c *cli) parse(fs *flag.FlagSet, args []string, maxArgs int) error {
	var positional []string
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			positional = append(positional, args[i+1:]...)
			break
		}
		if len(arg) < 2 || arg[0] != '-' {
			positional = append(positional, arg)
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimPrefix(arg[1:], "-"), "=")
		f := fs.Lookup(name)
		switch {
		case f == nil && (name == "h" || name == "help"):
			fs.Usage()
			return errHelpShown
		case f == nil || name == "" || strings.HasPrefix(name, "-"):
			return c.flagError(fs, "unknown flag %s", displayFlag(name))
		case isBoolFlag(f) && !hasValue && takesOptionalValue(f) && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-"):
			i++
			value = args[i]
		case isBoolFlag(f) && !hasValue:
			value = "true"
		case !hasValue && i+1 == len(args):
			return c.flagError(fs, "%s needs a value", displayFlag(name))
		case !hasValue:
			i++
			value = args[i]
		}
		if err := fs.Set(name, value); err != nil {
			return c.flagError(fs, "%s", badFlagValue(f, value, err))
		}
	}
	if len(positional) > maxArgs {
		return &usageError{msg: fmt.Sprintf("unexpected argument %q", positional[maxArgs]), command: fs.Name()}
	}
	// The flags are set; this only keeps the other arguments, for fs.Arg.
	return fs.Parse(append([]string{"--"}, positional...))
}

// flagError is a usage error about a flag, naming the command, since a
// flag that one command takes another may not.
func (c *cli) flagError(fs *flag.FlagSet, format string, args ...any) error {
	return &usageError{msg: fs.Name() + ": " + fmt.Sprintf(format, args...), command: fs.Name()}
}

// displayFlag writes a flag's name as the help does: "--user".
func displayFlag(name string) string { return "--" + name }

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// badFlagValue says why value does not fit flag f, in words.
func badFlagValue(f *flag.Flag, value string, err error) string {
	switch {
	case takesOptionalValue(f):
		return fmt.Sprintf("%s %v", displayFlag(f.Name), err)
	case isBoolFlag(f):
		return fmt.Sprintf("%s takes no value (or true or false), not %q", displayFlag(f.Name), value)
	case value == "":
		return fmt.Sprintf("%s needs a value", displayFlag(f.Name))
	}
	if _, isNumber := strconv.Atoi(f.DefValue); isNumber == nil {
		return fmt.Sprintf("%s takes a whole number, not %q", displayFlag(f.Name), value)
	}
	if _, isDuration := time.ParseDuration(f.DefValue); isDuration == nil {
		return fmt.Sprintf("%s takes a duration such as 1s or 500ms, not %q", displayFlag(f.Name), value)
	}
	return fmt.Sprintf("%s %q: %v", displayFlag(f.Name), value, err)
}

// errHelpShown ends a command after -h printed its usage, successfully.
var errHelpShown = errors.New("help shown")

func (c *cli) host(args []string) error {
	fs := c.newFlagSet("host", fmt.Sprintf(usageHost, defaultStateDirForHelp()))
	name := fs.String("name", "", "")
	userName := fs.String("user", "", "")
	listen := fs.String("listen", "", "")
	stateDir := fs.String("state", "", "")
	passwordFile := fs.String("admin-password-file", "", "")
	noPrompt := fs.Bool("no-prompt", false, "")
	noAdvertise := fs.Bool("no-advertise", false, "")
	var ifaces stringList
	fs.Var(&ifaces, "iface", "")
	backlog := fs.Int("backlog", 50, "")
	logFile := fs.String("log", "", "")
	lineBurst := fs.Int("line-burst", room.DefaultLimits.Burst, "")
	lineRate := fs.Float64("line-rate", room.DefaultLimits.PerSecond, "")
	connsPerAddr := fs.Int("max-conns-per-address", 0, "")
	anyoneSetsTopic := fs.Bool("anyone-sets-topic", false, "")
	syncEvery := fs.Duration("sync-every", host.DefaultSyncEvery, "")
	var ircAddr ircFlag
	fs.Var(&ircAddr, "irc", "")
	ircPlain := fs.String("irc-plain", "", "")
	var maxFileSize, fileQuota sizeFlag
	fs.Var(&maxFileSize, "max-file-size", "")
	fs.Var(&fileQuota, "file-quota", "")
	fileExpiry := fs.Duration("file-expiry", host.DefaultFileExpiry, "")
	noFiles := fs.Bool("no-files", false, "")
	if err := c.parse(fs, args, 0); err != nil {
		return ignoreHelp(err)
	}
	fileLimits, err := hostFileLimits(fs, *noFiles, maxFileSize, fileQuota, *fileExpiry)
	if err != nil {
		return err
	}
	if err := checkIRCFlags(string(ircAddr), *ircPlain); err != nil {
		return err
	}
	if *logFile != "" && *noPrompt {
		return &usageError{msg: "--log keeps what the prompt shows, and --no-prompt has none", command: "host"}
	}
	if err := checkIfaces("host", ifaces); err != nil {
		return err
	}
	if *backlog < 0 {
		return &usageError{msg: "--backlog must be 0 or more", command: "host"}
	}
	if err := checkHostLimits(fs, *lineBurst, *lineRate, *connsPerAddr); err != nil {
		return err
	}
	if *backlog == 0 {
		*backlog = -1 // host.Config's "none"; its 0 is the default
	}
	if *syncEvery < 0 {
		return &usageError{msg: "--sync-every must be 0 or more", command: "host"}
	}
	if *syncEvery == 0 {
		*syncEvery = -1 // host.Config's "never"; its 0 is the default
	}

	if !isSet(fs, "name") {
		h, err := os.Hostname()
		if err != nil || h == "" {
			return errors.New("cannot tell this machine's name; pass --name NAME")
		}
		*name = h
	}
	if !*noPrompt {
		if err := defaultUser(fs, userName); err != nil {
			return err
		}
	}
	dir, err := stateDirOrDefault(*stateDir)
	if err != nil {
		return err
	}
	// Said first: a second host on the directory will not run, and
	// what it would say of its password would only get in the way.
	if err := host.AlreadyHosted(dir); err != nil {
		return err
	}
	password, err := hostPassword(*passwordFile)
	if err != nil {
		return err
	}
	if why := weakPassword(password); why != "" {
		c.logger().Warn("the admin password is " + why + ": anyone on the LAN can try passwords; use 4 or more random words, e.g. from a password manager")
	}

	chatLog, err := openChatLog(*logFile)
	if err != nil {
		return err
	}
	defer chatLog.Close()

	// Ctrl-C is taken from here on: one that comes while the room starts
	// (a script that stops the host as soon as it prints its address)
	// closes it as one that comes later does, rather than killing the
	// process with the room half made.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	h, err := host.Start(host.Config{
		Name:          *name,
		StateDir:      dir,
		Listen:        *listen,
		AdminPassword: password,
		Logger:        c.logger(),
		Backlog:       *backlog,

		Limits:          wire.Limits{Burst: *lineBurst, PerSecond: *lineRate},
		MaxConnsPerAddr: *connsPerAddr,
		TopicByAnyone:   *anyoneSetsTopic,
		SyncEvery:       *syncEvery,
		IRC:             string(ircAddr),
		IRCPlain:        *ircPlain,
		Files:           fileLimits,
	})
	if err != nil {
		return ircListenWords(err)
	}
	defer h.Close()

	if h.PortTaken() {
		c.infof("port %d is in use; listening on port %d instead", host.DefaultPort, port(h.Addr()))
	}
	admin := "no one is admin until they join with the admin password"
	if !*noPrompt {
		admin = *userName + " is admin"
	}
	tcp, _ := h.Addr().(*net.TCPAddr)
	if tcp != nil && tcp.IP.IsUnspecified() {
		c.infof("room %q listening on port %d of every interface, fingerprint %s; %s", *name, tcp.Port, h.Fingerprint(), admin)
		lines, linkLocal := reachableAt(tcp.AddrPort(), localInterfaces())
		for _, line := range lines {
			c.infof("on %s", line)
		}
		if linkLocal {
			c.infof("(%s: the joining machine's own interface on that network, as in [fe80::1%%eth0]:%d)", zonePlaceholder, tcp.Port)
		}
	} else {
		c.infof("room %q listening on %s, fingerprint %s; %s", *name, h.Addr(), h.Fingerprint(), admin)
	}
	c.tellIRC(h)
	if !*noAdvertise {
		if ad := c.advertise(h, *name, ifaces); ad != nil {
			// Deferred after h.Close, so it runs before it: browsers drop
			// the room before its members are told it closed.
			defer ad.Close()
		}
	}

	if *noPrompt {
		<-ctx.Done()
		c.infof("closing the room")
		return nil
	}
	chat, closeUI := c.chatUI(*userName, dir, chatLog, password)
	ui := &hostUI{UI: chat, ask: !c.scripted()}
	err = join.Join(ctx, h.DialOwner, join.Options{Name: *userName, Script: c.scripted()}, ui)
	closeUI()
	switch {
	case err == nil && ctx.Err() != nil:
		c.infof("closing the room")
	case err == nil && ui.inputEnded && c.scripted():
		// "chatroom host < /dev/null", or from a service with no input:
		// the room would close at once with no word of why.
		c.infof("input ended, so the room closed: use --no-prompt to only serve")
	}
	return err
}

// hostUI is the host's own person's UI: leaving there closes the room for
// everyone in it. At a terminal (ask), the end of input (Ctrl-D, or the
// second Ctrl-C) says so first when others are in, and closes the room
// only when it comes again; any line typed meanwhile goes on as usual.
// Optional methods of the UI it wraps are not seen through it.
type hostUI struct {
	join.UI
	ask bool

	// others counts the people in the room but the host's own person;
	// Enter sets it, before Join first calls ReadLine.
	others     func() int
	asked      bool // said what the end of input does, and nothing typed since
	inputEnded bool // ReadLine returned io.EOF
}

func (u *hostUI) Enter(w wire.Frame, r *join.Roster) {
	u.others = func() int {
		names := r.Names()
		if slices.Contains(names, r.Me()) {
			return len(names) - 1
		}
		return len(names)
	}
	u.UI.Enter(w, r)
}

func (u *hostUI) ReadLine() (string, error) {
	for {
		line, err := u.UI.ReadLine()
		if err == nil {
			u.asked = false
			return line, nil
		}
		if errors.Is(err, io.EOF) && u.ask && !u.asked && u.others != nil {
			if others := u.others(); others > 0 {
				u.asked = true
				u.UI.Note(join.Note{Kind: join.Warning, Text: fmt.Sprintf(
					"this closes the room for %d %s: press Ctrl-D again to close it, or type on to stay",
					others, plural(others, "person", "people"))})
				continue
			}
		}
		u.inputEnded = errors.Is(err, io.EOF)
		return line, err
	}
}

// checkHostLimits refuses host's limit flags out of their ranges. The
// bounds keep a typo from opening a room to a flood (a burst of a million)
// or closing it to everyone (a rate of 0).
// hostFileLimits checks the host's file flags and gives the limits they
// set (zero fields: the host's defaults).
func hostFileLimits(fs *flag.FlagSet, off bool, maxSize, quota sizeFlag, expiry time.Duration) (host.FileLimits, error) {
	usage := func(msg string) error { return &usageError{msg: msg, command: "host"} }
	if off {
		for _, name := range []string{"max-file-size", "file-quota", "file-expiry"} {
			if isSet(fs, name) {
				return host.FileLimits{}, usage("--no-files takes no files, so --" + name + " has nothing to bound")
			}
		}
		return host.FileLimits{Off: true}, nil
	}
	switch {
	case maxSize.set && (maxSize.bytes < 1 || maxSize.bytes > 1e12):
		return host.FileLimits{}, usage("--max-file-size must be 1 byte to 1T")
	case quota.set && quota.bytes < 1:
		return host.FileLimits{}, usage("--file-quota must be 1 byte or more")
	case expiry < time.Minute || expiry > 365*24*time.Hour:
		return host.FileLimits{}, usage("--file-expiry must be 1m to 8760h (a year)")
	}
	return host.FileLimits{MaxFileSize: maxSize.bytes, Quota: quota.bytes, Expiry: expiry}, nil
}

func checkHostLimits(fs *flag.FlagSet, burst int, rate float64, connsPerAddr int) error {
	switch {
	case burst < 1 || burst > 10000:
		return &usageError{msg: "--line-burst must be 1 to 10000 lines", command: "host"}
	case !(rate >= 0.1 && rate <= 1000): // also NaN
		return &usageError{msg: "--line-rate must be 0.1 to 1000 lines a second", command: "host"}
	case isSet(fs, "max-conns-per-address") && (connsPerAddr < 1 || connsPerAddr > 10000):
		return &usageError{msg: "--max-conns-per-address must be 1 to 10000", command: "host"}
	}
	return nil
}

// ircFlag is --irc, a flag with a value or without: alone (Set("true"),
// as parse sets a boolean flag) it is the default port on every
// interface; --irc=ADDR, or --irc ADDR, is ADDR; "" takes no IRC clients.
type ircFlag string

func (f *ircFlag) String() string   { return string(*f) }
func (f *ircFlag) IsBoolFlag() bool { return true }

// TakesValue tells parse that a word after --irc that is not a flag is
// its value: host takes no other arguments, so none is taken from them.
func (f *ircFlag) TakesValue() bool { return true }

func (f *ircFlag) Set(value string) error {
	switch value {
	case "true":
		*f = ircFlag(fmt.Sprintf(":%d", host.DefaultIRCPort))
	case "false":
		*f = ""
	case "":
		return errors.New("needs an address after the =, as in --irc=:6697 (or --irc alone, for port 6697 on every interface)")
	default:
		*f = ircFlag(value)
	}
	return nil
}

// takesOptionalValue reports whether f is a flag that may come alone or
// with a value (ircFlag).
func takesOptionalValue(f *flag.Flag) bool {
	v, ok := f.Value.(interface{ TakesValue() bool })
	return ok && v.TakesValue()
}

// checkIRCFlags refuses an --irc or --irc-plain address that could not be
// listened on, before anything is done; plain IRC only on loopback.
func checkIRCFlags(tlsAddr, plainAddr string) error {
	check := func(flagName, addr, example string) error {
		if addr == "" {
			return nil
		}
		_, port, err := net.SplitHostPort(addr)
		if err != nil {
			if hint := bracketHint(addr); hint != "" {
				return &usageError{msg: fmt.Sprintf("%s %q is not HOST:PORT: an IPv6 address goes in brackets, as in %s", flagName, addr, hint), command: "host"}
			}
			if _, err := strconv.Atoi(addr); err == nil {
				return &usageError{msg: fmt.Sprintf("%s %q is not an address with a port: a port alone is written :%s", flagName, addr, addr), command: "host"}
			}
			return &usageError{msg: fmt.Sprintf("%s %q is not an address with a port (for example %s)", flagName, addr, example), command: "host"}
		}
		if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			return &usageError{msg: fmt.Sprintf("%s %q: the port must be a number from 0 (any free one) to 65535", flagName, addr), command: "host"}
		}
		return nil
	}
	if err := check("--irc", tlsAddr, fmt.Sprintf(":%d or 192.168.1.20:%d", host.DefaultIRCPort, host.DefaultIRCPort)); err != nil {
		return err
	}
	if err := check("--irc-plain", plainAddr, "127.0.0.1:6667"); err != nil {
		return err
	}
	if plainAddr != "" {
		if host.CheckIRCPlainAddr(plainAddr) != nil {
			return &usageError{msg: fmt.Sprintf("--irc-plain %s is not a loopback address: IRC without TLS is only for programs on this machine (as in 127.0.0.1:6667), since anyone on the network could read it; use --irc for TLS", plainAddr), command: "host"}
		}
	}
	return nil
}

// ircListenWords says why the host could not listen for IRC clients in
// the words of its flags (join.InWords would name --listen); other errors
// are left as they are.
func ircListenWords(err error) error {
	var lerr *host.IRCListenError
	if !errors.As(err, &lerr) {
		return err
	}
	what, flagName := "IRC", "--irc=ADDR"
	if lerr.Plain {
		what, flagName = "plain IRC", "--irc-plain ADDR"
	}
	var errno syscall.Errno
	errors.As(lerr.Err, &errno)
	var why string
	switch errno {
	case syscall.EADDRINUSE:
		why = "it is in use by another program (an IRC server?): choose another port with " + flagName
	case syscall.EADDRNOTAVAIL:
		why = "it is not an address of this machine (ip addr lists them): choose one that is with " + flagName
	case syscall.EACCES, syscall.EPERM:
		why = "listening there needs privileges this user does not have (ports under 1024 are for root): choose a port above 1024 with " + flagName
	default:
		return err
	}
	return fmt.Errorf("cannot listen for %s on %s: %s", what, lerr.Addr, why)
}

// tellIRC says where IRC clients connect, and what they pin.
func (c *cli) tellIRC(h *host.Host) {
	if addr := h.IRCAddr(); addr != nil {
		pins := h.IRCPins()
		c.infof("irc: listening on %s, channel %s; pin the room's key with", whereListening(addr), h.IRCChannel())
		// The key's pin first: it lasts as long as the room key, the
		// certificate's only as long as its file (see host.IRCPins).
		// irssi checks a self-signed certificate as any other unless
		// told not to, even when it is pinned: the pin is the check.
		c.infof("irc: irssi -tls -notls_verify -tls_pinned_pubkey %s (or -tls_pinned_cert %s)", pins.PubKey, pins.Cert)
		// WeeChat named its TLS options ssl_* until 4.0 (Debian 12 has
		// 3.8).
		c.infof("irc: weechat tls_fingerprint %s (ssl_fingerprint before weechat 4.0)", pins.CertHex)
	}
	if plain := h.IRCPlainAddr(); plain != nil {
		c.infof("irc: plain IRC, without TLS, on %s, channel %s, for programs on this machine only", plain, h.IRCChannel())
	}
}

// whereListening says where a listener is: "port 6697 of every
// interface", or its address.
func whereListening(a net.Addr) string {
	if tcp, ok := a.(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
		return fmt.Sprintf("port %d of every interface", tcp.Port)
	}
	return a.String()
}

// isSet reports whether the flag was given, even as "".
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// advertise announces the room on the network, and says where, or why
// not: a room that cannot be advertised still works with --addr. The
// advertisement follows the network while the room is up, and each change
// is said as it happens (above the prompt, as warnings are).
func (c *cli) advertise(h *host.Host, name string, ifaces []string) *discovery.Advertiser {
	tcp := h.Addr().(*net.TCPAddr)
	bind, _ := netip.AddrFromSlice(tcp.IP)
	c.logger() // makes c.logs, which follows the prompt
	ad, err := discovery.Advertise(discovery.Room{
		ID:          h.RoomID(),
		Name:        name,
		Fingerprint: h.Fingerprint(),
		Version:     wire.Version,
		Port:        tcp.Port,
	}, discovery.Options{
		Interfaces: ifaces,
		Bind:       bind.Unmap(),
		OnChange: func(change discovery.Change) {
			fmt.Fprintln(c.logs, shown("chatroom: "+change.String()))
		},
		Topic: h.Topic,
	})
	switch {
	case errors.Is(err, discovery.ErrNoInterface) && bind.Unmap().IsLoopback():
		c.infof("not advertised on the network: the room listens on %s only", bind.Unmap())
	case err != nil:
		c.infof("not advertised on the network: %s; members can join with --addr", join.InWords(err))
	case len(ad.Interfaces()) == 0:
		c.infof("not advertised on the network yet: %v; it will be as soon as one is", discovery.ErrNoInterface)
		return ad
	default:
		c.infof("advertised on %s as %s", strings.Join(ad.Interfaces(), ", "), ad.Instance())
		return ad
	}
	return nil
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }
func (l *stringList) Set(s string) error {
	if s == "" {
		return errors.New("empty value")
	}
	*l = append(*l, s)
	return nil
}

// checkIfaces stops a command given an --iface that this machine does not
// have, naming those it has, before anything else is done: a typo would
// otherwise look for rooms, or advertise one, where nobody is.
func checkIfaces(command string, named []string) error {
	var missing []string
	for _, name := range named {
		if _, err := net.InterfaceByName(name); err != nil {
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	var have []string
	if all, err := net.Interfaces(); err == nil {
		for _, ifc := range all {
			have = append(have, ifc.Name)
		}
	}
	return &usageError{msg: fmt.Sprintf("no network interface called %q (there are: %s)", missing[0], strings.Join(have, ", ")), command: command}
}

func ignoreHelp(err error) error {
	if err == errHelpShown {
		return nil
	}
	return err
}

func (c *cli) join(args []string) error { return c.enter("join", args) }

// send is "chatroom send": join's way into the room, then join.Send (or
// join.SendFile, with --file).
func (c *cli) send(args []string) error { return c.enter("send", args) }

// get is "chatroom get": join's way into the room, then join.Get (or
// join.ListFiles, with --list).
func (c *cli) get(args []string) error { return c.enter("get", args) }

// enter is "chatroom join", "chatroom send" and "chatroom get" (command),
// which reach the room alike and do there what each does.
func (c *cli) enter(command string, args []string) error {
	usage, maxArgs := usageJoin, 1
	switch command {
	case "send":
		usage, maxArgs = usageSend, math.MaxInt
	case "get":
		usage, maxArgs = usageGet, 3
	}
	fs := c.newFlagSet(command, usage)
	var backlog *int
	if command == "join" {
		backlog = fs.Int("backlog", -1, "")
	}
	var sendFile, sendTo *string
	if command == "send" {
		sendFile = fs.String("file", "", "")
		sendTo = fs.String("to", "", "")
	}
	var listFiles *bool
	if command == "get" {
		listFiles = fs.Bool("list", false, "")
	}
	addr := fs.String("addr", "", "")
	userName := fs.String("user", "", "")
	fingerprint := fs.String("fingerprint", "", "")
	admin := fs.Bool("admin", false, "")
	stateDir := fs.String("state", "", "")
	acceptNewKey := fs.Bool("accept-new-key", false, "")
	noReconnect := fs.Bool("no-reconnect", false, "")
	asJSON := fs.Bool("json", false, "")
	logFile := fs.String("log", "", "")
	var ifaces stringList
	fs.Var(&ifaces, "iface", "")
	if err := c.parse(fs, args, maxArgs); err != nil {
		return ignoreHelp(err)
	}
	if err := checkIfaces(command, ifaces); err != nil {
		return err
	}
	query, words := fs.Arg(0), fs.Args()
	var fetch fileToGet
	if command == "get" {
		var err error
		if query, fetch, err = getArgs(*addr != "", *listFiles, words); err != nil {
			return err
		}
	}
	if command == "send" {
		// Without --addr, the first argument names the room; the rest
		// is what to say.
		if *addr != "" {
			query = ""
		} else if len(words) > 0 {
			words = words[1:]
		}
	}
	if *addr != "" {
		if query != "" {
			return &usageError{msg: fmt.Sprintf("both --addr and a room name (%q) given; pass one", query), command: command}
		}
		if err := checkAddr(*addr); err != nil {
			return &usageError{msg: err.Error(), command: command}
		}
	}
	if *fingerprint != "" && !wire.ValidFingerprint(*fingerprint) {
		return &usageError{msg: fmt.Sprintf("--fingerprint %q is not a room key's fingerprint (SHA256: and 43 characters, as the host prints it)", *fingerprint), command: command}
	}
	if err := defaultUser(fs, userName); err != nil {
		return err
	}
	chatLog, err := openChatLog(*logFile)
	if err != nil {
		return err
	}
	defer chatLog.Close()
	opts := join.Options{Name: *userName, Script: c.scripted()}
	passwordAsked := false
	if backlog != nil && isSet(fs, "backlog") {
		switch {
		case *backlog < 0:
			return &usageError{msg: fmt.Sprintf("--backlog %d: give how many of the earlier messages to show, 0 for none", *backlog), command: command}
		case *backlog == 0:
			opts.Backlog = join.NoBacklog
		default:
			opts.Backlog = *backlog
		}
	}
	var lines io.Reader // what send says
	if command == "send" && *sendFile == "" && *sendTo != "" {
		return &usageError{msg: "--to NAME is for a file: give --file PATH too (a line to one member is /msg NAME TEXT)", command: command}
	}
	if command == "send" && *sendFile != "" {
		if text := strings.Join(words, " "); len(text) > wire.MaxText {
			return &usageError{msg: fmt.Sprintf("TEXT is %d bytes long: a room takes at most %d in a line", len(text), wire.MaxText), command: command}
		}
		if err := checkFileToSend(*sendFile); err != nil {
			return err
		}
	} else if command == "send" {
		switch text := strings.Join(words, " "); {
		case text != "" && len(text) > wire.MaxText:
			return &usageError{msg: fmt.Sprintf("TEXT is %d bytes long: a room takes at most %d in a line", len(text), wire.MaxText), command: command}
		case text != "":
			lines = strings.NewReader(text)
		case isTerminal(c.stdin):
			return &usageError{msg: "nothing to say: give TEXT, or the lines on input (chatroom send ROOM < FILE)", command: command}
		default:
			lines = c.stdin
		}
	}
	if *admin {
		p, asked, err := c.joinPassword()
		if err != nil {
			return err
		}
		opts.Password, passwordAsked = p, asked
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir, err := stateDirOrDefault(*stateDir)
	if err != nil {
		return err
	}
	known, err := join.LoadKnownRooms(filepath.Join(dir, join.KnownRoomsFile))
	if err != nil {
		return err
	}
	for _, w := range known.Warnings() {
		c.infof("warning: %s", w)
	}
	// The uploads not yet stored are kept there, for the next run.
	opts.StateDir = dir
	identity, err := join.LoadOrCreateIdentity(dir)
	if err != nil {
		return err
	}
	withIdentity := join.WithIdentity(identity)
	// trust checks a room's key against the one remembered for its id, and
	// remembers it only once the room has proved it in a handshake: an mDNS
	// record, which anyone can send, pins nothing. A fingerprint given on
	// the command line is the person's own check, and replaces what was
	// remembered. --accept-new-key is for the room as first joined: a key
	// that changes again while reconnecting is refused.
	trust := &join.Pinning{Known: known, Fingerprint: *fingerprint, AcceptNewKey: *acceptNewKey,
		Remembered: func(t join.Trust, key join.RoomKey) {
			switch t {
			case join.TrustNew:
				c.infof("first visit to room %s: its key %s is remembered, and checked from now on", key.ID, key.Fingerprint)
			case join.TrustChanged:
				c.infof("the key of room %s is now %s, as you accepted", key.ID, key.Fingerprint)
			}
		},
		Warn: func(text string) { c.infof("warning: %s", text) }}

	var dial join.Dialer
	if *addr != "" {
		dial = trust.DialAddr(*addr, withIdentity)
	} else {
		records, err := join.FindRoom(ctx, finder(ifaces), query, c.picker(known))
		if err != nil {
			return c.explainFind(err, ifaces, "join", known)
		}
		// Every record with the room's id is tried, each address checked
		// for the key the person trusts (the one remembered, or given): a
		// clone of the room's id, on another machine, is never joined, and
		// a first visit with two keys for one id is refused. A key is
		// remembered only once the room has shown it in the handshake.
		found, err := trust.DialFound(records, join.LocalAddrs(), withIdentity)
		if err != nil {
			return err
		}
		var said sync.Once
		dial = func(ctx context.Context) (net.Conn, error) {
			conn, err := found(ctx)
			if err == nil {
				said.Do(func() {
					c.infof("joining %s", join.DescribeRoom(joinedRecord(records, conn), conn.RemoteAddr().String()))
				})
			}
			return conn, err
		}
	}
	if !*noReconnect {
		// Back to the last address first; else wherever the room with
		// that id is found now, its key checked as at first, other
		// machines advertising its id skipped.
		opts.Reconnect = &join.Reconnect{Rediscover: trust.Rediscover(browser(ifaces), join.LocalAddrs(), withIdentity)}
	}
	// The one-shots show, on stderr, what went wrong and how a transfer
	// goes; stdout has only their result.
	stderrUI := tui.WithStderr(tui.NewLineUI(strings.NewReader(""), c.stderr), c.stderr)
	switch {
	case command == "send" && *sendFile != "":
		return c.sendFile(ctx, dial, opts, *sendFile, *sendTo, strings.Join(words, " "), stderrUI)
	case command == "send":
		// Only what went wrong is said, on stderr; stdout stays empty.
		return join.Send(ctx, dial, opts, lines, stderrUI)
	case command == "get" && fetch.list:
		return c.listFiles(ctx, dial, opts, stderrUI)
	case command == "get":
		out, err := join.Get(ctx, dial, opts, fetch.number, fetch.dir, stderrUI)
		if err != nil {
			return err
		}
		fmt.Fprintln(c.stdout, shown(out.Path))
		return nil
	}
	if *asJSON {
		// For a program: stdout holds only JSON lines, even at a
		// terminal; what the command itself says stays on stderr.
		return join.Join(ctx, dial, opts, tui.WithLog(tui.NewJSONUI(c.stdin, c.stdout), chatLog))
	}
	// A password typed at the terminal may be mistyped: the room's
	// refusal asks again, up to maxPasswordTries in all. (The room counts
	// wrong passwords too, and stops listening to an address that sends
	// many.)
	chat := func(password string) error {
		opts.Password = password
		ui, closeUI := c.chatUI(*userName, *stateDir, chatLog, opts.Password)
		defer closeUI()
		return join.Join(ctx, dial, opts, ui)
	}
	if !passwordAsked {
		return chat(opts.Password)
	}
	return c.askingAgain(opts.Password, chat, c.askPassword)
}

// askingAgain runs chat with password, and while the room says it is
// wrong asks for it again (ask) and runs chat with that, up to
// maxPasswordTries in all.
func (c *cli) askingAgain(password string, chat func(password string) error, ask func() (string, error)) error {
	for try := 1; ; try++ {
		err := chat(password)
		var refused *join.RefusedError
		if try == maxPasswordTries || !errors.As(err, &refused) || refused.Code != wire.CodeWrongPassword {
			return err
		}
		c.infof("wrong admin password; try %d of %d", try+1, maxPasswordTries)
		if password, err = ask(); err != nil {
			return err
		}
	}
}

// maxPasswordTries is how many times join asks for a mistyped admin
// password.
const maxPasswordTries = 3

// checkAddr checks --addr before anything connects, and says how to write
// what it cannot read: an IPv6 address and its port are told apart only by
// brackets ("[fd90::1]:7465"), which people leave out, because the host's
// own tools (ip addr, ping) print addresses without them.
func checkAddr(addr string) error {
	hostPart, port, err := net.SplitHostPort(addr)
	if err != nil {
		if hint := bracketHint(addr); hint != "" {
			return fmt.Errorf("--addr %q is not HOST:PORT: an IPv6 address goes in brackets, as in %s", addr, hint)
		}
		return fmt.Errorf("--addr %q is not HOST:PORT (for example 192.168.1.20:%d, or [fd90::1]:%d)", addr, host.DefaultPort, host.DefaultPort)
	}
	if hostPart == "" {
		return fmt.Errorf("--addr %q names no host: give the room's address, as in 192.168.1.20%s", addr, addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("--addr %q: the port must be a number from 1 to 65535", addr)
	}
	if a, err := netip.ParseAddr(hostPart); err == nil && a.Is6() && a.IsLinkLocalUnicast() && a.Zone() == "" {
		// Every interface has an fe80:: network: the kernel cannot tell
		// which one leads to the room.
		return fmt.Errorf("--addr %q: a link-local address needs your interface on the room's network after a %%, as in [%s%%eth0]:%s", addr, hostPart, port)
	}
	if zone := addrZone(hostPart); zone != "" {
		if _, err := net.InterfaceByName(zone); err != nil {
			return fmt.Errorf("--addr %q: a link-local address needs this machine's interface after the %%, and there is no interface called %q here", addr, zone)
		}
	}
	return nil
}

// bracketHint returns addr written with its IPv6 address in brackets, when
// it is an IPv6 address with a port after it and no brackets
// ("fd90::1:7465" → "[fd90::1]:7465"), or "" when it is not. An address
// alone, with no port, gets the default port.
func bracketHint(addr string) string {
	if strings.HasPrefix(addr, "[") {
		return ""
	}
	if isIPv6(addr) {
		// "fd90::1:7465" reads as an address too: take the last group as
		// the port only when what is left is still an address.
		if i := strings.LastIndexByte(addr, ':'); i > 0 {
			if p, err := strconv.Atoi(addr[i+1:]); err == nil && p > 0 && p <= 65535 && isIPv6(addr[:i]) && !strings.HasSuffix(addr[:i], ":") {
				return net.JoinHostPort(addr[:i], addr[i+1:])
			}
		}
		return net.JoinHostPort(addr, strconv.Itoa(host.DefaultPort))
	}
	if i := strings.LastIndexByte(addr, ':'); i > 0 && isIPv6(addr[:i]) {
		if _, err := strconv.Atoi(addr[i+1:]); err == nil {
			return net.JoinHostPort(addr[:i], addr[i+1:])
		}
	}
	return ""
}

func isIPv6(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Is6() && !a.Is4In6()
}

// addrZone is the zone of a link-local IPv6 address ("eth0" of
// "fe80::1%eth0"), or "".
func addrZone(host string) string {
	if a, err := netip.ParseAddr(host); err == nil {
		return a.Zone()
	}
	return ""
}

// joinedRecord is the record, among those found for a room, of the key
// that conn's room showed: the one whose name and host describe it.
func joinedRecord(records []discovery.Room, conn net.Conn) discovery.Room {
	if tc, ok := conn.(*tls.Conn); ok {
		if certs := tc.ConnectionState().PeerCertificates; len(certs) > 0 {
			fp := wire.Fingerprint(certs[0].RawSubjectPublicKeyInfo)
			for _, r := range records {
				if r.Fingerprint == fp {
					return r
				}
			}
		}
	}
	return records[0]
}

// browser finds rooms on the network, on the interfaces named or on all.
func browser(ifaces []string) join.Finder {
	return func(ctx context.Context) ([]discovery.Room, error) {
		return discovery.Browse(ctx, discovery.Options{Interfaces: ifaces})
	}
}

// finder is browser for join and list: when no room is found but answers
// came that were no room's, it fails with *notRoomsError, so that the
// person learns that something answered, and why it was ignored.
func finder(ifaces []string) join.Finder {
	return func(ctx context.Context) ([]discovery.Room, error) {
		found, err := discovery.Find(ctx, discovery.Options{Interfaces: ifaces})
		if err == nil && len(found.Rooms) == 0 && found.NotRooms > 0 {
			return nil, &notRoomsError{found.NotRooms}
		}
		return found.Rooms, err
	}
}

// notRoomsError is join.ErrNoRooms when n answers were ignored as no
// room's (discovery.Found.NotRooms).
type notRoomsError struct{ n int }

func (e *notRoomsError) Error() string { return join.ErrNoRooms.Error() }
func (e *notRoomsError) Unwrap() error { return join.ErrNoRooms }

// explainFind turns what went wrong while looking for rooms into what to
// do about it, for command ("join" or "list"): each names only what that
// command takes. --iface is suggested only where it can help: for an
// interface that join and list skip unless it is named. Rooms listed are
// told apart with known (nil: not). The error keeps
// what went wrong beneath its words, for exitCode.
func (c *cli) explainFind(err error, named []string, command string, known *join.KnownRooms) error {
	byAddress := "join with --addr HOST:PORT"
	if command != "join" {
		byAddress = `join it by its address with "chatroom join --addr HOST:PORT"`
	}
	var ambiguous *join.AmbiguousError
	var every interface{ Unwrap() []error }
	var notRooms *notRoomsError
	switch {
	case errors.As(err, &notRooms):
		return &worded{"no room found on the network (" + discovery.NotRoomsText(notRooms.n) + "); run \"chatroom doctor\" to see why, or " + byAddress + ifaceHint(named), err}
	case errors.Is(err, join.ErrNoRooms):
		return &worded{"no room found on the network; run \"chatroom doctor\" to see why, or " + byAddress + ifaceHint(named), err}
	case errors.Is(err, discovery.ErrNoInterface):
		return &worded{fmt.Sprintf("cannot look for rooms: %v; run \"chatroom doctor\" to see why, or %s%s", err, byAddress, ifaceHint(named)), err}
	case errors.As(err, &ambiguous):
		for _, r := range ambiguous.Rooms {
			fmt.Fprintln(c.stderr, shown("  "+join.RoomLine(r, known)))
		}
	case errors.As(err, &every):
		// Every query failed (discovery.Browse joins their errors, often
		// the same for each): a broken network here, which doctor can name.
		var each []string
		for _, e := range every.Unwrap() {
			each = append(each, join.InWords(e))
		}
		return &worded{fmt.Sprintf("cannot look for rooms: %s; run \"chatroom doctor\" to see why, or %s", distinctLines(strings.Join(each, "\n")), byAddress), err}
	}
	return err
}

// worded is an error said in the command's own words, which keeps the
// error it explains for errors.Is and errors.As.
type worded struct {
	words string
	err   error
}

func (w *worded) Error() string { return w.words }
func (w *worded) Unwrap() error { return w.err }

// distinctLines puts the distinct lines of text on one line.
func distinctLines(text string) string {
	var lines []string
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(l); l != "" && !slices.Contains(lines, l) {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "; ")
}

// ifaceHint names the interfaces that join and list skip unless they are
// named (up, with an address, not loopback, but saying they cannot
// multicast: tunnels, some VPNs), as "; try --iface NAME", or "" when
// there are none: then --iface cannot help.
func ifaceHint(named []string) string {
	all, err := net.Interfaces()
	if err != nil {
		return ""
	}
	var skipped []string
	for _, ifc := range all {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 || ifc.Flags&net.FlagMulticast != 0 || slices.Contains(named, ifc.Name) {
			continue
		}
		if addrs, err := ifc.Addrs(); err == nil && len(addrs) > 0 {
			skipped = append(skipped, ifc.Name)
		}
	}
	if len(skipped) == 0 || len(named) > 0 {
		// Named interfaces were all that was searched: others were left
		// out on purpose.
		return ""
	}
	return fmt.Sprintf("; not searched, as multicast is off there: %s (try --iface %s)", strings.Join(skipped, ", "), skipped[0])
}

// picker asks the person to choose among rooms, when a person is there to
// answer; nil otherwise, so that scripts fail with the list instead. Each
// room is shown with what tells it from others of its name (roomLine).
// An answer that names none of them is asked again; the end of input, or
// maxPickTries wrong answers, chooses none.
func (c *cli) picker(known *join.KnownRooms) join.Picker {
	if !isTerminal(c.stdin) {
		return nil
	}
	return func(rooms []discovery.Room) (int, bool) {
		fmt.Fprintln(c.stderr, "chatroom: several rooms found:")
		for i, r := range rooms {
			fmt.Fprintln(c.stderr, shown(fmt.Sprintf("  %d  %s", i+1, join.RoomLine(r, known))))
		}
		for range maxPickTries {
			fmt.Fprintf(c.stderr, "chatroom: join which one (1-%d)? ", len(rooms))
			answer, err := readRawLine(c.stdin)
			if err != nil {
				fmt.Fprintln(c.stderr)
				return 0, false
			}
			if n, err := strconv.Atoi(strings.TrimSpace(answer)); err == nil && n >= 1 && n <= len(rooms) {
				return n - 1, true
			}
			fmt.Fprintf(c.stderr, "chatroom: answer with a number from 1 to %d\n", len(rooms))
		}
		return 0, false
	}
}

// maxPickTries bounds the answers to "join which one", for input that
// never gives one.
const maxPickTries = 5

// knownRooms loads the rooms the person knows, for telling rooms apart,
// or nil when they cannot be read (which joining would say).
func (c *cli) knownRooms(stateDir string) *join.KnownRooms {
	dir, err := stateDirOrDefault(stateDir)
	if err != nil {
		return nil
	}
	known, err := join.LoadKnownRooms(filepath.Join(dir, join.KnownRoomsFile))
	if err != nil {
		return nil
	}
	return known
}

// readRawLine reads one line a byte at a time, so that nothing after it is
// taken from the input that the chat reads next.
func readRawLine(r io.Reader) (string, error) {
	var line []byte
	b := make([]byte, 1)
	for len(line) < 1024 {
		if _, err := r.Read(b); err != nil {
			return "", err
		}
		if b[0] == '\n' {
			break
		}
		line = append(line, b[0])
	}
	return strings.TrimSuffix(string(line), "\r"), nil
}

// doctor explains why rooms are not found, one finding a line on stdout.
func (c *cli) doctor(args []string) error {
	fs := c.newFlagSet("doctor", fmt.Sprintf(usageDoctor, host.DefaultPort))
	var ifaces stringList
	fs.Var(&ifaces, "iface", "")
	roomPort := fs.Int("port", host.DefaultPort, "")
	if err := c.parse(fs, args, 0); err != nil {
		return ignoreHelp(err)
	}
	if *roomPort < 1 || *roomPort > 65535 {
		return &usageError{msg: "--port must be a number from 1 to 65535", command: "doctor"}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	facts, err := doctor.Gather(ctx, doctor.Options{Interfaces: ifaces, Port: *roomPort})
	if err != nil {
		return err
	}
	report := doctor.Diagnose(facts)
	for _, f := range report.Findings {
		fmt.Fprintln(c.stdout, shown(f.String()))
	}
	if !report.Healthy {
		return fmt.Errorf("no room found, and %d %s above may be why", report.Problems, plural(report.Problems, "finding", "findings"))
	}
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// list prints the rooms found on the network, one per line.
func (c *cli) list(args []string) error {
	fs := c.newFlagSet("list", usageList)
	asJSON := fs.Bool("json", false, "")
	var ifaces stringList
	fs.Var(&ifaces, "iface", "")
	stateDir := fs.String("state", "", "")
	if err := c.parse(fs, args, 0); err != nil {
		return ignoreHelp(err)
	}
	if err := checkIfaces("list", ifaces); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rooms, err := finder(ifaces)(ctx)
	if err == nil && len(rooms) == 0 {
		err = join.ErrNoRooms
	}
	if err != nil {
		return c.explainFind(err, ifaces, "list", nil)
	}
	known := c.knownRooms(*stateDir)
	if *asJSON {
		writeRoomsJSON(c.stdout, rooms, known) // each says whether it is a clone
	} else {
		for _, r := range rooms {
			fmt.Fprintln(c.stdout, shown(join.RoomLine(r, known)))
		}
	}
	// One line per room, as scripts read it; but an id advertised with
	// several keys is a room and machines pretending to be it, which the
	// person must not learn only by joining.
	for _, clone := range join.Clones(rooms) {
		c.infof("warning: %s", clone.Error())
	}
	return nil
}

// scripted reports whether the lines to send come from a script rather
// than a person: stdin is not a terminal.
func (c *cli) scripted() bool { return !isTerminal(c.stdin) }

// lineUI reads lines from stdin and prints events to stdout. At a terminal
// it may ask again for a name that was taken.
func (c *cli) lineUI() join.UI {
	var ui join.UI
	if isTerminal(c.stdin) {
		ui = tui.NewInteractiveLineUI(c.stdin, c.stdout)
	} else {
		ui = tui.NewLineUI(c.stdin, c.stdout)
	}
	if f, ok := c.stdout.(*os.File); ok {
		ui = tui.WrapAtTerminal(ui, f)
	}
	return tui.WithStderr(ui, c.stderr)
}

// openChatLog opens --log's file, if one was given: nil for none. A file
// that cannot be opened stops the command before it joins; one that
// fails later is said once, and never stops the chat (tui.ChatLog).
func openChatLog(path string) (*tui.ChatLog, error) {
	if path == "" {
		return nil, nil
	}
	return tui.OpenChatLog(path)
}

// chatUI returns the UI to chat through and a function that closes it. When
// stdin and stdout are this process's terminal, that is the interactive
// prompt, which keeps the person's history in the state directory (stateDir,
// or the default; none when there is no place for it) and never keeps a
// line that holds one of secrets; while it is up, c.logger's output is
// shown above it. Anywhere else it is line mode, exactly as scripts expect.
// Either appends what it shows to log, when there is one (--log).
func (c *cli) chatUI(user, stateDir string, log *tui.ChatLog, secrets ...string) (join.UI, func()) {
	if c.stdin != io.Reader(os.Stdin) || c.stdout != io.Writer(os.Stdout) || !isTerminal(c.stdin) {
		return tui.WithLog(c.lineUI(), log), func() {}
	}
	cfg := tui.PromptConfig{Secrets: secrets, Color: os.Getenv("NO_COLOR") == "", Log: log}
	if dir, err := stateDirOrDefault(stateDir); err == nil {
		cfg.HistoryFile = tui.HistoryFile(dir, user)
	}
	p, err := tui.NewPrompt(cfg)
	if err != nil {
		if !errors.Is(err, tui.ErrNoPrompt) {
			c.infof("%s; reading plain lines instead", join.InWords(err))
		}
		return tui.WithLog(c.lineUI(), log), func() {}
	}
	var restore func()
	if c.logs != nil && isTerminalWriter(c.stderr) {
		restore = c.logs.to(p.LogWriter())
	}
	return p, func() {
		if restore != nil {
			restore()
		}
		if err := p.Close(); err != nil {
			c.infof("%s", join.InWords(err))
		}
	}
}

// logger returns the logger for diagnostics: to stderr, or above the
// prompt while one is up (chatUI), so that none is written over it.
func (c *cli) logger() *slog.Logger {
	if c.logs == nil {
		c.logs = &logSwitch{w: c.stderr}
	}
	return slog.New(&warningHandler{w: c.logs})
}

// warningHandler writes warnings (and errors) as the command's own lines,
// "chatroom: warning: MESSAGE (key value, …)", for a person to read rather
// than a log collector; lesser records are dropped.
type warningHandler struct {
	w     io.Writer
	attrs []slog.Attr
}

func (h *warningHandler) Enabled(_ context.Context, level slog.Level) bool {
	return level >= slog.LevelWarn
}

func (h *warningHandler) Handle(_ context.Context, r slog.Record) error {
	kind := "warning"
	if r.Level >= slog.LevelError {
		kind = "error"
	}
	line := "chatroom: " + kind + ": " + r.Message
	attrs := slices.Clone(h.attrs)
	r.Attrs(func(a slog.Attr) bool {
		attrs = append(attrs, a)
		return true
	})
	for i, a := range attrs {
		sep := ", "
		if i == 0 {
			sep = " ("
		}
		value := a.Value.String()
		if err, ok := a.Value.Any().(error); ok {
			value = join.InWords(err)
		}
		line += sep + a.Key + " " + value
	}
	if len(attrs) > 0 {
		line += ")"
	}
	// One write per line, so that lines from several goroutines do not
	// interleave. The host's warnings name what members sent (a name, an
	// address), so they are shown as the command's own lines are.
	_, err := io.WriteString(h.w, shown(line)+"\n")
	return err
}

func (h *warningHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &warningHandler{w: h.w, attrs: append(slices.Clip(h.attrs), attrs...)}
}

// WithGroup keeps the handler as it is: the host's logs use no groups, and
// a person reading a warning needs none.
func (h *warningHandler) WithGroup(string) slog.Handler { return h }

// logSwitch is a writer whose destination can change while loggers write
// to it.
type logSwitch struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *logSwitch) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// to sends what is written to w until the returned function is called.
func (l *logSwitch) to(w io.Writer) (restore func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	old := l.w
	l.w = w
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.w = old
	}
}

func isTerminalWriter(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// defaultUser fills in the OS user name when no --user was given, and
// checks the name now rather than after connecting.
func defaultUser(fs *flag.FlagSet, name *string) error {
	if !isSet(fs, "user") {
		u, err := user.Current()
		if err != nil || u.Username == "" {
			return errors.New("cannot tell your user name; pass --user NAME")
		}
		n := u.Username
		if i := strings.LastIndexByte(n, '\\'); i >= 0 {
			n = n[i+1:] // Windows: DOMAIN\name
		}
		if err := room.ValidateName(n); err != nil {
			return fmt.Errorf("your user name %q cannot be used in a room (%v); pass --user NAME", n, err)
		}
		*name = n
		return nil
	}
	if err := room.ValidateName(*name); err != nil {
		return fmt.Errorf("--user %q: %v", *name, err)
	}
	return nil
}

func stateDirOrDefault(dir string) (string, error) {
	if dir != "" {
		return dir, nil
	}
	config, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no place for the room's state (%v); pass --state DIR", err)
	}
	return filepath.Join(config, "chatroom"), nil
}

func defaultStateDirForHelp() string {
	if dir, err := stateDirOrDefault(""); err == nil {
		return dir
	}
	return "the user config directory"
}

// hostPassword reads the admin password from the file, or else from the
// environment; "" means the room has none.
func hostPassword(file string) (string, error) {
	if file == "" {
		return os.Getenv(passwordEnv), nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("reading the admin password: %w", err)
	}
	p := strings.TrimRight(string(data), "\r\n")
	if p == "" {
		return "", fmt.Errorf("the admin password file %s is empty", file)
	}
	return p, nil
}

// minPasswordLength is the shortest admin password that is not called
// short: the room lets anyone on the LAN try 70 passwords an hour, and a
// short one, or a common one, is found in days or hours.
const minPasswordLength = 12

// commonPasswordList is commonpasswords.txt: passwords and words that
// people pick most often.
//
//go:embed commonpasswords.txt
var commonPasswordList string

// commonPasswords is commonPasswordList as a set.
var commonPasswords = sync.OnceValue(func() map[string]bool {
	set := make(map[string]bool)
	for line := range strings.Lines(commonPasswordList) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		word := strings.ToLower(line)
		set[word] = true
		// "abc123" and "trustno1" with more digits after them are as
		// common: what commonPassword cuts, cut here too.
		if cut := strings.TrimRightFunc(word, isDigitOrSign); len(cut) >= 3 {
			set[cut] = true
		}
	}
	return set
})

// weakPassword says why password would be easy to guess ("short (8
// characters)", "a common password or word"), or "" when it is not known
// to be, or when there is none.
func weakPassword(password string) string {
	if password == "" {
		return ""
	}
	var why []string
	if n := utf8.RuneCountInString(password); n < minPasswordLength {
		why = append(why, fmt.Sprintf("short (%d characters)", n))
	}
	if commonPassword(password) {
		why = append(why, "a common password or word")
	}
	return strings.Join(why, " and ")
}

// commonPassword reports whether password is one of commonPasswords, or
// nothing but digits and signs, compared in lower case and also with what
// people add to a common word to pass a password rule: digits and signs at
// the end ("Password1!"), spaces or dashes between words ("correct horse
// battery staple"), digits and signs for look-alike letters ("p@ssw0rd").
func commonPassword(password string) bool {
	lower := strings.ToLower(password)
	if strings.TrimFunc(lower, isDigitOrSign) == "" {
		return true
	}
	joined := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || strings.ContainsRune("-_.", r) {
			return -1
		}
		return r
	}, lower)
	set := commonPasswords()
	for _, form := range []string{lower, joined} {
		for _, cut := range []string{
			form,
			strings.TrimRightFunc(form, func(r rune) bool { return isDigitOrSign(r) && !unicode.IsDigit(r) }),
			strings.TrimRightFunc(form, isDigitOrSign),
		} {
			if set[cut] || set[lookAlikes(cut, 'i')] || set[lookAlikes(cut, 'l')] {
				return true
			}
		}
	}
	return false
}

func isDigitOrSign(r rune) bool {
	return unicode.IsDigit(r) || unicode.IsPunct(r) || unicode.IsSymbol(r) || unicode.IsSpace(r)
}

// lookAlikes reads the digits and signs that people put for letters as
// those letters, with one as the letter one (i or l).
func lookAlikes(s string, one rune) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '0':
			return 'o'
		case '1', '!', '|':
			return one
		case '3':
			return 'e'
		case '4', '@':
			return 'a'
		case '5', '$':
			return 's'
		case '7', '+':
			return 't'
		case '8':
			return 'b'
		case '9':
			return 'g'
		}
		return r
	}, s)
}

// joinPassword gets the admin password for join --admin: from the
// environment, or asked for without echo at a terminal (asked).
func (c *cli) joinPassword() (password string, asked bool, err error) {
	if p := os.Getenv(passwordEnv); p != "" {
		return p, false, nil
	}
	if !isTerminal(c.stdin) {
		return "", false, fmt.Errorf("--admin needs the admin password: set %s (input is not a terminal to ask at)", passwordEnv)
	}
	p, err := c.askPassword()
	return p, true, err
}

// askPassword asks for the admin password at the terminal, without echo.
func (c *cli) askPassword() (string, error) {
	f := c.stdin.(*os.File) // isTerminal
	fmt.Fprint(c.stderr, "admin password: ")
	p, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(c.stderr)
	if err != nil {
		return "", fmt.Errorf("reading the admin password: %w", err)
	}
	if len(p) == 0 {
		return "", errors.New("no admin password given")
	}
	return string(p), nil
}

func port(a net.Addr) int {
	if tcp, ok := a.(*net.TCPAddr); ok {
		return tcp.Port
	}
	return 0
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
		return info.Main.Version
	}
	return "(devel)"
}

// fileToGet is what "chatroom get" is to fetch: file number into dir, or
// the list.
type fileToGet struct {
	number int
	dir    string
	list   bool
}

// getArgs reads "chatroom get"'s arguments: [ROOM] N [DIR], or [ROOM]
// with --list. Without --addr, a first argument that is a number is N;
// another names the room.
func getArgs(withAddr, list bool, args []string) (query string, f fileToGet, err error) {
	isNumber := func(s string) bool { n, err := strconv.Atoi(s); return err == nil && n > 0 }
	if !withAddr && len(args) > 0 && (list || !isNumber(args[0])) {
		query, args = args[0], args[1:]
	}
	if list {
		if len(args) > 0 {
			return "", f, &usageError{msg: fmt.Sprintf("unexpected argument %q: --list fetches nothing", args[0]), command: "get"}
		}
		return query, fileToGet{list: true}, nil
	}
	switch {
	case len(args) == 0:
		return "", f, &usageError{msg: "no file given: give its number N, as the room's \"/get N\" says (--list lists them)", command: "get"}
	case !isNumber(args[0]):
		return "", f, &usageError{msg: fmt.Sprintf("%q is not a file's number: give N, as the room's \"/get N\" says", args[0]), command: "get"}
	case len(args) > 2:
		return "", f, &usageError{msg: fmt.Sprintf("unexpected argument %q", args[2]), command: "get"}
	}
	f.number, _ = strconv.Atoi(args[0])
	if len(args) == 2 {
		f.dir = args[1]
		if st, err := os.Stat(f.dir); err != nil || !st.IsDir() {
			return "", f, &usageError{msg: fmt.Sprintf("DIR %q is not a directory", f.dir), command: "get"}
		}
	}
	return query, f, nil
}

// checkFileToSend says, before the room is joined, why the file at path
// cannot be offered.
func checkFileToSend(path string) error {
	st, err := os.Stat(path)
	switch {
	case err != nil:
		return fmt.Errorf("--file %s: %s", path, join.InWords(err))
	case st.IsDir():
		return fmt.Errorf("--file %s is a directory; offer one file", path)
	case !st.Mode().IsRegular():
		return fmt.Errorf("--file %s is not a plain file", path)
	case st.Size() == 0:
		return fmt.Errorf("--file %s is empty", path)
	}
	if err := wire.CheckFileName(filepath.Base(path)); err != nil {
		return fmt.Errorf("--file %s cannot be offered under its name: %s; rename it first", path, err)
	}
	return nil
}

// sendFile is "chatroom send --file": the file offered and uploaded, then
// (with TEXT) the line said; the room's line for the offer is printed.
func (c *cli) sendFile(ctx context.Context, dial join.Dialer, opts join.Options, path, to, text string, ui join.UI) error {
	out, err := join.SendFile(ctx, dial, opts, path, to, ui)
	if err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, shown(offerLine(out.File)))
	if text == "" {
		return nil
	}
	return join.Send(ctx, dial, opts, strings.NewReader(text), ui)
}

// offerLine is an offer as the room shows it:
//
//	bob offers slides.pdf (2.3 MB, sha256 3f9a1c2b…) — /get 7
func offerLine(f wire.File) string {
	short := f.SHA256
	if len(short) > 8 {
		short = short[:8] + "…"
	}
	to := ""
	if f.To != "" {
		to = " to " + join.Sanitize(f.To)
	}
	return fmt.Sprintf("%s offers %s%s (%s, sha256 %s) — /get %d", join.Sanitize(f.From), join.Sanitize(f.Name), to, wire.FormatSize(f.Size), short, f.Number)
}

// listFiles is "chatroom get --list": the files on offer, one a line,
// their fields separated by tabs.
func (c *cli) listFiles(ctx context.Context, dial join.Dialer, opts join.Options, ui join.UI) error {
	files, _, err := join.ListFiles(ctx, dial, opts, ui)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		c.infof("no files on offer")
		return nil
	}
	for _, f := range files {
		short := f.SHA256
		if len(short) > 8 {
			short = short[:8] + "…"
		}
		fmt.Fprintln(c.stdout, shown(fmt.Sprintf("%d\t%s\t%s\tfrom %s\tsha256 %s", f.Number, f.Name, wire.FormatSize(f.Size), f.From, short)))
	}
	return nil
}
