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
	"crypto/rand"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo/aprimotest"
)

// A world is one spec's namespace and Aprimo registration.
type world struct {
	ns           string
	clientID     string
	clientSecret string
}

// randomString returns n random characters from [a-z0-9]: valid in names,
// and random enough that an 8-character window of a secret made from it
// cannot match log text by chance.
func randomString(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// newWorld creates a namespace, an Aprimo registration on the fake and the
// Secret holding its client ID and secret (named "aprimo-client").
func newWorld(reg aprimotest.Registration) *world {
	w := &world{ns: "t-" + randomString(8), clientID: "client-" + randomString(8), clientSecret: "cs-" + randomString(24)}
	Expect(k8s.Create(suiteCtx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: w.ns}})).To(Succeed())
	// Deleting the credentials stops their refreshes, so no spec's traffic
	// reaches the shared fake during another. (envtest runs no namespace or
	// garbage collector: the Secrets stay, for the leak scan.)
	DeferCleanup(func() {
		Expect(k8s.DeleteAllOf(suiteCtx, &v1alpha1.AprimoCredential{}, client.InNamespace(w.ns))).To(Succeed())
	})
	reg.ClientID, reg.ClientSecret = w.clientID, w.clientSecret
	fake.AddRegistration(reg)
	w.secret("aprimo-client", map[string]string{"client-id": w.clientID, "client-secret": w.clientSecret})
	return w
}

// secret creates or replaces a user-owned Secret.
func (w *world) secret(name string, data map[string]string) {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: name}, StringData: data}
	existing := &corev1.Secret{}
	if err := k8s.Get(suiteCtx, types.NamespacedName{Namespace: w.ns, Name: name}, existing); err == nil {
		existing.Data, existing.StringData = nil, data
		Expect(k8s.Update(suiteCtx, existing)).To(Succeed())
		return
	}
	Expect(k8s.Create(suiteCtx, s)).To(Succeed())
}

// credential creates an AprimoCredential against the fake.
func (w *world) credential(name string, mutate func(*v1alpha1.AprimoCredentialSpec)) *v1alpha1.AprimoCredential {
	c := &v1alpha1.AprimoCredential{
		ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: name},
		Spec: v1alpha1.AprimoCredentialSpec{
			URL:             fake.URL(),
			ClientSecretRef: v1alpha1.ClientSecretReference{Name: "aprimo-client"},
		},
	}
	if mutate != nil {
		mutate(&c.Spec)
	}
	Expect(k8s.Create(suiteCtx, c)).To(Succeed())
	return c
}

// update changes an AprimoCredential as a user would, retrying when the
// operator's status write got there first.
func (w *world) update(name string, mutate func(*v1alpha1.AprimoCredential)) {
	Expect(retry.RetryOnConflict(retry.DefaultRetry, func() error {
		c := w.get(name)
		mutate(c)
		return k8s.Update(suiteCtx, c)
	})).To(Succeed())
}

func (w *world) get(name string) *v1alpha1.AprimoCredential {
	c := &v1alpha1.AprimoCredential{}
	Expect(k8s.Get(suiteCtx, types.NamespacedName{Namespace: w.ns, Name: name}, c)).To(Succeed())
	return c
}

func (w *world) secretData(name string) map[string][]byte {
	s := &corev1.Secret{}
	if err := k8s.Get(suiteCtx, types.NamespacedName{Namespace: w.ns, Name: name}, s); err != nil {
		return nil
	}
	return s.Data
}

func (w *world) getSecret(name string) *corev1.Secret {
	s := &corev1.Secret{}
	Expect(k8s.Get(suiteCtx, types.NamespacedName{Namespace: w.ns, Name: name}, s)).To(Succeed())
	return s
}

// requests counts the token requests the fake saw from this world's client.
func (w *world) requests() int { return fake.CountRequests(w.clientID) }

func (w *world) requestLog() []aprimotest.Request {
	var out []aprimotest.Request
	for _, r := range fake.Requests() {
		if r.ClientID == w.clientID {
			out = append(out, r)
		}
	}
	return out
}

// condition returns "Status/Reason" of a condition, for compact assertions.
func (w *world) condition(name, condType string) func() string {
	return func() string {
		c := meta.FindStatusCondition(w.get(name).Status.Conditions, condType)
		if c == nil {
			return ""
		}
		return fmt.Sprintf("%s/%s", c.Status, c.Reason)
	}
}

func (w *world) conditionMessage(name, condType string) string {
	c := meta.FindStatusCondition(w.get(name).Status.Conditions, condType)
	if c == nil {
		return ""
	}
	return c.Message
}

// accessToken returns the access token in a target Secret, "" if none.
func (w *world) accessToken(name string) func() string {
	return func() string { return string(w.secretData(name)[v1alpha1.AccessTokenKey]) }
}

// events returns "type/reason" of the events about an AprimoCredential.
func (w *world) events(name string) func() []string {
	return func() []string {
		var list eventsv1.EventList
		Expect(k8s.List(suiteCtx, &list, client.InNamespace(w.ns))).To(Succeed())
		var out []string
		for _, e := range list.Items {
			if e.Regarding.Name == name && e.Regarding.Kind == "AprimoCredential" {
				out = append(out, e.Type+"/"+e.Reason)
			}
		}
		return out
	}
}

const (
	timeout  = 20 * time.Second
	interval = 100 * time.Millisecond
)

// countingListener listens on a loopback port that is no Aprimo, closes every
// connection at once and counts them: a spec asserts the operator never
// connected there (an address outside the allowlist, a redirect's target).
func countingListener() (port string, accepted *atomic.Int32) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(l.Close)
	accepted = &atomic.Int32{}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			_ = c.Close()
		}
	}()
	_, port, _ = net.SplitHostPort(l.Addr().String())
	return port, accepted
}
