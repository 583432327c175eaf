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

package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/test/harness"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat: 100
// on every Linux architecture Go supports.
const clockTicks = 100

// usage is one reading of a process's CPU time and memory, from /proc.
type usage struct {
	at         time.Time
	cpuSeconds float64
	rss, hwm   int64 // bytes: resident now, and the peak so far
}

// readUsage reads /proc/<pid>/stat (utime, stime) and /proc/<pid>/status
// (VmRSS, VmHWM).
func readUsage(pid int) (usage, error) {
	u := usage{at: time.Now()}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return u, err
	}
	// The command name, in parentheses, may hold spaces: count fields after it.
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	if len(fields) < 13 {
		return u, fmt.Errorf("short /proc/%d/stat", pid)
	}
	utime, _ := strconv.ParseFloat(fields[11], 64) // field 14 of stat
	stime, _ := strconv.ParseFloat(fields[12], 64) // field 15
	u.cpuSeconds = (utime + stime) / clockTicks
	status, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return u, err
	}
	defer func() { _ = status.Close() }()
	s := bufio.NewScanner(status)
	for s.Scan() {
		k, v, _ := strings.Cut(s.Text(), ":")
		kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			u.rss = kb << 10
		case "VmHWM":
			u.hwm = kb << 10
		}
	}
	return u, s.Err()
}

// manager is one running manager process and what the benchmark reads of it.
type manager struct {
	name        string
	proc        *harness.Manager
	stop        func() error
	logFile     string
	metricsAddr string
	startedAt   time.Time

	mu      sync.Mutex
	samples []usage
	dead    bool
}

// startManager starts bin/manager with plain-HTTP metrics on a free port and
// samples its usage every second until ctx ends or it exits.
func startManager(ctx context.Context, name string, o harness.ManagerOptions) (*manager, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	o.Args = append([]string{"--metrics-bind-address=" + addr, "--metrics-secure=false"}, o.Args...)
	m := &manager{name: name, logFile: o.LogFile, metricsAddr: addr, startedAt: time.Now()}
	m.proc, m.stop, err = harness.StartManager(o)
	if err != nil {
		return nil, err
	}
	go m.sample(ctx)
	return m, nil
}

func (m *manager) sample(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		if u, err := readUsage(m.proc.PID()); err == nil {
			m.mu.Lock()
			m.samples = append(m.samples, u)
			m.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-m.proc.Done():
			return
		case <-t.C:
		}
	}
}

// usageNow reads the process now (and keeps the reading as a sample).
func (m *manager) usageNow() (usage, bool) {
	u, err := readUsage(m.proc.PID())
	if err != nil {
		return usage{}, false
	}
	m.mu.Lock()
	m.samples = append(m.samples, u)
	m.mu.Unlock()
	return u, true
}

func (m *manager) lastSample() (usage, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.samples) == 0 {
		return usage{}, false
	}
	return m.samples[len(m.samples)-1], true
}

// samplesBetween returns the samples taken in [from, to].
func (m *manager) samplesBetween(from, to time.Time) []usage {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []usage
	for _, u := range m.samples {
		if !u.at.Before(from) && !u.at.After(to) {
			out = append(out, u)
		}
	}
	return out
}

// reconciles sums controller_runtime_reconcile_total of the operator's
// controller, scraped from the manager's metrics endpoint.
func (m *manager) reconciles(ctx context.Context) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+m.metricsAddr+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	return sumMetric(resp.Body, "controller_runtime_reconcile_total", `controller="aprimocredential"`)
}

// sumMetric adds the values of every sample of name (Prometheus text format)
// whose labels contain label.
func sumMetric(r io.Reader, name, label string) (float64, error) {
	var sum float64
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 1<<20), 1<<20)
	for s.Scan() {
		line := s.Text()
		if !strings.HasPrefix(line, name+"{") || !strings.Contains(line, label) {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			return 0, fmt.Errorf("metric line %q: %w", line, err)
		}
		sum += v
	}
	return sum, s.Err()
}

// waitForLog waits until the manager's log holds text, and returns when it
// first saw it; zero if ctx ended or the process exited first.
func (m *manager) waitForLog(ctx context.Context, text string) time.Time {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		if b, err := os.ReadFile(m.logFile); err == nil && bytes.Contains(b, []byte(text)) {
			return time.Now()
		}
		select {
		case <-ctx.Done():
			return time.Time{}
		case <-m.proc.Done():
			return time.Time{}
		case <-t.C:
		}
	}
}

func (m *manager) logContains(text string) bool {
	b, err := os.ReadFile(m.logFile)
	return err == nil && bytes.Contains(b, []byte(text))
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String(), nil
}
