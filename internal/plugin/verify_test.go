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

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo/aprimotest"
)

const recordID = "8d2ba7a3c5e94b0a9f1eb0c2a1d3e4f5"

var _ = Describe("kubectl aprimo verify", func() {
	var (
		ns    string
		f     *fakeAprimo
		flags []string // reach the fake's DAM
	)

	BeforeEach(func() {
		ns = newNamespace()
		f = newFakeAprimo()
		f.AddRegistration(aprimotest.Registration{ClientID: "dam-reader", ClientSecret: "cs-Dr5Mx2Qa9Lw4Zk7P"})
		f.AddRecord(aprimotest.Record{ID: recordID, Title: "Spring campaign hero", Status: "Released"})
		flags = []string{"--dam-url", f.URL(), f.flags[2], f.flags[3], f.flags[4], f.flags[5]} // --ca-file, --allowed-token-hosts
	})

	// withToken creates the credential dam-reader and the target Secret the
	// operator would have written, holding token.
	withToken := func(token string) {
		credential(ns, "dam-reader", func(c *v1alpha1.AprimoCredential) { c.Spec.Target.Name = "dam-reader-token" })
		Expect(k8s.Create(suiteCtx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "dam-reader-token"},
			Data:       map[string][]byte{v1alpha1.AccessTokenKey: []byte(token), v1alpha1.AuthorizationKey: []byte("Bearer " + token)},
		})).To(Succeed())
	}
	issue := func() string {
		c := aprimo.NewClient(aprimo.Options{Hosts: aprimo.HostAllowlist{"127.0.0.1"}, Transport: f.Client().Transport})
		tok, err := c.ClientCredentials(suiteCtx, f.URL(), "dam-reader", "cs-Dr5Mx2Qa9Lw4Zk7P", []string{"api"})
		Expect(err).NotTo(HaveOccurred())
		return tok.AccessToken
	}
	verify := func(args ...string) result {
		return run(append(append([]string{"verify", "-n", ns}, args...), flags...)...)
	}

	It("reads the record with the token and prints the status, title and status, nothing secret", func() {
		withToken(issue())

		r := verify("dam-reader", "--record", recordID)

		Expect(r.code).To(Equal(ExitOK), r.err)
		Expect(r.out).To(Equal("GET " + f.URL() + "/api/core/record/" + recordID + ": HTTP 200 OK\n" +
			"title:  Spring campaign hero\nstatus: Released\n"))
		expectNoSecretIn(f, r.out, r.err)
	})

	It("exits 1 on 401 and points at status and refresh", func() {
		withToken("at-Expired9Or4Forged2Token7")

		r := verify("dam-reader", "--record", recordID)

		Expect(r.code).To(Equal(ExitError))
		Expect(r.out).To(HaveSuffix(": HTTP 401 Unauthorized\n"))
		Expect(r.err).To(Equal("error: the DAM refused the token in Secret " + ns + "/dam-reader-token (401): it is expired or invalid. " +
			"Check `kubectl aprimo status dam-reader -n " + ns + "`; `kubectl aprimo refresh dam-reader -n " + ns + " --wait` gets a new one\n"))
		Expect(aprimotest.QuotesSecret(r.out+r.err, "at-Expired9Or4Forged2Token7")).To(BeFalse())
	})

	It("exits 1 on 404 and says the token itself was accepted", func() {
		withToken(issue())

		r := verify("dam-reader", "--record", "0000000000000000000000000000dead")

		Expect(r.code).To(Equal(ExitError))
		Expect(r.out).To(HaveSuffix(": HTTP 404 Not Found\n"))
		Expect(r.err).To(ContainSubstring("record 0000000000000000000000000000dead not found (404)"))
		Expect(r.err).To(ContainSubstring("the token itself was accepted"))
	})

	It("says when the operator has not written a token yet", func() {
		credential(ns, "dam-reader")

		r := verify("dam-reader", "--record", recordID)

		Expect(r.code).To(Equal(ExitError))
		Expect(r.err).To(ContainSubstring("Secret " + ns + "/dam-reader, the credential's target, does not exist"))
	})

	It("derives the DAM from the tenant, and sends the token only to allowed hosts", func() {
		withToken(issue())

		r := run("verify", "-n", ns, "dam-reader", "--record", recordID, "--allowed-token-hosts", "127.0.0.1")

		Expect(r.code).To(Equal(ExitError))
		Expect(r.err).To(ContainSubstring(`DAM API host "acme.dam.aprimo.com" is not allowed (allowed: 127.0.0.1)`))
		Expect(r.out).To(BeEmpty())
	})

	It("refuses a record ID that is not one", func() {
		r := run("verify", "-n", ns, "dam-reader", "--record", "../../login/connect/token")
		Expect(r.code).To(Equal(ExitError))
		Expect(r.err).To(ContainSubstring("--record: a record ID is letters, digits"))
		Expect(strings.Count(r.err, "error:")).To(Equal(1))
	})
})
