package wire

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"
	"unicode/utf8"
)

// jsonAppend and jsonParse are Append and Parse without their fast paths:
// what encoding/json makes of a frame, and of a line.
func jsonAppend(f *Frame) ([]byte, error) {
	var w bytes.Buffer
	enc := json.NewEncoder(&w)
	enc.SetEscapeHTML(false)
	err := enc.Encode(f)
	return w.Bytes(), err
}

func jsonParse(line []byte) (Frame, error) {
	var f Frame
	err := json.Unmarshal(line, &f)
	return f, err
}

// The frames of every message take the fast paths (else they would be
// there for nothing): a say as a member's client encodes it, and the
// event the room makes of it.
func TestFastPathsAreTaken(t *testing.T) {
	say, _ := Encode(&Frame{Type: TypeSay, Text: "hello, 世界 <b>&", Ref: 42})
	if f, ok := parseSay(say); !ok || f.Text != "hello, 世界 <b>&" || f.Ref != 42 {
		t.Errorf("parseSay(%s) = %+v, %v", say, f, ok)
	}
	event := &Frame{Type: TypeEvent, Seq: 7, Time: time.Now(), Kind: KindSay, From: "ana", Text: "hello", Ref: 3}
	if _, ok := appendPlain(nil, event); !ok {
		t.Errorf("appendPlain(%+v) not taken", event)
	}
}

func FuzzParseFast(f *testing.F) {
	for _, seed := range []string{
		`{"type":"say","text":"hello"}` + "\n",
		`{"type":"say","text":"hello","ref":12}` + "\n",
		`{"type":"say","text":"hello","ref":12}`,
		`{"type":"say","text":"hello","ref":012}` + "\n",
		`{"type":"say","text":"hello","ref":0}` + "\n",
		`{"type":"say","text":"hello","ref":18446744073709551615}` + "\n",
		`{"type":"say","text":"hello","ref":18446744073709551616}` + "\n",
		`{"type":"say","text":"hello","ref":1844674407370955161}` + "\n",
		`{"type":"say","text":"hello","ref":-1}` + "\n",
		`{"type":"say","text":"hello","ref":1.5}` + "\n",
		`{"type":"say","text":"hello","ref":1,"ref":2}` + "\n",
		`{"type":"say","text":"he said \"hi\""}` + "\n",
		`{"type":"say","text":"tab	in"}` + "\n",
		`{"type":"say","text":"\u2028 and  raw"}` + "\n",
		`{"type":"say","text":""}` + "\n",
		`{"type":"say","text":"a"} ` + "\n",
		`{"type":"say","text":"a"}` + "\r\n",
		`{"type":"say","text":"a"}{}`,
		`{"type":"say","text":"a"`,
		`{"type":"say","TEXT":"a"}`,
		`{"type":"say","text":"a","text":"b"}`,
		`{"type":"hello","name":"ana"}` + "\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		got, gotErr := Parse(line)
		if fast, ok := parseSay(line); ok && utf8.Valid(line) { // as Parse calls it
			want, err := jsonParse(line)
			if err != nil || !reflect.DeepEqual(fast, want) {
				t.Fatalf("parseSay(%q) = %+v; encoding/json: %+v, %v", line, fast, want, err)
			}
		}
		// Parse as a whole answers as before the fast path: not valid
		// UTF-8 or no type refused, else what encoding/json makes of it.
		want, err := jsonParse(line)
		if err == nil && (want.Type == "" || !utf8.Valid(line)) {
			err = errNoType
		}
		if (gotErr == nil) != (err == nil) {
			t.Fatalf("Parse(%q): error %v, encoding/json's %v", line, gotErr, err)
		}
		if gotErr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("Parse(%q) = %+v, encoding/json %+v", line, got, want)
		}
	})
}

// errNoType stands for Parse's refusals that encoding/json does not make.
var errNoType = &Error{Code: CodeMalformed}

func FuzzAppendFast(f *testing.F) {
	f.Add("event", uint64(12), int64(1764657579), int64(479684456), 0, "say", "ana", "hello", uint64(3))
	f.Add("event", uint64(0), int64(0), int64(0), 3600, "me", "", "", uint64(0))
	f.Add("event", uint64(1), int64(-62135596801), int64(0), -7*3600-1800, "say", "bo\"b", "a\\b", uint64(1))
	f.Add("event", uint64(1), int64(253402300800), int64(1), 0, "say", "x", "\u2028", uint64(1))
	f.Add("", uint64(1), int64(1), int64(0), 24*3600, "say", "x", "\x7f<>&", uint64(1))
	f.Add("event", uint64(1), int64(1), int64(0), 23*3600+59*60+59, "say", "\xff", "\t", uint64(1))
	f.Add("event", uint64(1), int64(1), int64(0), 0, "say", "bo\"b", "plain", uint64(1))
	f.Add("event", uint64(1), int64(1), int64(0), 0, "say", "x", "a\\b", uint64(1))
	f.Fuzz(func(t *testing.T, typ string, seq uint64, secs, nanos int64, offset int, kind, from, text string, ref uint64) {
		when := time.Unix(secs, nanos%1e9).In(time.FixedZone("", offset%(30*3600)))
		if secs == 0 && nanos == 0 {
			when = time.Time{}
		}
		frame := &Frame{Type: typ, Seq: seq, Time: when, Kind: kind, From: from, Text: text, Ref: ref}
		got, gotErr := Append(nil, frame)
		want, err := jsonAppend(frame)
		if (gotErr == nil) != (err == nil) {
			t.Fatalf("Append(%+v): error %v, encoding/json's %v", frame, gotErr, err)
		}
		if err == nil && !bytes.Equal(got, want) {
			t.Fatalf("Append(%+v) =\n%s\nencoding/json:\n%s", frame, got, want)
		}
	})
}

// Each field of Frame but those appendPlain writes, set on its own, sends
// the frame to encoding/json: a field added to Frame that onlyPlainFields
// does not know of fails here rather than go missing from the wire.
func TestAppendPlainSeesEveryField(t *testing.T) {
	plain := map[string]bool{"Type": true, "Seq": true, "Time": true, "Kind": true, "From": true, "Text": true, "Ref": true}
	base := Frame{Type: TypeEvent, Seq: 1, Time: time.Unix(1764657579, 0).UTC(), Kind: KindSay, From: "ana", Text: "hi"}
	typ := reflect.TypeFor[Frame]()
	for i := range typ.NumField() {
		field := typ.Field(i)
		if plain[field.Name] {
			continue
		}
		frame := base
		v := reflect.ValueOf(&frame).Elem().Field(i)
		switch v.Kind() {
		case reflect.String:
			v.SetString("x")
		case reflect.Bool:
			v.SetBool(true)
		case reflect.Int, reflect.Int64:
			v.SetInt(1)
		case reflect.Uint64:
			v.SetUint(1)
		case reflect.Pointer:
			v.Set(reflect.New(field.Type.Elem()))
		case reflect.Slice:
			v.Set(reflect.MakeSlice(field.Type, 1, 1))
		default:
			t.Fatalf("field %s is a %s, which this test does not set: teach it", field.Name, v.Kind())
		}
		if _, ok := appendPlain(nil, &frame); ok {
			t.Errorf("with %s set, appendPlain wrote the frame, without it", field.Name)
		}
		got, err := Append(nil, &frame)
		want, _ := jsonAppend(&frame)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("with %s set: Append %s (%v), encoding/json %s", field.Name, got, err, want)
		}
	}
}
