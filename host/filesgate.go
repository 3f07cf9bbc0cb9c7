package host

import (
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"chatroom/host/files"
	"chatroom/host/room"
	"chatroom/host/wire"
)

// FileLimits bound the files members offer, which the host keeps in
// STATE/files until they expire or are taken back, so that no member (and
// no number of them) can fill the host's disk. A zero field takes its
// default.
type FileLimits struct {
	// Off turns file sharing off: the room refuses offers and transfers,
	// and the store in STATE/files is neither opened nor swept (what it
	// holds stays for a later run that shares files).
	Off bool
	// MaxFileSize is the largest file; 0 means DefaultMaxFileSize.
	MaxFileSize int64
	// Quota is what all files together may take, uploading or complete.
	// 0 means DefaultFileQuota or 90% of the disk's free space at start,
	// whichever is less (see defaultQuota).
	Quota int64
	// MaxPerOwner is how many files one member (by identity key, or by
	// address without one) may have on offer; 0 means 20.
	MaxPerOwner int
	// MaxFiles is how many files the store holds in all; 0 means 500.
	MaxFiles int
	// Expiry is how long a file is kept after its offer; 0 means 24 hours.
	Expiry time.Duration
}

// The defaults of FileLimits. 2 GB a file takes a film or a disk image,
// which is what people pass around a LAN; 10 GB in all is a few of those
// and is little on a laptop's disk; 20 a member and 500 in all are more
// than a room shares in a day, and a day is long enough to fetch a file
// after a meeting, short enough that the host's disk empties itself.
const (
	DefaultMaxFileSize = 2_000_000_000
	DefaultFileQuota   = 10_000_000_000
	DefaultMaxPerOwner = 20
	DefaultMaxFiles    = 500
	DefaultFileExpiry  = 24 * time.Hour
)

// quotaShareOfFree is how much of the disk's free space at start the
// default quota may take: a host must not fill its own disk with members'
// files, and the state directory's other files (the journal, the history)
// need room to be written.
const quotaShareOfFree = 0.9

// storeLimits gives the store's limits from l, with the defaults filled
// in. free is the free space on the state directory's disk (-1: not
// known); it bounds only the default quota, since a quota the person set
// is theirs to set (they may mean to free space later).
func (l FileLimits) storeLimits(free int64) files.Limits {
	out := files.Limits{
		MaxFileSize: l.MaxFileSize,
		Quota:       l.Quota,
		MaxPerOwner: l.MaxPerOwner,
		MaxFiles:    l.MaxFiles,
		Expiry:      l.Expiry,
	}
	if out.MaxFileSize <= 0 {
		out.MaxFileSize = DefaultMaxFileSize
	}
	if out.Quota <= 0 {
		out.Quota = defaultQuota(free)
	}
	if out.MaxPerOwner <= 0 {
		out.MaxPerOwner = DefaultMaxPerOwner
	}
	if out.MaxFiles <= 0 {
		out.MaxFiles = DefaultMaxFiles
	}
	if out.Expiry <= 0 {
		out.Expiry = DefaultFileExpiry
	}
	return out
}

// defaultQuota is DefaultFileQuota, or less on a disk with less free
// space than that: 90% of what is free at start, so that the files
// members upload leave the disk some room. It is worked out once, at
// start: a disk that fills later for other reasons makes uploads fail
// with the system's error (the upload resumes once there is room), rather
// than a quota that shrinks under files already accepted.
func defaultQuota(free int64) int64 {
	if free < 0 {
		return DefaultFileQuota
	}
	return min(DefaultFileQuota, int64(float64(free)*quotaShareOfFree))
}

// fileGate is the host's store of offered files as the room uses it
// (room.Files), and as the transfer connections use it. The room calls
// Declare and Remove on its goroutine; both are a small metadata write.
type fileGate struct {
	store  *files.Store
	limits files.Limits
}

// openFiles opens the store of offered files in STATE/files, with a
// warning in the log for each entry it had to drop. A store that cannot
// be opened at all leaves the room without files (nil), with the reason
// in the log: the chat does not depend on it.
func openFiles(stateDir string, l FileLimits, log *slog.Logger) *fileGate {
	if l.Off {
		return nil
	}
	dir := filepath.Join(stateDir, "files")
	limits := l.storeLimits(freeSpace(stateDir))
	store, warnings, err := files.Open(dir, limits)
	if err != nil {
		log.Error("file sharing is off: the store of offered files cannot be opened", "dir", dir, "err", err)
		return nil
	}
	for _, w := range warnings {
		log.Warn(w, "dir", dir)
	}
	log.Info("file sharing on", "limits", describeLimits(limits), "dir", dir)
	return &fileGate{store: store, limits: limits}
}

var _ room.Files = (*fileGate)(nil)

// Declare checks an offer against the host's limits, reserves its space
// and fills in its ID, Token, Offered and Expires. Its errors are the
// store's, sentences for the person who offered the file.
func (g *fileGate) Declare(o room.Offer) (room.Offer, error) {
	sum, err := hex.DecodeString(o.SHA256)
	if err != nil || len(sum) != 32 || wire.CheckSHA256(o.SHA256) != nil {
		return room.Offer{}, errors.New("the offer's sha256 is not 64 lowercase hex digits")
	}
	offer := files.Info{
		Owner: o.Owner, Name: o.Name, Size: o.Size,
		Number: o.Number, From: o.From, FromKey: o.FromKey, To: o.To, ToKey: o.ToKey,
	}
	copy(offer.SHA256[:], sum)
	info, err := g.store.Declare(offer)
	if err != nil {
		return room.Offer{}, err
	}
	return offerOf(info), nil
}

// Remove takes the file id back, data and all.
func (g *fileGate) Remove(id string) error { return g.store.Remove(id) }

// Shown records that the room has shown the complete file id.
func (g *fileGate) Shown(id string) error { return g.store.MarkShown(id) }

// unshown gives the ids of the complete files the room has not shown: the
// host was killed between the end of their upload and the room's showing
// them. The host has the room show them once it runs. Those whose time
// ran out meanwhile are left to the sweep.
func (g *fileGate) unshown(now time.Time) []string {
	var ids []string
	for _, info := range g.store.List() {
		if info.Complete && !info.Shown && info.Expires.After(now) {
			ids = append(ids, info.ID)
		}
	}
	return ids
}

// offers gives what the store holds, stored or not, for room.Config.Offers.
func (g *fileGate) offers() []room.Offer {
	list := g.store.List()
	out := make([]room.Offer, 0, len(list))
	for _, info := range list {
		out = append(out, offerOf(info))
	}
	return out
}

// offerOf is the room's view of a file in the store.
func offerOf(info files.Info) room.Offer {
	return room.Offer{
		Number:  info.Number,
		ID:      info.ID,
		Token:   info.Token,
		Name:    info.Name,
		Size:    info.Size,
		SHA256:  hex.EncodeToString(info.SHA256[:]),
		From:    info.From,
		FromKey: info.FromKey,
		To:      info.To,
		ToKey:   info.ToKey,
		Owner:   info.Owner,
		Offered: info.Offered,
		Expires: info.Expires,
		Stored:  info.Complete && info.Shown,
	}
}

// sweepEvery is how often the host removes the files whose time is up. A
// file lives a day by default: a minute late is nothing, and a sweep of
// 500 entries costs nothing either.
const sweepEvery = time.Minute

// sweep removes expired files at once (those that expired while the host
// was down) and then every interval until done is closed, and tells the
// room of each (an "unsend" event with CodeExpired for a file it had
// announced).
func (g *fileGate) sweep(r *room.Room, every time.Duration, done <-chan struct{}, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		for _, info := range g.store.Sweep(time.Now()) {
			log.Debug("offered file expired", "id", info.ID, "name", info.Name)
			r.FileGone(info.ID, wire.CodeExpired)
		}
		select {
		case <-done:
			return
		case <-t.C:
		}
	}
}

// describeLimits says the store's limits for the log at start.
func describeLimits(l files.Limits) string {
	return fmt.Sprintf("%s a file, %s in all, %d a member, %d files, kept %s",
		wire.FormatSize(l.MaxFileSize), wire.FormatSize(l.Quota), l.MaxPerOwner, l.MaxFiles, l.Expiry)
}
