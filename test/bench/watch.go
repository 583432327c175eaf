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
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/policy"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/test/harness"
)

// issuedAtAnnotation is where the operator records when a token was issued
// (controllers/target.go).
const issuedAtAnnotation = v1alpha1.GroupName + "/issued-at"

// token is what a target Secret says about the token it holds.
type token struct {
	issuedAt, expiresAt time.Time
	uid                 types.UID
	// first is true for the token the Secret was created with.
	first bool
}

// renewal is the token's renewalTime, computed as the operator does.
func (t token) renewal() time.Time {
	return policy.RenewalTime(t.issuedAt, t.expiresAt, 0, string(t.uid), t.first)
}

// rotation is a target Secret observed holding a new token.
type rotation struct {
	cred client.ObjectKey
	// at is when the watcher saw the new token; it lags the write by the
	// watch's delay (see landed).
	at time.Time
	// renewal and expiry of the token it replaced.
	renewal, prevExpiry time.Time
	// landed is when the API server received the write of the new token,
	// from its audit log; at when unknown. The report sets it.
	landed time.Time
	// issuedAt of the new token: credentials of a shared client that took
	// the same token share it.
	issuedAt time.Time
}

// late is how long after the previous token's renewalTime the new one landed;
// negative when it came early.
func (r rotation) late() time.Duration { return r.landed.Sub(r.renewal) }

// watcher sees what a user sees: when each credential became Ready, and
// every token each target Secret held, from informers on the API server.
type watcher struct {
	mu        sync.Mutex
	createdAt map[client.ObjectKey]time.Time
	readyAt   map[client.ObjectKey]time.Time
	tokens    map[client.ObjectKey]token
	rotations []rotation
	now       func() time.Time
}

func newWatcher() *watcher {
	return &watcher{
		createdAt: map[client.ObjectKey]time.Time{}, readyAt: map[client.ObjectKey]time.Time{},
		tokens: map[client.ObjectKey]token{}, now: time.Now,
	}
}

// start runs informers on AprimoCredentials and the operator's Secrets.
func (w *watcher) start(ctx context.Context, cfg *rest.Config) error {
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = -1, 0
	cfg.DisableCompression = true // see run.go
	c, err := cache.New(cfg, cache.Options{
		Scheme: harness.Scheme(),
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Secret{}: {Label: labels.SelectorFromSet(labels.Set{v1alpha1.ManagedByLabel: v1alpha1.ManagedByValue})},
		},
	})
	if err != nil {
		return err
	}
	credInf, err := c.GetInformer(ctx, &v1alpha1.AprimoCredential{})
	if err != nil {
		return err
	}
	if _, err := credInf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { w.credential(o) },
		UpdateFunc: func(_, o any) { w.credential(o) },
	}); err != nil {
		return err
	}
	secInf, err := c.GetInformer(ctx, &corev1.Secret{})
	if err != nil {
		return err
	}
	if _, err := secInf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { w.secret(o) },
		UpdateFunc: func(_, o any) { w.secret(o) },
	}); err != nil {
		return err
	}
	go func() { _ = c.Start(ctx) }()
	if !c.WaitForCacheSync(ctx) {
		return ctx.Err()
	}
	return nil
}

func (w *watcher) created(key client.ObjectKey, at time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.createdAt[key] = at
}

func (w *watcher) credential(o any) {
	cred, ok := o.(*v1alpha1.AprimoCredential)
	if !ok || !meta.IsStatusConditionTrue(cred.Status.Conditions, v1alpha1.ConditionReady) {
		return
	}
	now := w.now()
	key := client.ObjectKeyFromObject(cred)
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, seen := w.readyAt[key]; !seen {
		w.readyAt[key] = now
	}
}

func (w *watcher) secret(o any) {
	s, ok := o.(*corev1.Secret)
	if !ok || !strings.HasSuffix(s.Name, "-token") || len(s.OwnerReferences) == 0 {
		return
	}
	now := w.now()
	exp, err1 := time.Parse(time.RFC3339, string(s.Data[v1alpha1.ExpiresAtKey]))
	iss, err2 := time.Parse(time.RFC3339, s.Annotations[issuedAtAnnotation])
	if err1 != nil || err2 != nil {
		return
	}
	key := client.ObjectKey{Namespace: s.Namespace, Name: strings.TrimSuffix(s.Name, "-token")}
	next := token{issuedAt: iss, expiresAt: exp, uid: s.OwnerReferences[0].UID, first: policy.IsFirstToken(iss, s.CreationTimestamp.Time)}
	w.mu.Lock()
	defer w.mu.Unlock()
	prev, had := w.tokens[key]
	if had && prev.issuedAt.Equal(next.issuedAt) && prev.expiresAt.Equal(next.expiresAt) {
		return // metadata only, or the same token
	}
	w.tokens[key] = next
	if !had {
		return // the first token is measured as create-to-Ready
	}
	renewal := prev.renewal()
	w.rotations = append(w.rotations, rotation{cred: key, at: now, landed: now, renewal: renewal, prevExpiry: prev.expiresAt, issuedAt: next.issuedAt})
}

// expiredAt returns, per credential, how long its Secret has held an expired
// token at now, from the tokens held now; landRotations adds the earlier ones.
func (w *watcher) expiredAt(now time.Time) map[client.ObjectKey]time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[client.ObjectKey]time.Duration{}
	for k, t := range w.tokens {
		if now.After(t.expiresAt) {
			out[k] += now.Sub(t.expiresAt)
		}
	}
	return out
}

// landRotations sets each rotation's landed time from the API server's audit
// log: the last write of its target Secret the watcher could have seen. It
// returns, per credential, how long its Secret held an expired token before
// each new one landed.
func (w *watcher) landRotations(writes []write) map[client.ObjectKey]time.Duration {
	byCred := map[client.ObjectKey][]time.Time{}
	for _, wr := range writes {
		if wr.kind == writeTarget {
			byCred[wr.cred] = append(byCred[wr.cred], wr.at)
		}
	}
	for _, times := range byCred {
		slices.SortFunc(times, time.Time.Compare)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	expired := map[client.ObjectKey]time.Duration{}
	for i := range w.rotations {
		r := &w.rotations[i]
		times := byCred[r.cred]
		j := sort.Search(len(times), func(k int) bool { return times[k].After(r.at) })
		if j > 0 {
			r.landed = times[j-1]
		}
		if r.landed.After(r.prevExpiry) {
			expired[r.cred] += r.landed.Sub(r.prevExpiry)
		}
	}
	return expired
}

// readiness returns create-to-Ready durations, and how many never got there.
func (w *watcher) readiness() (durations []time.Duration, notReady int, last time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for k, c := range w.createdAt {
		r, ok := w.readyAt[k]
		if !ok {
			notReady++
			continue
		}
		durations = append(durations, r.Sub(c))
		if r.After(last) {
			last = r
		}
	}
	return durations, notReady, last
}

func (w *watcher) readyCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.readyAt)
}

// earliestRenewal is the earliest renewalTime of the tokens held now.
func (w *watcher) earliestRenewal() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	var first time.Time
	for _, t := range w.tokens {
		r := t.renewal()
		if first.IsZero() || r.Before(first) {
			first = r
		}
	}
	return first
}

// rotationsBetween returns the rotations observed in [from, to).
func (w *watcher) rotationsBetween(from, to time.Time) []rotation {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []rotation
	for _, r := range w.rotations {
		if !r.at.Before(from) && r.at.Before(to) {
			out = append(out, r)
		}
	}
	return out
}
