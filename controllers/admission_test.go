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
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
)

var _ = Describe("Admission", func() {
	var ns string
	BeforeEach(func() {
		ns = "t-" + randomString(8)
		Expect(k8s.Create(suiteCtx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
	})
	valid := func() *v1alpha1.AprimoCredential {
		return &v1alpha1.AprimoCredential{
			ObjectMeta: metav1.ObjectMeta{Name: "cred"},
			Spec: v1alpha1.AprimoCredentialSpec{
				Tenant:          "acme",
				ClientSecretRef: v1alpha1.ClientSecretReference{Name: "aprimo-client"},
			},
		}
	}

	It("defaults flow, scopes and Secret keys", func() {
		c := valid()
		c.Namespace = ns
		Expect(k8s.Create(suiteCtx, c)).To(Succeed())
		Expect(c.Spec.Flow).To(Equal(v1alpha1.FlowClientCredentials))
		Expect(c.Spec.Scopes).To(Equal([]string{"api"}))
		Expect(c.Spec.ClientSecretRef.ClientIDKey).To(Equal("client-id"))
		Expect(c.Spec.ClientSecretRef.ClientSecretKey).To(Equal("client-secret"))
		Expect(k8s.Delete(suiteCtx, c)).To(Succeed())
	})

	It("accepts DistributedMarketing without tenant or url, and LegacyUserToken with revokeOnDelete", func() {
		dm := valid()
		dm.Namespace, dm.Name, dm.Spec.Tenant = ns, "dm", ""
		dm.Spec.Flow, dm.Spec.UserTokenRef = v1alpha1.FlowDistributedMarketing, &v1alpha1.UserTokenReference{Name: "dm-user", UserTokenKey: "password"}
		Expect(k8s.Create(suiteCtx, dm)).To(Succeed())
		legacy := valid()
		legacy.Namespace, legacy.Name = ns, "legacy"
		legacy.Spec.Flow, legacy.Spec.UserTokenRef = v1alpha1.FlowLegacyUserToken, &v1alpha1.UserTokenReference{Name: "user"}
		legacy.Spec.Legacy = &v1alpha1.LegacySettings{RevokeOnDelete: true, UserID: "1042"}
		Expect(k8s.Create(suiteCtx, legacy)).To(Succeed())
		Expect(k8s.Delete(suiteCtx, dm)).To(Succeed())
		Expect(k8s.Delete(suiteCtx, legacy)).To(Succeed())
	})

	It("rejects an explicitly empty scope list", func() {
		u := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": v1alpha1.GroupVersion.String(), "kind": "AprimoCredential",
			"metadata": map[string]any{"name": "noscope", "namespace": ns},
			"spec":     map[string]any{"tenant": "acme", "scopes": []any{}, "clientSecretRef": map[string]any{"name": "c"}},
		}}
		err := k8s.Create(suiteCtx, u)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("spec.scopes"))
	})

	It("accepts a 63-character name and valid target labels and annotations", func() {
		c := valid()
		c.Namespace = ns
		c.Name = strings.Repeat("a", 63)
		c.Spec.Target.Labels = map[string]string{"team": "dam", "example.com/tier": "Gold_1.x", "empty": ""}
		c.Spec.Target.Annotations = map[string]string{"example.com/owner": "DAM team <dam@example.com>", "note": ""}
		Expect(k8s.Create(suiteCtx, c)).To(Succeed())
		Expect(k8s.Delete(suiteCtx, c)).To(Succeed())
	})

	DescribeTable("rejects an invalid AprimoCredential with a message a person understands",
		func(mutate func(*v1alpha1.AprimoCredential), message string) {
			c := valid()
			c.Namespace = ns
			mutate(c)
			err := k8s.Create(suiteCtx, c)
			Expect(err).To(HaveOccurred())
			Expect(err.Error()).To(ContainSubstring(message))
		},
		Entry("neither tenant nor url", func(c *v1alpha1.AprimoCredential) { c.Spec.Tenant = "" },
			"set exactly one of spec.tenant"),
		Entry("both tenant and url", func(c *v1alpha1.AprimoCredential) { c.Spec.URL = "https://acme.aprimo.com" },
			"set exactly one of spec.tenant"),
		Entry("tenant that is not a DNS label", func(c *v1alpha1.AprimoCredential) { c.Spec.Tenant = "Acme.Corp" },
			"spec.tenant must be a DNS label"),
		Entry("http url", func(c *v1alpha1.AprimoCredential) { c.Spec.Tenant, c.Spec.URL = "", "http://acme.aprimo.com" },
			"spec.url must be an https:// URL"),
		Entry("url with user info", func(c *v1alpha1.AprimoCredential) { c.Spec.Tenant, c.Spec.URL = "", "https://u:p@acme.aprimo.com" },
			"without user info"),
		Entry("unknown flow", func(c *v1alpha1.AprimoCredential) { c.Spec.Flow = "Implicit" },
			"Unsupported value"),
		Entry("RefreshToken without refreshTokenRef", func(c *v1alpha1.AprimoCredential) { c.Spec.Flow = v1alpha1.FlowRefreshToken },
			"spec.refreshTokenRef is required when spec.flow is RefreshToken"),
		Entry("ResourceOwnerPassword without userTokenRef", func(c *v1alpha1.AprimoCredential) { c.Spec.Flow = v1alpha1.FlowResourceOwnerPassword },
			"spec.userTokenRef is required when spec.flow is ResourceOwnerPassword"),
		Entry("refreshTokenRef with another flow", func(c *v1alpha1.AprimoCredential) {
			c.Spec.RefreshTokenRef = &v1alpha1.RefreshTokenReference{Name: "rt"}
		}, "spec.refreshTokenRef is only used by flow RefreshToken"),
		Entry("userTokenRef with another flow", func(c *v1alpha1.AprimoCredential) {
			c.Spec.UserTokenRef = &v1alpha1.UserTokenReference{Name: "ut"}
		}, "spec.userTokenRef is only used by flows ResourceOwnerPassword, DistributedMarketing and LegacyUserToken"),
		Entry("DistributedMarketing with a tenant", func(c *v1alpha1.AprimoCredential) {
			c.Spec.Flow, c.Spec.UserTokenRef = v1alpha1.FlowDistributedMarketing, &v1alpha1.UserTokenReference{Name: "ut"}
		}, "spec.tenant is not used by flow DistributedMarketing"),
		Entry("DistributedMarketing without userTokenRef", func(c *v1alpha1.AprimoCredential) {
			c.Spec.Flow, c.Spec.Tenant = v1alpha1.FlowDistributedMarketing, ""
		}, "spec.userTokenRef is required when spec.flow is ResourceOwnerPassword, DistributedMarketing or LegacyUserToken"),
		Entry("LegacyUserToken without userTokenRef", func(c *v1alpha1.AprimoCredential) { c.Spec.Flow = v1alpha1.FlowLegacyUserToken },
			"spec.userTokenRef is required when spec.flow is ResourceOwnerPassword, DistributedMarketing or LegacyUserToken"),
		Entry("LegacyUserToken with neither tenant nor url", func(c *v1alpha1.AprimoCredential) {
			c.Spec.Flow, c.Spec.Tenant, c.Spec.UserTokenRef = v1alpha1.FlowLegacyUserToken, "", &v1alpha1.UserTokenReference{Name: "ut"}
		}, "set exactly one of spec.tenant"),
		Entry("legacy settings with another flow", func(c *v1alpha1.AprimoCredential) {
			c.Spec.Legacy = &v1alpha1.LegacySettings{UserID: "42"}
		}, "spec.legacy is only used by flow LegacyUserToken"),
		Entry("revokeOnDelete without userID", func(c *v1alpha1.AprimoCredential) {
			c.Spec.Flow, c.Spec.UserTokenRef = v1alpha1.FlowLegacyUserToken, &v1alpha1.UserTokenReference{Name: "ut"}
			c.Spec.Legacy = &v1alpha1.LegacySettings{RevokeOnDelete: true}
		}, "spec.legacy.userID is required when spec.legacy.revokeOnDelete is true"),
		Entry("userID with a slash", func(c *v1alpha1.AprimoCredential) {
			c.Spec.Flow, c.Spec.UserTokenRef = v1alpha1.FlowLegacyUserToken, &v1alpha1.UserTokenReference{Name: "ut"}
			c.Spec.Legacy = &v1alpha1.LegacySettings{UserID: "../admin"}
		}, "spec.legacy.userID"),
		Entry("userID that is a path segment of its own", func(c *v1alpha1.AprimoCredential) {
			c.Spec.Flow, c.Spec.UserTokenRef = v1alpha1.FlowLegacyUserToken, &v1alpha1.UserTokenReference{Name: "ut"}
			c.Spec.Legacy = &v1alpha1.LegacySettings{UserID: ".."}
		}, "spec.legacy.userID"),
		Entry("scope with a space", func(c *v1alpha1.AprimoCredential) { c.Spec.Scopes = []string{"api reporting-api"} },
			"spec.scopes[0]"),
		Entry("zero renewBefore", func(c *v1alpha1.AprimoCredential) { c.Spec.RenewBefore = &metav1.Duration{} },
			"spec.renewBefore must be a positive duration"),
		Entry("negative renewBefore", func(c *v1alpha1.AprimoCredential) { c.Spec.RenewBefore = &metav1.Duration{Duration: -time.Minute} },
			"spec.renewBefore"),
		Entry("target named like the state Secret", func(c *v1alpha1.AprimoCredential) { c.Spec.Target.Name = "cred-aprimo-state" },
			"must not be <metadata.name>-aprimo-state"),
		Entry("target name that is not a Secret name", func(c *v1alpha1.AprimoCredential) { c.Spec.Target.Name = "Bad_Name" },
			"spec.target.name must be a valid Secret name"),
		Entry("name longer than a label value", func(c *v1alpha1.AprimoCredential) { c.Name = strings.Repeat("a", 64) },
			"metadata.name must be at most 63 characters"),
		Entry("url without a host", func(c *v1alpha1.AprimoCredential) { c.Spec.Tenant, c.Spec.URL = "", "https://:443" },
			"spec.url must be a valid https URL with a host name"),
		Entry("url that does not parse", func(c *v1alpha1.AprimoCredential) { c.Spec.Tenant, c.Spec.URL = "", "https://acme aprimo.com" },
			"spec.url must be a valid https URL with a host name"),
		Entry("target label key with a space", func(c *v1alpha1.AprimoCredential) { c.Spec.Target.Labels = map[string]string{"my team": "dam"} },
			"spec.target.labels keys must be valid label keys"),
		Entry("target label key with a name over 63 characters", func(c *v1alpha1.AprimoCredential) {
			c.Spec.Target.Labels = map[string]string{"example.com/" + strings.Repeat("a", 64): "dam"}
		}, "spec.target.labels keys must be valid label keys"),
		Entry("target label key with an upper-case prefix", func(c *v1alpha1.AprimoCredential) {
			c.Spec.Target.Labels = map[string]string{"Example.com/team": "dam"}
		}, "spec.target.labels keys must be valid label keys"),
		Entry("target label value over 63 characters", func(c *v1alpha1.AprimoCredential) {
			c.Spec.Target.Labels = map[string]string{"team": strings.Repeat("a", 64)}
		}, "spec.target.labels values must be at most 63 characters"),
		Entry("target label app.kubernetes.io/managed-by", func(c *v1alpha1.AprimoCredential) {
			c.Spec.Target.Labels = map[string]string{v1alpha1.ManagedByLabel: "someone-else"}
		}, "spec.target.labels must not set app.kubernetes.io/managed-by or keys under aprimo.credentials.dev/"),
		Entry("target label under aprimo.credentials.dev/", func(c *v1alpha1.AprimoCredential) {
			c.Spec.Target.Labels = map[string]string{v1alpha1.CredentialLabel: "other"}
		}, "spec.target.labels must not set app.kubernetes.io/managed-by or keys under aprimo.credentials.dev/"),
		Entry("more than 64 target labels", func(c *v1alpha1.AprimoCredential) { c.Spec.Target.Labels = manyEntries(65) },
			"spec.target.labels: Too many"),
		Entry("target annotation key with a space", func(c *v1alpha1.AprimoCredential) {
			c.Spec.Target.Annotations = map[string]string{"my note": "x"}
		}, "spec.target.annotations keys must be valid annotation keys"),
		Entry("target annotation under aprimo.credentials.dev/", func(c *v1alpha1.AprimoCredential) {
			c.Spec.Target.Annotations = map[string]string{v1alpha1.RefreshRequestedAtAnnotation: "now"}
		}, "spec.target.annotations must not set keys under aprimo.credentials.dev/"),
		Entry("more than 64 target annotations", func(c *v1alpha1.AprimoCredential) { c.Spec.Target.Annotations = manyEntries(65) },
			"spec.target.annotations: Too many"),
		Entry("client Secret key with a slash", func(c *v1alpha1.AprimoCredential) { c.Spec.ClientSecretRef.ClientSecretKey = "a/b" },
			"spec.clientSecretRef.clientSecretKey"),
	)
})

// manyEntries returns n valid label (or annotation) entries.
func manyEntries(n int) map[string]string {
	m := make(map[string]string, n)
	for i := range n {
		m[fmt.Sprintf("key-%d", i)] = "value"
	}
	return m
}
