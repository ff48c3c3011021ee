package mail

import (
	"bufio"
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

// fakeSMTP accepts one message on loopback (no STARTTLS, which veche
// allows only for loopback relays) and returns what it received.
func fakeSMTP(t *testing.T) (addr string, got <-chan string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	out := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		r := bufio.NewReader(c)
		var log strings.Builder
		say := func(s string) { c.Write([]byte(s + "\r\n")) }
		say("220 fake ESMTP")
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			log.WriteString(line)
			switch cmd := strings.ToUpper(strings.TrimSpace(line)); {
			case strings.HasPrefix(cmd, "EHLO"):
				say("250-fake\r\n250 8BITMIME")
			case strings.HasPrefix(cmd, "MAIL"), strings.HasPrefix(cmd, "RCPT"):
				say("250 ok")
			case cmd == "DATA":
				say("354 go on")
				for {
					l, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if l == ".\r\n" {
						break
					}
					log.WriteString(l)
				}
				say("250 queued")
			case cmd == "QUIT":
				say("221 bye")
				out <- log.String()
				return
			default:
				say("502 unknown")
			}
		}
	}()
	return ln.Addr().String(), out
}

func TestSMTPSenderDeliversThroughALoopbackRelay(t *testing.T) {
	addr, got := fakeSMTP(t)
	s := &SMTPSender{Addr: addr}
	err := s.Send(context.Background(), "veche <noreply@veche.test>", Message{To: "ala@example.org", Subject: "Прывітанне", Body: "Link: https://veche.test/x"})
	if err != nil {
		t.Fatal(err)
	}
	session := <-got
	for _, want := range []string{"MAIL FROM:<noreply@veche.test>", "RCPT TO:<ala@example.org>", "Subject: =?utf-8?q?", "Link: https://veche.test/x"} {
		if !strings.Contains(session, want) {
			t.Errorf("SMTP session lacks %q:\n%s", want, session)
		}
	}
}

func TestSMTPSenderReportsABadAddress(t *testing.T) {
	if err := (&SMTPSender{Addr: "no-port"}).Send(context.Background(), "a@b.c", Message{To: "x@y.z"}); err == nil {
		t.Fatal("no error for an address without a port")
	}
}
