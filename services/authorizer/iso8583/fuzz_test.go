package iso8583

import (
	"bytes"
	"errors"
	"strconv"
	"testing"

	moov "github.com/moov-io/iso8583"
	moovErrors "github.com/moov-io/iso8583/errors"
	"github.com/moov-io/iso8583/field"
)

// FuzzUnpack feeds arbitrary frames to the decoder of both text encodings.
// Nothing may panic; every failure is an UnpackError; a request that unpacks
// can be answered, and the answer unpacks; a format error answer unpacks;
// and whatever the codec's own walk accepts, moov with the same spec reads
// to the same values.
func FuzzUnpack(f *testing.F) {
	f.Add(handmade0100EBCDIC(f))
	f.Add(handmade0100ASCII(f))
	f.Add(unhex(f, "0800 8220000000000000 0400000000000000 0612153045 000001 0001"))
	for _, req := range []Request{purchase(), {MTI: "0420", STAN: "000001", Original: OriginalData{MTI: "0100", STAN: "000001", TransmissionDateTime: "0101000000"}, Replacement: ReplacementAmounts{Amount: 1}}} {
		frame, err := NewCodec(EBCDIC).AppendRequest(nil, &req)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(frame)
	}
	codecs := []*Codec{NewCodec(ASCII), NewCodec(EBCDIC)}
	f.Fuzz(func(t *testing.T, frame []byte) {
		for _, c := range codecs {
			var req Request
			err := c.UnpackRequest(frame, &req)
			if err != nil {
				var ue *moovErrors.UnpackError
				if !errors.As(err, &ue) {
					t.Fatalf("%v: error %v is not an UnpackError", c.text, err)
				}
				if out, err := c.AppendFormatError(nil, frame); err == nil {
					var resp Response
					if err := c.UnpackResponse(out, &resp); err != nil || resp.ResponseCode != ResponseFormatError {
						t.Fatalf("%v: format error answer %X does not unpack: %v", c.text, out, err)
					}
				}
			} else if _, merr := ResponseMTI(req.MTI); merr == nil {
				out, err := c.AppendResponse(nil, &req, Answer{ResponseCode: "00", ApprovalCode: "123456"})
				if err != nil {
					t.Fatalf("%v: AppendResponse: %v", c.text, err)
				}
				var resp Response
				if err := c.UnpackResponse(out, &resp); err != nil {
					t.Fatalf("%v: our own response %X does not unpack: %v", c.text, out, err)
				}
			}
			agreeWithMoov(t, c, frame)
		}
	})
}

// agreeWithMoov checks that a frame the codec's walk accepts is read by moov,
// through the spec of the same layout, to the same values.
func agreeWithMoov(t *testing.T, c *Codec, frame []byte) {
	var l layout
	if c.scan(frame, &l, true) != nil {
		return // the walk is stricter than moov (trailing bytes, third bitmap)
	}
	m := moov.NewMessage(c.Spec())
	if err := m.Unpack(frame); err != nil {
		t.Fatalf("%v: codec accepts %X, moov does not: %v", c.text, frame, err)
	}
	for id := 2; id <= 128; id++ {
		if !l.has(id) || id == 65 {
			continue
		}
		ours := string(c.appendValue(nil, frame, &l, id))
		var theirs string
		switch mf := m.GetField(id).(type) {
		case *field.Numeric:
			theirs = strconv.FormatInt(mf.Value(), 10)
			ours = strconv.FormatInt(l.amount(frame, id), 10)
		case *field.String:
			theirs = Latin1ToUTF8(mf.Value())
		case *field.Binary:
			theirs = string(mf.Value())
		default:
			t.Fatalf("%v: field %d missing from moov's message", c.text, id)
		}
		if ours != theirs {
			t.Fatalf("%v: field %d: codec reads %q, moov %q", c.text, id, ours, theirs)
		}
	}
}

// FuzzReadFrame: any byte stream yields frames within the limit, or an
// error; never a panic or an oversize allocation.
func FuzzReadFrame(f *testing.F) {
	f.Add([]byte{0x00, 0x02, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0xFF})
	f.Add([]byte{0xFF, 0xFF})
	f.Fuzz(func(t *testing.T, stream []byte) {
		r := NewFrameReader(bytes.NewReader(stream), 64)
		for {
			frame, err := r.ReadFrame()
			if err != nil {
				return
			}
			if len(frame) == 0 || len(frame) > 64 {
				t.Fatalf("frame of %d bytes", len(frame))
			}
		}
	})
}
