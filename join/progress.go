package join

import "chatroom/host/wire"

// Transfer is the state of one file transfer, which the client tells the
// UI (UI.Transfer) each time it changes: when it starts, at most a few
// times a second while bytes flow, at each break and resume, and at its
// end.
type Transfer struct {
	// Key tells this transfer from the others of the same client: each
	// Transfer with the same Key is a later state of the same one.
	Key int
	// File is the file as the room described it (Number, Name, Size,
	// SHA256, From; Number is 0 before the room took an offer).
	File wire.File
	// Up is the person's own file on its way to the room; false, a
	// fetch.
	Up    bool
	State TransferState
	// Done is how many bytes are through, what earlier tries moved
	// included; File.Size is the whole.
	Done int64
	// Rate is the bytes a second lately; 0 while unknown.
	Rate float64
	// Path is the local file: the one sent, or the one a fetch writes,
	// and once it is done, where it landed.
	Path string
	// Err says, in words for a person, why the transfer failed (Failed)
	// or broke (Waiting, between tries).
	Err string
	// Refused: Failed because the room refused the request (an offer
	// over the limits, a "/get" of no such file). The room's notice,
	// shown through UI.Show, said why already, so a UI that shows
	// notices need not say it again.
	Refused bool
}

// TransferState is where a Transfer is.
type TransferState int

const (
	// Hashing: the person's file is being read for its sha256, before
	// it is offered.
	Hashing TransferState = iota
	// Waiting: connecting, or connecting again after a break (Err says
	// what broke).
	Waiting
	// Moving: bytes are flowing.
	Moving
	// Finished: an upload stored and offered to the room; a fetch checked
	// against its sha256 and in place at Path. Nothing else is Finished.
	Finished
	// Failed: the transfer is over without its file; Err says why.
	Failed
)
