// Package tui is the chatroom client's terminal side: how a room looks to
// the person, and how they type to it. It holds line mode ([NewLineUI],
// [NewInteractiveLineUI]) for pipes, scripts and plain terminals, JSON
// lines ([NewJSONUI]) for programs, and the interactive prompt
// ([NewPrompt]): the line editor (liner, which no other package imports),
// the one output that every byte to the terminal goes through and that
// keeps the room's lines above the line being typed, the room's frames
// rendered and styled (names in 256 colours where the terminal has them),
// Tab completion from the roster (cycling through the members addressed
// at the start of a line, as IRC clients do), the client's own commands
// (/bell, /clear, /ignore and /unignore, added to the host's /help), and
// the history and the ignore list kept between sessions. ChatLog appends
// what a UI shows to a file (--log). Of file sharing it shows the offers
// and their ends as the room's lines, each transfer as the client tells it
// (join.Transfer: a bar kept above the prompt, progress lines on stderr in
// line mode, "transfer" lines in JSON; see transfer.go), and completes
// local paths after "/send " and the numbers of files on offer after
// "/get ".
//
// The boundary: join knows nothing of terminals; join/tui knows nothing of
// sockets; main is the glue. Every UI here implements join.UI: join.Join
// hands them the frames and notes to show and takes the lines typed, and
// main picks one and passes it in. Nothing here opens a connection, finds a
// room or reads a key; of the host it imports only the wire format
// (host/wire), and of the client only join's types for what it shows.
//
// Every string from the network is shown through join.Sanitize, which
// stays in join because join's own error texts need it too. The output is
// the last guard: a control that reaches it anyway is shown as text.
package tui
