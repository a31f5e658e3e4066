package freeport

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

func TestPortsAreDistinctBindableAndBelowTheEphemeralRange(t *testing.T) {
	low, high := window()
	seen := map[int]bool{}
	for range 40 {
		port, err := Port()
		if err != nil {
			t.Fatal(err)
		}
		if port < low || port >= high {
			t.Fatalf("port %d outside [%d, %d)", port, low, high)
		}
		if seen[port] {
			t.Fatalf("port %d handed out twice", port)
		}
		seen[port] = true
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			t.Fatalf("port %d not bindable: %v", port, err)
		}
		l.Close()
	}
}

func TestAClaimedPortIsLockedAgainstOtherProcesses(t *testing.T) {
	port, err := Port()
	if err != nil {
		t.Fatal(err)
	}
	// A second open file description stands in for another process: flock locks
	// belong to the description, so this one must be refused.
	f, err := os.Open(filepath.Join(os.TempDir(), "andes-ports", strconv.Itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err == nil {
		t.Fatalf("port %d: lock taken twice", port)
	}
}

func TestAPortSomeoneListensOnIsNotBindable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if port := l.Addr().(*net.TCPAddr).Port; bindable(port) {
		t.Fatalf("port %d reported bindable while listened on", port)
	}
}
