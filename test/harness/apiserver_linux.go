//go:build linux

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
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// RestartAPIServer kills the control plane's kube-apiserver and,
// after down, starts it again with the same command line: same etcd, port and
// certificates, so clients keep working once it is back. envtest cannot do
// this itself (its Stop forgets the certificates), so the process is found as
// our own child serving the control plane's port. The returned stop ends the
// new process; call it before the control plane's own stop.
func (cp *ControlPlane) RestartAPIServer(ctx context.Context, down time.Duration) (func() error, error) {
	u, err := url.Parse(cp.Config.Host)
	if err != nil {
		return nil, err
	}
	pid, args, err := childWithArg("kube-apiserver", "--secure-port="+u.Port())
	if err != nil {
		return nil, err
	}
	// SIGKILL, as a crash or node loss would: with a client connected,
	// kube-apiserver takes minutes to finish a SIGTERM.
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return nil, fmt.Errorf("stopping kube-apiserver (pid %d): %w", pid, err)
	}
	if err := waitGone(ctx, pid, 30*time.Second); err != nil {
		return nil, err
	}
	select {
	case <-time.After(down):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("restarting kube-apiserver: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	// Killed too when stopped: with clients connected a SIGTERM takes minutes,
	// and etcd holds all there is to keep.
	return func() error {
		_ = cmd.Process.Kill()
		<-done
		return nil
	}, nil
}

// childWithArg returns the PID and command line of our child process running
// binary with arg among its arguments.
func childWithArg(binary, arg string) (int, []string, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, nil, err
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || parentPID(pid) != os.Getpid() {
			continue
		}
		raw, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(bytes.TrimRight(raw, "\x00")), "\x00")
		for _, a := range args[1:] {
			if filepath.Base(args[0]) == binary && a == arg {
				return pid, args, nil
			}
		}
	}
	return 0, nil, fmt.Errorf("found no child %s with %s", binary, arg)
}

// parentPID reads the parent of pid from /proc/<pid>/stat; 0 if unknown.
func parentPID(pid int) int {
	raw, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0
	}
	// The command name, in parentheses, may hold spaces: fields follow the last ')'.
	fields := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:]))
	if len(fields) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(fields[1])
	return ppid
}

// waitGone waits until pid has exited and been reaped (envtest waits on it).
func waitGone(ctx context.Context, pid int, limit time.Duration) error {
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if _, err := os.Stat(filepath.Join("/proc", strconv.Itoa(pid))); errors.Is(err, os.ErrNotExist) {
			return nil
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			return fmt.Errorf("kube-apiserver (pid %d) did not stop within %s (%s)", pid, limit, processState(pid))
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// processState is the State line of /proc/<pid>/status, for error messages.
func processState(pid int) string {
	raw, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "State:") {
			return strings.TrimSpace(line)
		}
	}
	return "state unknown"
}
