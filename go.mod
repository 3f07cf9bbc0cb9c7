module chatroom

go 1.26.0

require (
	github.com/ergochat/irc-go v0.5.0
	github.com/google/renameio/v2 v2.0.2
	github.com/hashicorp/mdns v1.0.7
	github.com/mattn/go-runewidth v0.0.3
	github.com/miekg/dns v1.1.72
	github.com/mtibben/confusables v0.0.0-20210201002637-9d1b0723b659
	github.com/peterh/liner v1.2.2
	github.com/rogpeppe/go-internal v1.16.0
	golang.org/x/net v0.61.0
	golang.org/x/sys v0.50.0
	golang.org/x/term v0.48.0
	golang.org/x/text v0.44.0
	golang.org/x/time v0.16.0
)

require (
	golang.org/x/mod v0.42.0 // indirect
	golang.org/x/sync v0.25.0 // indirect
	golang.org/x/tools v0.52.0 // indirect
)
