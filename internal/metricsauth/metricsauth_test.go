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

package metricsauth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-logr/logr"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

func TestMetricsAuth(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Metrics auth Suite")
}

var _ = Describe("The metrics endpoint's guard, against a real API server", Ordered, func() {
	var (
		env    *envtest.Environment
		cs     *kubernetes.Clientset
		server *httptest.Server
	)
	BeforeAll(func(ctx SpecContext) {
		env = &envtest.Environment{}
		cfg, err := env.Start()
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(env.Stop)
		cs, err = kubernetes.NewForConfig(cfg)
		Expect(err).NotTo(HaveOccurred())

		// The chart's metrics-reader role: get on /metrics.
		_, err = cs.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{Name: "metrics-reader"},
			Rules:      []rbacv1.PolicyRule{{NonResourceURLs: []string{"/metrics"}, Verbs: []string{"get"}}},
		}, metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())
		for _, sa := range []string{"prometheus", "stranger"} {
			_, err = cs.CoreV1().ServiceAccounts("default").Create(ctx,
				&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa}}, metav1.CreateOptions{})
			Expect(err).NotTo(HaveOccurred())
		}
		_, err = cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "prometheus-metrics-reader"},
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "metrics-reader"},
			Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "prometheus", Namespace: "default"}},
		}, metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())

		httpClient, err := rest.HTTPClientFor(cfg)
		Expect(err).NotTo(HaveOccurred())
		filter, err := WithAuthenticationAndAuthorization(cfg, httpClient)
		Expect(err).NotTo(HaveOccurred())
		h, err := filter(logr.Discard(), http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte("the metrics"))
		}))
		Expect(err).NotTo(HaveOccurred())
		server = httptest.NewServer(h)
		DeferCleanup(server.Close)
	})

	token := func(ctx context.Context, sa string) string {
		tr, err := cs.CoreV1().ServiceAccounts("default").CreateToken(ctx, sa, &authnv1.TokenRequest{}, metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())
		return tr.Status.Token
	}
	status := func(method, path, authorization string) int {
		req, err := http.NewRequest(method, server.URL+path, nil)
		Expect(err).NotTo(HaveOccurred())
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
		resp, err := http.DefaultClient.Do(req)
		Expect(err).NotTo(HaveOccurred())
		_ = resp.Body.Close()
		return resp.StatusCode
	}

	It("refuses a request without a token, or with one the API server does not accept", func() {
		Expect(status(http.MethodGet, "/metrics", "")).To(Equal(http.StatusUnauthorized))
		Expect(status(http.MethodGet, "/metrics", "Bearer not-a-token")).To(Equal(http.StatusUnauthorized))
		Expect(status(http.MethodGet, "/metrics", "Basic dXNlcjpwYXNz")).To(Equal(http.StatusUnauthorized))
	})

	It("refuses an authenticated user RBAC does not allow", func(ctx SpecContext) {
		Expect(status(http.MethodGet, "/metrics", "Bearer "+token(ctx, "stranger"))).To(Equal(http.StatusForbidden))
	})

	It("serves a user allowed to get /metrics, and only that", func(ctx SpecContext) {
		t := token(ctx, "prometheus")
		Expect(status(http.MethodGet, "/metrics", "Bearer "+t)).To(Equal(http.StatusOK))
		Expect(status(http.MethodGet, "/metrics", "bearer "+t)).To(Equal(http.StatusOK), "the scheme is case-insensitive")
		Expect(status(http.MethodPost, "/metrics", "Bearer "+t)).To(Equal(http.StatusForbidden))
		Expect(status(http.MethodGet, "/debug", "Bearer "+t)).To(Equal(http.StatusForbidden))
	})

	It("reuses a denial for 30 s, as controller-runtime's filters do", func(ctx SpecContext) {
		t := token(ctx, "stranger")
		Expect(status(http.MethodGet, "/metrics", "Bearer "+t)).To(Equal(http.StatusForbidden))
		_, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "stranger-metrics-reader"},
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "metrics-reader"},
			Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "stranger", Namespace: "default"}},
		}, metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(status(http.MethodGet, "/metrics", "Bearer "+t)).To(Equal(http.StatusForbidden), "the denial is cached for 30 s")
	})
})
