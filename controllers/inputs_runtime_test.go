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
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo/aprimotest"
)

// failedPasses counts the passes that logged a failure for a world's credentials.
func (w *world) failedPasses() int {
	n := 0
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "Failed to get a token") && strings.Contains(line, w.ns) {
			n++
		}
	}
	return n
}

// brokenInput is an object that passes admission but cannot work.
type brokenInput struct {
	// setup prepares the world and changes the credential's spec.
	setup   func(w *world, s *v1alpha1.AprimoCredentialSpec)
	reason  string
	stalled bool
	message string
	// maxPasses bounds the failing passes over the observation window.
	maxPasses int
}

// observeFor is how long a broken credential is watched for a hot loop.
const observeFor = 4 * time.Second

var _ = Describe("Broken input at run time", func() {
	DescribeTable("gets its documented reason, without a panic or a hot loop",
		func(c brokenInput) {
			w := newWorld(aprimotest.Registration{})
			w.credential("broken", func(s *v1alpha1.AprimoCredentialSpec) { c.setup(w, s) })
			ready := "False/" + c.reason
			stalledCond := "False/" + c.reason
			if c.stalled {
				stalledCond = "True/" + c.reason
			}
			Eventually(w.condition("broken", v1alpha1.ConditionReady), timeout, interval).Should(Equal(ready))
			Expect(w.condition("broken", v1alpha1.ConditionStalled)()).To(Equal(stalledCond))
			Expect(w.conditionMessage("broken", v1alpha1.ConditionReady)).To(ContainSubstring(c.message))

			// No hot loop: few passes, each one logged and counted in status.
			Consistently(w.failedPasses, observeFor, 200*time.Millisecond).Should(BeNumerically("<=", c.maxPasses))
			Expect(w.get("broken").Status.FailedAttempts).To(BeNumerically("<=", c.maxPasses))
			Expect(w.condition("broken", v1alpha1.ConditionReady)()).To(Equal(ready))
			Expect(w.requests()).To(BeZero(), "nothing reached Aprimo")
			Eventually(w.events("broken"), timeout, interval).Should(ConsistOf("Warning/" + c.reason))
			fmt.Fprintf(GinkgoWriter, "INPUTROW | %s | %s | %d failing passes, failedAttempts %d, over %s after the failure |\n",
				CurrentSpecReport().LeafNodeText, c.reason, w.failedPasses(), w.get("broken").Status.FailedAttempts, observeFor)
		},
		Entry("the client Secret is missing", brokenInput{
			setup:  func(_ *world, s *v1alpha1.AprimoCredentialSpec) { s.ClientSecretRef.Name = "no-such-secret" },
			reason: v1alpha1.ReasonSecretNotFound, stalled: true, message: "does not exist", maxPasses: 3,
		}),
		Entry("the key is wrong", brokenInput{
			setup:  func(_ *world, s *v1alpha1.AprimoCredentialSpec) { s.ClientSecretRef.ClientSecretKey = "secret" },
			reason: v1alpha1.ReasonSecretKeyNotFound, stalled: true, message: `has no key "secret"`, maxPasses: 3,
		}),
		Entry("the key holds an empty value", brokenInput{
			setup: func(w *world, _ *v1alpha1.AprimoCredentialSpec) {
				w.secret("aprimo-client", map[string]string{"client-id": w.clientID, "client-secret": ""})
			},
			reason: v1alpha1.ReasonSecretKeyNotFound, stalled: true, message: "or it is empty", maxPasses: 3,
		}),
		Entry("the key holds only white space", brokenInput{
			setup: func(w *world, _ *v1alpha1.AprimoCredentialSpec) {
				w.secret("aprimo-client", map[string]string{"client-id": w.clientID, "client-secret": " \n\t"})
			},
			reason: v1alpha1.ReasonSecretKeyNotFound, stalled: true, message: "or it is empty", maxPasses: 3,
		}),
		Entry("the key holds 1 MiB (all a Secret can hold)", brokenInput{
			setup: func(w *world, _ *v1alpha1.AprimoCredentialSpec) {
				// A repeated random unit: the leak scan checks every 8-character
				// piece of it cheaply once the Secret holds the unit twice.
				unit := randomString(32)
				huge := strings.Repeat(unit, corev1.MaxSecretSize/len(unit))
				huge = huge[:corev1.MaxSecretSize-len(w.clientID)]
				w.secret("aprimo-client", map[string]string{"client-id": w.clientID, "client-secret": huge})
				DeferCleanup(func() {
					Expect(k8s.DeleteAllOf(suiteCtx, &v1alpha1.AprimoCredential{}, client.InNamespace(w.ns))).To(Succeed())
					w.secret("aprimo-client", map[string]string{"client-id": w.clientID, "client-secret": unit + unit})
				})
			},
			reason: v1alpha1.ReasonSecretKeyNotFound, stalled: true, message: "larger than 16384 bytes", maxPasses: 3,
		}),
		Entry("the tenant does not resolve", brokenInput{
			setup: func(_ *world, s *v1alpha1.AprimoCredentialSpec) {
				s.URL = "https://no-such-tenant.aprimo.invalid"
			},
			// Transient: DNS can fail for a moment. The backoff doubles from 1s,
			// and no wait is under 1s.
			reason: v1alpha1.ReasonEndpointUnavailable, message: "no such host", maxPasses: int(observeFor/time.Second) + 3,
		}),
	)
})
