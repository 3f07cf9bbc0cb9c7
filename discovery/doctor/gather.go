package doctor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"chatroom/discovery"
	"chatroom/join"
)

// Options say where to look.
type Options struct {
	Interfaces []string // only these (--iface); none means all
	Port       int      // the room's TCP port, for the firewall check
}

// probeWait is how long answers to a probe are waited for: a responder
// waits up to 120 ms before answering a shared question (RFC 6762 6).
const probeWait = 700 * time.Millisecond

// Gather looks at this machine and asks who answers on the link. It
// changes nothing. It takes about two seconds when no room answers (the
// time Browse looks for), less when one does.
func Gather(ctx context.Context, opts Options) (Facts, error) {
	f := Facts{Port: opts.Port, Named: len(opts.Interfaces) > 0}
	all, err := net.Interfaces()
	if err != nil {
		return f, fmt.Errorf("listing network interfaces: %w", err)
	}
	for _, name := range opts.Interfaces {
		if !slices.ContainsFunc(all, func(i net.Interface) bool { return i.Name == name }) {
			names := make([]string, len(all))
			for i, ifc := range all {
				names[i] = ifc.Name
			}
			return f, fmt.Errorf("no network interface called %q (there are: %s)", name, strings.Join(names, ", "))
		}
	}
	var chosen []net.Interface
	for _, ifc := range all {
		if f.Named && !slices.Contains(opts.Interfaces, ifc.Name) {
			continue
		}
		chosen = append(chosen, ifc)
		i := Interface{
			Name:      ifc.Name,
			Up:        ifc.Flags&net.FlagUp != 0,
			Running:   ifc.Flags&net.FlagRunning != 0,
			Loopback:  ifc.Flags&net.FlagLoopback != 0,
			Multicast: ifc.Flags&net.FlagMulticast != 0,
		}
		if addrs, err := ifc.Addrs(); err == nil {
			for _, a := range addrs {
				if ipnet, ok := a.(*net.IPNet); ok {
					ip, _ := netip.AddrFromSlice(ipnet.IP)
					ones, _ := ipnet.Mask.Size()
					i.Prefixes = append(i.Prefixes, netip.PrefixFrom(ip.Unmap(), ones))
				}
			}
		}
		f.Interfaces = append(f.Interfaces, i)
	}
	f.Local = join.LocalAddrs()
	f.Routes, f.RoutesErr = readRoutes()
	f.Routes6, f.Routes6Err = readRoutes6()
	// Before the probe binds port 5353 itself.
	f.Sockets, f.SocketsErr = mdnsSockets()
	f.Firewalls = readFirewalls(ctx)

	// The rooms, as join and list find them, on the interfaces that can
	// carry them; then who else answers, on each of those.
	var browseOn []string
	for i, ifc := range f.Interfaces {
		if searchable(ifc, f.Named) {
			browseOn = append(browseOn, chosen[i].Name)
		}
	}
	if len(browseOn) > 0 {
		var found discovery.Found
		found, f.BrowseErr = discovery.Find(ctx, discovery.Options{Interfaces: browseOn})
		f.Rooms, f.NotRooms = found.Rooms, found.NotRooms
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i := range f.Interfaces {
		ifc := &f.Interfaces[i]
		if !searchable(*ifc, f.Named) {
			continue
		}
		v4, v6 := split(ifc.Prefixes)
		ifc.Probed4 = len(v4) > 0
		ifc.Probed6 = len(v6) > 0 && !ifc.Loopback
		for _, overIPv6 := range []bool{false, true} {
			if (!overIPv6 && !ifc.Probed4) || (overIPv6 && !ifc.Probed6) {
				continue
			}
			wg.Go(func() {
				found, err := discovery.Probe(ctx, chosen[i], overIPv6, probeWait)
				mu.Lock()
				defer mu.Unlock()
				ifc.Responders = append(ifc.Responders, found...)
				if overIPv6 {
					ifc.Probe6Err = err
				} else {
					ifc.Probe4Err = err
				}
			})
		}
	}
	wg.Wait()
	for i := range f.Interfaces {
		slices.SortFunc(f.Interfaces[i].Responders, func(a, b discovery.Responder) int { return a.From.Compare(b.From) })
	}
	return f, nil
}

// searchable is an interface rooms can be looked for on, as Diagnose
// judges it.
func searchable(ifc Interface, named bool) bool {
	return ifc.Up && (ifc.Running || ifc.Loopback) && len(ifc.Prefixes) > 0 && (named || (ifc.Multicast && !ifc.Loopback))
}

func readRoutes() ([]Route, error) {
	data, err := os.ReadFile("/proc/net/route")
	if err != nil {
		return nil, errors.New("this system has no /proc/net/route")
	}
	return ProcRoutes(string(data)), nil
}

func readRoutes6() ([]Route, error) {
	data, err := os.ReadFile("/proc/net/ipv6_route")
	if err != nil {
		return nil, errors.New("this system has no /proc/net/ipv6_route")
	}
	return ProcRoutes6(string(data)), nil
}

// mdnsSockets lists the UDP sockets bound to port 5353 in this network
// namespace, with the program that holds each where this user may see it.
func mdnsSockets() ([]Socket, error) {
	var sockets []Socket
	var inodes []string
	read := 0
	for _, file := range []string{"/proc/net/udp", "/proc/net/udp6"} {
		data, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		read++
		local, in := ProcUDPSockets(string(data), 5353)
		for _, l := range local {
			sockets = append(sockets, Socket{Local: l})
		}
		inodes = append(inodes, in...)
	}
	if read == 0 {
		return nil, errors.New("this system has no /proc/net/udp")
	}
	owners := socketOwners(inodes)
	for i := range sockets {
		if o, ok := owners[inodes[i]]; ok {
			sockets[i].Process, sockets[i].PID = o.name, o.pid
		}
	}
	return sockets, nil
}

type owner struct {
	name string
	pid  int
}

// maxProcesses bounds the walk through /proc for the owners of sockets.
const maxProcesses = 20000

// socketOwners finds which processes hold the sockets with these inodes,
// among those whose file descriptors this user may read.
func socketOwners(inodes []string) map[string]owner {
	owners := map[string]owner{}
	if len(inodes) == 0 {
		return owners
	}
	want := map[string]bool{}
	for _, in := range inodes {
		want["socket:["+in+"]"] = true
	}
	pids, _ := filepath.Glob("/proc/[0-9]*")
	if len(pids) > maxProcesses {
		pids = pids[:maxProcesses]
	}
	for _, dir := range pids {
		pid, err := strconv.Atoi(filepath.Base(dir))
		if err != nil || pid == os.Getpid() {
			continue
		}
		fds, err := os.ReadDir(dir + "/fd")
		if err != nil {
			continue
		}
		for _, fd := range fds {
			link, err := os.Readlink(dir + "/fd/" + fd.Name())
			if err != nil || !want[link] {
				continue
			}
			comm, _ := os.ReadFile(dir + "/comm")
			owners[strings.TrimSuffix(link[len("socket:["):], "]")] = owner{name: strings.TrimSpace(string(comm)), pid: pid}
		}
	}
	return owners
}

// readFirewalls reads the rules of the firewalls installed, without
// changing any: nft list ruleset and iptables-save print them.
func readFirewalls(ctx context.Context) []Ruleset {
	var sets []Ruleset
	for _, tool := range [][]string{{"nft", "list", "ruleset"}, {"iptables-save"}, {"ip6tables-save"}} {
		path, err := exec.LookPath(tool[0])
		if err != nil {
			continue
		}
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		var stderr strings.Builder
		cmd := exec.CommandContext(ctx, path, tool[1:]...)
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		cancel()
		rs := Ruleset{Tool: tool[0], Text: string(out)}
		if err != nil {
			why := strings.TrimSpace(stderr.String())
			if i := strings.IndexByte(why, '\n'); i >= 0 {
				why = why[:i]
			}
			if why == "" {
				why = err.Error()
			}
			rs.Err = errors.New(why)
		}
		sets = append(sets, rs)
	}
	return sets
}
