package discovery

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/mdns"
)

// Browsing is done in rounds, because hashicorp/mdns sends one query per
// call and then only listens until its timeout. A round queries every
// interface at once, and asks twice, retryAfter apart, because multicast
// on Wi-Fi is sent without acknowledgement and a query or answer can be
// lost. Answers come within milliseconds on a LAN, so a round is short.
// Browsing stops after the first round that finds a room, or after
// maxRounds (about two seconds) when none answers.
const (
	roundLength = 350 * time.Millisecond
	retryAfter  = 100 * time.Millisecond
	maxRounds   = 6
	// entryBuffer holds a round's answers on one interface: the library
	// drops answers that do not fit.
	entryBuffer = 256
)

// serviceSuffix ends the instance names of rooms, as the library returns
// them.
const serviceSuffix = "." + Service + "." + domain

// Browse finds the rooms on the network, on the interfaces opts selects,
// sorted by name. Rooms seen on several interfaces, or with several
// addresses, are one room, told apart from others by id. It returns what it
// found when ctx ends.
func Browse(ctx context.Context, opts Options) ([]Room, error) {
	links, err := links(opts)
	if err != nil {
		return nil, err
	}
	found := make(map[string]*Room)
	for round := 0; round < maxRounds && ctx.Err() == nil; round++ {
		var mu sync.Mutex
		var wg sync.WaitGroup
		var errs []error
		queries := 0
		for _, l := range links {
			for _, delay := range []time.Duration{0, retryAfter} {
				queries++
				wg.Go(func() {
					select {
					case <-time.After(delay):
					case <-ctx.Done():
						return
					}
					rooms, err := queryOnce(ctx, l, roundLength-delay)
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						errs = append(errs, fmt.Errorf("browsing on %s: %w", l.iface.Name, err))
						return
					}
					for _, r := range rooms {
						merge(found, r)
					}
				})
			}
		}
		wg.Wait()
		if len(errs) == queries {
			// Every query failed: more rounds would only fail again.
			return nil, errors.Join(errs...)
		}
		if len(found) > 0 {
			break
		}
	}
	rooms := make([]Room, 0, len(found))
	for _, r := range found {
		rooms = append(rooms, *r)
	}
	sortRooms(rooms)
	return rooms, nil
}

// queryOnce asks for rooms on one interface and returns what answered
// within timeout.
func queryOnce(ctx context.Context, l link, timeout time.Duration) ([]Room, error) {
	entries := make(chan *mdns.ServiceEntry, entryBuffer)
	ifc := l.iface
	err := mdns.QueryContext(ctx, &mdns.QueryParam{
		Service:     Service,
		Domain:      strings.TrimSuffix(domain, "."),
		Timeout:     timeout,
		Interface:   &ifc,
		Entries:     entries,
		DisableIPv6: true, // rooms are found and joined over IPv4
		Logger:      silentLogger,
	})
	// Only now is it safe to read the entries: the library goes on writing
	// to an entry after sending it, until the query returns.
	close(entries)
	var rooms []Room
	for e := range entries {
		if r, ok := roomFromEntry(e); ok {
			r.Ifaces = []string{ifc.Name}
			rooms = append(rooms, r)
		}
	}
	if err != nil && ctx.Err() == nil {
		return rooms, err
	}
	return rooms, nil
}

// roomFromEntry reads a room from an answer, or false for an answer about
// another service or one that lacks what joining needs.
func roomFromEntry(e *mdns.ServiceEntry) (Room, bool) {
	if len(e.Name) <= len(serviceSuffix) || !strings.EqualFold(e.Name[len(e.Name)-len(serviceSuffix):], serviceSuffix) {
		return Room{}, false
	}
	r, ok := roomFromTXT(e.InfoFields)
	if !ok || e.Port <= 0 {
		return Room{}, false
	}
	r.Instance = unescapeDNS(e.Name[:len(e.Name)-len(serviceSuffix)])
	r.Host = e.Host
	r.Port = e.Port
	if a, ok := netip.AddrFromSlice(e.AddrV4); ok && a.Unmap().Is4() && !slices.Contains(r.Addrs, a.Unmap()) {
		r.Addrs = append(r.Addrs, a.Unmap())
	}
	return r, true
}

// merge adds r to found, or what is new in it to the room with its id.
func merge(found map[string]*Room, r Room) {
	have, ok := found[r.ID]
	if !ok {
		found[r.ID] = &r
		return
	}
	for _, a := range r.Addrs {
		if !slices.Contains(have.Addrs, a) {
			have.Addrs = append(have.Addrs, a)
		}
	}
	for _, ifc := range r.Ifaces {
		if !slices.Contains(have.Ifaces, ifc) {
			have.Ifaces = append(have.Ifaces, ifc)
		}
	}
}
