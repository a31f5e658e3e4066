// Package freeport hands out loopback ports for processes that must be told their
// address before they bind it: test harnesses starting a service under env vars,
// the supervisor's test mode, private PostgreSQL/Redis/NATS instances.
//
// Asking the kernel for port 0 and closing the listener is not enough: on a busy
// machine the kernel gives that same port to the next outgoing connection (any
// client dialling PostgreSQL takes an ephemeral port from the same range), and the
// server then fails with "address already in use". So ports come from below the
// kernel's ephemeral range, where outgoing connections never land, and each one is
// claimed with a lock file held until this process exits, so two test binaries
// running side by side never pick the same one.
package freeport

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// span is how many ports below the ephemeral range are used. Fixed service ports
// (7100–8500 in deploy/manifest.yaml, 5432, 6379, 4222) stay well below it.
const span = 12000

var (
	mu   sync.Mutex
	held []*os.File // the lock files of claimed ports, open until exit
)

// Addr returns "127.0.0.1:<port>" for a port no other process is listening on and no
// other caller of this package has been given while its claimant lives.
func Addr() (string, error) {
	port, err := Port()
	if err != nil {
		return "", err
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), nil
}

// Port is Addr without the host.
func Port() (int, error) {
	mu.Lock()
	defer mu.Unlock()
	low, high := window()
	dir := filepath.Join(os.TempDir(), "andes-ports")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return 0, fmt.Errorf("freeport: %w", err)
	}
	start := low + rand.IntN(high-low)
	for i := range high - low {
		port := low + (start-low+i)%(high-low)
		lock, ok := claim(dir, port)
		if !ok {
			continue
		}
		if !bindable(port) {
			_ = lock.Close()
			continue
		}
		held = append(held, lock)
		return port, nil
	}
	return 0, errors.New("freeport: no free loopback port below the ephemeral range")
}

// claim takes an exclusive, non-blocking lock on the port's file. The kernel drops
// the lock when the holder exits, however it exits, so no stale claims survive.
func claim(dir string, port int) (*os.File, bool) {
	f, err := os.OpenFile(filepath.Join(dir, strconv.Itoa(port)), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, false
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		return nil, false
	}
	return f, true
}

func bindable(port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

// window is the span of ports just below the kernel's ephemeral range.
func window() (low, high int) {
	high = 32768 // Linux default when the range cannot be read
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil && n > 10000+span/2 {
				high = n
			}
		}
	}
	low = max(high-span, 10000)
	return low, high
}
