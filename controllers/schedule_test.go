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

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo/aprimotest"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/policy"
)

// heldToken is what the target Secret says of its token, and what the
// status says of it.
type heldToken struct {
	issuedAt, expiresAt time.Time
	first               bool
	statusRenewal       time.Time
	statusExpiry        time.Time
}

// held reads the credential's target Secret and status; zero while either
// is missing.
func (w *world) held(name string) heldToken {
	s, cred := &corev1.Secret{}, w.get(name)
	if err := k8s.Get(suiteCtx, types.NamespacedName{Namespace: w.ns, Name: cred.TargetName()}, s); err != nil {
		return heldToken{}
	}
	exp, err1 := time.Parse(time.RFC3339, string(s.Data[v1alpha1.ExpiresAtKey]))
	iss, err2 := time.Parse(time.RFC3339, s.Annotations[issuedAtAnnotation])
	if err1 != nil || err2 != nil || cred.Status.RenewalTime == nil || cred.Status.ExpiresAt == nil {
		return heldToken{}
	}
	return heldToken{issuedAt: iss, expiresAt: exp, first: policy.IsFirstToken(iss, s.CreationTimestamp.Time),
		statusRenewal: cred.Status.RenewalTime.Time, statusExpiry: cred.Status.ExpiresAt.Time}
}

var _ = Describe("The renewal schedule", func() {
	It("spreads a credential's first token wider than later ones, and status.renewalTime is what its Secret says", func() {
		// 20s tokens: renewBefore 10s; the first token renews 5s to 10s
		// after issue, later ones 6s to 10s after.
		w := newWorld(aprimotest.Registration{TokenLifetime: 20 * time.Second})
		w.credential("schedule", nil)
		statusCaughtUp := func() bool {
			h := w.held("schedule")
			return !h.expiresAt.IsZero() && h.statusExpiry.Equal(h.expiresAt)
		}
		expectScheduled := func(first bool) heldToken {
			Eventually(statusCaughtUp, timeout, interval).Should(BeTrue())
			h := w.held("schedule")
			Expect(h.first).To(Equal(first), "first token of its Secret")
			want := policy.RenewalTime(h.issuedAt, h.expiresAt, 0, string(w.get("schedule").UID), first)
			Expect(h.statusRenewal).To(BeTemporally("==", want), "status.renewalTime computed at issue, as from the Secret after a restart")
			Expect(h.statusRenewal).To(BeTemporally("<=", h.expiresAt.Add(-10*time.Second)))
			return h
		}

		firstTok := expectScheduled(true)
		Expect(firstTok.statusRenewal).To(BeTemporally(">=", firstTok.issuedAt.Add(5*time.Second)))
		Expect(w.requests()).To(Equal(1))

		Eventually(func() time.Time { return w.held("schedule").issuedAt }, 30*time.Second, interval).
			ShouldNot(Equal(firstTok.issuedAt))
		later := expectScheduled(false)
		Expect(later.statusRenewal).To(BeTemporally(">=", later.issuedAt.Add(6*time.Second)))
		Expect(later.issuedAt).To(BeTemporally(">=", firstTok.statusRenewal), "no earlier than its renewalTime")
		Expect(w.requests()).To(Equal(2))
	})
})
