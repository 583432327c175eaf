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
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo/aprimotest"
)

// Report is everything the benchmark measured. Durations are in seconds,
// memory in MiB.
type Report struct {
	Machine   Machine   `json:"machine"`
	Config    config    `json:"config"`
	StartedAt time.Time `json:"startedAt"`

	Create  CreateFigures `json:"create"`
	Idle    *PhaseFigures `json:"idle,omitempty"`
	Steady  *PhaseFigures `json:"steady,omitempty"`
	Unrelat *PhaseFigures `json:"unrelated,omitempty"`
	// StartupSeconds is, per start of the managers, the time from starting
	// the process to its controllers running (caches synced).
	StartupSeconds map[string]float64 `json:"startupSeconds"`
	KillLeader     *KillFigures       `json:"killLeader,omitempty"`

	// ExpiredSeconds is the total time any target Secret held an expired
	// token, over the whole run, and ExpiredSecrets how many ever did.
	ExpiredSeconds float64 `json:"expiredSeconds"`
	ExpiredSecrets int     `json:"expiredSecrets"`
	// PeakTokenRequestsPerSecond is the most token requests the fake received
	// in one wall-clock second (all of them go to one host): what
	// --token-requests-per-second bounds.
	PeakTokenRequestsPerSecond int `json:"peakTokenRequestsPerSecond"`
	// FullSecretReads are LISTs and WATCHes of full Secrets without the
	// operator's label selector, from the audit log (must be 0).
	FullSecretReads []string `json:"fullSecretReads"`
}

// Machine is where the figures were taken.
type Machine struct {
	CPUs      int     `json:"cpus"`
	MemoryGiB float64 `json:"memoryGiB"`
	LoadAvg   string  `json:"loadAvg"`
	Go        string  `json:"go"`
}

// CreateFigures: N credentials created at once.
type CreateFigures struct {
	N               int     `json:"n"`
	NotReady        int     `json:"notReady"`
	ReadyP50        float64 `json:"readyP50Seconds"`
	ReadyP99        float64 `json:"readyP99Seconds"`
	ReadyMax        float64 `json:"readyMaxSeconds"`
	AllReadySeconds float64 `json:"allReadySeconds"`
	// Writes from the first create until all were Ready, by kind, and the
	// writes the API server refused in that time.
	TargetWrites  int `json:"targetSecretWrites"`
	StateWrites   int `json:"stateSecretWrites"`
	StatusWrites  int `json:"statusWrites"`
	EventWrites   int `json:"eventWrites"`
	RefusedWrites int `json:"refusedWrites"`
}

// PhaseFigures are one measured window.
type PhaseFigures struct {
	Seconds   float64 `json:"seconds"`
	Rotations int     `json:"rotations"`
	// Flows: per flow, requests and writes per rotation.
	Flows map[string]*FlowFigures `json:"flows"`
	// TokenRequests is every token request in the window.
	TokenRequests int `json:"tokenRequests"`
	// EventWrites are Events the operator wrote in the window.
	EventWrites int `json:"eventWrites"`
	// Writes is every write of the operator in the window.
	Writes int `json:"writes"`
	// RefusedWrites are writes the API server turned down in the window.
	RefusedWrites int `json:"refusedWrites"`
	// Lateness of each refresh against its renewalTime: when the API server
	// received the new token's write (audit log), minus the renewalTime of
	// the token it replaced.
	LatenessP50 float64 `json:"latenessP50Seconds"`
	LatenessP99 float64 `json:"latenessP99Seconds"`
	LatenessMax float64 `json:"latenessMaxSeconds"`
	// EarlyRotations came more than a second before their renewalTime: a
	// token request nothing needed.
	EarlyRotations int `json:"earlyRotations"`
	// LongestGapSeconds is the longest time in the window with no rotation at all.
	LongestGapSeconds float64 `json:"longestGapSeconds"`
	Reconciles        float64 `json:"reconciles"`
	// ReconcilesPerCredentialHour beyond what the rotations explain is the
	// idle figure; in other windows it includes the rotations' own.
	ReconcilesPerCredentialHour float64        `json:"reconcilesPerCredentialHour"`
	CPUSeconds                  float64        `json:"cpuSeconds"`
	CPUMillisPerRotation        float64        `json:"cpuMillisPerRotation"`
	Managers                    []ManagerUsage `json:"managers"`
}

// FlowFigures are one flow's share of a window.
type FlowFigures struct {
	Credentials int `json:"credentials"`
	Clients     int `json:"clients"`
	Rotations   int `json:"rotations"`
	Requests    int `json:"tokenRequests"`
	// RequestsPerRotation is per credential rotation: the requests of the
	// rotations' clients from their first token to their last (as for
	// RequestsPerClientRotation), so that a request sent just before the
	// window closed, whose rotation falls after it, is not counted against
	// the rotations inside. Requests counts every request in the window.
	RequestsPerRotation float64 `json:"tokenRequestsPerRotation"`
	// RequestsPerClientRotation: requests over the rotations of each client,
	// a rotation being a new token its credentials took (see clientTokens).
	RequestsPerClientRotation float64 `json:"tokenRequestsPerClientRotation"`
	TargetWrites              int     `json:"targetSecretWrites"`
	StateWrites               int     `json:"stateSecretWrites"`
	StatusWrites              int     `json:"statusWrites"`
	// The writes per rotation count each credential's writes from its first
	// rotation in the window to its last (see framedWrites); the write counts
	// above are the window's.
	SecretWritesPerRotation float64 `json:"secretWritesPerRotation"`
	StatusWritesPerRotation float64 `json:"statusWritesPerRotation"`
	WritesPerRotation       float64 `json:"writesPerRotation"`
}

// ManagerUsage is one manager process in a window.
type ManagerUsage struct {
	Name          string  `json:"name"`
	PeakRSSMiB    float64 `json:"peakRSSMiB"`
	SteadyRSSMiB  float64 `json:"steadyRSSMiB"`
	LifetimeHWMiB float64 `json:"lifetimePeakRSSMiB"`
	CPUSeconds    float64 `json:"cpuSeconds"`
}

// KillFigures: the leader killed halfway through the steady phase.
type KillFigures struct {
	Leader          string  `json:"leader"`
	TakeoverSeconds float64 `json:"takeoverSeconds"`
	// MaxLatenessAfter is the latest refresh after the kill.
	MaxLatenessAfter float64 `json:"maxLatenessAfterKillSeconds"`
	// LongestGapSeconds is the longest time after the kill with no rotation.
	LongestGapSeconds float64 `json:"longestGapSeconds"`
}

const mib = 1 << 20

func (b *bench) report(audit *auditFindings, expired map[client.ObjectKey]time.Duration) *Report {
	rep := &Report{
		Machine: machine(), Config: b.cfg, StartedAt: b.createAt,
		StartupSeconds: map[string]float64{}, FullSecretReads: audit.fullSecretReads,
	}
	var expiredTotal time.Duration
	for _, d := range expired {
		expiredTotal += d
		rep.ExpiredSecrets++
	}
	rep.ExpiredSeconds = round(expiredTotal.Seconds())
	durations, notReady, last := b.w.readiness()
	rep.Create = CreateFigures{
		N: b.cfg.N, NotReady: notReady,
		ReadyP50: round(quantile(durations, 0.50)), ReadyP99: round(quantile(durations, 0.99)), ReadyMax: round(quantile(durations, 1)),
	}
	if !last.IsZero() {
		rep.Create.AllReadySeconds = round(last.Sub(b.createAt).Seconds())
		rep.Create.count(audit, b.createAt, last.Add(time.Second))
	}
	for _, s := range b.startup {
		rep.StartupSeconds[s.phase] = round(s.seconds)
	}
	requests := b.fake.Requests()
	perSecond := map[int64]int{}
	for _, r := range requests {
		perSecond[r.Time.Unix()]++
	}
	for _, n := range perSecond {
		rep.PeakTokenRequestsPerSecond = max(rep.PeakTokenRequestsPerSecond, n)
	}
	for _, win := range b.windows {
		f := b.phase(win, audit, requests)
		switch win.name {
		case "idle":
			rep.Idle = f
		case "steady":
			rep.Steady = f
		case "unrelated":
			rep.Unrelat = f
		}
		if win.name == "steady" && b.kill != nil {
			rep.KillLeader = b.killFigures(win)
		}
	}
	return rep
}

// count counts the operator's writes in [from, to).
func (c *CreateFigures) count(audit *auditFindings, from, to time.Time) {
	for _, w := range audit.between(from, to) {
		switch w.kind {
		case writeTarget:
			c.TargetWrites++
		case writeState:
			c.StateWrites++
		case writeStatus:
			c.StatusWrites++
		case writeEvent:
			c.EventWrites++
		}
	}
	c.RefusedWrites = len(audit.refusedBetween(from, to))
}

func (b *bench) phase(win window, audit *auditFindings, requests []aprimotest.Request) *PhaseFigures {
	f := &PhaseFigures{Seconds: round(win.to.Sub(win.from).Seconds()), Flows: map[string]*FlowFigures{}, Reconciles: win.reconciles}
	flowOf := map[client.ObjectKey]string{}
	clientFlow := map[string]string{}
	for _, c := range b.fix.creds {
		flowOf[c.key] = c.flow
		clientFlow[c.clientID] = c.flow
		ff := f.flow(c.flow)
		ff.Credentials++
	}
	for _, flow := range clientFlow {
		f.flow(flow).Clients++
	}
	rots := b.w.rotationsBetween(win.from, win.to)
	f.Rotations = len(rots)
	tokens := map[string]*clientTokens{}
	var late []time.Duration
	times := []time.Time{win.from}
	for _, r := range rots {
		f.flow(flowOf[r.cred]).Rotations++
		id := b.fix.byKey[r.cred].clientID
		if tokens[id] == nil {
			tokens[id] = &clientTokens{issued: map[time.Time]bool{}}
		}
		tokens[id].add(r.issuedAt)
		late = append(late, r.late())
		if r.late() < -time.Second {
			f.EarlyRotations++
		}
		times = append(times, r.at)
	}
	times = append(times, win.to)
	f.LongestGapSeconds = round(longestGap(times).Seconds())
	f.LatenessP50, f.LatenessP99, f.LatenessMax = round(quantile(late, .5)), round(quantile(late, .99)), round(quantile(late, 1))

	reqPerClient := map[string]int{}
	for _, r := range requests {
		if r.Time.Before(win.from) || !r.Time.Before(win.to) {
			continue
		}
		f.TokenRequests++
		reqPerClient[r.ClientID]++
		if flow, ok := clientFlow[r.ClientID]; ok {
			f.flow(flow).Requests++
		}
	}
	clientRotations, clientRequests := map[string]int{}, map[string]int{}
	for id, ct := range tokens {
		clientRotations[clientFlow[id]] += len(ct.issued)
		clientRequests[clientFlow[id]] += ct.requests(requests, id)
	}
	for _, w := range audit.between(win.from, win.to) {
		f.Writes++
		ff := f.flow(flowOf[w.cred])
		switch w.kind {
		case writeTarget:
			ff.TargetWrites++
		case writeState:
			ff.StateWrites++
		case writeStatus:
			ff.StatusWrites++
		case writeEvent:
			f.EventWrites++
		}
	}
	f.RefusedWrites = len(audit.refusedBetween(win.from, win.to))
	delete(f.Flows, "")
	framed, framedRotations := framedWrites(rots, audit.writes, flowOf)
	for flow, ff := range f.Flows {
		if ff.Rotations > 0 {
			r := float64(ff.Rotations)
			ff.RequestsPerRotation = round(float64(clientRequests[flow]) / r)
			secret, status := ff.TargetWrites+ff.StateWrites, ff.StatusWrites
			if fr := framedRotations[flow]; fr > 0 {
				r, secret, status = float64(fr), framed[flow].secret, framed[flow].status
			}
			ff.SecretWritesPerRotation = round(float64(secret) / r)
			ff.StatusWritesPerRotation = round(float64(status) / r)
			ff.WritesPerRotation = round(float64(secret+status) / r)
		}
		if cr := clientRotations[flow]; cr > 0 {
			ff.RequestsPerClientRotation = round(float64(clientRequests[flow]) / float64(cr))
		}
	}
	hours := win.to.Sub(win.from).Hours()
	if hours > 0 && b.cfg.N > 0 {
		f.ReconcilesPerCredentialHour = round(win.reconciles / float64(b.cfg.N) / hours)
	}
	f.CPUSeconds = round(win.cpuSeconds)
	if f.Rotations > 0 {
		f.CPUMillisPerRotation = round(win.cpuSeconds * 1000 / float64(f.Rotations))
	}
	for _, m := range win.managers {
		f.Managers = append(f.Managers, usageIn(m, win))
	}
	return f
}

// rotationWrites are the Secret (target and state) and status writes of
// whole rotations.
type rotationWrites struct{ secret, status int }

// framedWrites counts, per flow, each credential's writes after its first
// rotation in the window up to and including its last (by the API server's
// clock, as the audit log has it). A rotation's state writes come before its
// target write and its status write after, so k rotations frame k−1 whole
// ones, and the window's edge never splits one: it can fall between a
// target write and its status write when many credentials take a shared
// token together. It returns the writes and the framed rotations per flow.
func framedWrites(rots []rotation, writes []write, flowOf map[client.ObjectKey]string) (map[string]rotationWrites, map[string]int) {
	type frame struct {
		first, last time.Time
		n           int
	}
	frames := map[client.ObjectKey]*frame{}
	for _, r := range rots {
		fr := frames[r.cred]
		if fr == nil {
			fr = &frame{first: r.landed, last: r.landed}
			frames[r.cred] = fr
		}
		if r.landed.Before(fr.first) {
			fr.first = r.landed
		}
		if r.landed.After(fr.last) {
			fr.last = r.landed
		}
		fr.n++
	}
	counts, rotations := map[string]rotationWrites{}, map[string]int{}
	for key, fr := range frames {
		if fr.n > 1 {
			rotations[flowOf[key]] += fr.n - 1
		}
	}
	for _, w := range writes {
		fr := frames[w.cred]
		if fr == nil || fr.n < 2 || !w.at.After(fr.first) || w.at.After(fr.last) {
			continue
		}
		c := counts[flowOf[w.cred]]
		switch w.kind {
		case writeTarget, writeState:
			c.secret++
		case writeStatus:
			c.status++
		}
		counts[flowOf[w.cred]] = c
	}
	return counts, rotations
}

// clientTokens are the new tokens one Aprimo client's credentials took in a
// window, by issue time (whole seconds, as the Secret says). Each distinct
// token is one rotation of the client, however many credentials took it and
// whenever they took it: with renewals spread, a window's edge can cut
// through the credentials taking one token, so the client's rotations are
// counted by token, not as its credentials' rotations over their number.
type clientTokens struct {
	issued      map[time.Time]bool
	first, last time.Time
}

func (c *clientTokens) add(issuedAt time.Time) {
	if len(c.issued) == 0 || issuedAt.Before(c.first) {
		c.first = issuedAt
	}
	if len(c.issued) == 0 || issuedAt.After(c.last) {
		c.last = issuedAt
	}
	c.issued[issuedAt] = true
}

// requests counts the client's token requests received from its first
// token's issue to its last one's (the Secret keeps whole seconds, and the
// request reaches the fake after it was sent: up to 2s after): one per
// token, unless a rotation cost more than one.
func (c *clientTokens) requests(all []aprimotest.Request, clientID string) int {
	n := 0
	for _, r := range all {
		if r.ClientID == clientID && !r.Time.Before(c.first) && r.Time.Before(c.last.Add(2*time.Second)) {
			n++
		}
	}
	return n
}

func (f *PhaseFigures) flow(name string) *FlowFigures {
	ff, ok := f.Flows[name]
	if !ok {
		ff = &FlowFigures{}
		f.Flows[name] = ff
	}
	return ff
}

// usageIn is a manager's memory and CPU in a window: the peak of its
// samples, the median of the second half (steady), and its lifetime peak.
func usageIn(m *manager, win window) ManagerUsage {
	samples := m.samplesBetween(win.from, win.to)
	u := ManagerUsage{Name: m.name}
	if len(samples) == 0 {
		return u
	}
	var second []time.Duration
	mid := win.from.Add(win.to.Sub(win.from) / 2)
	for _, s := range samples {
		u.PeakRSSMiB = max(u.PeakRSSMiB, float64(s.rss)/mib)
		u.LifetimeHWMiB = max(u.LifetimeHWMiB, float64(s.hwm)/mib)
		if !s.at.Before(mid) {
			second = append(second, time.Duration(s.rss))
		}
	}
	u.SteadyRSSMiB = round(float64(quantileRaw(second, .5)) / mib)
	u.PeakRSSMiB, u.LifetimeHWMiB = round(u.PeakRSSMiB), round(u.LifetimeHWMiB)
	u.CPUSeconds = round(samples[len(samples)-1].cpuSeconds - samples[0].cpuSeconds)
	return u
}

func (b *bench) killFigures(win window) *KillFigures {
	k := &KillFigures{Leader: b.kill.leader}
	if !b.kill.takeover.IsZero() {
		k.TakeoverSeconds = round(b.kill.takeover.Sub(b.kill.at).Seconds())
	}
	times := []time.Time{b.kill.at}
	var maxLate time.Duration
	for _, r := range b.w.rotationsBetween(b.kill.at, win.to) {
		times = append(times, r.at)
		maxLate = max(maxLate, r.late())
	}
	times = append(times, win.to)
	k.MaxLatenessAfter = round(maxLate.Seconds())
	k.LongestGapSeconds = round(longestGap(times).Seconds())
	return k
}

func longestGap(times []time.Time) time.Duration {
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	var gap time.Duration
	for i := 1; i < len(times); i++ {
		gap = max(gap, times[i].Sub(times[i-1]))
	}
	return gap
}

// quantile returns the q-quantile of ds in seconds (nearest rank); 0 if empty.
func quantile(ds []time.Duration, q float64) float64 {
	return quantileRaw(ds, q).Seconds()
}

func quantileRaw(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

func round(v float64) float64 { return math.Round(v*1000) / 1000 }

func machine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), Go: runtime.Version()}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb float64
		if _, err := fmt.Sscanf(string(b), "MemTotal: %f kB", &kb); err == nil {
			m.MemoryGiB = round(kb / (1 << 20))
		}
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		m.LoadAvg = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	return m
}

// writeMarkdown prints the report as a table, with the target for each figure.
func (r *Report) writeMarkdown(out io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(out, format+"\n", args...) }
	c := r.Config
	p("## Benchmark: %d AprimoCredentials (%s), %s tokens, fake latency %s", c.N, c.Flows, c.TokenLifetime, c.Latency)
	p("")
	p("Machine: %d CPUs, %.1f GiB, load average at the end %s, %s.", r.Machine.CPUs, r.Machine.MemoryGiB, r.Machine.LoadAvg, r.Machine.Go)
	p("")
	p("| Figure | Measured | Target |")
	p("|---|---|---|")
	row := func(name, value, target string) { p("| %s | %s | %s |", name, value, target) }
	row("create→Ready p50 / p99 / max", fmt.Sprintf("%.2fs / %.2fs / %.2fs", r.Create.ReadyP50, r.Create.ReadyP99, r.Create.ReadyMax), "all Ready < 60s at 5,000; p99 < 5s at 1,000")
	row("all Ready after first create", fmt.Sprintf("%.1fs (%d not Ready)", r.Create.AllReadySeconds, r.Create.NotReady), "")
	row("until all Ready: writes (target, state, status, events) / refused by the API server",
		fmt.Sprintf("%d, %d, %d, %d / %d", r.Create.TargetWrites, r.Create.StateWrites, r.Create.StatusWrites, r.Create.EventWrites, r.Create.RefusedWrites), "")
	for _, ph := range []struct {
		name string
		f    *PhaseFigures
	}{{"steady", r.Steady}, {"with unrelated Secrets", r.Unrelat}} {
		if ph.f == nil {
			continue
		}
		f := ph.f
		row(ph.name+": window / rotations", fmt.Sprintf("%.0fs / %d", f.Seconds, f.Rotations), "")
		for _, flow := range knownFlows {
			ff, ok := f.Flows[flow]
			if !ok || ff.Credentials == 0 {
				continue
			}
			row(fmt.Sprintf("%s [%s]: token requests per rotation (per credential / per client)", ph.name, flow),
				fmt.Sprintf("%.3f / %.3f", ff.RequestsPerRotation, ff.RequestsPerClientRotation), "≤ 1.00 per credential; 1 per shared client")
			row(fmt.Sprintf("%s [%s]: API writes per rotation (Secret + status)", ph.name, flow),
				fmt.Sprintf("%.3f + %.3f = %.3f (target %d, state %d, status %d)", ff.SecretWritesPerRotation, ff.StatusWritesPerRotation, ff.WritesPerRotation,
					ff.TargetWrites, ff.StateWrites, ff.StatusWrites), writesTarget(flow))
		}
		row(ph.name+": event writes / writes refused by the API server", fmt.Sprintf("%d / %d", f.EventWrites, f.RefusedWrites), "")
		row(ph.name+": refresh lateness p50 / p99 / max", fmt.Sprintf("%.2fs / %.2fs / %.2fs", f.LatenessP50, f.LatenessP99, f.LatenessMax), "p99 < 2s")
		row(ph.name+": rotations before renewalTime", fmt.Sprint(f.EarlyRotations), "0")
		row(ph.name+": CPU per rotation", fmt.Sprintf("%.2f ms (%.1f CPU s)", f.CPUMillisPerRotation, f.CPUSeconds), "< 2 ms")
		for _, m := range f.Managers {
			row(fmt.Sprintf("%s: %s RSS steady / peak in window / lifetime peak", ph.name, m.Name),
				fmt.Sprintf("%.1f / %.1f / %.1f MiB", m.SteadyRSSMiB, m.PeakRSSMiB, m.LifetimeHWMiB), "< 150 MiB at 5,000; < 60 MiB at 1,000")
		}
	}
	if r.Idle != nil {
		row("idle: reconciles per credential per hour", fmt.Sprintf("%.2f (%.0f in %.0fs)", r.Idle.ReconcilesPerCredentialHour, r.Idle.Reconciles, r.Idle.Seconds), "≤ 2")
		row("idle: writes / token requests", fmt.Sprintf("%d / %d", r.Idle.Writes, r.Idle.TokenRequests), "0 / 0")
	}
	if r.Steady != nil && r.Unrelat != nil && len(r.Steady.Managers) > 0 && len(r.Unrelat.Managers) > 0 {
		d := r.Unrelat.Managers[0].SteadyRSSMiB - r.Steady.Managers[0].SteadyRSSMiB
		row(fmt.Sprintf("steady RSS with %d unrelated Secrets minus without", c.Unrelated), fmt.Sprintf("%+.1f MiB", d), "≤ 15 MiB")
	}
	for _, phase := range slices.Sorted(maps.Keys(r.StartupSeconds)) {
		row("startup to caches synced ("+phase+")", fmt.Sprintf("%.1fs", r.StartupSeconds[phase]), "< 10s with the unrelated Secrets")
	}
	if k := r.KillLeader; k != nil {
		row("leader killed: takeover", fmt.Sprintf("%.1fs", k.TakeoverSeconds), "< 30s")
		row("leader killed: longest gap in rotations / latest refresh after", fmt.Sprintf("%.1fs / %.1fs", k.LongestGapSeconds, k.MaxLatenessAfter), "")
	}
	row("peak token requests in one second (one host)", fmt.Sprint(r.PeakTokenRequestsPerSecond), "≤ --token-requests-per-second + burst")
	row("seconds any Secret held an expired token", fmt.Sprintf("%.1f (%d Secrets)", r.ExpiredSeconds, r.ExpiredSecrets), "0")
	row("LIST/WATCH of full Secrets without the label selector", fmt.Sprint(len(r.FullSecretReads)), "0")
}

func writesTarget(flow string) string {
	if flow == flowPassword {
		return "2 + the refresh-token state writes crash safety needs"
	}
	return "≤ 2"
}
