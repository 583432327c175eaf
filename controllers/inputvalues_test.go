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
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo/aprimotest"
)

var _ = Describe("A credential that takes its client's latest token", func() {
	It("reads neither itself nor its target Secret live again: it sends nothing that a stale cache could make it send twice", func() {
		h := newHandDriven()
		w := newWorld(aprimotest.Registration{Grants: []string{aprimotest.GrantClientCredentials}, TokenLifetime: time.Hour})
		first := w.credential("first", nil)
		h.reconcile(first)
		Expect(w.requests()).To(Equal(1))

		second := w.credential("second", nil)
		h.reconcile(second)
		Expect(w.requests()).To(Equal(1), "the second credential did not take the client's token")
		Expect(w.condition("second", v1alpha1.ConditionReady)()).To(Equal("True/TokenIssued"))
		Expect(h.liveReads(second)).To(Equal(1), "only the absent target Secret is read live, once")
		Expect(w.accessToken("second")()).To(Equal(w.accessToken("first")()))
	})
})

var _ = Describe("Input Secret values", func() {
	It("are read once per Secret version: rotations read none, a new version is read once", func() {
		h := newHandDriven()
		w := newWorld(aprimotest.Registration{Grants: []string{aprimotest.GrantClientCredentials}, TokenLifetime: time.Hour})
		cred := w.credential("values", nil)
		clientReads := func() int {
			return h.reader.count(&corev1.Secret{}, types.NamespacedName{Namespace: w.ns, Name: "aprimo-client"})
		}

		h.reconcile(cred)
		Expect(w.requests()).To(Equal(1))
		Expect(clientReads()).To(Equal(1), "the inputs hash and the token request read the client Secret separately")

		for rotation := 2; rotation <= 3; rotation++ {
			h.toRenewal(w, "values")
			h.reconcile(cred)
			Expect(w.requests()).To(Equal(rotation))
		}
		Expect(clientReads()).To(Equal(1), "a rotation read the unchanged client Secret")

		// A new version (another key added) is read once; its values are the same, so the token stays.
		w.secret("aprimo-client", map[string]string{"client-id": w.clientID, "client-secret": w.clientSecret, "note": randomString(16)})
		h.reconcile(cred)
		Expect(clientReads()).To(Equal(2))
		Expect(w.requests()).To(Equal(3))
		h.toRenewal(w, "values")
		h.reconcile(cred)
		Expect(w.requests()).To(Equal(4))
		Expect(clientReads()).To(Equal(2))
	})

	It("are found in an input Secret that carries the operator's managed-by label, which the metadata cache leaves out", func() {
		w := newWorld(aprimotest.Registration{Grants: []string{aprimotest.GrantClientCredentials}, TokenLifetime: time.Hour})
		s := w.getSecret("aprimo-client")
		s.Labels = map[string]string{v1alpha1.ManagedByLabel: v1alpha1.ManagedByValue}
		Expect(k8s.Update(suiteCtx, s)).To(Succeed())
		w.credential("labelled-input", nil)
		Eventually(w.condition("labelled-input", v1alpha1.ConditionReady)).Should(Equal("True/TokenIssued"))
		Expect(w.requests()).To(Equal(1))
	})
})
