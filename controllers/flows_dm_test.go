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
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo/aprimotest"
)

// paths lists "path status" of this world's requests, e.g. "/api/token 200".
func (w *world) paths() []string {
	var out []string
	for _, r := range w.requestLog() {
		out = append(out, r.Path+" "+strconv.Itoa(r.Status))
	}
	return out
}

var _ = Describe("Aprimo DM (flow DistributedMarketing)", func() {
	It("keeps its Secret valid across several renewals, one password request each, without a client secret", func() {
		w := newWorld(aprimotest.Registration{Grants: []string{aprimotest.GrantDistributedMarketing}})
		user, password := "dm-"+randomString(4), "pw-"+randomString(24)
		fake.AddUser(user, password)
		w.secret("dm-client", map[string]string{"client-id": w.clientID}) // DM has no client secret
		w.secret("dm-user", map[string]string{"username": user, "password": password})
		w.credential("dm", func(s *v1alpha1.AprimoCredentialSpec) {
			s.Flow = v1alpha1.FlowDistributedMarketing
			s.ClientSecretRef = v1alpha1.ClientSecretReference{Name: "dm-client"}
			s.UserTokenRef = &v1alpha1.UserTokenReference{Name: "dm-user", UserTokenKey: "password"}
		})
		Eventually(w.condition("dm", v1alpha1.ConditionReady), timeout, interval).Should(Equal("True/TokenIssued"))
		Expect(w.get("dm").Status.ExpiresAt.Time).To(BeTemporally("~", time.Now().Add(aprimotest.DefaultTokenLifetime-time.Second), 30*time.Second))

		seen := map[string]bool{w.accessToken("dm")(): true}
		for i := 1; i <= 3; i++ {
			w.forceRefresh("dm", strconv.Itoa(i))
			Eventually(w.requests, timeout, interval).Should(Equal(1 + i))
			Eventually(func() bool { return seen[w.accessToken("dm")()] }, timeout, interval).Should(BeFalse())
			tok := w.accessToken("dm")()
			Expect(fake.ValidAccessToken(tok)).To(BeTrue())
			seen[tok] = true
		}
		Consistently(w.requests, 2*time.Second, 200*time.Millisecond).Should(Equal(4))
		Expect(w.paths()).To(HaveEach("/api/v1.0/token 200"))
		for _, r := range w.requestLog() {
			Expect(r.GrantType).To(Equal("password"))
		}
		Expect(w.condition("dm", v1alpha1.ConditionDeprecated)()).To(BeEmpty())
	})

	It("renews a short-lived DM token before it expires, with the same request", func() {
		w := newWorld(aprimotest.Registration{Grants: []string{aprimotest.GrantDistributedMarketing}, TokenLifetime: 13 * time.Second})
		user, password := "dm-"+randomString(4), "pw-"+randomString(24)
		fake.AddUser(user, password)
		w.secret("dm-user", map[string]string{"username": user, "user-token": password})
		w.credential("dm-short", func(s *v1alpha1.AprimoCredentialSpec) {
			s.Flow = v1alpha1.FlowDistributedMarketing
			s.UserTokenRef = &v1alpha1.UserTokenReference{Name: "dm-user"}
		})
		Eventually(w.requests, 30*time.Second, interval).Should(BeNumerically(">=", 3))
		Expect(w.paths()).To(HaveEach("/api/v1.0/token 200"))
		Expect(fake.ValidAccessToken(w.accessToken("dm-short")())).To(BeTrue())
		Expect(w.get("dm-short").Status.FailedAttempts).To(BeZero())
	})

	It("reports a wrong DM password as InvalidGrant, naming the Secret", func() {
		w := newWorld(aprimotest.Registration{Grants: []string{aprimotest.GrantDistributedMarketing}})
		user := "dm-" + randomString(4)
		fake.AddUser(user, "pw-"+randomString(24))
		w.secret("dm-user", map[string]string{"username": user, "user-token": "pw-" + randomString(24)})
		w.credential("dm-wrong", func(s *v1alpha1.AprimoCredentialSpec) {
			s.Flow = v1alpha1.FlowDistributedMarketing
			s.UserTokenRef = &v1alpha1.UserTokenReference{Name: "dm-user"}
		})
		Eventually(w.condition("dm-wrong", v1alpha1.ConditionStalled), timeout, interval).Should(Equal("True/InvalidGrant"))
		Expect(w.conditionMessage("dm-wrong", v1alpha1.ConditionStalled)).To(ContainSubstring("user name and password in Secret " + w.ns + "/dm-user"))
		Expect(w.requests()).To(Equal(1))
	})
})
