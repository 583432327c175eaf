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
	"net/http"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo/aprimotest"
)

var _ = Describe("Failures", func() {
	It("reports a missing Secret as Stalled/SecretNotFound and recovers at once when it appears", func() {
		w := newWorld(aprimotest.Registration{})
		w.credential("missing", func(s *v1alpha1.AprimoCredentialSpec) { s.ClientSecretRef.Name = "not-yet" })
		Eventually(w.condition("missing", v1alpha1.ConditionReady), timeout, interval).Should(Equal("False/SecretNotFound"))
		Expect(w.condition("missing", v1alpha1.ConditionStalled)()).To(Equal("True/SecretNotFound"))
		Expect(w.conditionMessage("missing", v1alpha1.ConditionReady)).To(ContainSubstring(w.ns + "/not-yet"))
		Expect(w.requests()).To(Equal(0))

		w.secret("not-yet", map[string]string{"client-id": w.clientID, "client-secret": w.clientSecret})
		// Stalled retries wait 30s or more: only the watch can make this quick.
		Eventually(w.condition("missing", v1alpha1.ConditionReady), 10*time.Second, interval).Should(Equal("True/TokenIssued"))
		Expect(w.condition("missing", v1alpha1.ConditionStalled)()).To(Equal("False/TokenIssued"))
		Eventually(w.events("missing"), timeout, interval).Should(ConsistOf("Warning/SecretNotFound", "Normal/Recovered"))
	})

	It("never reads a Secret from another namespace", func() {
		other := newWorld(aprimotest.Registration{})
		other.secret("shared-client", map[string]string{"client-id": other.clientID, "client-secret": other.clientSecret})
		w := newWorld(aprimotest.Registration{})
		// Same name as the other namespace's Secret; references resolve in the credential's own namespace.
		w.credential("crossns", func(s *v1alpha1.AprimoCredentialSpec) { s.ClientSecretRef.Name = "shared-client" })
		Eventually(w.condition("crossns", v1alpha1.ConditionReady), timeout, interval).Should(Equal("False/SecretNotFound"))
		Expect(w.conditionMessage("crossns", v1alpha1.ConditionReady)).To(ContainSubstring(w.ns + "/shared-client"))
		Consistently(other.requests, time.Second, 100*time.Millisecond).Should(BeZero())
	})

	It("reports a missing key as Stalled/SecretKeyNotFound, naming the Secret and key", func() {
		w := newWorld(aprimotest.Registration{})
		w.secret("partial", map[string]string{"client-id": w.clientID})
		w.credential("nokey", func(s *v1alpha1.AprimoCredentialSpec) { s.ClientSecretRef.Name = "partial" })
		Eventually(w.condition("nokey", v1alpha1.ConditionReady), timeout, interval).Should(Equal("False/SecretKeyNotFound"))
		Expect(w.condition("nokey", v1alpha1.ConditionStalled)()).To(Equal("True/SecretKeyNotFound"))
		Expect(w.conditionMessage("nokey", v1alpha1.ConditionReady)).To(And(ContainSubstring(w.ns+"/partial"), ContainSubstring(`"client-secret"`)))
		Expect(w.requests()).To(Equal(0))

		w.secret("partial", map[string]string{"client-id": w.clientID, "client-secret": w.clientSecret})
		Eventually(w.condition("nokey", v1alpha1.ConditionReady), 10*time.Second, interval).Should(Equal("True/TokenIssued"))
	})

	It("refuses a host outside --allowed-token-hosts without contacting it", func() {
		// A listener the allowlist does not name ("localhost"; the suite allows 127.0.0.1).
		port, accepted := countingListener()

		w := newWorld(aprimotest.Registration{})
		w.credential("elsewhere", func(s *v1alpha1.AprimoCredentialSpec) { s.URL = "https://localhost:" + port })
		Eventually(w.condition("elsewhere", v1alpha1.ConditionReady), timeout, interval).Should(Equal("False/HostNotAllowed"))
		Expect(w.condition("elsewhere", v1alpha1.ConditionStalled)()).To(Equal("True/HostNotAllowed"))
		Expect(w.conditionMessage("elsewhere", v1alpha1.ConditionReady)).To(ContainSubstring("localhost"))
		// A change to the credential re-checks at once, and still sends nothing there.
		w.update("elsewhere", func(c *v1alpha1.AprimoCredential) { c.Spec.Scopes = []string{"api", "reporting-api"} })
		Consistently(accepted.Load, 2*time.Second, 100*time.Millisecond).Should(BeZero())
	})

	It("explains invalid_client for a registration that is not active yet, and recovers", func() {
		w := newWorld(aprimotest.Registration{ActiveAt: time.Now().Add(time.Hour)})
		w.credential("new-reg", nil)
		Eventually(w.condition("new-reg", v1alpha1.ConditionReady), timeout, interval).Should(Equal("False/InvalidClient"))
		Expect(w.condition("new-reg", v1alpha1.ConditionStalled)()).To(Equal("True/InvalidClient"))
		Expect(w.conditionMessage("new-reg", v1alpha1.ConditionReady)).To(ContainSubstring("15 minutes"))
		Eventually(w.events("new-reg"), timeout, interval).Should(ContainElement("Warning/InvalidClient"))
		// Stalled: no retry for at least 30s.
		Consistently(w.requests, 3*time.Second, 200*time.Millisecond).Should(Equal(1))

		// The registration becomes active with a new secret; changing the client Secret retries at once.
		newSecret := "cs-" + randomString(24)
		fake.AddRegistration(aprimotest.Registration{ClientID: w.clientID, ClientSecret: newSecret})
		w.secret("aprimo-client", map[string]string{"client-id": w.clientID, "client-secret": newSecret})
		Eventually(w.condition("new-reg", v1alpha1.ConditionReady), 10*time.Second, interval).Should(Equal("True/TokenIssued"))
	})

	DescribeTable("maps each rejection to a Stalled reason",
		func(reg aprimotest.Registration, mutate func(*world, *v1alpha1.AprimoCredentialSpec), reason string) {
			w := newWorld(reg)
			w.credential("rejected", func(s *v1alpha1.AprimoCredentialSpec) { mutate(w, s) })
			Eventually(w.condition("rejected", v1alpha1.ConditionReady), timeout, interval).Should(Equal("False/" + reason))
			Expect(w.condition("rejected", v1alpha1.ConditionStalled)()).To(Equal("True/" + reason))
			Expect(w.get("rejected").Status.FailedAttempts).To(BeNumerically(">=", 1))
			Expect(w.requests()).To(Equal(1))
		},
		Entry("wrong client secret", aprimotest.Registration{}, func(w *world, _ *v1alpha1.AprimoCredentialSpec) {
			w.secret("aprimo-client", map[string]string{"client-id": w.clientID, "client-secret": "wrong-" + randomString(16)})
		}, v1alpha1.ReasonInvalidClient),
		Entry("flow not allowed by the registration", aprimotest.Registration{Grants: []string{aprimotest.GrantPassword}},
			func(*world, *v1alpha1.AprimoCredentialSpec) {}, v1alpha1.ReasonUnauthorizedClient),
		Entry("unknown scope", aprimotest.Registration{}, func(_ *world, s *v1alpha1.AprimoCredentialSpec) {
			s.Scopes = []string{"api", "no-such-scope"}
		}, v1alpha1.ReasonInvalidScope),
		Entry("wrong user token", aprimotest.Registration{}, func(w *world, s *v1alpha1.AprimoCredentialSpec) {
			w.secret("aprimo-user", map[string]string{"username": "nobody", "user-token": "ut-" + randomString(24)})
			s.Flow = v1alpha1.FlowResourceOwnerPassword
			s.UserTokenRef = &v1alpha1.UserTokenReference{Name: "aprimo-user"}
		}, v1alpha1.ReasonInvalidGrant),
		Entry("dead bootstrap refresh token", aprimotest.Registration{Grants: []string{aprimotest.GrantAuthorizationCode}}, func(w *world, s *v1alpha1.AprimoCredentialSpec) {
			w.secret("aprimo-bootstrap", map[string]string{"refresh-token": "rt-" + randomString(32)})
			s.Flow = v1alpha1.FlowRefreshToken
			s.RefreshTokenRef = &v1alpha1.RefreshTokenReference{Name: "aprimo-bootstrap"}
		}, v1alpha1.ReasonInvalidGrant),
	)

	// Transient faults, and how they back off: see faults_test.go.

	It("keeps Ready=True with RefreshFailing while the stored token is valid", func() {
		w := newWorld(aprimotest.Registration{TokenLifetime: 14 * time.Second})
		w.credential("degraded", nil)
		Eventually(w.condition("degraded", v1alpha1.ConditionReady), timeout, interval).Should(Equal("True/TokenIssued"))
		fake.FailNextFor(w.clientID, 1000, aprimotest.Fault{Status: http.StatusBadGateway})
		DeferCleanup(fake.ClearFaults)

		Eventually(w.condition("degraded", v1alpha1.ConditionReady), timeout, interval).Should(Equal("True/RefreshFailing"))
		Expect(w.condition("degraded", v1alpha1.ConditionStalled)()).To(Equal("False/EndpointUnavailable"))
		Expect(w.conditionMessage("degraded", v1alpha1.ConditionReady)).To(ContainSubstring("still holds a token valid until"))
		// When the stored token expires, Ready turns False.
		Eventually(w.condition("degraded", v1alpha1.ConditionReady), timeout, interval).Should(Equal("False/EndpointUnavailable"))
	})
})
