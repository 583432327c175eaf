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
	"crypto/sha256"
	"encoding/hex"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo/aprimotest"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/policy"
)

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

var _ = Describe("Lifecycle", func() {
	It("restores a deleted target Secret promptly", func() {
		w := newWorld(aprimotest.Registration{})
		w.credential("restore", nil)
		Eventually(w.accessToken("restore"), timeout, interval).ShouldNot(BeEmpty())
		Expect(k8s.Delete(suiteCtx, w.getSecret("restore"))).To(Succeed())
		Eventually(w.accessToken("restore"), 10*time.Second, interval).ShouldNot(BeEmpty())
		Expect(fake.ValidAccessToken(w.accessToken("restore")())).To(BeTrue())
		Eventually(w.condition("restore", v1alpha1.ConditionReady), timeout, interval).Should(Equal("True/TokenIssued"))
	})

	It("replaces a hand-edited token and repairs removed labels without a token request", func() {
		w := newWorld(aprimotest.Registration{})
		w.credential("edited", nil)
		Eventually(w.accessToken("edited"), timeout, interval).ShouldNot(BeEmpty())

		s := w.getSecret("edited")
		delete(s.Labels, v1alpha1.CredentialLabel)
		Expect(k8s.Update(suiteCtx, s)).To(Succeed())
		Eventually(func() map[string]string { return w.getSecret("edited").Labels }, 10*time.Second, interval).
			Should(HaveKeyWithValue(v1alpha1.CredentialLabel, "edited"))
		Expect(w.requests()).To(Equal(1))

		s = w.getSecret("edited")
		s.Data[v1alpha1.AccessTokenKey] = []byte("tampered")
		Expect(k8s.Update(suiteCtx, s)).To(Succeed())
		Eventually(func() bool { return fake.ValidAccessToken(w.accessToken("edited")()) }, 10*time.Second, interval).Should(BeTrue())
		Expect(w.requests()).To(Equal(2))
	})

	It("follows spec.target's labels and annotations, dropping those it no longer sets, without a token request", func() {
		w := newWorld(aprimotest.Registration{})
		w.credential("relabel", func(s *v1alpha1.AprimoCredentialSpec) {
			s.Target.Labels = map[string]string{"team": "dam", "tier": "gold"}
			s.Target.Annotations = map[string]string{"example.com/owner": "dam"}
		})
		Eventually(w.accessToken("relabel"), timeout, interval).ShouldNot(BeEmpty())
		s := w.getSecret("relabel")
		s.Labels["added-by-someone"] = "x" // another writer's label stays
		Expect(k8s.Update(suiteCtx, s)).To(Succeed())

		w.update("relabel", func(c *v1alpha1.AprimoCredential) {
			c.Spec.Target.Labels = map[string]string{"team": "mam"}
			c.Spec.Target.Annotations = nil
		})
		Eventually(func() map[string]string { return w.getSecret("relabel").Labels }, 10*time.Second, interval).Should(And(
			HaveKeyWithValue("team", "mam"), Not(HaveKey("tier")), HaveKeyWithValue("added-by-someone", "x")))
		Eventually(func() map[string]string { return w.getSecret("relabel").Annotations }, 10*time.Second, interval).
			ShouldNot(HaveKey("example.com/owner"))
		Expect(w.requests()).To(Equal(1))
	})

	It("never overwrites a Secret it does not own", func() {
		w := newWorld(aprimotest.Registration{})
		w.secret("taken", map[string]string{"mine": "user-data"})
		w.credential("conflict", func(s *v1alpha1.AprimoCredentialSpec) { s.Target.Name = "taken" })
		Eventually(w.condition("conflict", v1alpha1.ConditionReady), timeout, interval).Should(Equal("False/TargetSecretConflict"))
		Expect(w.condition("conflict", v1alpha1.ConditionStalled)()).To(Equal("True/TargetSecretConflict"))
		Expect(w.secretData("taken")).To(Equal(map[string][]byte{"mine": []byte("user-data")}))
		Expect(w.requests()).To(Equal(0))

		// Deleting the user's Secret frees the name; the watch retries at once.
		Expect(k8s.Delete(suiteCtx, w.getSecret("taken"))).To(Succeed())
		Eventually(w.condition("conflict", v1alpha1.ConditionReady), 10*time.Second, interval).Should(Equal("True/TokenIssued"))
	})

	It("refuses a target label value the Secret could not carry, before any token request", func() {
		w := newWorld(aprimotest.Registration{})
		w.credential("badlabel", func(s *v1alpha1.AprimoCredentialSpec) {
			s.Target.Labels = map[string]string{"team": "dam/web"}
		})
		Eventually(w.condition("badlabel", v1alpha1.ConditionStalled), timeout, interval).Should(Equal("True/TargetSecretConflict"))
		Expect(w.conditionMessage("badlabel", v1alpha1.ConditionReady)).To(ContainSubstring("label team"))
		Expect(w.requests()).To(Equal(0))
	})

	It("requests nothing while suspended, and resumes", func() {
		w := newWorld(aprimotest.Registration{})
		w.credential("paused", func(s *v1alpha1.AprimoCredentialSpec) { s.Suspend = true })
		Eventually(w.condition("paused", v1alpha1.ConditionReady), timeout, interval).Should(Equal("False/Suspended"))
		Consistently(w.requests, 2*time.Second, 200*time.Millisecond).Should(Equal(0))

		w.update("paused", func(c *v1alpha1.AprimoCredential) { c.Spec.Suspend = false })
		Eventually(w.condition("paused", v1alpha1.ConditionReady), timeout, interval).Should(Equal("True/TokenIssued"))
	})

	It("refreshes once per distinct value of the force-refresh annotation", func() {
		w := newWorld(aprimotest.Registration{})
		w.credential("forced", nil)
		Eventually(w.requests, timeout, interval).Should(Equal(1))
		first := w.accessToken("forced")()

		annotate := func(v string) {
			w.update("forced", func(c *v1alpha1.AprimoCredential) {
				if c.Annotations == nil {
					c.Annotations = map[string]string{}
				}
				c.Annotations[v1alpha1.RefreshRequestedAtAnnotation] = v
			})
		}
		annotate("2026-11-21T10:00:00Z")
		Eventually(w.requests, timeout, interval).Should(Equal(2))
		Eventually(w.accessToken("forced"), timeout, interval).ShouldNot(Equal(first))

		// Another change to the object with the same value requests nothing.
		w.update("forced", func(c *v1alpha1.AprimoCredential) { c.Labels = map[string]string{"unrelated": "change"} })
		Consistently(w.requests, 2*time.Second, 200*time.Millisecond).Should(Equal(2))

		annotate("again")
		Eventually(w.requests, timeout, interval).Should(Equal(3))
	})

	It("never resends a refresh token found in flight after a crash, and says how to re-seed", func() {
		w := newWorld(aprimotest.Registration{Grants: []string{aprimotest.GrantAuthorizationCode}})
		bootstrap := fake.IssueRefreshToken(w.clientID)
		w.secret("aprimo-bootstrap", map[string]string{"refresh-token": bootstrap})
		// The state a crash leaves behind: the bootstrap was marked in flight, no answer recorded.
		c := w.credential("crashed", func(s *v1alpha1.AprimoCredentialSpec) {
			s.Flow = v1alpha1.FlowRefreshToken
			s.RefreshTokenRef = &v1alpha1.RefreshTokenReference{Name: "aprimo-bootstrap"}
			s.Suspend = true
		})
		state := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: "crashed-aprimo-state",
				Labels: map[string]string{v1alpha1.ManagedByLabel: v1alpha1.ManagedByValue},
				Annotations: map[string]string{phaseAnnotation: "InFlight", bootstrapAnnotation: sha256Hex(bootstrap),
					usedAnnotation: policy.ShortHash(bootstrap), bindingAnnotation: policy.ShortHash(fake.URL() + "\n" + w.clientID)},
				OwnerReferences: []metav1.OwnerReference{{APIVersion: v1alpha1.GroupVersion.String(), Kind: "AprimoCredential",
					Name: c.Name, UID: c.UID, Controller: ptrTo(true)}}},
			Data: map[string][]byte{refreshTokenKey: []byte(bootstrap)},
		}
		Expect(k8s.Create(suiteCtx, state)).To(Succeed())
		w.update("crashed", func(c *v1alpha1.AprimoCredential) { c.Spec.Suspend = false })

		Eventually(w.condition("crashed", v1alpha1.ConditionReady), timeout, interval).Should(Equal("False/InvalidGrant"))
		Expect(w.condition("crashed", v1alpha1.ConditionStalled)()).To(Equal("True/InvalidGrant"))
		Expect(w.conditionMessage("crashed", v1alpha1.ConditionReady)).To(ContainSubstring(w.ns + "/aprimo-bootstrap"))
		Expect(w.requests()).To(Equal(0))

		// A new bootstrap token starts a new chain.
		w.secret("aprimo-bootstrap", map[string]string{"refresh-token": fake.IssueRefreshToken(w.clientID)})
		Eventually(w.condition("crashed", v1alpha1.ConditionReady), 10*time.Second, interval).Should(Equal("True/TokenIssued"))
		Expect(w.requests()).To(Equal(1))
	})

	It("makes no token request after a restart while the stored tokens are valid", func() {
		w := newWorld(aprimotest.Registration{Grants: []string{aprimotest.GrantAuthorizationCode, aprimotest.GrantClientCredentials}})
		w.secret("aprimo-bootstrap", map[string]string{"refresh-token": fake.IssueRefreshToken(w.clientID)})
		w.credential("cc", nil)
		w.credential("rt", func(s *v1alpha1.AprimoCredentialSpec) {
			s.Flow = v1alpha1.FlowRefreshToken
			s.RefreshTokenRef = &v1alpha1.RefreshTokenReference{Name: "aprimo-bootstrap"}
		})
		Eventually(w.condition("cc", v1alpha1.ConditionReady), timeout, interval).Should(Equal("True/TokenIssued"))
		Eventually(w.condition("rt", v1alpha1.ConditionReady), timeout, interval).Should(Equal("True/TokenIssued"))
		Expect(w.requests()).To(Equal(2))
		rvs := []string{w.get("cc").ResourceVersion, w.get("rt").ResourceVersion, w.getSecret("cc").ResourceVersion, w.getSecret("rt").ResourceVersion}

		stopManager()
		stopManager = startManager()

		Consistently(func() []string {
			return []string{w.get("cc").ResourceVersion, w.get("rt").ResourceVersion, w.getSecret("cc").ResourceVersion, w.getSecret("rt").ResourceVersion}
		}, 4*time.Second, 200*time.Millisecond).Should(Equal(rvs))
		Expect(w.requests()).To(Equal(2))
	})
})

func ptrTo[T any](v T) *T { return &v }
