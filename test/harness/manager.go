/*
Copyright 2026 The aprimo-credential-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package harness

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// ManagerOptions say how to run bin/manager.
type ManagerOptions struct {
	// Binary is the manager executable, usually <root>/bin/manager.
	Binary string
	// Kubeconfig of the cluster to manage.
	Kubeconfig string
	// CAFile is trusted for the token endpoint, through --ca-file (SSL_CERT_FILE
	// is not honoured everywhere, e.g. macOS).
	CAFile string
	// LogFile receives the manager's stdout and stderr; it is truncated first.
	LogFile string
	// Args are extra flags, after the harness's own (a later flag wins).
	Args []string
	// Env is added to the environment the manager inherits (e.g. GOMAXPROCS=1).
	Env []string
	// StopGrace is how long Stop waits after SIGTERM before killing; default 10s.
	StopGrace time.Duration
}

// Manager is a running manager process.
type Manager struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error // set before done closes
}

// StartManager starts the manager as a separate process, as a user runs it,
// trusting only the fake's CA and only 127.0.0.1 as a token host. Metrics are
// off and the health probe listens on a free loopback port, so several
// managers can run side by side.
func StartManager(o ManagerOptions) (*Manager, func() error, error) {
	if _, err := os.Stat(o.Binary); err != nil {
		return nil, nil, fmt.Errorf("no manager binary (%w); build it with 'make build'", err)
	}
	logFile, err := os.OpenFile(o.LogFile, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, nil, err
	}
	// The child keeps its own descriptor; ours is not needed after Start.
	defer func() { _ = logFile.Close() }()

	args := append([]string{
		"--kubeconfig=" + o.Kubeconfig,
		"--allowed-token-hosts=127.0.0.1",
		"--metrics-bind-address=0",
		"--health-probe-bind-address=127.0.0.1:0",
		"--ca-file=" + o.CAFile,
	}, o.Args...)
	cmd := exec.Command(o.Binary, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if len(o.Env) > 0 {
		cmd.Env = append(os.Environ(), o.Env...)
	}
	// Our own process group, as envtest does for its processes: a Ctrl-C in
	// the terminal reaches only us, and we stop the manager before the API
	// server, so it shuts down cleanly instead of racing the control plane.
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("starting %s: %w", o.Binary, err)
	}

	m := &Manager{cmd: cmd, done: make(chan struct{})}
	go func() {
		m.err = cmd.Wait()
		close(m.done)
	}()
	grace := o.StopGrace
	if grace <= 0 {
		grace = 10 * time.Second
	}
	return m, func() error { return m.stop(grace) }, nil
}

// PID is the manager's process ID.
func (m *Manager) PID() int { return m.cmd.Process.Pid }

// Done is closed when the process has exited, for whatever reason.
func (m *Manager) Done() <-chan struct{} { return m.done }

// Err is how the process exited; valid once Done is closed.
func (m *Manager) Err() error { return m.err }

// stop sends SIGTERM, which the manager handles by shutting down gracefully,
// and kills it if it has not exited after grace.
func (m *Manager) stop(grace time.Duration) error {
	select {
	case <-m.done:
		return m.exitError()
	default:
	}
	if err := m.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-m.done:
		return m.exitError()
	case <-time.After(grace):
		_ = m.cmd.Process.Kill()
		<-m.done
		return fmt.Errorf("manager did not stop within %s of SIGTERM; killed it", grace)
	}
}

func (m *Manager) exitError() error {
	if m.err != nil {
		return fmt.Errorf("manager exited: %w", m.err)
	}
	return nil
}
