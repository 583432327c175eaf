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
})
