package room

import "slices"

// Store keeps what the room must remember across restarts; the host
// implements it with its state directory. The room calls it from its
// goroutine, before it confirms the act that changed what is kept: an act
// whose save fails is not done, and the admin is told why in the error's
// words. What the room loads at start comes in its Config.
type Store interface {
	// SaveBans, SaveOps and SaveMutes are given the whole list after
	// every change, in a copy the store may keep.
	SaveBans([]Ban) error
	SaveOps([]Op) error
	SaveMutes([]Mute) error
	// SaveModEntry is given each new entry of the moderation log, before
	// the act it records is done (see state.logMod).
	SaveModEntry(ModEntry) error
	// SaveTopic is given the room's topic whenever it is set or cleared
	// (a zero Topic), before the others are told.
	SaveTopic(Topic) error
}

// unsaved is the Store of a room that keeps nothing across restarts.
type unsaved struct{}

func (unsaved) SaveBans([]Ban) error        { return nil }
func (unsaved) SaveOps([]Op) error          { return nil }
func (unsaved) SaveMutes([]Mute) error      { return nil }
func (unsaved) SaveModEntry(ModEntry) error { return nil }
func (unsaved) SaveTopic(Topic) error       { return nil }

// commitList changes one of the room's lists (bans, ops, mutes) only once
// the change is saved: edit makes the new list from a copy of *list, save
// is given a copy of that, and *list becomes it when save returns nil.
// When saving fails, *list is as it was, and the error is save's.
func commitList[T any](list *[]T, save func([]T) error, edit func([]T) []T) error {
	changed := edit(slices.Clone(*list))
	if err := save(slices.Clone(changed)); err != nil {
		return err
	}
	*list = changed
	return nil
}
