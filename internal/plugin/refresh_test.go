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
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
)

var _ = Describe("kubectl aprimo refresh", func() {
	var ns string

	BeforeEach(func() {
		ns = newNamespace()
		clk.Step(time.Second) // every spec asks with a new value
	})

	requestedAt := func(name string) string {
		return get(ns, name).Annotations[v1alpha1.RefreshRequestedAtAnnotation]
	}
	now := func() string { return clk.Now().UTC().Format(time.RFC3339) }

	It("sets the annotation to the current time with a merge patch, leaving the rest alone", func() {
		credential(ns, "dam-reader", func(c *v1alpha1.AprimoCredential) {
			c.Annotations = map[string]string{"example.com/owner": "team-dam"}
		})
		setStatus(ns, "dam-reader", func(c *v1alpha1.AprimoCredential) { issued(c, time.Hour, 40*time.Minute) })
		before := get(ns, "dam-reader")

		r := run("refresh", "dam-reader", "-n", ns)

		Expect(r.code).To(Equal(ExitOK))
		Expect(r.out).To(Equal(ns + "/dam-reader: refresh requested (" + v1alpha1.RefreshRequestedAtAnnotation + "=" + now() + ")\n"))
		after := get(ns, "dam-reader")
		Expect(after.Annotations).To(Equal(map[string]string{
			"example.com/owner":                   "team-dam",
			v1alpha1.RefreshRequestedAtAnnotation: now(),
		}))
		Expect(after.Generation).To(Equal(before.Generation))
		Expect(after.Status).To(Equal(before.Status))
	})

	It("refreshes all credentials matching a selector, one line each", func() {
		team := func(c *v1alpha1.AprimoCredential) { c.Labels = map[string]string{"team": "dam"} }
		credential(ns, "a", team)
		credential(ns, "b", team)
		credential(ns, "c")

		r := run("refresh", "--all", "-l", "team=dam", "-n", ns)

		Expect(r.code).To(Equal(ExitOK))
		Expect(strings.Split(strings.TrimSpace(r.out), "\n")).To(HaveExactElements(
			HavePrefix(ns+"/a: refresh requested"), HavePrefix(ns+"/b: refresh requested")))
		Expect(requestedAt("a")).To(Equal(now()))
		Expect(requestedAt("c")).To(BeEmpty())
	})

	It("with --wait, prints the new expiry once the operator has served the request", func() {
		credential(ns, "dam-reader")
		setStatus(ns, "dam-reader", func(c *v1alpha1.AprimoCredential) { issued(c, 5*time.Minute, time.Minute) })
		playOperator(ns, func(c *v1alpha1.AprimoCredential, request string) {
			c.Status.LastRefreshRequest = request
			issued(c, time.Hour, 40*time.Minute)
		})

		r := run("refresh", "dam-reader", "-n", ns, "--wait")

		Expect(r.code).To(Equal(ExitOK))
		Expect(r.out).To(HaveSuffix(ns + "/dam-reader: Ready (TokenIssued), the new token expires at " +
			at(time.Hour).UTC().Format(time.RFC3339) + " (in 60m)\n"))
		Expect(get(ns, "dam-reader").Status.LastRefreshRequest).To(Equal(now()))
	})

	It("with --wait, waits for a Ready condition about the current generation", func() {
		credential(ns, "dam-reader")
		setStatus(ns, "dam-reader", func(c *v1alpha1.AprimoCredential) { issued(c, 5*time.Minute, time.Minute) })
		c := get(ns, "dam-reader")
		c.Spec.Scopes = []string{"api", "reporting-api"}
		Expect(k8s.Update(suiteCtx, c)).To(Succeed())
		Expect(get(ns, "dam-reader").Generation).To(Equal(int64(2)))
		// The operator records the request, but its Ready is about generation 1.
		playOperator(ns, func(c *v1alpha1.AprimoCredential, request string) {
			c.Status.LastRefreshRequest = request
			issued(c, time.Hour, 40*time.Minute)
			for i := range c.Status.Conditions {
				c.Status.Conditions[i].ObservedGeneration = 1
			}
		})

		done := runInBackground("refresh", "dam-reader", "-n", ns, "--wait")

		Eventually(func() string { return get(ns, "dam-reader").Status.LastRefreshRequest }).Should(Equal(now()))
		Consistently(done, 2*time.Second).ShouldNot(Receive())
		setStatus(ns, "dam-reader", func(c *v1alpha1.AprimoCredential) { issued(c, time.Hour, 40*time.Minute) })
		var r result
		Eventually(done, 10*time.Second).Should(Receive(&r))
		Expect(r.code).To(Equal(ExitOK))
		Expect(r.out).To(ContainSubstring(ns + "/dam-reader: Ready (TokenIssued)"))
	})

	It("with --wait, exits 1 and says why when the operator could not get a token", func() {
		credential(ns, "dam-reader")
		playOperator(ns, func(c *v1alpha1.AprimoCredential, request string) {
			c.Status.LastRefreshRequest = request
			failed(c, v1alpha1.ReasonInvalidClient, "Aprimo rejected the client ID or secret.", true, 0)
		})

		r := run("refresh", "dam-reader", "-n", ns, "--wait")

		Expect(r.code).To(Equal(ExitError))
		Expect(r.out).To(ContainSubstring(ns + "/dam-reader: not Ready (InvalidClient): Aprimo rejected the client ID or secret.\n"))
		Expect(r.err).To(Equal("error: 1 of 1 AprimoCredentials did not get a new token\n"))
	})

	It("with --wait, exits 1 when the refresh failed although the old token still works", func() {
		credential(ns, "dam-reader")
		setStatus(ns, "dam-reader", func(c *v1alpha1.AprimoCredential) { issued(c, 20*time.Minute, 10*time.Minute) })
		playOperator(ns, func(c *v1alpha1.AprimoCredential, request string) {
			c.Status.LastRefreshRequest = request
			failed(c, v1alpha1.ReasonEndpointUnavailable, "Aprimo answered 503.", false, 20*time.Minute)
		})

		r := run("refresh", "dam-reader", "-n", ns, "--wait")

		Expect(r.code).To(Equal(ExitError))
		Expect(r.out).To(ContainSubstring(ns + "/dam-reader: the refresh failed, the old token still works: Ready (RefreshFailing): The last refresh failed (EndpointUnavailable)"))
	})

	It("with --wait, exits 1 at once when the operator fails before any token request", func() {
		credential(ns, "dam-reader")
		setStatus(ns, "dam-reader", func(c *v1alpha1.AprimoCredential) {
			failed(c, v1alpha1.ReasonSecretNotFound, "Secret aprimo-client not found.", true, 0)
			c.Status.LastFailureTime = at(-time.Minute)
		})
		// A missing input Secret fails the pass before any request: the
		// operator does not record the request as served, only a new failure.
		playOperator(ns, func(c *v1alpha1.AprimoCredential, _ string) {
			failed(c, v1alpha1.ReasonSecretNotFound, "Secret aprimo-client not found.", true, 0)
		})

		r := run("refresh", "dam-reader", "-n", ns, "--wait", "--timeout", "1m")

		Expect(r.code).To(Equal(ExitError))
		Expect(r.out).To(ContainSubstring(ns + "/dam-reader: not Ready (SecretNotFound): Secret aprimo-client not found.\n"))
		Expect(r.out).NotTo(ContainSubstring("timed out"))
	})

	It("with --wait, exits 1 when no operator acts before the timeout", func() {
		credential(ns, "dam-reader")
		setStatus(ns, "dam-reader", func(c *v1alpha1.AprimoCredential) { issued(c, time.Hour, 40*time.Minute) })

		r := run("refresh", "dam-reader", "-n", ns, "--wait", "--timeout", "2s")

		Expect(r.code).To(Equal(ExitError))
		Expect(r.out).To(ContainSubstring(ns + "/dam-reader: timed out after 2s waiting for the operator: it has not acted on the request yet (is it running?); Ready is True (TokenIssued)"))
		Expect(r.err).To(Equal("error: 1 of 1 AprimoCredentials did not get a new token\n"))
	})

	It("does not wait for a suspended credential, and counts it as not refreshed", func() {
		credential(ns, "paused", func(c *v1alpha1.AprimoCredential) { c.Spec.Suspend = true })
		credential(ns, "running")
		playOperator(ns, func(c *v1alpha1.AprimoCredential, request string) {
			if !c.Spec.Suspend {
				c.Status.LastRefreshRequest = request
				issued(c, time.Hour, 40*time.Minute)
			}
		})

		r := run("refresh", "--all", "-n", ns, "--wait")

		Expect(r.code).To(Equal(ExitError))
		Expect(r.out).To(ContainSubstring(ns + "/paused: suspended (spec.suspend is true): no token is requested until it is resumed\n"))
		Expect(r.out).To(ContainSubstring(ns + "/running: Ready (TokenIssued)"))
		Expect(r.err).To(Equal("error: 1 of 2 AprimoCredentials did not get a new token\n"))
	})

	It("exits 1 with a clear error for a credential that does not exist, and changes nothing", func() {
		credential(ns, "present")

		r := run("refresh", "present", "missing", "-n", ns)

		Expect(r.code).To(Equal(ExitError))
		Expect(r.err).To(Equal(`error: AprimoCredential "missing" not found in namespace "` + ns + `"` + "\n"))
		Expect(requestedAt("present")).To(BeEmpty())
	})

	It("exits 1 on a usage error and says where the help is", func() {
		for args, msg := range map[string]string{
			"refresh":                      "name the AprimoCredentials to refresh, or select them with --all or -l SELECTOR",
			"refresh -A":                   "name the AprimoCredentials to refresh, or select them with --all or -l SELECTOR",
			"refresh a --all":              "give either NAMEs or --all, not both",
			"refresh a -l x=y":             "give either NAMEs or a label selector, not both",
			"refresh a -A":                 "NAMEs are looked up in one namespace: use -n NAMESPACE instead of --all-namespaces",
			"refresh a --wait --timeout 0": "--timeout must be positive, e.g. 2m",
		} {
			r := run(strings.Fields(args)...)
			Expect(r.code).To(Equal(ExitError), args)
			Expect(r.err).To(HavePrefix("error: "+msg+"\nSee 'kubectl aprimo refresh --help' for usage."), args)
		}
	})
})
