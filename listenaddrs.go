package main

import (
	"net"
	"net/netip"
	"strings"
)

// interfaceAddrs is one network interface's addresses, as reachableAt
// needs them.
type interfaceAddrs struct {
	name     string
	loopback bool
	addrs    []netip.Addr
}

// zonePlaceholder stands, in a link-local address the host prints, for
// the interface of the machine that joins: a link-local address is reached
// through the joiner's own interface, whose name only the joiner knows.
const zonePlaceholder = "IFACE"

// localInterfaces lists the interfaces that are up, with their addresses.
func localInterfaces() []interfaceAddrs {
	all, err := net.Interfaces()
	if err != nil {
		return nil
	}
	var result []interfaceAddrs
	for _, ifc := range all {
		if ifc.Flags&net.FlagUp == 0 {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		i := interfaceAddrs{name: ifc.Name, loopback: ifc.Flags&net.FlagLoopback != 0}
		for _, a := range addrs {
			if ipnet, ok := a.(*net.IPNet); ok {
				if ip, ok := netip.AddrFromSlice(ipnet.IP); ok {
					i.addrs = append(i.addrs, ip.Unmap())
				}
			}
		}
		if len(i.addrs) > 0 {
			result = append(result, i)
		}
	}
	return result
}

// reachableAt says where a room listening on every address (0.0.0.0 or
// [::], port) can be reached: one line per interface, "eth0 at
// 192.168.1.20:7465, [fe80::1%IFACE]:7465", since "0.0.0.0:7465" tells
// no one where to connect. Loopback is shown only when nothing else is.
// A listener on 0.0.0.0 takes IPv4 only; one on [::] takes both (Go makes
// it dual-stack).
func reachableAt(listener netip.AddrPort, ifaces []interfaceAddrs) (lines []string, linkLocal bool) {
	v4only := listener.Addr().Unmap().Is4()
	for _, loopback := range []bool{false, true} {
		for _, ifc := range ifaces {
			if ifc.loopback != loopback {
				continue
			}
			var at []string
			for _, a := range ifc.addrs {
				if v4only && !a.Is4() {
					continue
				}
				if a.Is6() && a.IsLinkLocalUnicast() {
					// netip refuses a zone that is not a name; the
					// placeholder is one.
					a = a.WithZone(zonePlaceholder)
					linkLocal = true
				}
				at = append(at, netip.AddrPortFrom(a, listener.Port()).String())
			}
			if len(at) > 0 {
				lines = append(lines, ifc.name+" at "+strings.Join(at, ", "))
			}
		}
		if len(lines) > 0 {
			break
		}
	}
	return lines, linkLocal
}
