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

package controllers

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo/aprimotest"
)

// countingReader counts the live reads of each object.
type countingReader struct {
	client.Reader
	mu   sync.Mutex
	gets map[string]int
}

func readKey(obj client.Object, key types.NamespacedName) string {
	return fmt.Sprintf("%T %s", obj, key)
}

func (c *countingReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	c.mu.Lock()
	c.gets[readKey(obj, key)]++
	c.mu.Unlock()
	return c.Reader.Get(ctx, key, obj, opts...)
}

func (c *countingReader) count(obj client.Object, key types.NamespacedName) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gets[readKey(obj, key)]
}

// laggingClient is a cache that has not caught up: it serves the objects it
// holds as they were when frozen, and reads the rest through.
type laggingClient struct {
	client.Client
	frozen map[string]client.Object
}

func (c *laggingClient) freeze(objs ...client.Object) {
	for _, o := range objs {
		c.frozen[readKey(o, client.ObjectKeyFromObject(o))] = o.DeepCopyObject().(client.Object)
	}
}

func (c *laggingClient) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if o, ok := c.frozen[readKey(obj, key)]; ok {
		reflect.ValueOf(obj).Elem().Set(reflect.ValueOf(o.DeepCopyObject()).Elem())
		return nil
	}
	return c.Client.Get(ctx, key, obj, opts...)
}

// A reconciler driven by hand, on a fake clock, with a cache the spec controls;
// the suite's manager is stopped meanwhile so that only this one writes.
type handDriven struct {
	r      *AprimoCredentialReconciler
	clock  *clocktesting.FakeClock
	cache  *laggingClient
	reader *countingReader
}

func newHandDriven() *handDriven {
	stopManager()
	DeferCleanup(func() { stopManager = startManager() })
	hosts := aprimo.HostAllowlist{"127.0.0.1"}
	h := &handDriven{
		clock:  clocktesting.NewFakeClock(time.Now()),
		cache:  &laggingClient{Client: k8s, frozen: map[string]client.Object{}},
		reader: &countingReader{Reader: k8s, gets: map[string]int{}},
	}
	h.r = &AprimoCredentialReconciler{
		Client: h.cache, APIReader: h.reader, SecretMetadata: k8s, Scheme: k8s.Scheme(), Clock: h.clock,
		Tokens: aprimo.NewClient(aprimo.Options{Hosts: hosts, Clock: h.clock, Transport: fake.Client().Transport}),
		Hosts:  hosts, Random: func() float64 { return 0.5 },
	}
	return h
}

func (h *handDriven) reconcile(cred *v1alpha1.AprimoCredential) ctrl.Result {
	res, err := h.r.Reconcile(suiteCtx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(cred)})
	Expect(err).NotTo(HaveOccurred())
	return res
}

// liveReads counts the live reads of the credential and of its target Secret.
func (h *handDriven) liveReads(cred *v1alpha1.AprimoCredential) int {
	return h.reader.count(&v1alpha1.AprimoCredential{}, client.ObjectKeyFromObject(cred)) +
		h.reader.count(&corev1.Secret{}, types.NamespacedName{Namespace: cred.Namespace, Name: cred.TargetName()})
}

// toRenewal moves the clock just past the credential's renewal time.
func (h *handDriven) toRenewal(w *world, name string) {
	h.clock.SetTime(w.get(name).Status.RenewalTime.Add(time.Second))
}

var _ = Describe("The check of the cache before a token request", func() {
	It("skips the live read in a steady rotation, where the cache shows the operator's own last writes, and reads live after someone else's write", func() {
		h := newHandDriven()
		w := newWorld(aprimotest.Registration{Grants: []string{aprimotest.GrantClientCredentials}, TokenLifetime: time.Hour})
		cred := w.credential("steady", nil)

		h.reconcile(cred) // the first token: nothing written yet by this process, so it reads live
		Expect(w.requests()).To(Equal(1))
		Expect(h.liveReads(cred)).To(BeNumerically(">", 0))

		for rotation := 2; rotation <= 3; rotation++ {
			h.toRenewal(w, "steady")
			reads := h.liveReads(cred)
			h.reconcile(cred)
			Expect(w.requests()).To(Equal(rotation))
			Expect(h.liveReads(cred)).To(Equal(reads), "rotation %d read the credential or its Secret live", rotation)
		}
		Expect(w.condition("steady", v1alpha1.ConditionReady)()).To(Equal("True/TokenIssued"))

		// Someone else's write: the cache no longer shows the operator's own.
		w.update("steady", func(c *v1alpha1.AprimoCredential) { c.Labels = map[string]string{"team": "a"} })
		h.toRenewal(w, "steady")
		reads := h.liveReads(cred)
		h.reconcile(cred)
		Expect(w.requests()).To(Equal(4))
		Expect(h.liveReads(cred)).To(BeNumerically(">", reads))
	})

	It("never requests a second token from a cache that lags its own writes, nor writes an older status over a newer one", func() {
		h := newHandDriven()
		// The password flow: a client-credentials token would be shared, which hides a second request.
		w := newWorld(aprimotest.Registration{Grants: []string{aprimotest.GrantPassword}, TokenLifetime: time.Hour})
		user, userToken := "jdoe-"+randomString(4), "ut-"+randomString(24)
		fake.AddUser(user, userToken)
		w.secret("aprimo-user", map[string]string{"username": user, "user-token": userToken})
		cred := w.credential("lagging", func(s *v1alpha1.AprimoCredentialSpec) {
			s.Flow = v1alpha1.FlowResourceOwnerPassword
			s.UserTokenRef = &v1alpha1.UserTokenReference{Name: "aprimo-user"}
		})
		created, start := cred.DeepCopy(), h.clock.Now()
		h.reconcile(cred)
		Expect(w.requests()).To(Equal(1))
		first, firstTarget := w.get("lagging"), w.getSecret(cred.TargetName())

		h.toRenewal(w, "lagging")
		h.reconcile(cred)
		Expect(w.requests()).To(Equal(2))
		second, secondTarget := w.get("lagging"), w.getSecret(cred.TargetName())
		Expect(secondTarget.ResourceVersion).NotTo(Equal(firstTarget.ResourceVersion))

		// The cache still shows the first token, due for renewal, and a
		// credential older than this process's last write: the pass looks
		// again later, without reading, requesting or writing anything.
		h.cache.freeze(first, firstTarget)
		reads := h.liveReads(cred)
		res := h.reconcile(cred)
		Expect(res.RequeueAfter).To(BeNumerically(">", 0))
		Expect(h.liveReads(cred)).To(Equal(reads))
		Expect(w.requests()).To(Equal(2))
		Expect(w.get("lagging").ResourceVersion).To(Equal(second.ResourceVersion))

		// A process that did not write last (after a restart or a leader
		// change) has only the live read: it finds the second token, so the
		// pass requests nothing and writes nothing.
		h.r.written = memory[lastWrites]{}
		res = h.reconcile(cred)
		Expect(res.RequeueAfter).To(BeNumerically(">", 0))
		Expect(w.requests()).To(Equal(2))
		Expect(w.get("lagging").ResourceVersion).To(Equal(second.ResourceVersion))
		Expect(w.getSecret(cred.TargetName()).ResourceVersion).To(Equal(secondTarget.ResourceVersion))

		// A pass back when the cache held the credential as created and the
		// first token computes the first token's status: the optimistic lock
		// refuses it, so it is not written over the second's.
		now := h.clock.Now()
		h.clock.SetTime(start.Add(time.Second))
		h.cache.freeze(created, firstTarget)
		h.reconcile(cred)
		h.clock.SetTime(now)
		Expect(w.requests()).To(Equal(2))
		live := w.get("lagging")
		Expect(live.ResourceVersion).To(Equal(second.ResourceVersion))
		Expect(live.Status).To(Equal(second.Status))

		// Caught up, it trusts nothing it remembers after the refused write, and rotates as due.
		h.cache.frozen = map[string]client.Object{}
		h.toRenewal(w, "lagging")
		reads = h.liveReads(cred)
		h.reconcile(cred)
		Expect(w.requests()).To(Equal(3))
		Expect(h.liveReads(cred)).To(BeNumerically(">", reads))
	})
})
