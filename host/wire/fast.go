package wire

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// Fast paths for the two frames every message is made of: the say a member
// sends, parsed once for each line, and the event the room makes of it,
// encoded once for each line and then written to every member. In the
// host's profile (BenchmarkFanOutCPU) encoding/json's reflection was 7-10%
// (Parse) and 4% (Append) of its CPU time. Each fast path takes only the
// plainest form of its frame, as Encode writes it, and leaves everything
// else to encoding/json; each is checked against encoding/json by a fuzz
// test (FuzzParseFast, FuzzAppendFast): the same Frame, or the same bytes.

// parseSay parses line when it is a say frame exactly as Encode writes
// it, `{"type":"say","text":"T"}` or `{"type":"say","text":"T","ref":N}`
// and a newline or nothing, T holding nothing JSON would escape (no quote,
// backslash or control character) and N a plain number below 10^19; ok is
// false for anything else, which encoding/json then parses. line is valid
// UTF-8 (Parse checks).
func parseSay(line []byte) (f Frame, ok bool) {
	const head = `{"type":"say","text":"`
	if len(line) < len(head) || string(line[:len(head)]) != head {
		return Frame{}, false
	}
	rest := line[len(head):]
	end := 0
	for end < len(rest) {
		c := rest[end]
		if c == '"' {
			break
		}
		if c < 0x20 || c == '\\' {
			return Frame{}, false
		}
		end++
	}
	if end == 0 || end == len(rest) {
		// An empty text is left out by Encode: not this form.
		return Frame{}, false
	}
	text := rest[:end]
	rest = rest[end+1:]
	var ref uint64
	if len(rest) > len(`,"ref":`) && string(rest[:len(`,"ref":`)]) == `,"ref":` {
		rest = rest[len(`,"ref":`):]
		digits := 0
		for digits < len(rest) && '0' <= rest[digits] && rest[digits] <= '9' {
			digits++
		}
		// No leading zero (JSON has none, and Encode leaves a zero ref
		// out), and few enough digits that it cannot overflow.
		if digits == 0 || digits > 19 || rest[0] == '0' {
			return Frame{}, false
		}
		n, err := strconv.ParseUint(string(rest[:digits]), 10, 64)
		if err != nil {
			return Frame{}, false
		}
		ref = n
		rest = rest[digits:]
	}
	if string(rest) != "}\n" && string(rest) != "}" {
		return Frame{}, false
	}
	return Frame{Type: TypeSay, Text: string(text), Ref: ref}, true
}

// appendPlain appends f to buf, as Append does, when f holds nothing but
// Type, Seq, Time, Kind, From, Text and Ref, and none of its strings needs
// escaping (see plainString); ok is false, and buf as it was, otherwise.
func appendPlain(buf []byte, f *Frame) (_ []byte, ok bool) {
	if !onlyPlainFields(f) || !plainString(f.Type) || !plainString(f.Kind) || !plainString(f.From) || !plainString(f.Text) {
		return buf, false
	}
	if !f.Time.IsZero() {
		if y := f.Time.Year(); y < 0 || y > 9999 {
			return buf, false // encoding/json refuses it
		}
		if _, offset := f.Time.Zone(); offset <= -24*3600 || offset >= 24*3600 {
			return buf, false
		}
	}
	b := append(buf, `{"type":"`...)
	b = append(b, f.Type...)
	b = append(b, '"')
	if f.Seq != 0 {
		b = append(b, `,"seq":`...)
		b = strconv.AppendUint(b, f.Seq, 10)
	}
	if !f.Time.IsZero() {
		b = append(b, `,"time":"`...)
		b = f.Time.AppendFormat(b, time.RFC3339Nano)
		b = append(b, '"')
	}
	b = appendField(b, `,"kind":"`, f.Kind)
	b = appendField(b, `,"from":"`, f.From)
	b = appendField(b, `,"text":"`, f.Text)
	if f.Ref != 0 {
		b = append(b, `,"ref":`...)
		b = strconv.AppendUint(b, f.Ref, 10)
	}
	return append(b, "}\n"...), true
}

func appendField(b []byte, key, value string) []byte {
	if value == "" {
		return b // omitempty
	}
	b = append(b, key...)
	b = append(b, value...)
	return append(b, '"')
}

// onlyPlainFields reports whether every field of f but those appendPlain
// writes is zero. TestAppendPlainSeesEveryField sets each field of Frame
// in turn, so that a field added to Frame and not here fails it.
func onlyPlainFields(f *Frame) bool {
	return f.Version == 0 && f.Name == "" && f.NewName == "" && f.Key == "" &&
		f.Password == "" && f.Resume == nil && !f.KeepsRoster && !f.AsksMembers &&
		f.Room == nil && f.You == nil && f.Members == nil && f.Commands == nil &&
		f.Bans == nil && f.Limits == nil && f.Epoch == "" && !f.Resumed &&
		f.Missed == 0 && f.Taken == 0 && f.Backlog == 0 && f.HeartbeatMS == 0 &&
		!f.MembersOmitted && !f.MembersOnRequest && f.MemberCount == 0 &&
		f.PrivateSeq == 0 && f.To == "" && f.Role == "" && f.Code == "" &&
		f.By == "" && !f.Error && f.Joined == nil && f.Left == nil &&
		f.File == nil && f.Files == nil && f.Offset == 0
}

// plainString reports whether encoding/json writes s as it is, between
// quotes: valid UTF-8 with no quote, backslash, control character below
// U+0020, or U+2028 or U+2029 (which it escapes).
func plainString(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == '"' || c == '\\' {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			return false
		}
		i += size
	}
	return true
}
