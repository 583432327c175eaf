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
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo/aprimotest"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/policy"
)

var _ = Describe("Credentials sharing one Aprimo client", func() {
	const k = 4

	It("share one token request per rotation, and each writes its own Secret", func() {
		// 20s tokens renew 10s before expiry, spread over up to 4s earlier.
		w := newWorld(aprimotest.Registration{TokenLifetime: 20 * time.Second})
		names := make([]string, k)
		for i := range names {
			names[i] = fmt.Sprintf("shared-%d", i)
			w.credential(names[i], func(s *v1alpha1.AprimoCredentialSpec) { s.Scopes = []string{"api"} })
		}
		first := func() []string {
			out := make([]string, k)
			for i, n := range names {
				out[i] = w.accessToken(n)()
			}
			return out
		}
		Eventually(first, timeout, interval).Should(HaveEach(Not(BeEmpty())))
		tokens := first()
		Expect(tokens).To(HaveEach(Equal(tokens[0])), "one token, one expiry, for all of them")
		Expect(w.requests()).To(Equal(1))

		Eventually(first, 30*time.Second, interval).Should(HaveEach(Not(Equal(tokens[0]))))
		rotated := first()
		Expect(rotated).To(HaveEach(Equal(rotated[0])))
		Expect(w.requests()).To(Equal(2), "one request for the rotation of all %d credentials", k)
		for _, n := range names {
			Expect(fake.ValidAccessToken(w.accessToken(n)())).To(BeTrue())
		}
	})

	It("never shares a token with a credential whose client secret differs, even with the same client ID", func() {
		w := newWorld(aprimotest.Registration{})
		w.credential("right", nil)
		Eventually(w.accessToken("right"), timeout, interval).ShouldNot(BeEmpty())

		w.secret("wrong-secret", map[string]string{"client-id": w.clientID, "client-secret": "cs-" + randomString(24)})
		w.credential("wrong", func(s *v1alpha1.AprimoCredentialSpec) { s.ClientSecretRef.Name = "wrong-secret" })
		Eventually(w.condition("wrong", v1alpha1.ConditionReady), timeout, interval).Should(Equal("False/InvalidClient"))
		Expect(w.accessToken("wrong")()).To(BeEmpty())
		Expect(w.requests()).To(Equal(2), "the wrong secret was sent to Aprimo, which refused it")
	})

	It("does not share between different scopes", func() {
		w := newWorld(aprimotest.Registration{})
		w.credential("api", func(s *v1alpha1.AprimoCredentialSpec) { s.Scopes = []string{"api"} })
		Eventually(w.accessToken("api"), timeout, interval).ShouldNot(BeEmpty())
		w.credential("reporting", func(s *v1alpha1.AprimoCredentialSpec) { s.Scopes = []string{"api", "reporting-api"} })
		Eventually(w.accessToken("reporting"), timeout, interval).ShouldNot(BeEmpty())
		Expect(w.accessToken("reporting")()).NotTo(Equal(w.accessToken("api")()))
		Expect(w.requests()).To(Equal(2))
	})

	It("share a failing client's backoff, one request per step, and all take its next token at once", func() {
		const failures = 4
		w := newWorld(aprimotest.Registration{})
		fake.FailNextFor(w.clientID, failures, aprimotest.Fault{Status: 503})
		names, seen := make([]string, 5), make([]*statusHistory, 5)
		for i := range names {
			names[i] = fmt.Sprintf("outage-%d", i)
			seen[i] = w.watchStatus(names[i])
			w.credential(names[i], nil)
		}
		Eventually(w.requests, time.Minute, interval).Should(Equal(failures + 1))
		tokens := func() []string {
			out := make([]string, len(names))
			for i, n := range names {
				out[i] = w.accessToken(n)()
			}
			return out
		}
		// Woken by the client's new token, not each by its own backoff (up to 8s at the 4th failure).
		Eventually(tokens, 3*time.Second, interval).Should(HaveEach(Not(BeEmpty())))
		Expect(tokens()).To(HaveEach(Equal(tokens()[0])))
		Consistently(w.requests, time.Second, interval).Should(Equal(failures+1), "no request beyond the one that recovered")
		expectGapsAtLeast(w, policy.MinRequeue) // one request per backoff step, not one per credential

		// Each reported the client's failure, and the client's next attempt.
		steps := map[time.Time]bool{}
		for i, h := range seen {
			Expect(h.firstFailure()).NotTo(BeNil(), names[i])
			for _, st := range h.all() {
				if st.status.FailedAttempts > 0 {
					Expect(conditionOf(st.status, v1alpha1.ConditionReady)).To(Equal("False/" + v1alpha1.ReasonEndpointUnavailable))
					steps[st.status.RenewalTime.Time] = true
				}
			}
			Eventually(w.condition(names[i], v1alpha1.ConditionReady), timeout, interval).Should(Equal("True/TokenIssued"))
		}
		Expect(len(steps)).To(BeNumerically("<=", failures), "the next attempts shown are the client's, one per failed request")
	})
})
