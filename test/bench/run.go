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
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo/aprimotest"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/test/harness"
)

// Log lines of the manager the benchmark waits for.
const (
	logWorkersStarted = "Starting workers"
	logLeaseAcquired  = "Successfully acquired lease"
)

// window is one measured phase of the run, with what was read from the
// managers at its edges.
type window struct {
	name       string
	from, to   time.Time
	reconciles float64
	cpuSeconds float64
	managers   []*manager
}

// bench is one run in progress.
type bench struct {
	cfg      config
	root     string
	dir      string
	assets   string
	cp       *harness.ControlPlane
	client   client.Client
	auditLog string
	fake     *harness.FakeAprimo
	fix      *fixture
	w        *watcher
	managers []*manager
	stops    []func() error
	log      func(string, ...any)

	windows  []window
	startup  []startupReading
	kill     *killReading
	createAt time.Time
}

type startupReading struct {
	phase   string
	seconds float64
}

type killReading struct {
	at, takeover time.Time
	leader       string
}

// runBenchmark runs the whole benchmark and returns its report.
func runBenchmark(ctx context.Context, cfg config) (rep *Report, err error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	b := &bench{cfg: cfg, log: progress(cfg.Quiet)}
	defer func() { err = errors.Join(err, b.stopAll()) }()
	if err := b.setUp(ctx); err != nil {
		return nil, err
	}
	if err := b.startManagers(ctx, "first start"); err != nil {
		return nil, err
	}
	if err := b.create(ctx); err != nil {
		return nil, err
	}
	if err := b.idle(ctx); err != nil {
		return nil, err
	}
	if err := b.steady(ctx); err != nil {
		return nil, err
	}
	if cfg.Unrelated > 0 {
		if err := b.withUnrelated(ctx); err != nil {
			return nil, err
		}
	}
	expiredNow := b.w.expiredAt(time.Now())
	for _, m := range b.managers {
		_ = b.stopManager(m)
	}
	b.managers = nil
	b.log("reading the audit log")
	audit, err := readAudit(b.auditLog)
	if err != nil {
		return nil, fmt.Errorf("reading the audit log: %w", err)
	}
	expired := b.w.landRotations(audit.writes)
	for k, d := range expiredNow {
		expired[k] += d
	}
	rep = b.report(audit, expired)
	return rep, nil
}

func progress(quiet bool) func(string, ...any) {
	start := time.Now()
	return func(format string, args ...any) {
		if !quiet {
			fmt.Fprintf(os.Stderr, "[bench %6s] %s\n", time.Since(start).Round(time.Second), fmt.Sprintf(format, args...))
		}
	}
}

// setUp starts the fake Aprimo and the control plane, creates the input
// Secrets and starts the watcher.
func (b *bench) setUp(ctx context.Context) error {
	root, err := harness.RepoRoot()
	if err != nil {
		return err
	}
	b.root = root
	if b.cfg.Binary == "" {
		b.cfg.Binary = filepath.Join(root, "bin", "manager")
	}
	b.dir = b.cfg.Dir
	if b.dir == "" {
		b.dir = filepath.Join(root, "tmp", "bench")
	}
	if err := os.MkdirAll(b.dir, 0o755); err != nil {
		return err
	}
	if b.assets, err = harness.EnvtestAssets(ctx, root); err != nil {
		return err
	}
	fake, stopFake, err := harness.StartFakeAprimo(b.dir, aprimotest.Options{Latency: b.cfg.Latency})
	if err != nil {
		return err
	}
	b.fake = fake
	b.stops = append(b.stops, func() error { stopFake(); return nil })

	b.log("starting the control plane (audit log on)")
	cp, auditLog, stopCP, err := harness.StartControlPlaneWithAuditLog(root, b.assets, b.dir, harness.AuditPolicy)
	if err != nil {
		return err
	}
	b.cp, b.auditLog = cp, auditLog
	b.stops = append(b.stops, stopCP)
	// Our own requests are not rate-limited on our side: the API server's
	// fair queuing decides, as it does for the manager. Nor compressed, as
	// the manager's are not: on one machine gzip only takes CPU from the
	// processes measured.
	restCfg := rest.CopyConfig(cp.Config)
	restCfg.QPS = -1
	restCfg.DisableCompression = true
	if b.client, err = client.New(restCfg, client.Options{Scheme: harness.Scheme()}); err != nil {
		return err
	}

	if b.fix, err = newFixture(b.cfg, fake.Server); err != nil {
		return err
	}
	b.log("creating the input Secrets of %d credentials (%d Aprimo clients)", b.cfg.N, len(b.fix.clients))
	if err := b.fix.createInputs(ctx, b.client, b.cfg); err != nil {
		return err
	}
	b.w = newWatcher()
	watchCtx, stopWatch := context.WithCancel(ctx)
	b.stops = append(b.stops, func() error { stopWatch(); return nil })
	return b.w.start(watchCtx, cp.Config)
}

// managerArgs are the flags of manager slot i.
func (b *bench) managerArgs(i int) []string {
	args := []string{}
	switch {
	case b.cfg.KillLeader:
		args = append(args, "--leader-elect", "--leader-election-namespace=default")
	case b.cfg.Shards == 2:
		args = append(args, fmt.Sprintf("--credential-selector=%s=s%d", shardLabel, i))
	}
	return append(args, b.cfg.ManagerArgs...)
}

func (b *bench) replicas() int {
	if b.cfg.KillLeader || b.cfg.Shards == 2 {
		return 2
	}
	return 1
}

// startManagers starts every manager slot and waits until the controllers
// run (caches synced; for leader election, on the leader).
func (b *bench) startManagers(ctx context.Context, phase string) error {
	b.managers = nil
	for i := range b.replicas() {
		name := fmt.Sprintf("manager-%d", i)
		m, err := startManager(ctx, name, harness.ManagerOptions{
			Binary:     b.cfg.Binary,
			Kubeconfig: b.cp.Kubeconfig,
			CAFile:     b.fake.CAFile,
			LogFile:    filepath.Join(b.dir, fmt.Sprintf("%s-%s.log", name, phaseSlug(phase))),
			Args:       b.managerArgs(i),
			Env:        b.cfg.ManagerEnv,
		})
		if err != nil {
			return err
		}
		b.managers = append(b.managers, m)
	}
	waitCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	first := time.Time{}
	started := b.managers[0].startedAt
	if b.cfg.KillLeader {
		// One of them leads; the first to start its workers is it.
		synced := make(chan time.Time, len(b.managers))
		for _, m := range b.managers {
			go func() { synced <- m.waitForLog(waitCtx, logWorkersStarted) }()
		}
		first = <-synced
	} else {
		for _, m := range b.managers {
			if t := m.waitForLog(waitCtx, logWorkersStarted); t.IsZero() {
				return fmt.Errorf("%s did not start its workers within 2m; see %s", m.name, m.logFile)
			} else if t.After(first) {
				first = t
			}
		}
	}
	if first.IsZero() {
		return fmt.Errorf("no manager started its workers within 2m; see %s", b.dir)
	}
	s := first.Sub(started).Seconds()
	b.startup = append(b.startup, startupReading{phase: phase, seconds: s})
	b.log("%d manager(s) started (%s): workers running after %.1fs", len(b.managers), phase, s)
	return nil
}

func phaseSlug(phase string) string {
	out := []rune{}
	for _, r := range phase {
		if r == ' ' {
			r = '-'
		}
		out = append(out, r)
	}
	return string(out)
}

func (b *bench) stopManager(m *manager) error {
	if m.dead {
		return nil
	}
	m.dead = true
	return m.stop()
}

func (b *bench) stopAll() error {
	var errs []error
	for _, m := range b.managers {
		errs = append(errs, b.stopManager(m))
	}
	for i := len(b.stops) - 1; i >= 0; i-- {
		errs = append(errs, b.stops[i]())
	}
	b.stops = nil
	return errors.Join(errs...)
}

// create creates all credentials at once and waits until all are Ready.
func (b *bench) create(ctx context.Context) error {
	b.log("creating %d AprimoCredentials", b.cfg.N)
	b.createAt = time.Now()
	if err := b.fix.createCredentials(ctx, b.client, b.fake.URL(), b.w); err != nil {
		return err
	}
	b.log("created in %s; waiting for Ready", time.Since(b.createAt).Round(100*time.Millisecond))
	deadline := time.Now().Add(b.cfg.ReadyTimeout)
	for lastReport := time.Now(); ; {
		n := b.w.readyCount()
		if n >= b.cfg.N {
			b.log("all %d Ready after %s", n, time.Since(b.createAt).Round(100*time.Millisecond))
			return nil
		}
		if time.Now().After(deadline) {
			b.log("only %d of %d Ready after %s; going on", n, b.cfg.N, b.cfg.ReadyTimeout)
			return nil
		}
		if time.Since(lastReport) >= 5*time.Second {
			b.log("%d/%d Ready", n, b.cfg.N)
			lastReport = time.Now()
		}
		if err := sleep(ctx, 200*time.Millisecond); err != nil {
			return err
		}
	}
}

// idle measures between the last first token and the first renewal, when no
// credential needs anything: reconciles, writes and requests there are waste.
func (b *bench) idle(ctx context.Context) error {
	from := time.Now().Add(2 * time.Second)
	to := b.w.earliestRenewal().Add(-time.Second)
	if to.Sub(from) > time.Minute {
		to = from.Add(time.Minute)
	}
	if to.Sub(from) < 3*time.Second {
		b.log("no idle window before the first renewal; skipping the idle measurement")
		return nil
	}
	b.log("idle window of %s", to.Sub(from).Round(time.Second))
	if err := sleepUntil(ctx, from); err != nil {
		return err
	}
	return b.measure(ctx, "idle", to, nil)
}

// steady measures rotations for the configured duration; with -kill-leader
// it kills the leader halfway.
func (b *bench) steady(ctx context.Context) error {
	b.log("steady phase: %s of rotations", b.cfg.Duration)
	var during func(context.Context, time.Time) error
	if b.cfg.KillLeader {
		during = b.killLeader
	}
	return b.measure(ctx, "steady", time.Now().Add(b.cfg.Duration), during)
}

// withUnrelated adds the unrelated Secrets, restarts the managers and
// measures again.
func (b *bench) withUnrelated(ctx context.Context) error {
	b.log("creating %d unrelated Secrets of %d bytes", b.cfg.Unrelated, b.cfg.UnrelatedSize)
	if err := createUnrelated(ctx, b.client, b.cfg.Unrelated, b.cfg.UnrelatedSize, b.log); err != nil {
		return err
	}
	b.log("restarting the manager(s) with the unrelated Secrets in place")
	for _, m := range b.managers {
		if err := b.stopManager(m); err != nil {
			return err
		}
	}
	if err := b.startManagers(ctx, "with unrelated Secrets"); err != nil {
		return err
	}
	b.log("measuring for %s with the unrelated Secrets", b.cfg.UnrelatedDuration)
	return b.measure(ctx, "unrelated", time.Now().Add(b.cfg.UnrelatedDuration), nil)
}

// measure records a window from now to until, reading the managers at its
// edges; during, if set, runs at its middle.
func (b *bench) measure(ctx context.Context, name string, until time.Time, during func(context.Context, time.Time) error) error {
	win := window{name: name, from: time.Now(), managers: b.managers}
	rec0, cpu0 := b.readManagers(ctx)
	if during != nil {
		if err := sleepUntil(ctx, win.from.Add(until.Sub(win.from)/2)); err != nil {
			return err
		}
		if err := during(ctx, until); err != nil {
			return err
		}
	}
	for time.Now().Before(until) {
		left := time.Until(until)
		b.log("%s: %d rotations so far, %s left", name, len(b.w.rotationsBetween(win.from, time.Now())), left.Round(time.Second))
		if err := sleep(ctx, min(left, 30*time.Second)); err != nil {
			return err
		}
	}
	rec1, cpu1 := b.readManagers(ctx)
	win.to = time.Now()
	win.reconciles, win.cpuSeconds = rec1-rec0, cpu1-cpu0
	b.windows = append(b.windows, win)
	return nil
}

// readManagers sums the reconcile counters and CPU time of the managers. A
// manager killed in the window counts the CPU of its last sample; its
// reconcile counter is lost with it.
func (b *bench) readManagers(ctx context.Context) (reconciles, cpu float64) {
	for _, m := range b.managers {
		if m.dead {
			if u, ok := m.lastSample(); ok {
				cpu += u.cpuSeconds
			}
			continue
		}
		if r, err := m.reconciles(ctx); err == nil {
			reconciles += r
		}
		if u, ok := m.usageNow(); ok {
			cpu += u.cpuSeconds
		}
	}
	return reconciles, cpu
}

// killLeader SIGKILLs the manager holding the lease and waits for the other
// to take over.
func (b *bench) killLeader(ctx context.Context, until time.Time) error {
	var leader, other *manager
	for _, m := range b.managers {
		if m.logContains(logLeaseAcquired) && leader == nil {
			leader = m
		} else {
			other = m
		}
	}
	if leader == nil || other == nil {
		return errors.New("-kill-leader: could not tell the leader from its log")
	}
	u, _ := leader.usageNow()
	b.log("killing the leader %s (pid %d)", leader.name, leader.proc.PID())
	k := &killReading{at: time.Now(), leader: leader.name}
	if err := leader.proc.Kill(); err != nil {
		return err
	}
	leader.dead = true
	// Its CPU until now still counts; add it back in the window's end reading.
	leader.mu.Lock()
	leader.samples = append(leader.samples, u)
	leader.mu.Unlock()
	waitCtx, cancel := context.WithDeadline(ctx, until)
	defer cancel()
	k.takeover = other.waitForLog(waitCtx, logLeaseAcquired)
	if !k.takeover.IsZero() {
		b.log("%s took over after %s", other.name, k.takeover.Sub(k.at).Round(100*time.Millisecond))
	}
	b.kill = k
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func sleepUntil(ctx context.Context, t time.Time) error {
	if d := time.Until(t); d > 0 {
		return sleep(ctx, d)
	}
	return nil
}
