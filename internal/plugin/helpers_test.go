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

package plugin

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
)

// result is what one run of the plugin printed and returned.
type result struct {
	out, err string
	code     int
}

// run runs the plugin in-process, as the given kubeconfig's user.
func runAs(kubeconfigPath string, args ...string) result {
	var out, errOut syncBuffer
	streams := genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	code := Execute(suiteCtx, streams, clk, append(args, "--kubeconfig", kubeconfigPath))
	GinkgoWriter.Printf("$ kubectl aprimo %s\n%s%s(exit %d)\n", strings.Join(args, " "), out.String(), errOut.String(), code)
	return result{out: out.String(), err: errOut.String(), code: code}
}

// run runs the plugin in-process as the cluster admin.
func run(args ...string) result { return runAs(kubeconfig, args...) }

// runInBackground runs the plugin and returns a channel that yields its result.
func runInBackground(args ...string) <-chan result {
	done := make(chan result, 1)
	go func() {
		defer GinkgoRecover()
		done <- run(args...)
	}()
	return done
}

// newNamespace creates a namespace for one spec.
func newNamespace() string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "plugin-"}}
	Expect(k8s.Create(suiteCtx, ns)).To(Succeed())
	return ns.Name
}

// credential creates an AprimoCredential for tenant acme in ns.
func credential(ns, name string, mutate ...func(*v1alpha1.AprimoCredential)) *v1alpha1.AprimoCredential {
	c := &v1alpha1.AprimoCredential{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.AprimoCredentialSpec{
			Tenant:          "acme",
			ClientSecretRef: v1alpha1.ClientSecretReference{Name: "aprimo-client"},
		},
	}
	for _, m := range mutate {
		m(c)
	}
	Expect(k8s.Create(suiteCtx, c)).To(Succeed())
	return c
}

// get reads a credential as the API server has it.
func get(ns, name string) *v1alpha1.AprimoCredential {
	c := &v1alpha1.AprimoCredential{}
	Expect(k8s.Get(suiteCtx, types.NamespacedName{Namespace: ns, Name: name}, c)).To(Succeed())
	return c
}

// setStatus writes a credential's status through the status subresource.
func setStatus(ns, name string, mutate func(c *v1alpha1.AprimoCredential)) {
	Expect(retry.RetryOnConflict(retry.DefaultRetry, func() error {
		c := get(ns, name)
		mutate(c)
		return k8s.Status().Update(suiteCtx, c)
	})).To(Succeed())
}

// at is the plugin's clock moved by d, as a status time.
func at(d time.Duration) *metav1.Time {
	t := metav1.NewTime(clk.Now().Add(d))
	return &t
}

// issued is the status the operator writes after a successful refresh.
func issued(c *v1alpha1.AprimoCredential, expiresIn, renewIn time.Duration) {
	c.Status = v1alpha1.AprimoCredentialStatus{
		ObservedGeneration: c.Generation,
		ExpiresAt:          at(expiresIn),
		RenewalTime:        at(renewIn),
		LastRefreshTime:    at(-time.Minute),
		LastRefreshRequest: c.Status.LastRefreshRequest,
		Conditions: []metav1.Condition{
			condition(c, v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonTokenIssued,
				"Secret "+c.TargetName()+" holds a token valid until "+at(expiresIn).UTC().Format(time.RFC3339)+"."),
			condition(c, v1alpha1.ConditionStalled, metav1.ConditionFalse, v1alpha1.ReasonTokenIssued, ""),
		},
	}
}

// failed is the status the operator writes after a failed refresh: Ready
// stays True (RefreshFailing) while a token valid for tokenLeft remains.
func failed(c *v1alpha1.AprimoCredential, reason, message string, stalled bool, tokenLeft time.Duration) {
	st := &c.Status
	st.ObservedGeneration = c.Generation
	st.FailedAttempts++
	st.LastFailureTime = at(0)
	st.RenewalTime = at(30 * time.Second)
	stalledStatus := metav1.ConditionFalse
	if stalled {
		stalledStatus = metav1.ConditionTrue
	}
	ready := condition(c, v1alpha1.ConditionReady, metav1.ConditionFalse, reason, message)
	if tokenLeft > 0 {
		st.ExpiresAt = at(tokenLeft)
		ready = condition(c, v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonRefreshFailing,
			"The last refresh failed ("+reason+"): "+message)
	}
	st.Conditions = []metav1.Condition{ready, condition(c, v1alpha1.ConditionStalled, stalledStatus, reason, message)}
}

func condition(c *v1alpha1.AprimoCredential, typ string, status metav1.ConditionStatus, reason, message string) metav1.Condition {
	return metav1.Condition{
		Type: typ, Status: status, Reason: reason, Message: message,
		ObservedGeneration: c.Generation, LastTransitionTime: *at(-5 * time.Minute),
	}
}

// playOperator acts as the operator for the credentials of ns: each time one
// carries a refresh request it has not seen, answer sets the status to
// write (and records the request in status.lastRefreshRequest, or not). It
// stops when the spec ends.
func playOperator(ns string, answer func(c *v1alpha1.AprimoCredential, request string)) {
	ctx, cancel := context.WithCancel(suiteCtx)
	DeferCleanup(cancel)
	w, err := k8s.Watch(ctx, &v1alpha1.AprimoCredentialList{}, client.InNamespace(ns))
	Expect(err).NotTo(HaveOccurred())
	go func() {
		defer GinkgoRecover()
		defer w.Stop()
		seen := map[types.UID]string{}
		for ev := range w.ResultChan() {
			c, ok := ev.Object.(*v1alpha1.AprimoCredential)
			if !ok || ev.Type == watch.Deleted {
				continue
			}
			req := c.Annotations[v1alpha1.RefreshRequestedAtAnnotation]
			if req == "" || seen[c.UID] == req {
				continue
			}
			seen[c.UID] = req
			before := c.DeepCopy()
			answer(c, req)
			if err := k8s.Status().Patch(ctx, c, client.MergeFrom(before)); err != nil && ctx.Err() == nil {
				Fail("the fake operator could not write the status: " + err.Error())
			}
		}
	}()
}

// syncBuffer is a bytes.Buffer that a background command may write while a
// spec reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
