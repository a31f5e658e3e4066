package mail_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http/httptest"
	"net/smtp"
	"strings"
	"testing"
	"time"

	"github.com/andes-bank/andes/simulators/mail"
)

func start(t *testing.T) (addr string, store *mail.Store) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	store = mail.NewStore(2)
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	s := &mail.SMTP{Store: store, Hostname: "mail.test", Now: func() time.Time { return at }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return ln.Addr().String(), store
}

func TestAMailSentWithNetSMTPIsStoredAndShown(t *testing.T) {
	addr, store := start(t)
	body := "Subject: Your code\r\n\r\nYour code is 123456.\r\n.hidden dot line\r\n"
	if err := smtp.SendMail(addr, nil, "no-reply@andes.bank", []string{"maria@demo.andes.pe", "ops@andes.bank"}, []byte(body)); err != nil {
		t.Fatal(err)
	}
	msgs := store.List()
	if len(msgs) != 1 {
		t.Fatalf("stored %d messages", len(msgs))
	}
	m := msgs[0]
	if m.From != "no-reply@andes.bank" || strings.Join(m.To, ",") != "maria@demo.andes.pe,ops@andes.bank" || m.Data != body {
		t.Errorf("stored %+v", m)
	}

	rec := httptest.NewRecorder()
	mail.Page(store).ServeHTTP(rec, httptest.NewRequest("GET", "/messages", nil))
	var listed []mail.Message
	if err := json.Unmarshal(rec.Body.Bytes(), &listed); err != nil || len(listed) != 1 || listed[0].Data != body {
		t.Errorf("/messages = %s (%v)", rec.Body, err)
	}
	rec = httptest.NewRecorder()
	mail.Page(store).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if !strings.Contains(rec.Body.String(), "Your code is 123456.") {
		t.Errorf("page lacks the message:\n%s", rec.Body)
	}
}

// Each command is answered by its code, in order; the session survives refusals.
func TestTheProtocolRefusesCommandsOutOfOrder(t *testing.T) {
	addr, store := start(t)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r := bufio.NewReader(conn)
	readReply := func() string {
		var last string
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			last = line
			if len(line) < 4 || line[3] != '-' {
				return last[:3]
			}
		}
	}
	if code := readReply(); code != "220" {
		t.Fatalf("greeting %s", code)
	}
	for _, step := range []struct{ send, want string }{
		{"MAIL FROM:<a@b>", "503"},
		{"EHLO client", "250"},
		{"RCPT TO:<x@y>", "503"},
		{"MAIL FROM:a@b", "501"},
		{"MAIL FROM:<a@b> SIZE=10", "250"},
		{"DATA", "503"},
		{"RCPT TO:<x@y>", "250"},
		{"BDAT 10", "502"},
		{"RSET", "250"},
		{"DATA", "503"},
		{"MAIL FROM:<>", "250"}, // a bounce's null sender is allowed
		{"RCPT TO:<x@y>", "250"},
		{"DATA", "354"},
		{"hello\r\n.", "250"},
		{"QUIT", "221"},
	} {
		fmt.Fprintf(conn, "%s\r\n", step.send)
		if got := readReply(); got != step.want {
			t.Fatalf("%q answered %s, want %s", step.send, got, step.want)
		}
	}
	if msgs := store.List(); len(msgs) != 1 || msgs[0].From != "" || msgs[0].Data != "hello\r\n" {
		t.Errorf("stored %+v", msgs)
	}
}

func TestTheStoreKeepsTheLatest(t *testing.T) {
	s := mail.NewStore(2)
	for i := range 3 {
		s.Add(mail.Message{From: fmt.Sprint(i)})
	}
	got := s.List()
	if len(got) != 2 || got[0].From != "2" || got[1].From != "1" || got[0].ID != 3 {
		t.Errorf("List = %+v", got)
	}
}
