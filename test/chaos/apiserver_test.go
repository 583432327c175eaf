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
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo/aprimotest"
)

// apiServerDown is how long the API server stays stopped: longer than the
// client's watch and request timeouts take to notice, shorter than a token's life.
const apiServerDown = 10 * time.Second

// TestAPIServerRestart stops kube-apiserver under a running manager and
// starts it again (same etcd, same port). The manager must carry on without
// a restart of its own, make no token request because of the outage, and
// still act on its watches afterwards.
func TestAPIServerRestart(t *testing.T) {
	e := newEnv(t, aprimotest.Options{ReplayDetection: true})
	names := []string{"cc", "rt"}
	clientIDs := map[string]string{
		"cc": e.credential("cc", v1alpha1.FlowClientCredentials, 10*time.Minute, 0),
		"rt": e.credential("rt", v1alpha1.FlowRefreshToken, 10*time.Minute, 0),
	}
	mgr := e.startManager()
	for _, name := range names {
		if !e.waitFor(60*time.Second, 100*time.Millisecond, func() bool { return e.isTrue(name, v1alpha1.ConditionReady) }) {
			t.Fatalf("%s did not become Ready; see %s", name, e.dir)
		}
	}
	requests := func() int { return len(e.fake.Requests()) }
	before := requests()

	started := time.Now()
	stopAPIServer, err := e.cp.RestartAPIServer(e.ctx, apiServerDown)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stopAPIServer() })
	if !e.waitFor(60*time.Second, 100*time.Millisecond, func() bool {
		return e.k8s.Get(e.ctx, types.NamespacedName{Name: namespace}, &corev1.Namespace{}) == nil
	}) {
		t.Fatal("the API server did not come back")
	}
	t.Logf("CHAOS API server restart: stopped and serving again after %s", time.Since(started).Round(time.Millisecond))

	// Give the manager time to notice and re-establish its watches; it must
	// neither exit nor ask Aprimo for anything.
	quiet := e.waitFor(30*time.Second, 500*time.Millisecond, func() bool {
		select {
		case <-mgr.Done():
			return true
		default:
		}
		return requests() != before
	})
	select {
	case <-mgr.Done():
		t.Fatalf("the manager exited: %v; see %s", mgr.Err(), e.dir)
	default:
	}
	if quiet {
		t.Fatalf("%d token requests during and after the API server restart; want 0", requests()-before)
	}

	// Its watches work: a refresh requested now is acted on, once per credential.
	for _, name := range names {
		old := e.accessToken(name)
		n := e.fake.CountRequests(clientIDs[name])
		e.requestTokenRefresh(name)
		if !e.waitFor(30*time.Second, 100*time.Millisecond, func() bool {
			tok := e.accessToken(name)
			return tok != old && e.fake.ValidAccessToken(tok) && e.isTrue(name, v1alpha1.ConditionReady)
		}) {
			t.Fatalf("%s: the refresh requested after the restart was not acted on; see %s", name, e.dir)
		}
		if got := e.fake.CountRequests(clientIDs[name]) - n; got != 1 {
			t.Errorf("%s: %d token requests for one requested refresh; want 1", name, got)
		}
	}
	if got := countRedemptions(e.fake.Requests()); got.replays != 0 || got.rejected != 0 {
		t.Errorf("%d refresh tokens presented twice, %d rejected; want 0 and 0", got.replays, got.rejected)
	}
	t.Logf("CHAOS API server restart: manager pid %d kept running; token requests caused by the outage: 0", mgr.PID())
}

// accessToken is the token in a credential's target Secret ("" if none).
func (e *env) accessToken(name string) string {
	s := &corev1.Secret{}
	if err := e.k8s.Get(e.ctx, types.NamespacedName{Namespace: namespace, Name: name}, s); err != nil {
		return ""
	}
	return string(s.Data[v1alpha1.AccessTokenKey])
}
