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
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo/aprimotest"
)

const editedToken = "edited-by-someone-else"

// editLoop edits a Secret every period until ctx ends, as another controller
// or a person with kubectl would, with plain updates that lose to (and win
// against) the operator's writes by compare-and-swap. It returns how many
// edits were accepted.
func editLoop(ctx context.Context, c client.Client, key types.NamespacedName, period time.Duration, edit func(*corev1.Secret, int)) *atomic.Int64 {
	var accepted atomic.Int64
	go func() {
		defer GinkgoRecover()
		tick := time.NewTicker(period)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			s := &corev1.Secret{}
			if c.Get(ctx, key, s) != nil {
				continue
			}
			edit(s, i)
			if c.Update(ctx, s) == nil {
				accepted.Add(1)
			}
		}
	}()
	return &accepted
}

var _ = Describe("Conflicting writers", func() {
	It("keeps the refresh-token chain and restores the target while others edit the target and state Secrets", func() {
		w := newWorld(aprimotest.Registration{Grants: []string{aprimotest.GrantAuthorizationCode}, TokenLifetime: 3 * time.Second})
		w.secret("aprimo-bootstrap", map[string]string{"refresh-token": fake.IssueRefreshToken(w.clientID)})
		cred := w.credential("contested", func(s *v1alpha1.AprimoCredentialSpec) {
			s.Flow = v1alpha1.FlowRefreshToken
			s.RefreshTokenRef = &v1alpha1.RefreshTokenReference{Name: "aprimo-bootstrap"}
		})
		Eventually(w.condition("contested", v1alpha1.ConditionReady), timeout, interval).Should(Equal("True/TokenIssued"))

		// Writers of their own, not throttled by the suite's client.
		editorCfg := rest.CopyConfig(cfg)
		editorCfg.QPS, editorCfg.Burst = 200, 400
		editor, err := client.New(editorCfg, client.Options{Scheme: k8s.Scheme()})
		Expect(err).NotTo(HaveOccurred())

		ctx, stop := context.WithCancel(suiteCtx)
		var once sync.Once
		stopEditing := func() { once.Do(stop) }
		DeferCleanup(stopEditing)
		before := w.requests()
		// Someone overwrites the token in the target Secret now and then...
		targetEdits := editLoop(ctx, editor, types.NamespacedName{Namespace: w.ns, Name: cred.TargetName()}, 700*time.Millisecond,
			func(s *corev1.Secret, i int) {
				s.Data[v1alpha1.AccessTokenKey] = []byte(editedToken)
				if s.Annotations == nil {
					s.Annotations = map[string]string{}
				}
				s.Annotations["example.com/edited"] = strconv.Itoa(i)
			})
		// ...and a backup tool annotates the state Secret all the time, so the
		// operator's compare-and-swap writes of the chain meet conflicts.
		stateEdits := editLoop(ctx, editor, types.NamespacedName{Namespace: w.ns, Name: cred.StateSecretName()}, 15*time.Millisecond,
			func(s *corev1.Secret, i int) {
				if s.Annotations == nil {
					s.Annotations = map[string]string{}
				}
				s.Annotations["example.com/backed-up"] = strconv.Itoa(i)
			})

		// Rotations go on through the edits: a 3s token renews every second or so.
		Eventually(w.requests, 30*time.Second, interval).Should(BeNumerically(">=", before+8))
		stopEditing()
		Expect(targetEdits.Load()).To(BeNumerically(">", 0))
		Expect(stateEdits.Load()).To(BeNumerically(">", 0))

		// The target holds a valid token again, and the chain lives on.
		Eventually(func() bool {
			tok := w.accessToken("contested")()
			return tok != editedToken && fake.ValidAccessToken(tok)
		}, timeout, interval).Should(BeTrue())
		Eventually(w.condition("contested", v1alpha1.ConditionReady), timeout, interval).Should(Equal("True/TokenIssued"))
		Expect(w.condition("contested", v1alpha1.ConditionStalled)()).NotTo(Equal("True/InvalidGrant"))
		after := w.requests()
		Eventually(w.requests, timeout, interval).Should(BeNumerically(">", after), "the chain must keep rotating")

		seen := map[string]bool{}
		for _, r := range w.requestLog() {
			Expect(r.Status).To(Equal(200), "a refresh was rejected: %+v", r)
			Expect(seen[r.RefreshTokenSHA256]).To(BeFalse(), "a refresh token was sent twice")
			seen[r.RefreshTokenSHA256] = true
		}
		GinkgoWriter.Printf("Conflicting writers: %d target edits, %d state edits accepted, %d rotations\n",
			targetEdits.Load(), stateEdits.Load(), len(seen))
	})
})
