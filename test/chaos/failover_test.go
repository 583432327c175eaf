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

package chaos

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo/aprimotest"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/test/harness"
)

// The manager's leader-election Lease (cmd/main.go's LeaderElectionID).
const leaseName = "aprimo-credential-operator.credentials.dev"

// maxTakeover is what the issue allows between the leader's death and a new
// leader; controller-runtime's defaults (15s lease, 2s retry) are used as is.
const maxTakeover = 30 * time.Second

// Failover tokens live 60s and are renewed 45s before expiry: a rotation
// every 15s per credential, and more than a takeover's time to spare.
const (
	failoverTokenLifetime = 60 * time.Second
	failoverRenewBefore   = 45 * time.Second
)

// replica is a running manager and the number of its log file.
type replica struct {
	m *harness.Manager
	n int
}

// TestLeaderFailover runs two managers with leader election and SIGKILLs the
// leader every 20-40s for CHAOS_DURATION (default 10m), starting a new
// replica each time. No refresh token may be redeemed twice, no target Secret
// may hold an expired token for any time, and each takeover must take less
// than 30s.
func TestLeaderFailover(t *testing.T) {
	duration := envDuration(t, "CHAOS_DURATION", 10*time.Minute)
	e := newEnv(t, aprimotest.Options{ReplayDetection: true})
	names := []string{"cc-1", "cc-2", "rt-1", "rt-2"}
	clientIDs := map[string]string{}
	for _, name := range names {
		flow := v1alpha1.FlowClientCredentials
		if strings.HasPrefix(name, "rt") {
			flow = v1alpha1.FlowRefreshToken
		}
		clientIDs[name] = e.credential(name, flow, failoverTokenLifetime, failoverRenewBefore)
	}
	args := []string{"--leader-elect", "--leader-election-namespace=" + namespace}
	replicas := []replica{e.startReplica(args), e.startReplica(args)}
	for _, name := range names {
		if !e.waitFor(90*time.Second, 100*time.Millisecond, func() bool { return e.isTrue(name, v1alpha1.ConditionReady) }) {
			t.Fatalf("%s did not become Ready; see %s", name, e.dir)
		}
	}
	expiry := e.watchExpiry(names...)
	reseeder := e.reseedLostChains(clientIDs)

	var takeovers []time.Duration
	end := time.Now().Add(duration)
	killed := time.Now()
	for time.Now().Before(end) {
		// The next kill comes 20-40s after the last one, takeover included.
		e.pause(time.Until(killed.Add(20*time.Second + rand.N(20*time.Second))))
		leader, holder := e.leader(replicas)
		if leader < 0 {
			t.Fatalf("no replica holds the Lease (holder %q); see %s", holder, e.dir)
		}
		if err := replicas[leader].m.Kill(); err != nil {
			t.Fatal(err)
		}
		killed = time.Now()
		replicas[leader] = e.startReplica(args)
		if !e.waitFor(2*maxTakeover, 100*time.Millisecond, func() bool {
			h := e.leaseHolder()
			return h != "" && h != holder
		}) {
			t.Fatalf("no new leader %s after the leader was killed", 2*maxTakeover)
		}
		takeovers = append(takeovers, time.Since(killed))
	}
	// A last rotation of every credential under the last leader.
	e.pause(failoverTokenLifetime - failoverRenewBefore + 5*time.Second)
	losses := reseeder.stop()
	expired := expiry.total()
	got := countRedemptions(e.fake.Requests())
	p50, p95, maxT := quantiles(takeovers)

	t.Logf("CHAOS failover: duration=%s leader kills=%d double redemptions=%d invalid_grant=%d refreshes=%d losses=%d expired=%s",
		duration, len(takeovers), got.replays, got.rejected, got.refreshes, losses, sum(expired).Round(time.Millisecond))
	t.Logf("CHAOS takeover (leader SIGKILLed to new Lease holder): median %s, p95 %s, max %s",
		p50.Round(time.Millisecond), p95.Round(time.Millisecond), maxT.Round(time.Millisecond))
	if got.replays != 0 || got.rejected != 0 {
		t.Errorf("%d refresh tokens were redeemed twice and %d refreshes were rejected; want 0 and 0", got.replays, got.rejected)
	}
	if d := sum(expired); d != 0 {
		t.Errorf("target Secrets held expired tokens for %s (%v); want 0", d, expired)
	}
	if maxT >= maxTakeover {
		t.Errorf("the slowest takeover took %s; want under %s", maxT, maxTakeover)
	}
	for _, name := range names {
		if rotations := e.fake.CountRequests(clientIDs[name]); rotations < int(duration/(failoverTokenLifetime-failoverRenewBefore))/2 {
			t.Errorf("%s had only %d token requests in %s", name, rotations, duration)
		}
	}
}

func (e *env) startReplica(args []string) replica {
	m := e.startManager(args...)
	e.mu.Lock()
	defer e.mu.Unlock()
	return replica{m: m, n: e.managers}
}

// leaseHolder is the Lease's holderIdentity; "" when there is none yet.
func (e *env) leaseHolder() string {
	l := &coordinationv1.Lease{}
	if err := e.k8s.Get(e.ctx, types.NamespacedName{Namespace: namespace, Name: leaseName}, l); err != nil || l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}

// leader returns which replica leads, and the Lease's holder. The identity
// (hostname and a random ID) is not in the log, so the leader is the live
// replica that logged acquiring the Lease: the other one is still waiting.
func (e *env) leader(replicas []replica) (int, string) {
	holder := e.leaseHolder()
	for i, r := range replicas {
		select {
		case <-r.m.Done():
			e.t.Fatalf("replica %d exited: %v; see %s", r.n, r.m.Err(), e.logFile(r.n))
		default:
		}
		log, err := os.ReadFile(e.logFile(r.n))
		if err == nil && bytes.Contains(log, []byte("uccessfully acquired lease")) {
			return i, holder
		}
	}
	return -1, holder
}

// reseeder re-seeds lost chains in the background.
type reseeder struct {
	cancel context.CancelFunc
	done   chan struct{}
	losses int
}

// reseedLostChains re-seeds, at once, every RefreshToken credential whose
// chain was lost (a leader killed inside a rotation's loss window), as a
// person alerted by the InvalidGrant condition would.
func (e *env) reseedLostChains(clientIDs map[string]string) *reseeder {
	ctx, cancel := context.WithCancel(e.ctx)
	r := &reseeder{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			for name, clientID := range clientIDs {
				if !strings.HasPrefix(name, "rt") {
					continue
				}
				lost, err := e.lostChain(name)
				if err != nil {
					e.t.Error(err)
				}
				if !lost {
					continue
				}
				e.t.Logf("%s lost its chain (a leader died inside a rotation); re-seeding it", name)
				r.losses++
				e.secret(name+"-bootstrap", map[string]string{"refresh-token": e.fake.IssueRefreshToken(clientID)})
				e.waitFor(30*time.Second, 100*time.Millisecond, func() bool { lost, _ := e.lostChain(name); return !lost })
			}
		}
	}()
	return r
}

// stop ends the re-seeding and returns how many chains were lost.
func (r *reseeder) stop() int {
	r.cancel()
	<-r.done
	return r.losses
}
