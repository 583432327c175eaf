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
	"math/rand/v2"
	"testing"
	"time"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo/aprimotest"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/test/harness"
)

// Tokens live 10s, so a RefreshToken credential rotates about every second
// (renewal at 90% of the lifetime at the latest), and a restart of the
// manager never lets a token expire unless the chain is lost.
const killLoopTokenLifetime = 10 * time.Second

// calibrationRotations are watched, undisturbed, to measure the loss window.
const calibrationRotations = 60

// How a kill is timed.
type strike string

const (
	// strikeAnytime: a random moment up to two rotations after the credential
	// is Ready: before a request, or anywhere in one.
	strikeAnytime strike = "anytime"
	// strikeAtMarker: as soon as the InFlight marker is seen, while the
	// request (delayed by the fake) is out.
	strikeAtMarker strike = "at-marker"
	// strikeAfterRequest: a random moment after the fake received the request,
	// up to just after its (possibly delayed) answer: waiting for the answer,
	// after it, between the state write and the target write.
	strikeAfterRequest strike = "after-request"
)

// TestKillLoopNeverReplaysARefreshToken SIGKILLs the manager KILLS times
// (default 200) at random moments of refresh-token rotations, against a fake
// that revokes the whole chain on a replay. A token must never be sent twice,
// and every lost chain must be reported as Stalled/InvalidGrant by the first
// pass after the restart, without a token request, saying how to re-seed.
func TestKillLoopNeverReplaysARefreshToken(t *testing.T) {
	kills := envInt(t, "KILLS", 200)
	e := newEnv(t, aprimotest.Options{ReplayDetection: true})
	const name = "chain"
	clientID := e.credential(name, v1alpha1.FlowRefreshToken, killLoopTokenLifetime, 0)
	chain := e.watchChain(name)
	mgr := e.startManager()
	if !e.waitFor(60*time.Second, 50*time.Millisecond, func() bool { return e.isTrue(name, v1alpha1.ConditionReady) }) {
		t.Fatalf("the credential did not become Ready; see %s", e.dir)
	}

	// The loss window, undisturbed: InFlight marker to recorded answer.
	if !e.waitFor(3*time.Minute, 100*time.Millisecond, func() bool { return len(chain.measured()) >= calibrationRotations }) {
		t.Fatalf("saw only %d rotations in 3 minutes", len(chain.measured()))
	}
	window := chain.measured()
	expiry := e.watchExpiry(name)

	var losses int
	strikes := map[strike]int{}
	lossesBy := map[strike]int{}
	for i := range kills {
		how := []strike{strikeAnytime, strikeAnytime, strikeAtMarker, strikeAfterRequest, strikeAfterRequest}[rand.IntN(5)]
		strikes[how]++
		// Half of the rotations get a slow answer, which widens the window a
		// kill can hit while the request is out.
		var delay time.Duration
		if rand.IntN(2) == 0 {
			delay = time.Duration(50+rand.IntN(350)) * time.Millisecond
			e.fake.FailNextFor(clientID, 1, aprimotest.Fault{Delay: delay})
		}
		e.strike(mgr, chain, clientID, how, delay)
		if err := mgr.Kill(); err != nil {
			t.Fatal(err)
		}
		e.fake.ClearFaults()
		// A request the killed process wrote is in the fake's socket already;
		// let it be logged before counting what the new process sends.
		e.pause(200 * time.Millisecond)
		before := e.fake.CountRequests(clientID)
		mgr = e.startManager()
		var lost bool
		recovered := e.waitFor(60*time.Second, 20*time.Millisecond, func() bool {
			if e.stalledOnLostChain(name) {
				lost = true
				return true
			}
			return e.fake.CountRequests(clientID) > before && e.isTrue(name, v1alpha1.ConditionReady)
		})
		if !recovered {
			t.Fatalf("kill %d (%s): the credential neither refreshed nor reported a lost chain within 60s; see %s", i+1, how, e.dir)
		}
		if lost {
			if n := e.fake.CountRequests(clientID); n != before {
				t.Fatalf("kill %d (%s): %d token requests before the lost chain was reported; the first pass must report it", i+1, how, n-before)
			}
			losses++
			lossesBy[how]++
			e.reseed(name, clientID)
			if !e.waitFor(60*time.Second, 50*time.Millisecond, func() bool {
				return e.isTrue(name, v1alpha1.ConditionReady) && !e.isTrue(name, v1alpha1.ConditionStalled)
			}) {
				t.Fatalf("kill %d: the credential did not recover from a new bootstrap token", i+1)
			}
		}
	}
	expired := expiry.total()
	got := countRedemptions(e.fake.Requests())
	p50, p95, maxW := quantiles(window)

	t.Logf("CHAOS kill loop: kills=%d losses=%d replays=%d invalid_grant=%d refreshes=%d expired=%s",
		kills, losses, got.replays, got.rejected, got.refreshes, sum(expired).Round(time.Millisecond))
	t.Logf("CHAOS kill loop: strikes %v, losses by strike %v", strikes, lossesBy)
	t.Logf("CHAOS loss window (InFlight marker to recorded answer, %d undisturbed rotations): median %s, p95 %s, max %s",
		len(window), p50.Round(time.Millisecond), p95.Round(time.Millisecond), maxW.Round(time.Millisecond))
	if got.replays != 0 || got.rejected != 0 {
		t.Errorf("%d refresh tokens were presented twice and %d refreshes were rejected; want 0 and 0", got.replays, got.rejected)
	}
}

// strike waits for the moment to kill, chosen by how.
func (e *env) strike(mgr *harness.Manager, chain *chainWatcher, clientID string, how strike, delay time.Duration) {
	e.t.Helper()
	switch how {
	case strikeAnytime:
		e.pause(time.Duration(rand.Int64N(int64(2 * time.Second))))
	case strikeAtMarker:
		select {
		case <-chain.markers():
		case <-mgr.Done():
			e.t.Fatalf("the manager exited: %v", mgr.Err())
		case <-time.After(30 * time.Second):
			e.t.Fatal("no rotation started within 30s")
		}
	case strikeAfterRequest:
		before := e.fake.CountRequests(clientID)
		if !e.waitFor(30*time.Second, 2*time.Millisecond, func() bool { return e.fake.CountRequests(clientID) > before }) {
			e.t.Fatal("no token request within 30s")
		}
		e.pause(time.Duration(rand.Int64N(int64(delay + 150*time.Millisecond))))
	}
}
