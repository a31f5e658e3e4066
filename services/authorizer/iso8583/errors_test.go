package iso8583

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	moovErrors "github.com/moov-io/iso8583/errors"
)

// offsets of fields in handmade0100EBCDIC, counted from the table.
const (
	offDE2  = 10
	offDE4  = 24
	offDE11 = 35
	offDE22 = 40
	offDE32 = 42
	offDE35 = 49
	offDE48 = 144
)

// corrupt returns the hand-made EBCDIC 0100 with bytes replaced at off.
func corrupt(t *testing.T, off int, b ...byte) []byte {
	frame := handmade0100EBCDIC(t)
	copy(frame[off:], b)
	return frame
}

func TestUnpackErrorsNameTheField(t *testing.T) {
	tests := []struct {
		name  string
		frame []byte
		field string
		is    error
	}{
		{"letter in DE4", corrupt(t, offDE4+5, 0x4A), "4", ErrInvalidBCD},
		{"bad left pad in DE22", corrupt(t, offDE22, 0x50), "22", ErrInvalidBCD},
		{"DE2 longer than 19", corrupt(t, offDE2, 0x20), "2", ErrLength},
		{"DE2 length not BCD", corrupt(t, offDE2, 0x1A), "2", ErrInvalidBCD},
		{"separator in DE32", corrupt(t, offDE32+3, 0x7D), "32", ErrInvalidBCD},
		{"B nibble in track 2", corrupt(t, offDE35+10, 0x1B), "35", ErrInvalidBCD},
		{"track 2 longer than 37", corrupt(t, offDE35, 0x38), "35", ErrLength},
		{"DE48 longer than 999", corrupt(t, offDE48, 0x10, 0x00), "48", ErrLength},
		{"DE48 subelement runs past the field", corrupt(t, offDE48+5, 0xF9), "48", ErrSubfield},
		{"MTI not BCD", corrupt(t, 0, 0x0A), "0", ErrInvalidBCD},
		{"trailing bytes", append(handmade0100EBCDIC(t), 0x00), "52", errTrailing},
		{"third bitmap", unhex(t, "0800 8000000000000000 8000000000000000"), "65", nil},
		{"empty", nil, "0", ErrTruncated},
		{"no bitmap", unhex(t, "0100 7224"), "1", ErrTruncated},
		{"secondary bitmap cut", unhex(t, "0100 F224040128E19000 0000"), "1", ErrTruncated},
	}
	for _, text := range []TextEncoding{ASCII, EBCDIC} {
		c := NewCodec(text)
		for _, tt := range tests {
			t.Run(text.String()+"/"+tt.name, func(t *testing.T) {
				var r Request
				err := c.UnpackRequest(tt.frame, &r)
				var ue *moovErrors.UnpackError
				if !errors.As(err, &ue) {
					t.Fatalf("error %v is not an UnpackError", err)
				}
				if ue.FieldID != tt.field {
					t.Errorf("FieldID = %q, want %q (%v)", ue.FieldID, tt.field, err)
				}
				if tt.is != nil && !errors.Is(err, tt.is) {
					t.Errorf("error %v is not %v", err, tt.is)
				}
				if strings.Contains(err.Error(), "4111111111") {
					t.Errorf("error quotes the PAN: %v", err)
				}
				if r.Has(2) {
					t.Error("a failed request can still be answered")
				}
			})
		}
	}
}

func TestTruncatedFramesFail(t *testing.T) {
	c := NewCodec(EBCDIC)
	frame := handmade0100EBCDIC(t)
	for n := range len(frame) {
		var r Request
		err := c.UnpackRequest(frame[:n], &r)
		var ue *moovErrors.UnpackError
		if !errors.As(err, &ue) || ue.FieldID == "" {
			t.Fatalf("frame cut at %d: %v", n, err)
		}
	}
	var r Request
	err := c.UnpackRequest(frame[:offDE35+5], &r)
	var ue *moovErrors.UnpackError
	if !errors.As(err, &ue) || ue.FieldID != "35" || !errors.Is(err, ErrTruncated) {
		t.Errorf("frame cut inside track 2: %v", err)
	}
}

func TestFormatErrorResponse(t *testing.T) {
	c := NewCodec(EBCDIC)
	// DE4 has a letter: the frame fails, but its lengths can still be read.
	frame := corrupt(t, offDE4+5, 0x4A)
	id, err := c.Recover(frame)
	if err != nil || id != (Identity{MTI: "0100", STAN: "123456"}) {
		t.Fatalf("Recover = %+v, %v", id, err)
	}
	got, err := c.AppendFormatError(nil, frame)
	if err != nil {
		t.Fatal(err)
	}
	want := unhex(t,
		"0110",
		"022000010A800000", // 7 11 32 37 39 41
		"0612153045",
		"123456",
		"11 123456789010",
		"F1F2F3F4F5F6F7F8F9F0F1F2",
		"F3F0", // DE39 "30"
		"E3C5D9D4F0F0F0F1",
	)
	if !bytes.Equal(got, want) {
		t.Errorf("format error:\n got %X\nwant %X", got, want)
	}

	// A malformed DE48 subelement fails the request after a clean scan.
	if _, err := c.AppendFormatError(nil, corrupt(t, offDE48+5, 0xF9)); err != nil {
		t.Errorf("DE48 format error: %v", err)
	}
	// A bad STAN leaves nothing to match a response on.
	if _, err := c.Recover(corrupt(t, offDE11, 0xAB)); !errors.Is(err, ErrUnrecoverable) {
		t.Errorf("Recover with a bad STAN: %v", err)
	}
	// A bad DE2 length hides everything after it.
	if _, err := c.AppendFormatError(nil, corrupt(t, offDE2, 0x9A)); !errors.Is(err, ErrUnrecoverable) {
		t.Errorf("format error past a bad length: %v", err)
	}
	// A response is not answered.
	if _, err := c.Recover(corrupt(t, 0, 0x01, 0x10)); !errors.Is(err, ErrUnrecoverable) {
		t.Errorf("Recover of a response: %v", err)
	}
	for _, garbage := range [][]byte{nil, {0x01}, {0x01, 0x00, 0xFF}} {
		if _, err := c.AppendFormatError(nil, garbage); !errors.Is(err, ErrUnrecoverable) {
			t.Errorf("garbage %X: %v", garbage, err)
		}
	}
}

func TestFrames(t *testing.T) {
	var stream bytes.Buffer
	w := NewFrameWriter(&stream, 0)
	for _, msg := range [][]byte{{0x01, 0x00}, bytes.Repeat([]byte{7}, 300)} {
		if err := w.WriteFrame(msg); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.HasPrefix(stream.Bytes(), []byte{0x00, 0x02, 0x01, 0x00, 0x01, 0x2C}) {
		t.Fatalf("stream starts %X", stream.Bytes()[:6])
	}
	stream.Write([]byte{0x00, 0x00}) // keep-alive
	r := NewFrameReader(&stream, 0)
	for _, n := range []int{2, 300} {
		frame, err := r.ReadFrame()
		if err != nil || len(frame) != n {
			t.Fatalf("ReadFrame = %d bytes, %v; want %d", len(frame), err, n)
		}
	}
	if _, err := r.ReadFrame(); err != io.EOF {
		t.Errorf("end of stream: %v, want io.EOF", err)
	}

	tests := []struct {
		name   string
		stream []byte
		is     error
	}{
		{"oversize header", []byte{0x20, 0x01, 0x01, 0x00}, ErrFrameTooLarge},
		{"cut inside the header", []byte{0x00}, io.ErrUnexpectedEOF},
		{"cut inside the frame", []byte{0x00, 0x05, 0x01, 0x00}, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewFrameReader(bytes.NewReader(tt.stream), 0).ReadFrame()
			if !errors.Is(err, tt.is) {
				t.Errorf("ReadFrame: %v, want %v", err, tt.is)
			}
		})
	}
	if _, err := NewFrameReader(bytes.NewReader([]byte{0x00, 0x11}), 16).ReadFrame(); !errors.Is(err, ErrFrameTooLarge) {
		t.Errorf("17 bytes over a max of 16: %v", err)
	}
	if err := NewFrameWriter(io.Discard, 16).WriteFrame(make([]byte, 17)); !errors.Is(err, ErrFrameTooLarge) {
		t.Errorf("writing 17 bytes over a max of 16: %v", err)
	}
	if err := NewFrameWriter(io.Discard, 0).WriteFrame(nil); err == nil {
		t.Error("wrote an empty frame")
	}
}

// The hot path's allocations are part of its contract: one string for all
// the request's text, nothing for the response.
func TestHotPathAllocations(t *testing.T) {
	c := NewCodec(EBCDIC)
	frame := handmade0100EBCDIC(t)
	var req Request
	buf := make([]byte, 0, 512)
	unpack := testing.AllocsPerRun(100, func() {
		if err := c.UnpackRequest(frame, &req); err != nil {
			t.Fatal(err)
		}
	})
	respond := testing.AllocsPerRun(100, func() {
		if _, err := c.AppendResponse(buf[:0], &req, Answer{ResponseCode: "00", ApprovalCode: "A1B2C3"}); err != nil {
			t.Fatal(err)
		}
	})
	if unpack > 1 || respond > 0 {
		t.Errorf("allocations: UnpackRequest %.0f, AppendResponse %.0f; want 1 and 0", unpack, respond)
	}
}
