package supervisor

import (
	"os/exec"
	"runtime"
)

// launcher starts every child from one goroutine locked to one OS thread. The
// kernel sends a child its Pdeathsig when the *thread* that forked it exits, not
// the process; Go retires idle threads freely, so a child forked from an ordinary
// goroutine could be killed at a random moment. One locked thread that lives as
// long as the supervisor ties the children's lives to the supervisor's.
type launcher struct {
	reqs chan launch
	done chan struct{}
}

type launch struct {
	cmd *exec.Cmd
	err chan error
}

func startLauncher() *launcher {
	l := &launcher{reqs: make(chan launch), done: make(chan struct{})}
	go l.loop()
	return l
}

func (l *launcher) loop() {
	// Never unlocked on purpose: when this goroutine returns still locked, the
	// runtime ends the thread instead of reusing it, and close is only called once
	// every child has exited.
	runtime.LockOSThread()
	defer close(l.done)
	for r := range l.reqs {
		r.err <- r.cmd.Start()
	}
}

// start runs cmd.Start on the launching thread.
func (l *launcher) start(cmd *exec.Cmd) error {
	r := launch{cmd: cmd, err: make(chan error, 1)}
	l.reqs <- r
	return <-r.err
}

// close ends the launching thread; no start may follow.
func (l *launcher) close() {
	close(l.reqs)
	<-l.done
}
