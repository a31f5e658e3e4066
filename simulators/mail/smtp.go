package mail

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"
)

// Limits of the SMTP server.
const (
	MaxMessageSize = 1 << 20 // bytes of DATA; larger messages are refused with 552
	maxLine        = 1000    // RFC 5321 section 4.5.3.1.6, CRLF included
	maxRecipients  = 100     // RFC 5321 section 4.5.3.1.8
	commandTimeout = 5 * time.Minute
)

// SMTP receives mail into a Store.
type SMTP struct {
	Store    *Store
	Hostname string           // in the greeting and EHLO answer
	Now      func() time.Time // stamps received messages
}

// Serve accepts SMTP sessions on ln until ctx ends.
func (s *SMTP) Serve(ctx context.Context, ln net.Listener) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		wg.Go(func() {
			defer conn.Close()
			// A session in progress ends with the server.
			unhook := context.AfterFunc(ctx, func() { conn.Close() })
			defer unhook()
			s.session(conn)
		})
	}
}

// session is one client's conversation. Errors end it; SMTP has no way to report
// a broken connection to anyone.
func (s *SMTP) session(conn net.Conn) {
	r := bufio.NewReaderSize(conn, maxLine)
	reply := func(format string, args ...any) bool {
		_ = conn.SetWriteDeadline(time.Now().Add(commandTimeout))
		_, err := fmt.Fprintf(conn, format+"\r\n", args...)
		return err == nil
	}
	var (
		greeted bool
		from    *string
		to      []string
	)
	reset := func() { from, to = nil, nil }
	if !reply("220 %s ESMTP Andes mail simulator", s.Hostname) {
		return
	}
	for {
		_ = conn.SetReadDeadline(time.Now().Add(commandTimeout))
		line, err := readLine(r)
		if errors.Is(err, errLineTooLong) {
			if !reply("500 5.5.6 line too long") {
				return
			}
			continue
		}
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "HELO":
			greeted = true
			reset()
			reply("250 %s", s.Hostname)
		case "EHLO":
			greeted = true
			reset()
			reply("250-%s\r\n250-SIZE %d\r\n250 8BITMIME", s.Hostname, MaxMessageSize)
		case "MAIL":
			addr, ok := path(arg, "FROM:")
			switch {
			case !greeted:
				reply("503 5.5.1 say HELO or EHLO first")
			case !ok:
				reply("501 5.5.4 syntax: MAIL FROM:<address>")
			default:
				reset()
				from = &addr
				reply("250 2.1.0 ok")
			}
		case "RCPT":
			addr, ok := path(arg, "TO:")
			switch {
			case from == nil:
				reply("503 5.5.1 need MAIL first")
			case !ok || addr == "":
				reply("501 5.5.4 syntax: RCPT TO:<address>")
			case len(to) >= maxRecipients:
				reply("452 4.5.3 too many recipients")
			default:
				to = append(to, addr)
				reply("250 2.1.5 ok")
			}
		case "DATA":
			if len(to) == 0 {
				reply("503 5.5.1 need RCPT first")
				continue
			}
			if !reply("354 end data with <CR><LF>.<CR><LF>") {
				return
			}
			data, err := readData(r)
			switch {
			case errors.Is(err, errTooBig):
				reply("552 5.3.4 message larger than %d bytes", MaxMessageSize)
			case err != nil:
				return
			default:
				id := s.Store.Add(Message{From: *from, To: to, Data: data, Received: s.Now()})
				reply("250 2.0.0 ok: queued as %d", id)
			}
			reset()
		case "RSET":
			reset()
			reply("250 2.0.0 ok")
		case "NOOP":
			reply("250 2.0.0 ok")
		case "VRFY":
			reply("252 2.1.5 cannot verify, will accept")
		case "QUIT":
			reply("221 2.0.0 bye")
			return
		default:
			reply("502 5.5.2 command not implemented")
		}
	}
}

var (
	errLineTooLong = errors.New("line too long")
	errTooBig      = errors.New("message too big")
)

// readLine reads one line without its CRLF (or bare LF). A line longer than the
// limit is consumed whole and reported.
func readLine(r *bufio.Reader) (string, error) {
	line, isPrefix, err := r.ReadLine()
	if err != nil {
		return "", err
	}
	if isPrefix {
		for isPrefix && err == nil {
			_, isPrefix, err = r.ReadLine()
		}
		if err != nil {
			return "", err
		}
		return "", errLineTooLong
	}
	return string(line), nil
}

// readData reads DATA up to the lone dot, undoing dot-stuffing. A message over the
// size limit is read to its end and refused, so the session stays in step.
func readData(r *bufio.Reader) (string, error) {
	var b strings.Builder
	tooBig := false
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			if errors.Is(err, io.EOF) {
				return "", io.ErrUnexpectedEOF
			}
			return "", err
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "." {
			break
		}
		line = strings.TrimPrefix(line, ".")
		if b.Len()+len(line)+2 > MaxMessageSize {
			tooBig = true
			continue
		}
		b.WriteString(line)
		b.WriteString("\r\n")
	}
	if tooBig {
		return "", errTooBig
	}
	return b.String(), nil
}

// path reads "FROM:<a@b>" (with optional parameters after it) and returns a@b.
func path(arg, prefix string) (string, bool) {
	if len(arg) < len(prefix) || !strings.EqualFold(arg[:len(prefix)], prefix) {
		return "", false
	}
	rest := strings.TrimSpace(arg[len(prefix):])
	if !strings.HasPrefix(rest, "<") {
		return "", false
	}
	end := strings.IndexByte(rest, '>')
	if end < 0 {
		return "", false
	}
	return rest[1:end], true
}
