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

// refreshChain creates a RefreshToken credential named name, seeded from the
// Secret "aprimo-bootstrap", and waits until it is Ready.
func (w *world) refreshChain(name string) {
	w.credential(name, func(s *v1alpha1.AprimoCredentialSpec) {
		s.Flow = v1alpha1.FlowRefreshToken
		s.RefreshTokenRef = &v1alpha1.RefreshTokenReference{Name: "aprimo-bootstrap"}
	})
	Eventually(w.condition(name, v1alpha1.ConditionReady), timeout, interval).Should(Equal("True/TokenIssued"))
}

func (w *world) forceRefresh(name, value string) {
	w.update(name, func(c *v1alpha1.AprimoCredential) {
		if c.Annotations == nil {
			c.Annotations = map[string]string{}
		}
		c.Annotations[v1alpha1.RefreshRequestedAtAnnotation] = value
	})
}

// expectNoTokenSentTwice checks the fake's log: no refresh token was presented twice.
func (w *world) expectNoTokenSentTwice() {
	seen := map[string]bool{}
	for _, r := range w.requestLog() {
		if r.RefreshTokenSHA256 == "" {
			continue
		}
		Expect(seen[r.RefreshTokenSHA256]).To(BeFalse(), "refresh token sent twice: %+v", w.requestLog())
		seen[r.RefreshTokenSHA256] = true
	}
}

var _ = Describe("Refresh-token chain", func() {
	var w *world
	BeforeEach(func() {
		w = newWorld(aprimotest.Registration{Grants: []string{aprimotest.GrantAuthorizationCode}})
	})

	It("never resends a bootstrap token a GitOps rollback restores, and keeps the live chain", func() {
		b1 := fake.IssueRefreshToken(w.clientID)
		w.secret("aprimo-bootstrap", map[string]string{"refresh-token": b1})
		w.refreshChain("revert")

		b2 := fake.IssueRefreshToken(w.clientID)
		w.secret("aprimo-bootstrap", map[string]string{"refresh-token": b2})
		Eventually(w.requests, timeout, interval).Should(Equal(2))
		Expect(w.requestLog()[1].RefreshTokenSHA256).To(Equal(sha256Hex(b2)))

		w.secret("aprimo-bootstrap", map[string]string{"refresh-token": b1}) // the rollback
		// A token the chain has seen is no news: nothing is sent.
		Consistently(w.requests, 2*time.Second, 200*time.Millisecond).Should(Equal(2))
		w.forceRefresh("revert", "after-rollback")
		Eventually(w.requests, timeout, interval).Should(Equal(3))
		Expect(w.requestLog()[2].Status).To(Equal(200))
		w.expectNoTokenSentTwice()
		Eventually(w.condition("revert", v1alpha1.ConditionReady), timeout, interval).Should(Equal("True/TokenIssued"))
	})

	It("keeps the live chain when a new bootstrap token is rejected", func() {
		w.secret("aprimo-bootstrap", map[string]string{"refresh-token": fake.IssueRefreshToken(w.clientID)})
		w.refreshChain("typo")
		w.secret("aprimo-bootstrap", map[string]string{"refresh-token": "not-a-real-token-" + randomString(16)})

		Eventually(w.events("typo"), timeout, interval).Should(ContainElement("Warning/InvalidGrant"))
		// The next try continues the chain the typo did not destroy.
		w.forceRefresh("typo", "after-typo")
		Eventually(w.condition("typo", v1alpha1.ConditionReady), timeout, interval).Should(Equal("True/TokenIssued"))
		Expect(fake.ValidAccessToken(w.accessToken("typo")())).To(BeTrue())
		w.expectNoTokenSentTwice()
	})

	It("refuses a bootstrap token an older credential already uses", func() {
		w.secret("aprimo-bootstrap", map[string]string{"refresh-token": fake.IssueRefreshToken(w.clientID)})
		w.refreshChain("first")
		w.credential("second", func(s *v1alpha1.AprimoCredentialSpec) {
			s.Flow = v1alpha1.FlowRefreshToken
			s.RefreshTokenRef = &v1alpha1.RefreshTokenReference{Name: "aprimo-bootstrap"}
		})
		Eventually(w.condition("second", v1alpha1.ConditionStalled), timeout, interval).Should(Equal("True/InvalidGrant"))
		Expect(w.conditionMessage("second", v1alpha1.ConditionReady)).To(ContainSubstring("AprimoCredential first"))
		Expect(w.requests()).To(Equal(1))
		w.forceRefresh("first", "still-alive")
		Eventually(w.requests, timeout, interval).Should(Equal(2))
		Expect(w.requestLog()[1].Status).To(Equal(200))
	})

	It("treats a 502 after the refresh as a possibly redeemed token and never resends it", func() {
		w.secret("aprimo-bootstrap", map[string]string{"refresh-token": fake.IssueRefreshToken(w.clientID)})
		w.refreshChain("gateway")
		fake.FailNextFor(w.clientID, 1, aprimotest.Fault{Process: true, Status: http.StatusBadGateway})
		w.forceRefresh("gateway", "now")

		Eventually(w.condition("gateway", v1alpha1.ConditionStalled), timeout, interval).Should(Equal("True/InvalidGrant"))
		Expect(w.conditionMessage("gateway", v1alpha1.ConditionStalled)).To(ContainSubstring("aprimo-bootstrap"))
		Consistently(w.requests, 2*time.Second, 200*time.Millisecond).Should(Equal(2))
		w.expectNoTokenSentTwice()
	})

	It("goes on with the chain after the bootstrap Secret is deleted", func() {
		w.secret("aprimo-bootstrap", map[string]string{"refresh-token": fake.IssueRefreshToken(w.clientID)})
		w.refreshChain("one-shot")
		Expect(k8s.Delete(suiteCtx, w.getSecret("aprimo-bootstrap"))).To(Succeed())
		Consistently(w.requests, 2*time.Second, 200*time.Millisecond).Should(Equal(1))
		w.forceRefresh("one-shot", "without-bootstrap")
		Eventually(w.requests, timeout, interval).Should(Equal(2))
		for _, r := range w.requestLog() {
			Expect(r.Status).To(Equal(200))
		}
		Eventually(w.condition("one-shot", v1alpha1.ConditionReady), timeout, interval).Should(Equal("True/TokenIssued"))
		w.expectNoTokenSentTwice()
	})

	It("finishes a refresh in progress when the manager stops, so the chain survives the restart", func() {
		w.secret("aprimo-bootstrap", map[string]string{"refresh-token": fake.IssueRefreshToken(w.clientID)})
		w.refreshChain("rollout")
		fake.FailNextFor(w.clientID, 1, aprimotest.Fault{Delay: 2 * time.Second})
		w.forceRefresh("rollout", "during-rollout")
		Eventually(w.requests, timeout, interval).Should(Equal(2)) // sent; the answer is 2s away

		stopManager() // cancels the reconcile's context mid-request
		stopManager = startManager()

		// The answer arrived after the stop and was recorded: the chain goes on.
		Eventually(w.condition("rollout", v1alpha1.ConditionReady), timeout, interval).Should(Equal("True/TokenIssued"))
		Consistently(w.requests, time.Second, 100*time.Millisecond).Should(Equal(2))
		Expect(w.getSecret("rollout-aprimo-state").Annotations).To(HaveKeyWithValue(phaseAnnotation, "Unused"))
		w.forceRefresh("rollout", "after-rollout")
		Eventually(w.requests, timeout, interval).Should(Equal(3))
		Expect(w.requestLog()[2].Status).To(Equal(200))
		w.expectNoTokenSentTwice()
	})
})

var _ = Describe("Password flow chain", func() {
	It("starts again with the password grant when the user changes", func() {
		w := newWorld(aprimotest.Registration{})
		u1, u2 := "u1-"+randomString(4), "u2-"+randomString(4)
		t1, t2 := "ut-"+randomString(24), "ut-"+randomString(24)
		fake.AddUser(u1, t1)
		fake.AddUser(u2, t2)
		w.secret("aprimo-user", map[string]string{"username": u1, "user-token": t1})
		w.credential("switch", func(s *v1alpha1.AprimoCredentialSpec) {
			s.Flow = v1alpha1.FlowResourceOwnerPassword
			s.Scopes = []string{"api", "offline_access"}
			s.UserTokenRef = &v1alpha1.UserTokenReference{Name: "aprimo-user"}
		})
		Eventually(w.requests, timeout, interval).Should(Equal(1))

		w.secret("aprimo-user", map[string]string{"username": u2, "user-token": t2})
		Eventually(w.requests, timeout, interval).Should(Equal(2))
		Expect(w.requestLog()[1].GrantType).To(Equal("password"))
	})
})
