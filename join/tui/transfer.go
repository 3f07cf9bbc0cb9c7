package tui

import "chatroom/join"

// The file transfers' states, as each UI shows them: not shown yet (the
// client starts no transfer before file sharing's client lands).

func (u *lineUI) Transfer(join.Transfer)   {}
func (u *jsonUI) Transfer(join.Transfer)   {}
func (v *roomView) Transfer(join.Transfer) {}
