package tui

import (
	"slices"
	"strconv"

	"chatroom/host/wire"
)

// offersSeen are the numbers of the files on offer that the room has told
// this session of (offer events, offers to the person, the answer to
// "/files"), less those it said are gone (unsend events): what Tab offers
// after "/get " and "/unsend ". It is a hint, not the room's list: a file
// may have expired unseen, and the room answers "/get" for what it has.
type offersSeen struct {
	numbers []int // ascending
}

// maxOffersSeen bounds the numbers kept, as the host bounds the files it
// keeps (500 by default): past it the oldest, the lowest, go first.
const maxOffersSeen = 500

// see learns from f what is on offer.
func (o *offersSeen) see(f wire.Frame) {
	switch {
	case f.Type == wire.TypeEvent && f.Kind == wire.KindOffer && f.File != nil,
		f.Type == wire.TypePrivate && f.File != nil:
		o.add(f.File.Number)
	case f.Type == wire.TypeEvent && f.Kind == wire.KindUnsend && f.File != nil:
		if i, ok := slices.BinarySearch(o.numbers, f.File.Number); ok {
			o.numbers = slices.Delete(o.numbers, i, i+1)
		}
	case f.Type == wire.TypeNotice && !f.Error:
		for _, file := range f.Files {
			o.add(file.Number)
		}
	}
}

func (o *offersSeen) add(n int) {
	if n <= 0 {
		return
	}
	i, ok := slices.BinarySearch(o.numbers, n)
	if ok {
		return
	}
	o.numbers = slices.Insert(o.numbers, i, n)
	if len(o.numbers) > maxOffersSeen {
		o.numbers = slices.Delete(o.numbers, 0, len(o.numbers)-maxOffersSeen)
	}
}

// words are the numbers as Tab offers them. Never nil, so that after
// "/get " only numbers are offered.
func (o *offersSeen) words() []string {
	words := make([]string, 0, len(o.numbers))
	for _, n := range o.numbers {
		words = append(words, strconv.Itoa(n))
	}
	return words
}
