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
}

// rotation is a target Secret observed holding a new token.
type rotation struct {
	cred client.ObjectKey
	at   time.Time
	// late is how long after the previous token's renewalTime the new one
	// appeared; negative when it came early.
	late time.Duration
}

// watcher sees what a user sees: when each credential became Ready, and
// every token each target Secret held, from informers on the API server.
type watcher struct {
	mu        sync.Mutex
	createdAt map[client.ObjectKey]time.Time
	readyAt   map[client.ObjectKey]time.Time
	tokens    map[client.ObjectKey]token
	rotations []rotation
	// expired is, per credential, the time its Secret held an expired token
	// (until the next token appeared).
	expired map[client.ObjectKey]time.Duration
	now     func() time.Time
}

func newWatcher() *watcher {
	return &watcher{
		createdAt: map[client.ObjectKey]time.Time{}, readyAt: map[client.ObjectKey]time.Time{},
		tokens: map[client.ObjectKey]token{}, expired: map[client.ObjectKey]time.Duration{}, now: time.Now,
	}
}

// start runs informers on AprimoCredentials and the operator's Secrets.
func (w *watcher) start(ctx context.Context, cfg *rest.Config) error {
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = -1, 0
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
	next := token{issuedAt: iss, expiresAt: exp, uid: s.OwnerReferences[0].UID}
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
	renewal := policy.RenewalTime(prev.issuedAt, prev.expiresAt, 0, string(prev.uid))
	w.rotations = append(w.rotations, rotation{cred: key, at: now, late: now.Sub(renewal)})
	if now.After(prev.expiresAt) {
		w.expired[key] += now.Sub(prev.expiresAt)
	}
}

// expiredSince adds, to what was recorded, the time each Secret still holds
// an expired token at now; only tokens first seen after from count.
func (w *watcher) expiredAt(now time.Time) (seconds float64, secrets int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	all := map[client.ObjectKey]time.Duration{}
	for k, d := range w.expired {
		all[k] += d
	}
	for k, t := range w.tokens {
		if now.After(t.expiresAt) {
			all[k] += now.Sub(t.expiresAt)
		}
	}
	for _, d := range all {
		seconds += d.Seconds()
		secrets++
	}
	return seconds, secrets
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
		r := policy.RenewalTime(t.issuedAt, t.expiresAt, 0, string(t.uid))
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
