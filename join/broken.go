package join

// BrokenRoomError is a room that sent what no working room sends: a frame
// larger than the protocol allows, more members or names than a room can
// hold, a welcome it cannot have meant. The session ends with it and is not
// tried again: the same room would only send the same again, and a client
// that reconnects to it in a loop costs the person and the network.
//
// Why says what was wrong, in words for the person; it is built from the
// client's own words and numbers, never from text the room sent.
type BrokenRoomError struct{ Why string }

func (e *BrokenRoomError) Error() string {
	return "the room is not behaving as a chatroom room does: " + e.Why
}
