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

package install

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// cluster is a kube-apiserver and etcd of its own, with RBAC authorization and
// the PodSecurity admission plugin (both on by default, and kept by envtest).
type cluster struct {
	c        client.Client
	warnings *warnings
}

// startCluster starts an API server for the current container and stops it
// when the container is done. It knows the monitoring.coreos.com kinds (see
// testdata), not the operator's CRD: that comes from the install under test.
func startCluster() *cluster {
	GinkgoHelper()
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("testdata")},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := env.Start()
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(env.Stop)

	w := &warnings{}
	cfg = rest.CopyConfig(cfg)
	cfg.WarningHandlerWithContext = w
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	return &cluster{c: c, warnings: w}
}

// createNamespace creates a namespace that enforces the restricted Pod
// Security Standard, as docs/install.md recommends.
func (cl *cluster) createNamespace(ctx context.Context, name string) {
	GinkgoHelper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name:   name,
		Labels: map[string]string{"pod-security.kubernetes.io/enforce": "restricted"},
	}}
	Expect(cl.c.Create(ctx, ns)).To(Succeed())
}

// apply applies every object with server-side apply, as 'kubectl apply
// --server-side' does: namespaces and CRDs first, then the rest. Server-side
// apply checks each object against its schema and rejects unknown fields.
func (cl *cluster) apply(ctx context.Context, objs []*unstructured.Unstructured) {
	GinkgoHelper()
	rank := func(o *unstructured.Unstructured) int {
		switch o.GetKind() {
		case "Namespace":
			return 0
		case "CustomResourceDefinition":
			return 1
		default:
			return 2
		}
	}
	sorted := slices.Clone(objs)
	slices.SortStableFunc(sorted, func(a, b *unstructured.Unstructured) int { return rank(a) - rank(b) })
	for _, o := range sorted {
		o = o.DeepCopy()
		Expect(cl.c.Apply(ctx, client.ApplyConfigurationFromUnstructured(o),
			client.FieldOwner("install-test"), client.ForceOwnership)).
			To(Succeed(), "applying %s %s", o.GetKind(), client.ObjectKeyFromObject(o))
		if o.GetKind() == "CustomResourceDefinition" {
			cl.waitEstablished(ctx, o.GetName())
		}
	}
}

func (cl *cluster) waitEstablished(ctx context.Context, name string) {
	GinkgoHelper()
	Eventually(func(g Gomega) {
		crd := &unstructured.Unstructured{}
		crd.SetAPIVersion("apiextensions.k8s.io/v1")
		crd.SetKind("CustomResourceDefinition")
		g.Expect(cl.c.Get(ctx, client.ObjectKey{Name: name}, crd)).To(Succeed())
		conditions, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
		g.Expect(conditions).To(ContainElement(SatisfyAll(
			HaveKeyWithValue("type", "Established"), HaveKeyWithValue("status", "True"))))
	}).WithContext(ctx).Should(Succeed(), "CRD %s established", name)
}

// serviceAccount is the identity the manager runs as.
type serviceAccount struct{ namespace, name string }

func (sa serviceAccount) String() string { return sa.namespace + "/" + sa.name }

// can asks the API server's authorizer (SubjectAccessReview) whether the
// ServiceAccount may do something.
func (cl *cluster) can(ctx context.Context, sa serviceAccount, a authorizationv1.ResourceAttributes) bool {
	GinkgoHelper()
	review := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User:               fmt.Sprintf("system:serviceaccount:%s:%s", sa.namespace, sa.name),
		Groups:             []string{"system:serviceaccounts", "system:serviceaccounts:" + sa.namespace, "system:authenticated"},
		ResourceAttributes: &a,
	}}
	Expect(cl.c.Create(ctx, review)).To(Succeed())
	return review.Status.Allowed
}

// admitPod creates (dry run) a Pod in namespace, which PodSecurity admission
// checks against the namespace's enforced level.
func (cl *cluster) admitPod(ctx context.Context, namespace string, spec corev1.PodSpec) error {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "pod-security-", Namespace: namespace},
		Spec:       spec,
	}
	return cl.c.Create(ctx, pod, client.DryRunAll)
}

// isPodSecurityRejection says whether err is PodSecurity admission refusing a Pod.
func isPodSecurityRejection(err error) bool {
	return apierrors.IsForbidden(err) && strings.Contains(err.Error(), "violates PodSecurity")
}

// warnings collects the warnings the API server returns (deprecated APIs,
// PodSecurity violations of a Deployment's template, unknown fields).
type warnings struct {
	mu   sync.Mutex
	list []string
}

func (w *warnings) HandleWarningHeaderWithContext(_ context.Context, _ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.list = append(w.list, text)
}

func (w *warnings) get() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.list)
}
