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
	"context"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo/aprimotest"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/test/harness"
)

// expiryWatcher reads each target Secret's expires_at, as a workload would,
// every period, and adds up the time a Secret held an expired token.
type expiryWatcher struct {
	mu      sync.Mutex
	expired map[string]time.Duration
	stop    context.CancelFunc
	done    chan struct{}
}

const expiryPeriod = 200 * time.Millisecond

func (e *env) watchExpiry(targets ...string) *expiryWatcher {
	ctx, cancel := context.WithCancel(e.ctx)
	w := &expiryWatcher{expired: map[string]time.Duration{}, stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		tick := time.NewTicker(expiryPeriod)
		defer tick.Stop()
		last := time.Now()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-tick.C:
				for _, name := range targets {
					if exp, ok := e.expiresAt(ctx, name); ok && now.After(exp) {
						w.mu.Lock()
						w.expired[name] += min(now.Sub(exp), now.Sub(last))
						w.mu.Unlock()
					}
				}
				last = now
			}
		}
	}()
	return w
}

// expiresAt is the expiry a target Secret states; false when there is none
// yet or the API server cannot be read.
func (e *env) expiresAt(ctx context.Context, target string) (time.Time, bool) {
	s := &corev1.Secret{}
	if err := e.k8s.Get(ctx, types.NamespacedName{Namespace: namespace, Name: target}, s); err != nil {
		return time.Time{}, false
	}
	exp, err := time.Parse(time.RFC3339, string(s.Data[v1alpha1.ExpiresAtKey]))
	return exp, err == nil
}

// total stops the watcher and returns the expired time per Secret.
func (w *expiryWatcher) total() map[string]time.Duration {
	w.stop()
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.expired
}

func sum(m map[string]time.Duration) time.Duration {
	var d time.Duration
	for _, v := range m {
		d += v
	}
	return d
}

// chainWatcher watches a state Secret's chain phase. It measures the loss
// window, the time from the InFlight marker's write to the answer's record
// (both as seen by a watch), and tells when a marker appears.
type chainWatcher struct {
	mu       sync.Mutex
	windows  []time.Duration
	inFlight chan struct{}
}

func (e *env) watchChain(credential string) *chainWatcher {
	w := &chainWatcher{inFlight: make(chan struct{}, 1)}
	wc, err := client.NewWithWatch(e.cp.Config, client.Options{Scheme: harness.Scheme()})
	if err != nil {
		e.t.Fatal(err)
	}
	name := credential + "-aprimo-state"
	go func() {
		var markedAt time.Time
		for e.ctx.Err() == nil {
			wi, err := wc.Watch(e.ctx, &corev1.SecretList{}, client.InNamespace(namespace),
				client.MatchingFieldsSelector{Selector: fields.OneTermEqualSelector("metadata.name", name)})
			if err != nil {
				e.pause(100 * time.Millisecond)
				continue
			}
			for ev := range wi.ResultChan() {
				s, ok := ev.Object.(*corev1.Secret)
				if !ok || ev.Type == watch.Deleted {
					continue
				}
				now := time.Now()
				switch s.Annotations[v1alpha1.GroupName+"/chain-phase"] {
				case "InFlight":
					if markedAt.IsZero() {
						markedAt = now
						select {
						case w.inFlight <- struct{}{}:
						default:
						}
					}
				default:
					if !markedAt.IsZero() {
						w.mu.Lock()
						w.windows = append(w.windows, now.Sub(markedAt))
						w.mu.Unlock()
						markedAt = time.Time{}
					}
				}
			}
			wi.Stop()
		}
	}()
	return w
}

// markers drops a marker seen earlier and returns the channel of new ones.
func (w *chainWatcher) markers() <-chan struct{} {
	select {
	case <-w.inFlight:
	default:
	}
	return w.inFlight
}

func (w *chainWatcher) measured() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.windows)
}

// quantiles returns the median, 95th percentile and maximum of ds.
func quantiles(ds []time.Duration) (p50, p95, maxD time.Duration) {
	if len(ds) == 0 {
		return 0, 0, 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	at := func(q float64) time.Duration { return s[min(len(s)-1, int(q*float64(len(s))))] }
	return at(0.5), at(0.95), s[len(s)-1]
}

// redemptions checks the fake's request log: a replay is a refresh token
// presented more than once (a double redemption); rejected counts refresh
// requests answered invalid_grant, which the operator must never cause.
type redemptions struct {
	refreshes, replays, rejected int
}

func countRedemptions(reqs []aprimotest.Request) redemptions {
	var r redemptions
	seen := map[string]bool{}
	for _, q := range reqs {
		if q.GrantType != aprimotest.GrantRefreshToken {
			continue
		}
		r.refreshes++
		if seen[q.RefreshTokenSHA256] {
			r.replays++
		}
		seen[q.RefreshTokenSHA256] = true
		if q.OAuthError == "invalid_grant" {
			r.rejected++
		}
	}
	return r
}
