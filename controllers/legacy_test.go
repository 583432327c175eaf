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
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo/aprimotest"
)

const (
	nativePath  = "/api/oauth/create-native-token"
	refreshPath = "/api/token"
	revokePath  = "/api/oauth/revoke/"
)

// legacyWorld is a world with a legacy registration and a user whose user
// token is in Secret "aprimo-user".
func legacyWorld(reg aprimotest.Registration) (*world, string) {
	reg.Grants = []string{aprimotest.GrantLegacy}
	w := newWorld(reg)
	user := "legacy-" + randomString(4)
	userToken := "ut-" + randomString(24)
	fake.AddUser(user, userToken)
	w.secret("aprimo-user", map[string]string{"username": user, "user-token": userToken})
	return w, user
}

func legacySpec(mutate func(*v1alpha1.AprimoCredentialSpec)) func(*v1alpha1.AprimoCredentialSpec) {
	return func(s *v1alpha1.AprimoCredentialSpec) {
		s.Flow = v1alpha1.FlowLegacyUserToken
		s.UserTokenRef = &v1alpha1.UserTokenReference{Name: "aprimo-user"}
		if mutate != nil {
			mutate(s)
		}
	}
}

var _ = Describe("Legacy Aprimo authorization (flow LegacyUserToken)", func() {
	It("renews with the legacy refresh token, one request per renewal, and says the flow is deprecated", func() {
		w, _ := legacyWorld(aprimotest.Registration{})
		w.credential("legacy", legacySpec(nil))
		Eventually(w.condition("legacy", v1alpha1.ConditionReady), timeout, interval).Should(Equal("True/TokenIssued"))
		// The fake answers without expires_in: the lifetime comes from the JWT's exp.
		Expect(w.get("legacy").Status.ExpiresAt.Time).To(BeTemporally("~", time.Now().Add(aprimotest.DefaultTokenLifetime), 30*time.Second))
		state := w.getSecret("legacy-aprimo-state")
		Expect(state.Annotations).To(HaveKey(issuedAtStateAnnotation))

		for i := 1; i <= 3; i++ {
			w.forceRefresh("legacy", strconv.Itoa(i))
			Eventually(w.requests, timeout, interval).Should(Equal(1 + i))
		}
		Consistently(w.requests, 2*time.Second, 200*time.Millisecond).Should(Equal(4))
		Expect(w.paths()).To(Equal([]string{nativePath + " 200", refreshPath + " 200", refreshPath + " 200", refreshPath + " 200"}))
		Eventually(func() bool { return fake.ValidAccessToken(w.accessToken("legacy")()) }, timeout, interval).Should(BeTrue())
		// The refresh token is reused, not rotated: the same one was sent each time.
		hashes := map[string]bool{}
		for _, r := range w.requestLog()[1:] {
			hashes[r.RefreshTokenSHA256] = true
		}
		Expect(hashes).To(HaveLen(1))

		Expect(w.condition("legacy", v1alpha1.ConditionDeprecated)()).To(Equal("True/LegacyAuthorization"))
		Expect(w.conditionMessage("legacy", v1alpha1.ConditionDeprecated)).To(ContainSubstring("ResourceOwnerPassword"))
		Eventually(w.events("legacy"), timeout, interval).Should(ConsistOf("Normal/TokenIssued", "Warning/LegacyAuthorization"))
	})

	It("gets a new pair with create-native-token when the refresh token ends, without an outage", func() {
		w, _ := legacyWorld(aprimotest.Registration{TokenLifetime: 12 * time.Second, LegacyRefreshTokenLifetime: 5 * time.Second})
		w.credential("legacy-end", legacySpec(nil))
		// 12s tokens renew about every 2s; the refresh token ends 5s after each native call.
		Eventually(func() []string { return w.paths() }, 40*time.Second, interval).Should(ContainElements(
			refreshPath+" 200", refreshPath+" 401", nativePath+" 200"))
		Eventually(func() int {
			n := 0
			for _, p := range w.paths() {
				if p == nativePath+" 200" {
					n++
				}
			}
			return n
		}, 40*time.Second, interval).Should(BeNumerically(">=", 2))
		for i, p := range w.paths() {
			if p == refreshPath+" 401" { // every refused refresh is followed at once by a native-token call
				Expect(w.paths()[i+1]).To(Equal(nativePath + " 200"))
			}
		}
		c := w.get("legacy-end")
		Expect(c.Status.FailedAttempts).To(BeZero())
		Expect(w.condition("legacy-end", v1alpha1.ConditionReady)()).To(Equal("True/TokenIssued"))
		Expect(fake.ValidAccessToken(w.accessToken("legacy-end")())).To(BeTrue())
	})

	It("replaces a JWT refresh token with a new pair before its end, so Aprimo never refuses one", func() {
		w, _ := legacyWorld(aprimotest.Registration{TokenLifetime: 12 * time.Second,
			LegacyRefreshTokenLifetime: 12 * time.Second, LegacyJWTRefreshTokens: true})
		w.credential("legacy-jwt", legacySpec(nil))
		Eventually(w.condition("legacy-jwt", v1alpha1.ConditionReady), timeout, interval).Should(Equal("True/TokenIssued"))
		Expect(w.getSecret("legacy-jwt-aprimo-state").Annotations).To(HaveKey(expiresAtStateAnnotation))
		// Access tokens renew about every 2s; the pair 9s after issue (a quarter of 12s early).
		Eventually(func() int {
			n := 0
			for _, p := range w.paths() {
				if p == nativePath+" 200" {
					n++
				}
			}
			return n
		}, 40*time.Second, interval).Should(BeNumerically(">=", 3))
		Expect(w.paths()).To(ContainElement(refreshPath + " 200"))
		Expect(w.paths()).To(HaveEach(BeElementOf(nativePath+" 200", refreshPath+" 200")), "no refresh token was sent after its end")
		Expect(w.get("legacy-jwt").Status.FailedAttempts).To(BeZero())
	})

	It("revokes all of the user's refresh tokens on deletion", func() {
		w, user := legacyWorld(aprimotest.Registration{})
		w.credential("legacy-revoke", legacySpec(func(s *v1alpha1.AprimoCredentialSpec) {
			s.Legacy = &v1alpha1.LegacySettings{RevokeOnDelete: true, UserID: fake.UserID(user)}
		}))
		Eventually(w.condition("legacy-revoke", v1alpha1.ConditionReady), timeout, interval).Should(Equal("True/TokenIssued"))
		Expect(w.get("legacy-revoke").Finalizers).To(ContainElement(v1alpha1.RevokeFinalizer))
		Expect(fake.LiveLegacyRefreshTokens(user)).To(Equal(1))

		Expect(k8s.Delete(suiteCtx, w.get("legacy-revoke"))).To(Succeed())
		Eventually(func() bool {
			err := k8s.Get(suiteCtx, types.NamespacedName{Namespace: w.ns, Name: "legacy-revoke"}, &v1alpha1.AprimoCredential{})
			return apierrors.IsNotFound(err)
		}, timeout, interval).Should(BeTrue())
		Expect(fake.LiveLegacyRefreshTokens(user)).To(BeZero())
		paths := w.paths()
		Expect(paths[len(paths)-1]).To(Equal(revokePath + " 204"))
		Expect(paths[len(paths)-2]).To(Equal(nativePath+" 200"), "the revoke used the stored token: no token request before it")
		Eventually(w.events("legacy-revoke"), timeout, interval).Should(ContainElement("Normal/Revoked"))
	})

	It("drops the finalizer when revokeOnDelete is turned off", func() {
		w, user := legacyWorld(aprimotest.Registration{})
		w.credential("legacy-off", legacySpec(func(s *v1alpha1.AprimoCredentialSpec) {
			s.Legacy = &v1alpha1.LegacySettings{RevokeOnDelete: true, UserID: fake.UserID(user)}
		}))
		Eventually(func() []string { return w.get("legacy-off").Finalizers }, timeout, interval).Should(ContainElement(v1alpha1.RevokeFinalizer))
		w.update("legacy-off", func(c *v1alpha1.AprimoCredential) { c.Spec.Legacy.RevokeOnDelete = false })
		Eventually(func() []string { return w.get("legacy-off").Finalizers }, timeout, interval).ShouldNot(ContainElement(v1alpha1.RevokeFinalizer))
	})

	It("does not hold up a deletion past the deadline when the revoke keeps failing", func() {
		w, user := legacyWorld(aprimotest.Registration{})
		other := "other-" + randomString(4)
		fake.AddUser(other, "ut-"+randomString(24))
		w.credential("legacy-stuck", legacySpec(func(s *v1alpha1.AprimoCredentialSpec) {
			// Another user's ID: the fake refuses the revoke with 403 every time.
			s.Legacy = &v1alpha1.LegacySettings{RevokeOnDelete: true, UserID: fake.UserID(other)}
		}))
		Eventually(w.condition("legacy-stuck", v1alpha1.ConditionReady), timeout, interval).Should(Equal("True/TokenIssued"))
		Eventually(func() []string { return w.get("legacy-stuck").Finalizers }, timeout, interval).Should(ContainElement(v1alpha1.RevokeFinalizer))

		Expect(k8s.Delete(suiteCtx, w.get("legacy-stuck"))).To(Succeed())
		deletedAt := time.Now()
		Eventually(func() bool {
			err := k8s.Get(suiteCtx, types.NamespacedName{Namespace: w.ns, Name: "legacy-stuck"}, &v1alpha1.AprimoCredential{})
			return apierrors.IsNotFound(err)
		}, suiteRevokeDeadline+15*time.Second, interval).Should(BeTrue())
		Expect(time.Since(deletedAt)).To(BeNumerically("<", suiteRevokeDeadline+10*time.Second))
		Expect(time.Since(deletedAt)).To(BeNumerically(">=", suiteRevokeDeadline-time.Second), "the revoke was retried until the deadline")

		revokes := 0
		for _, p := range w.paths() {
			if p == revokePath+" 403" {
				revokes++
			}
		}
		Expect(revokes).To(BeNumerically(">=", 2), "a failed revoke is retried")
		Expect(w.paths()).To(HaveEach(BeElementOf(nativePath+" 200", revokePath+" 403")),
			"each retry used the stored token: no renewal for a revoke")
		Expect(fake.LiveLegacyRefreshTokens(user)).To(BeNumerically(">=", 1))
		Eventually(w.events("legacy-stuck"), timeout, interval).Should(ContainElements("Warning/RevokeFailed", "Warning/RevokeAbandoned"))
	})
})
