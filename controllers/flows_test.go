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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo/aprimotest"
)

var _ = Describe("Token flows", func() {
	It("writes a client-credentials token into the target Secret and reports Ready", func() {
		w := newWorld(aprimotest.Registration{})
		w.credential("dam-reader", func(s *v1alpha1.AprimoCredentialSpec) {
			s.Target = v1alpha1.TargetSecret{Name: "dam-token", Labels: map[string]string{"team": "dam"}, Annotations: map[string]string{"note": "x"}}
		})

		Eventually(w.condition("dam-reader", v1alpha1.ConditionReady), timeout, interval).Should(Equal("True/TokenIssued"))
		Expect(w.condition("dam-reader", v1alpha1.ConditionStalled)()).To(Equal("False/TokenIssued"))

		s := w.getSecret("dam-token")
		tok := string(s.Data[v1alpha1.AccessTokenKey])
		Expect(fake.ValidAccessToken(tok)).To(BeTrue())
		Expect(string(s.Data[v1alpha1.TokenTypeKey])).To(Equal("Bearer"))
		Expect(string(s.Data[v1alpha1.AuthorizationKey])).To(Equal("Bearer " + tok))
		expiresAt, err := time.Parse(time.RFC3339, string(s.Data[v1alpha1.ExpiresAtKey]))
		Expect(err).NotTo(HaveOccurred())
		Expect(expiresAt).To(BeTemporally("~", time.Now().Add(aprimotest.DefaultTokenLifetime), 30*time.Second))
		Expect(s.Labels).To(HaveKeyWithValue(v1alpha1.ManagedByLabel, v1alpha1.ManagedByValue))
		Expect(s.Labels).To(HaveKeyWithValue(v1alpha1.CredentialLabel, "dam-reader"))
		Expect(s.Labels).To(HaveKeyWithValue("team", "dam"))
		Expect(s.Annotations).To(HaveKeyWithValue("note", "x"))
		Expect(s.Type).To(BeEquivalentTo("Opaque"))
		Expect(metav1.IsControlledBy(s, w.get("dam-reader"))).To(BeTrue())

		c := w.get("dam-reader")
		Expect(c.Status.ExpiresAt.Time).To(BeTemporally("==", expiresAt))
		Expect(c.Status.RenewalTime.Time).To(BeTemporally("<", expiresAt.Add(-aprimotest.DefaultTokenLifetime/3).Add(time.Second)))
		Expect(c.Status.ObservedGeneration).To(Equal(c.Generation))
		Eventually(w.events("dam-reader"), timeout, interval).Should(ConsistOf("Normal/TokenIssued"))

		log := w.requestLog()
		Expect(log).To(HaveLen(1))
		Expect(log[0].GrantType).To(Equal("client_credentials"))
		Expect(log[0].Status).To(Equal(200))
	})

	It("makes no token request and no write while the token is valid", func() {
		w := newWorld(aprimotest.Registration{})
		w.credential("idle", nil)
		Eventually(w.condition("idle", v1alpha1.ConditionReady), timeout, interval).Should(Equal("True/TokenIssued"))
		secretRV := w.getSecret("idle").ResourceVersion
		credRV := w.get("idle").ResourceVersion

		// Poke it: a label on the target Secret triggers a reconcile that finds nothing to do.
		s := w.getSecret("idle")
		s.Labels["poke"] = "1"
		Expect(k8s.Update(suiteCtx, s)).To(Succeed())
		secretRV = w.getSecret("idle").ResourceVersion

		// A label and an unrelated key on the input Secret change no value a token depends on.
		in := w.getSecret("aprimo-client")
		in.Labels = map[string]string{"owner": "platform"}
		in.Data["note"] = []byte("rotated quarterly")
		Expect(k8s.Update(suiteCtx, in)).To(Succeed())

		Consistently(func() []string {
			return []string{w.getSecret("idle").ResourceVersion, w.get("idle").ResourceVersion}
		}, 3*time.Second, 200*time.Millisecond).Should(Equal([]string{secretRV, credRV}))
		Expect(w.requests()).To(Equal(1))
	})

	It("rotates the token before it expires, with exactly one request per rotation", func() {
		w := newWorld(aprimotest.Registration{TokenLifetime: 12 * time.Second})
		w.credential("short", nil)
		Eventually(w.condition("short", v1alpha1.ConditionReady), timeout, interval).Should(Equal("True/TokenIssued"))
		first := w.accessToken("short")()

		Eventually(w.requests, timeout, interval).Should(BeNumerically(">=", 3))
		second := w.accessToken("short")()
		Expect(second).NotTo(Equal(first))
		// Every token was replaced before it expired: the Secret never held a dead one.
		c := w.get("short")
		Expect(c.Status.ExpiresAt.Time).To(BeTemporally(">", time.Now()))
		for _, r := range w.requestLog() {
			Expect(r.Status).To(Equal(200))
		}
		// 12s tokens renew 10s before expiry (the 10s floor), about every 2s.
		n := w.requests()
		Consistently(w.requests, 1500*time.Millisecond, 100*time.Millisecond).Should(BeNumerically("<=", n+1))
		Eventually(w.events("short"), timeout, interval).Should(ConsistOf("Normal/TokenIssued"))
	})

	It("follows a strictly rotating refresh-token chain without replaying a token", func() {
		w := newWorld(aprimotest.Registration{TokenLifetime: 12 * time.Second, Grants: []string{aprimotest.GrantAuthorizationCode}})
		bootstrap := fake.IssueRefreshToken(w.clientID)
		w.secret("aprimo-bootstrap", map[string]string{"refresh-token": bootstrap})
		w.credential("chain", func(s *v1alpha1.AprimoCredentialSpec) {
			s.Flow = v1alpha1.FlowRefreshToken
			s.RefreshTokenRef = &v1alpha1.RefreshTokenReference{Name: "aprimo-bootstrap"}
		})

		Eventually(w.requests, 30*time.Second, interval).Should(BeNumerically(">=", 4))
		Eventually(w.condition("chain", v1alpha1.ConditionReady), timeout, interval).Should(Equal("True/TokenIssued"))
		Expect(fake.ValidAccessToken(w.accessToken("chain")())).To(BeTrue())

		seen := map[string]bool{}
		for _, r := range w.requestLog() {
			Expect(r.GrantType).To(Equal("refresh_token"))
			Expect(r.Status).To(Equal(200), "a refresh was rejected: %+v", r)
			Expect(seen[r.RefreshTokenSHA256]).To(BeFalse(), "refresh token sent twice")
			seen[r.RefreshTokenSHA256] = true
		}
		// The user's bootstrap Secret is never written to.
		Expect(string(w.secretData("aprimo-bootstrap")["refresh-token"])).To(Equal(bootstrap))
		state := w.getSecret("chain-aprimo-state")
		Expect(metav1.IsControlledBy(state, w.get("chain"))).To(BeTrue())
		Expect(state.Annotations).To(HaveKeyWithValue(phaseAnnotation, "Unused"))
	})

	It("adopts a new bootstrap refresh token at once", func() {
		w := newWorld(aprimotest.Registration{Grants: []string{aprimotest.GrantAuthorizationCode}})
		w.secret("aprimo-bootstrap", map[string]string{"refresh-token": fake.IssueRefreshToken(w.clientID)})
		w.credential("reseed", func(s *v1alpha1.AprimoCredentialSpec) {
			s.Flow = v1alpha1.FlowRefreshToken
			s.RefreshTokenRef = &v1alpha1.RefreshTokenReference{Name: "aprimo-bootstrap"}
		})
		Eventually(w.condition("reseed", v1alpha1.ConditionReady), timeout, interval).Should(Equal("True/TokenIssued"))
		Expect(w.requests()).To(Equal(1))

		// Aprimo loses the chain; the user seeds a new one.
		fake.RevokeRefreshTokens(w.clientID)
		second := fake.IssueRefreshToken(w.clientID)
		w.secret("aprimo-bootstrap", map[string]string{"refresh-token": second})

		Eventually(w.requests, timeout, interval).Should(Equal(2))
		last := w.requestLog()[1]
		Expect(last.RefreshTokenSHA256).To(Equal(sha256Hex(second)))
		Expect(last.Status).To(Equal(200))
		Eventually(w.condition("reseed", v1alpha1.ConditionReady), timeout, interval).Should(Equal("True/TokenIssued"))
	})

	It("gets a token with the resource owner password flow", func() {
		w := newWorld(aprimotest.Registration{})
		user, userToken := "jdoe-"+randomString(4), "ut-"+randomString(24)
		fake.AddUser(user, userToken)
		w.secret("aprimo-user", map[string]string{"username": user, "user-token": userToken})
		w.credential("ropc", func(s *v1alpha1.AprimoCredentialSpec) {
			s.Flow = v1alpha1.FlowResourceOwnerPassword
			s.UserTokenRef = &v1alpha1.UserTokenReference{Name: "aprimo-user"}
		})
		Eventually(w.condition("ropc", v1alpha1.ConditionReady), timeout, interval).Should(Equal("True/TokenIssued"))
		Expect(fake.ValidAccessToken(w.accessToken("ropc")())).To(BeTrue())
		Expect(w.requestLog()[0].GrantType).To(Equal("password"))
	})

	It("renews a password-flow token with its refresh token, and falls back to the password when it is rejected", func() {
		w := newWorld(aprimotest.Registration{TokenLifetime: 12 * time.Second})
		user, userToken := "jdoe-"+randomString(4), "ut-"+randomString(24)
		fake.AddUser(user, userToken)
		w.secret("aprimo-user", map[string]string{"username": user, "user-token": userToken})
		w.credential("offline", func(s *v1alpha1.AprimoCredentialSpec) {
			s.Flow = v1alpha1.FlowResourceOwnerPassword
			s.Scopes = []string{"api", "offline_access"}
			s.UserTokenRef = &v1alpha1.UserTokenReference{Name: "aprimo-user"}
		})
		Eventually(w.requests, timeout, interval).Should(BeNumerically(">=", 2))
		Expect(w.requestLog()[0].GrantType).To(Equal("password"))
		Expect(w.requestLog()[1].GrantType).To(Equal("refresh_token"))

		fake.RevokeRefreshTokens(w.clientID)
		n := w.requests()
		Eventually(func() []string {
			var grants []string
			for _, r := range w.requestLog()[n:] {
				grants = append(grants, r.GrantType+"/"+r.OAuthError)
			}
			return grants
		}, timeout, interval).Should(ContainElements("refresh_token/invalid_grant", "password/"))
		Eventually(w.condition("offline", v1alpha1.ConditionReady), timeout, interval).Should(Equal("True/TokenIssued"))
	})
})
