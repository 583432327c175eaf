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
	"encoding/json"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
)

var _ = Describe("kubectl aprimo status", func() {
	var ns string

	BeforeEach(func() {
		ns = newNamespace()
	})

	// fourStates creates credentials in the states a user meets most.
	fourStates := func() {
		credential(ns, "healthy")
		setStatus(ns, "healthy", func(c *v1alpha1.AprimoCredential) { issued(c, 41*time.Minute, 27*time.Minute) })
		credential(ns, "flaky")
		setStatus(ns, "flaky", func(c *v1alpha1.AprimoCredential) {
			issued(c, 10*time.Minute, 0)
			failed(c, v1alpha1.ReasonEndpointUnavailable, "Aprimo answered 503.", false, 10*time.Minute)
			c.Status.LastFailureTime = at(-2 * time.Minute)
		})
		credential(ns, "broken")
		setStatus(ns, "broken", func(c *v1alpha1.AprimoCredential) {
			failed(c, v1alpha1.ReasonInvalidClient, "Aprimo rejected the client ID or secret.", true, 0)
			c.Status.ExpiresAt = at(-3 * time.Minute)
			c.Status.LastFailureTime = at(-time.Minute)
			c.Status.RenewalTime = at(9 * time.Minute)
		})
		credential(ns, "new")
	}

	It("lists the credentials of a namespace with their reason and relative times", func() {
		fourStates()

		r := run("status", "-n", ns)

		Expect(r.code).To(Equal(ExitOK))
		Expect(r.err).To(BeEmpty())
		lines := strings.Split(strings.TrimRight(r.out, "\n"), "\n")
		Expect(lines).To(HaveLen(5))
		Expect(lines[0]).To(MatchRegexp(`^NAME\s+READY\s+REASON\s+EXPIRES IN\s+NEXT REFRESH\s+LAST FAILURE$`))
		Expect(lines[1]).To(MatchRegexp(`^broken\s+False\s+InvalidClient\s+expired 3m ago\s+in 9m\s+60s ago$`))
		Expect(lines[2]).To(MatchRegexp(`^flaky\s+True\s+RefreshFailing\s+10m\s+in 30s\s+2m ago$`))
		Expect(lines[3]).To(MatchRegexp(`^healthy\s+True\s+TokenIssued\s+41m\s+in 27m\s+-$`))
		Expect(lines[4]).To(MatchRegexp(`^new\s+Unknown\s+-\s+-\s+-\s+-$`))
	})

	It("adds a NAMESPACE column with -A and filters with -l", func() {
		credential(ns, "labelled", func(c *v1alpha1.AprimoCredential) { c.Labels = map[string]string{"team": "dam-" + ns} })
		setStatus(ns, "labelled", func(c *v1alpha1.AprimoCredential) { issued(c, time.Hour, 40*time.Minute) })
		credential(ns, "unlabelled")

		r := run("status", "-A", "-l", "team=dam-"+ns)

		Expect(r.code).To(Equal(ExitOK))
		lines := strings.Split(strings.TrimRight(r.out, "\n"), "\n")
		Expect(lines).To(HaveLen(2))
		Expect(lines[0]).To(MatchRegexp(`^NAMESPACE\s+NAME\s+READY\s+REASON\s+EXPIRES IN\s+NEXT REFRESH\s+LAST FAILURE$`))
		Expect(lines[1]).To(MatchRegexp(`^` + ns + `\s+labelled\s+True\s+TokenIssued\s+60m\s+in 40m\s+-$`))
	})

	It("says so on stderr when nothing matches, and exits 0", func() {
		r := run("status", "-n", ns)

		Expect(r.code).To(Equal(ExitOK))
		Expect(r.out).To(BeEmpty())
		Expect(r.err).To(Equal(`No AprimoCredentials found in namespace "` + ns + `".` + "\n"))
	})

	It("prints the same facts as JSON and YAML with absolute times", func() {
		fourStates()

		for _, format := range []string{"json", "yaml"} {
			r := run("status", "-n", ns, "-o", format)
			Expect(r.code).To(Equal(ExitOK))
			var list StatusList
			if format == "json" {
				Expect(json.Unmarshal([]byte(r.out), &list)).To(Succeed())
			} else {
				Expect(yaml.UnmarshalStrict([]byte(r.out), &list)).To(Succeed())
			}
			Expect(list.Items).To(HaveLen(4))
			broken := list.Items[0]
			Expect(broken.Name).To(Equal("broken"))
			Expect(broken.Namespace).To(Equal(ns))
			Expect(broken.Ready).To(Equal(metav1.ConditionFalse))
			Expect(broken.Reason).To(Equal(v1alpha1.ReasonInvalidClient))
			Expect(broken.Stalled).To(Equal(metav1.ConditionTrue))
			Expect(broken.ExpiresAt.Time).To(BeTemporally("==", clk.Now().Add(-3*time.Minute)))
			Expect(broken.FailedAttempts).To(Equal(int32(1)))
			Expect(broken.Details).To(BeNil())
			Expect(list.Items[3].Ready).To(Equal(metav1.ConditionUnknown))
		}
	})

	It("shows one credential in detail: endpoint, target Secret keys, conditions, events and what to do", func() {
		cred := credential(ns, "dam-reader", func(c *v1alpha1.AprimoCredential) {
			c.Spec.Target.Name = "dam-reader-token"
			c.Spec.ClientSecretRef.ClientIDKey = "id"
		})
		setStatus(ns, "dam-reader", func(c *v1alpha1.AprimoCredential) {
			failed(c, v1alpha1.ReasonSecretNotFound, "Secret aprimo-client not found: create it in this namespace.", true, 30*time.Minute)
		})
		targetSecret(cred, "t0ken-value")
		event(cred, "Warning", v1alpha1.ReasonSecretNotFound, "Secret aprimo-client not found.", -4*time.Minute, 3)
		event(cred, "Normal", v1alpha1.ReasonTokenIssued, "Issued the first token.", -20*time.Minute, 1)
		other := credential(ns, "other")
		event(other, "Warning", v1alpha1.ReasonInvalidScope, "About another credential.", -time.Minute, 1)

		r := run("status", "dam-reader", "-n", ns)

		Expect(r.code).To(Equal(ExitOK))
		Expect(r.out).To(MatchRegexp(`(?m)^Flow:\s+ClientCredentials$`))
		Expect(r.out).To(MatchRegexp(`(?m)^Endpoint:\s+https://acme\.aprimo\.com \(tenant acme\)$`))
		Expect(r.out).To(MatchRegexp(`(?m)^Input Secrets:\s+aprimo-client \(keys id, client-secret\)$`))
		Expect(r.out).To(MatchRegexp(`(?m)^Target Secret:\s+dam-reader-token$`))
		Expect(r.out).To(MatchRegexp(`(?m)^  Keys:\s+access_token, authorization, expires_at, token_type$`))
		Expect(r.out).To(MatchRegexp(`(?m)^  expires_at:\s+` + at(30*time.Minute).UTC().Format(time.RFC3339) + `$`))
		Expect(r.out).To(MatchRegexp(`(?m)^Ready:\s+True RefreshFailing, since 5m$`))
		Expect(r.out).To(MatchRegexp(`(?m)^  Message:\s+The last refresh failed \(SecretNotFound\): Secret aprimo-client not found: create it in this namespace\.$`))
		Expect(r.out).To(MatchRegexp(`(?m)^Stalled:\s+True SecretNotFound, since 5m$`))
		Expect(r.out).To(MatchRegexp(`(?m)^Expires:\s+\S+ \(in 30m\)$`))
		Expect(r.out).To(MatchRegexp(`(?m)^Last failure:\s+\S+ \(0s ago\), the first failure since the last success$`))
		Expect(r.out).To(MatchRegexp(`(?m)^  Normal\s+TokenIssued\s+20m\s+aprimo-credential-operator\s+Issued the first token\.\n` +
			`  Warning\s+SecretNotFound\s+4m \(x3 over 14m\)\s+aprimo-credential-operator\s+Secret aprimo-client not found\.$`))
		Expect(r.out).NotTo(ContainSubstring("About another credential"))
		Expect(r.out).To(ContainSubstring("What to do:\n  The token in Secret dam-reader-token still works"))
		Expect(r.out).To(ContainSubstring("  SecretNotFound: Create the Secret the message names, in namespace " + ns))
	})

	It("never prints a Secret value, in any form", func() {
		const token = "eyJhbGciOi-super-secret-access-token-value"
		cred := credential(ns, "dam-reader", func(c *v1alpha1.AprimoCredential) { c.Spec.Target.Name = "dam-reader-token" })
		setStatus(ns, "dam-reader", func(c *v1alpha1.AprimoCredential) { issued(c, 41*time.Minute, 27*time.Minute) })
		targetSecret(cred, token)
		Expect(k8s.Create(suiteCtx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "aprimo-client"},
			StringData: map[string]string{"client-id": "client-" + token, "client-secret": "cs-" + token},
		})).To(Succeed())

		for _, args := range [][]string{
			{"status", "-n", ns}, {"status", "-A"},
			{"status", "-n", ns, "-o", "json"}, {"status", "-n", ns, "-o", "yaml"},
			{"status", "dam-reader", "-n", ns},
			{"status", "dam-reader", "-n", ns, "-o", "json"}, {"status", "dam-reader", "-n", ns, "-o", "yaml"},
		} {
			r := run(args...)
			Expect(r.code).To(Equal(ExitOK), "%v", args)
			Expect(r.out+r.err).NotTo(ContainSubstring(token), "%v", args)
			Expect(r.out+r.err).NotTo(ContainSubstring("Bearer"), "%v", args)
		}
		r := run("status", "dam-reader", "-n", ns, "-o", "json")
		var s CredentialStatus
		Expect(json.Unmarshal([]byte(r.out), &s)).To(Succeed())
		Expect(s.Details.Target.Keys).To(ConsistOf("access_token", "authorization", "expires_at", "token_type"))
		Expect(s.Details.Target.OwnedByCredential).To(BeTrue())
	})

	It("shows a target Secret it does not own, and one that does not exist yet", func() {
		credential(ns, "conflict")
		Expect(k8s.Create(suiteCtx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "conflict"},
			StringData: map[string]string{"password": "hunter2-not-ours"},
		})).To(Succeed())
		credential(ns, "fresh")

		r := run("status", "conflict", "-n", ns)
		Expect(r.code).To(Equal(ExitOK))
		Expect(r.out).To(MatchRegexp(`(?m)^Target Secret:\s+conflict \(NOT owned by this AprimoCredential\)$`))
		Expect(r.out).To(MatchRegexp(`(?m)^  Keys:\s+password$`))
		Expect(r.out).NotTo(ContainSubstring("hunter2"))
		Expect(r.out).To(ContainSubstring("The operator has not reported on this credential yet"))

		r = run("status", "fresh", "-n", ns)
		Expect(r.code).To(Equal(ExitOK))
		Expect(r.out).To(MatchRegexp(`(?m)^Target Secret:\s+fresh \(does not exist yet\)$`))
		Expect(r.out).To(MatchRegexp(`(?m)^Ready:\s+Unknown \(not reported yet\)$`))
		Expect(r.out).To(MatchRegexp(`(?m)^Events:\s+<none>`))
	})

	It("shows the detailed view to a user who may not read Secrets", func() {
		cred := credential(ns, "dam-reader")
		setStatus(ns, "dam-reader", func(c *v1alpha1.AprimoCredential) { issued(c, 41*time.Minute, 27*time.Minute) })
		targetSecret(cred, "t0ken")
		viewer := userMayOnly(ns, "viewer-"+ns, rbacv1.PolicyRule{
			APIGroups: []string{v1alpha1.GroupVersion.Group}, Resources: []string{"aprimocredentials"}, Verbs: []string{"get", "list"},
		}, rbacv1.PolicyRule{
			APIGroups: []string{"events.k8s.io"}, Resources: []string{"events"}, Verbs: []string{"list"},
		})

		r := runAs(viewer, "status", "dam-reader", "-n", ns)

		Expect(r.code).To(Equal(ExitOK))
		Expect(r.out).To(MatchRegexp(`(?m)^Target Secret:\s+dam-reader \(cannot read it: forbidden: you may not get Secrets in namespace ` + ns + `\)$`))
		Expect(r.out).To(MatchRegexp(`(?m)^Ready:\s+True TokenIssued, since 5m$`))
	})

	It("exits 1 with a clear error for a credential that does not exist", func() {
		r := run("status", "missing", "-n", ns)

		Expect(r.code).To(Equal(ExitError))
		Expect(r.out).To(BeEmpty())
		Expect(r.err).To(Equal(`error: AprimoCredential "missing" not found in namespace "` + ns + `"` + "\n"))
	})

	It("exits 1 on a usage error and says where the help is", func() {
		for args, msg := range map[string]string{
			"status -o wide":           `unknown output format "wide": use one of table, json, yaml`,
			"status dam-reader -A":     "a NAME is looked up in one namespace: use -n NAMESPACE instead of --all-namespaces",
			"status dam-reader -l a=b": "give either a NAME or a label selector, not both",
			"status a b":               "give at most one NAME, for its detailed view; got 2",
			"status -l a=b=c":          `invalid label selector "a=b=c"`,
		} {
			r := run(strings.Fields(args)...)
			Expect(r.code).To(Equal(ExitError), args)
			Expect(r.err).To(HavePrefix("error: "+msg), args)
		}
	})
})

// targetSecret creates the target Secret the operator would write for c,
// holding token.
func targetSecret(c *v1alpha1.AprimoCredential, token string) {
	Expect(k8s.Create(suiteCtx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: c.Namespace, Name: c.TargetName(),
			Labels: map[string]string{v1alpha1.ManagedByLabel: v1alpha1.ManagedByValue, v1alpha1.CredentialLabel: c.Name},
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: v1alpha1.GroupVersion.String(), Kind: "AprimoCredential", Name: c.Name, UID: c.UID,
				Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true),
			}},
		},
		StringData: map[string]string{
			v1alpha1.AccessTokenKey:   token,
			v1alpha1.TokenTypeKey:     "Bearer",
			v1alpha1.ExpiresAtKey:     at(30 * time.Minute).UTC().Format(time.RFC3339),
			v1alpha1.AuthorizationKey: "Bearer " + token,
		},
	})).To(Succeed())
}

// event records an events.k8s.io/v1 event about c, as the operator's
// recorder does: count times over ten minutes, the last one `last` from now.
func event(c *v1alpha1.AprimoCredential, typ, reason, note string, last time.Duration, count int32) {
	e := &eventsv1.Event{
		ObjectMeta:          metav1.ObjectMeta{Namespace: c.Namespace, GenerateName: c.Name + "-"},
		EventTime:           metav1.NewMicroTime(clk.Now().Add(last)),
		ReportingController: "aprimo-credential-operator",
		ReportingInstance:   "aprimo-credential-operator-0",
		Action:              "Reconcile",
		Type:                typ,
		Reason:              reason,
		Note:                note,
		Regarding: corev1.ObjectReference{
			APIVersion: v1alpha1.GroupVersion.String(), Kind: "AprimoCredential",
			Namespace: c.Namespace, Name: c.Name, UID: c.UID,
		},
	}
	if count > 1 {
		e.EventTime = metav1.NewMicroTime(clk.Now().Add(last - 10*time.Minute))
		e.Series = &eventsv1.EventSeries{Count: count, LastObservedTime: metav1.NewMicroTime(clk.Now().Add(last))}
	}
	Expect(k8s.Create(suiteCtx, e)).To(Succeed())
}

// userMayOnly adds a user allowed only rules in ns, and returns its kubeconfig.
func userMayOnly(ns, name string, rules ...rbacv1.PolicyRule) string {
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Rules: rules}
	Expect(k8s.Create(suiteCtx, role)).To(Succeed())
	Expect(k8s.Create(suiteCtx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: "User", Name: name}},
	})).To(Succeed())
	user, err := testEnv.AddUser(envtest.User{Name: name}, nil)
	Expect(err).NotTo(HaveOccurred())
	data, err := user.KubeConfig()
	Expect(err).NotTo(HaveOccurred())
	return writeKubeconfig(GinkgoT().TempDir(), name, data)
}
