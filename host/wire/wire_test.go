package wire

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

// Every frame type, with the fields it uses, survives encoding and decoding.
func TestRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 24, 12, 4, 5, 123456789, time.UTC)
	frames := []Frame{
		{Type: TypeHello, Version: Version, Name: "bob"},
		{Type: TypeHello, Version: Version, Name: "ana", Password: "s3cret \"quoted\""},
		{Type: TypeSay, Text: "hi <all> & \"you\" — ünïcödé 🎉"},
		{Type: TypeSay, Text: "/kick cy spam"},
		{
			Type: TypeWelcome, Version: Version, Seq: 41,
			Room:     &Room{Name: "Lab 3"},
			You:      &Member{Name: "bob", Role: RoleMember},
			Members:  []Member{{Name: "ana", Role: RoleOwner}, {Name: "bob", Role: RoleMember}},
			Commands: []Command{{Name: "kick", Usage: "/kick NAME [REASON]", Help: "remove someone", Admin: true, Target: "member"}},
			Bans:     []string{"zed", "Eve"},
		},
		{Type: TypeBans, Bans: []string{"zed"}},
		{Type: TypeRefused, Code: CodeNameTaken, Text: `the name "bob" is taken`},
		{Type: TypeEvent, Seq: 42, Time: at, Kind: KindSay, From: "bob", Text: "hi"},
		{Type: TypeEvent, Seq: 43, Time: at, Kind: KindJoin, Name: "cy", Role: RoleMember},
		{Type: TypeEvent, Seq: 44, Time: at, Kind: KindLeave, Name: "cy", Code: CodeKicked, By: "ana", Text: "spam"},
		{Type: TypeEvent, Seq: 45, Time: at, Kind: KindRole, Name: "bob", Role: RoleAdmin, By: "ana"},
		{Type: TypePrivate, Time: at, From: "ana", To: "bob", Text: "psst"},
		{Type: TypeNotice, Text: "line one\nline two", Error: true},
		{Type: TypeClosed, Code: CodeBanned, By: "ana", Text: "flooding"},
		{Type: TypeError, Code: CodeTooLarge, Text: "frame longer than 16384 bytes"},
	}
	var stream []byte
	for i := range frames {
		b, err := Encode(&frames[i])
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Count(b, []byte("\n")) != 1 || b[len(b)-1] != '\n' {
			t.Fatalf("frame %d is not one line: %q", i, b)
		}
		stream = append(stream, b...)
	}
	dec := NewDecoder(bytes.NewReader(stream), MaxHostFrame)
	for i, want := range frames {
		got, err := dec.Decode()
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("frame %d:\n got  %+v\n want %+v", i, got, want)
		}
	}
	if _, err := dec.Decode(); err != io.EOF {
		t.Errorf("after the last frame: %v, want io.EOF", err)
	}
}

// Empty fields are not sent: a say frame is as short as it can be.
func TestEncodeOmitsEmpty(t *testing.T) {
	b, err := Encode(&Frame{Type: TypeSay, Text: "<hi>"})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"type":"say","text":"<hi>"}` + "\n"; string(b) != want {
		t.Errorf("got %s want %s", b, want)
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name  string
		input string
		limit int
		code  string // "" means a plain error, not *Error
		err   error
	}{
		{"empty stream", "", 64, "", io.EOF},
		{"cut inside a frame", `{"type":"say"`, 64, "", io.ErrUnexpectedEOF},
		{"not json", "hello\n", 64, CodeMalformed, nil},
		{"json array", "[1,2]\n", 64, CodeMalformed, nil},
		{"json null", "null\n", 64, CodeMalformed, nil},
		{"no type", `{"text":"hi"}` + "\n", 64, CodeMalformed, nil},
		{"empty line", "\n", 64, CodeMalformed, nil},
		{"two objects on a line", `{"type":"say"}{"type":"say"}` + "\n", 64, CodeMalformed, nil},
		{"wrong field type", `{"type":"event","seq":"x"}` + "\n", 64, CodeMalformed, nil},
		{"invalid utf-8", "{\"type\":\"say\",\"text\":\"\xff\xfe\"}\n", 64, CodeMalformed, nil},
		{"one byte over the limit", `{"type":"say","text":"` + strings.Repeat("a", 64) + `"}` + "\n", 64, CodeTooLarge, nil},
		{"endless line", strings.Repeat("a", 1000), 64, CodeTooLarge, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewDecoder(strings.NewReader(tt.input), tt.limit).Decode()
			var werr *Error
			if tt.code != "" {
				if !errors.As(err, &werr) || werr.Code != tt.code {
					t.Fatalf("got %v, want *Error with code %s", err, tt.code)
				}
				return
			}
			if err != tt.err {
				t.Fatalf("got %v, want %v", err, tt.err)
			}
		})
	}
}

// A frame exactly at the limit (newline included) is read; the limit is
// the longest frame, not one less.
func TestDecodeAtLimit(t *testing.T) {
	line := `{"type":"say","text":"` + strings.Repeat("a", 40) + `"}` + "\n"
	f, err := NewDecoder(strings.NewReader(line), len(line)).Decode()
	if err != nil || f.Text != strings.Repeat("a", 40) {
		t.Fatalf("got %+v, %v", f, err)
	}
	var werr *Error
	if _, err := NewDecoder(strings.NewReader(line), len(line)-1).Decode(); !errors.As(err, &werr) || werr.Code != CodeTooLarge {
		t.Fatalf("one byte shorter limit: got %v, want too-large", err)
	}
}

// The decoder never holds more than its limit, whatever it is fed.
func TestDecoderBuffersAtMostLimit(t *testing.T) {
	endless := io.MultiReader(strings.NewReader(`{"type":"say","text":"`), neverEnding('a'))
	dec := NewDecoder(endless, MaxClientFrame)
	var werr *Error
	if _, err := dec.Decode(); !errors.As(err, &werr) || werr.Code != CodeTooLarge {
		t.Fatalf("got %v, want too-large", err)
	}
	if n := len(dec.buf); n > MaxClientFrame {
		t.Fatalf("buffer is %d bytes, want at most %d", n, MaxClientFrame)
	}
}

// A decoder waiting for a short frame holds a short buffer, even after a
// long frame: an idle connection costs little.
func TestDecoderShrinksAfterLongFrame(t *testing.T) {
	long := `{"type":"say","text":"` + strings.Repeat("a", 10000) + `"}` + "\n"
	short := `{"type":"say","text":"hi"}` + "\n"
	pr, pw := io.Pipe()
	dec := NewDecoder(pr, MaxClientFrame)
	go func() {
		io.WriteString(pw, short+long+short)
		io.WriteString(pw, long+short) // one write: the short one follows at once
	}()
	for i, want := range []int{2, 10000, 2, 10000, 2} {
		f, err := dec.Decode()
		if err != nil || len(f.Text) != want {
			t.Fatalf("frame %d: %d bytes of text, %v; want %d", i, len(f.Text), err, want)
		}
	}
	if n := len(dec.buf); n > decoderStart {
		t.Errorf("waiting for more, the decoder holds %d bytes; want at most %d", n, decoderStart)
	}
	pw.Close()
	if _, err := dec.Decode(); err != io.EOF {
		t.Errorf("at the end: %v, want io.EOF", err)
	}
}

// However the stream is cut into reads, the decoder reads the same frames,
// and refuses the same ones: every size around its start buffer and its
// limit, through readers that return one byte, half of what is asked, or
// all of it.
func TestDecodeChunked(t *testing.T) {
	const limit = 2 * decoderStart
	var stream []byte
	var want []int
	for _, n := range []int{0, 1, decoderStart - 26, decoderStart - 25, decoderStart - 24, decoderStart, decoderStart + 1, limit - 26, limit - 25, 3} {
		stream = append(stream, `{"type":"say","text":"`+strings.Repeat("x", n)+`"}`+"\n"...)
		want = append(want, n) // a frame is the text plus 25 bytes
	}
	readers := map[string]func(io.Reader) io.Reader{
		"whole":    func(r io.Reader) io.Reader { return r },
		"one byte": iotestOneByte,
		"half":     iotestHalf,
	}
	for name, wrap := range readers {
		t.Run(name, func(t *testing.T) {
			dec := NewDecoder(wrap(bytes.NewReader(stream)), limit)
			for i, n := range want {
				f, err := dec.Decode()
				if err != nil || len(f.Text) != n {
					t.Fatalf("frame %d: %d bytes of text, %v; want %d", i, len(f.Text), err, n)
				}
			}
			if _, err := dec.Decode(); err != io.EOF {
				t.Fatalf("at the end: %v, want io.EOF", err)
			}
			over := `{"type":"say","text":"` + strings.Repeat("x", limit-24) + `"}` + "\n"
			var werr *Error
			if _, err := NewDecoder(wrap(strings.NewReader(over)), limit).Decode(); !errors.As(err, &werr) || werr.Code != CodeTooLarge {
				t.Fatalf("a frame one byte over the limit: %v, want too-large", err)
			}
		})
	}
}

type oneByteReader struct{ r io.Reader }

func (r oneByteReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return r.r.Read(p[:1])
}

type halfReader struct{ r io.Reader }

func (r halfReader) Read(p []byte) (int, error) {
	return r.r.Read(p[:(len(p)+1)/2])
}

func iotestOneByte(r io.Reader) io.Reader { return oneByteReader{r} }
func iotestHalf(r io.Reader) io.Reader    { return halfReader{r} }

// chunkReader returns its data in reads of the sizes it is given, in turn.
type chunkReader struct {
	data  []byte
	sizes []byte
	i     int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := len(p)
	if len(r.sizes) > 0 {
		n = min(n, int(r.sizes[r.i%len(r.sizes)])+1)
		r.i++
	}
	n = copy(p, r.data[:min(n, len(r.data))])
	r.data = r.data[n:]
	return n, nil
}

// refDecode is what the decoder did when it was a bufio.Reader of the
// limit's size: the reference FuzzDecodeChunked holds the decoder to.
func refDecode(br *bufio.Reader) (Frame, error) {
	line, err := br.ReadSlice('\n')
	switch {
	case err == bufio.ErrBufferFull:
		return Frame{}, &Error{Code: CodeTooLarge}
	case err == io.EOF && len(line) > 0:
		return Frame{}, io.ErrUnexpectedEOF
	case err != nil:
		return Frame{}, err
	}
	return Parse(line)
}

// FuzzDecodeChunked reads arbitrary bytes, cut into reads of arbitrary
// sizes, with the decoder and with a bufio.Reader of the limit's size, as
// the decoder once was: both must read the same frames and fail alike.
func FuzzDecodeChunked(f *testing.F) {
	f.Add([]byte(`{"type":"say","text":"hi"}`+"\n"+`{"type":"say"}`+"\n"), []byte{0, 3, 200})
	f.Add([]byte(strings.Repeat("a", 300)+"\n"+`{"type":"x"}`+"\n"), []byte{7})
	f.Add([]byte(`{"type":"say","text":"`+strings.Repeat("b", 226)+`"}`+"\n"), []byte{255, 1})
	f.Add([]byte("{\"type\":\"say\"}\n{\"ty"), []byte{})
	const limit = 256 // bufio's own minimum is 16
	f.Fuzz(func(t *testing.T, data, sizes []byte) {
		dec := NewDecoder(&chunkReader{data: data, sizes: sizes}, limit)
		ref := bufio.NewReaderSize(bytes.NewReader(data), limit)
		for i := 0; ; i++ {
			got, gerr := dec.Decode()
			want, werr := refDecode(ref)
			if len(dec.buf) > limit {
				t.Fatalf("frame %d: the decoder holds %d bytes, over its limit %d", i, len(dec.buf), limit)
			}
			if g, w := errKind(gerr), errKind(werr); g != w {
				t.Fatalf("frame %d: got %s, the reference %s", i, g, w)
			}
			if gerr != nil {
				return
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("frame %d:\n got %+v\nwant %+v", i, got, want)
			}
		}
	})
}

func errKind(err error) string {
	var werr *Error
	switch {
	case err == nil:
		return "no error"
	case errors.As(err, &werr):
		return "*Error " + werr.Code
	default:
		return fmt.Sprint(err)
	}
}

type neverEnding byte

func (b neverEnding) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

func TestFingerprint(t *testing.T) {
	// SHA-256 of the empty string, base64 without padding.
	if got, want := Fingerprint(nil), "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"; got != want {
		t.Errorf("got %s want %s", got, want)
	}
}

// FuzzDecode feeds arbitrary bytes to the decoder: it must never panic or
// buffer past its limit, and whatever it accepts must encode and decode
// back to the same frame.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{"type":"hello","version":1,"name":"bob","password":"x"}` + "\n",
		`{"type":"say","text":"hi"}` + "\n",
		`{"type":"welcome","version":1,"room":{"name":"Lab 3"},"you":{"name":"bob","role":"member"},"members":[{"name":"bob","role":"member"}],"seq":3,"commands":[{"name":"who","usage":"/who","help":"x"}]}` + "\n",
		`{"type":"event","seq":4,"time":"2026-11-24T12:04:05Z","kind":"leave","name":"cy","code":"kicked","by":"ana","text":"spam"}` + "\n",
		`{"type":"notice","text":"a\nb","error":true}` + "\n",
		`{"type":"say","text":"\u0000\u001b[2J"}` + "\n",
		"{\"type\":\"say\",\"text\":\"\xff\"}\n",
		`{"type":""}` + "\n",
		`{"type":"say","seq":-1}` + "\n",
		`{"type":"event","time":"not a time"}` + "\n",
		"[]\n", "\n", "{", "",
	} {
		f.Add([]byte(seed))
	}
	const limit = 256
	f.Fuzz(func(t *testing.T, data []byte) {
		dec := NewDecoder(bytes.NewReader(data), limit)
		for {
			frame, err := dec.Decode()
			if err != nil {
				var werr *Error
				if errors.As(err, &werr) && werr.Code != CodeTooLarge && werr.Code != CodeMalformed {
					t.Fatalf("unknown error code %q", werr.Code)
				}
				return
			}
			if frame.Type == "" {
				t.Fatal("accepted a frame without a type")
			}
			b, err := Encode(&frame)
			if err != nil {
				// Only a time that JSON cannot hold (a year past 9999
				// after a zone offset) may fail to encode.
				return
			}
			again, err := Parse(b)
			if err != nil {
				t.Fatalf("re-decoding %q: %v", b, err)
			}
			if !reflect.DeepEqual(normalize(again), normalize(frame)) {
				t.Fatalf("round trip changed the frame:\n %+v\n %+v", frame, again)
			}
		}
	})
}

// normalize makes frames comparable after a round trip: times compare by
// instant, and empty slices are not sent.
func normalize(f Frame) Frame {
	if !f.Time.IsZero() {
		f.Time = f.Time.UTC()
	}
	if len(f.Members) == 0 {
		f.Members = nil
	}
	if len(f.Commands) == 0 {
		f.Commands = nil
	}
	if len(f.Bans) == 0 {
		f.Bans = nil
	}
	return f
}

// TestValidRoomIDAndFingerprint: what a room makes is valid; the forms a
// hostile room or record tried (spaces, a leading "#", no-break spaces, a
// line separator, upper case, too long, a fingerprint without its prefix or
// with padding) are not.
func TestValidRoomIDAndFingerprint(t *testing.T) {
	good := Fingerprint([]byte("a key"))
	if !ValidRoomID("0123456789abcdef") || !ValidFingerprint(good) {
		t.Fatalf("a room's own id or fingerprint is refused: %s", good)
	}
	for _, id := range []string{"", "0", "#123456789abcdef", " 123456789abcdef", "0123456789abcde\u00a0",
		"0123456789ABCDEF", "0123456789abcdef0", "0123456789abc\u2028", "0123456789abcde\x1b", strings.Repeat("a", 70000)} {
		if ValidRoomID(id) {
			t.Errorf("ValidRoomID(%q) = true", id)
		}
	}
	for _, fp := range []string{"", "0", "SHA256:", strings.TrimPrefix(good, "SHA256:"), good + "=", good + " ",
		"SHA256:" + strings.Repeat("!", 43), "sha256:" + strings.TrimPrefix(good, "SHA256:"), good[:len(good)-1]} {
		if ValidFingerprint(fp) {
			t.Errorf("ValidFingerprint(%q) = true", fp)
		}
	}
}
