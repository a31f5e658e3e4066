package main

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/andes-bank/andes/services/authorizer/iso8583"
)

const iso8583Usage = `usage: bankctl iso8583 decode|encode [flags] < input

  decode   a frame in hex on standard input (spaces and newlines ignored) → JSON;
           card data masked (PAN first six and last four, track data, PIN block,
           CVV2) unless -reveal
  encode   JSON on standard input → the frame in hex`

// maxInput bounds what is read from standard input: a frame is at most a few KiB.
const maxInput = 1 << 20

// iso8583Cmd turns authorizer frames (jPOS ISO87B layout) into JSON and back, so an
// operator can read what the network sent without a packet dump tool.
func iso8583Cmd(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "decode" && args[0] != "encode") {
		fmt.Fprintln(stderr, iso8583Usage)
		return errors.New("iso8583: say decode or encode")
	}
	verb := args[0]
	fs := flag.NewFlagSet("iso8583 "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	text := fs.String("text", "ascii", "text encoding of the link: ascii or ebcdic")
	framed := fs.Bool("framed", false, "the frame carries (decode) or gets (encode) its 2-byte length header")
	reveal := fs.Bool("reveal", false, "decode: show card data in clear")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	enc, err := iso8583.ParseTextEncoding(*text)
	if err != nil {
		return fmt.Errorf("iso8583: -text: %w", err)
	}
	codec := iso8583.NewCodec(enc)
	in, err := io.ReadAll(io.LimitReader(stdin, maxInput+1))
	if err != nil {
		return fmt.Errorf("iso8583: reading standard input: %w", err)
	}
	if len(in) > maxInput {
		return errors.New("iso8583: input larger than 1 MiB")
	}

	if verb == "encode" {
		frame, err := codec.EncodeJSON(in)
		if err != nil {
			return fmt.Errorf("iso8583: %w", err)
		}
		if *framed {
			frame = append(binary.BigEndian.AppendUint16(nil, uint16(len(frame))), frame...)
		}
		_, err = fmt.Fprintln(stdout, hex.EncodeToString(frame))
		return err
	}

	frame, err := hex.DecodeString(strings.Join(strings.Fields(string(in)), ""))
	if err != nil {
		return errors.New("iso8583: standard input is not hex")
	}
	if *framed {
		if len(frame) < 2 || int(binary.BigEndian.Uint16(frame)) != len(frame)-2 {
			return errors.New("iso8583: the length header does not match the frame")
		}
		frame = frame[2:]
	}
	out, err := codec.DecodeJSON(frame, iso8583.JSONOptions{Reveal: *reveal})
	if err != nil {
		return fmt.Errorf("iso8583: %w", err)
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, out, "", "  "); err != nil {
		return fmt.Errorf("iso8583: %w", err)
	}
	_, err = fmt.Fprintln(stdout, pretty.String())
	return err
}
