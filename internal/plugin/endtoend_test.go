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
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/controllers"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo/aprimotest"
)

// startOperator runs the operator's reconciler in this process, as
// cmd/main.go wires it, watching namespace ns only (the other specs of this
// suite play the operator themselves), against the fake f. It stops when the
// spec ends.
func startOperator(ns string, f *fakeAprimo) {
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: ptr.To(true)},
		Cache:                  controllers.CacheOptions([]string{ns}),
	})
	Expect(err).NotTo(HaveOccurred())
	secretMetadata, err := controllers.NewSecretMetadataCache(mgr, []string{ns})
	Expect(err).NotTo(HaveOccurred())
	hosts := aprimo.HostAllowlist{"127.0.0.1"}
	r := &controllers.AprimoCredentialReconciler{
		Client:         mgr.GetClient(),
		APIReader:      mgr.GetAPIReader(),
		SecretMetadata: secretMetadata,
		Scheme:         mgr.GetScheme(),
		Clock:          clock.RealClock{},
		Recorder:       mgr.GetEventRecorder("aprimo-credential-operator"),
		Tokens:         aprimo.NewClient(aprimo.Options{Hosts: hosts, Transport: f.Client().Transport}),
		Hosts:          hosts,
		Random:         rand.Float64,
	}
	ctx, cancel := context.WithCancel(suiteCtx)
	Expect(r.SetupWithManager(ctx, mgr, secretMetadata, 1)).To(Succeed())
	done := make(chan struct{})
	go func() {
		defer GinkgoRecover()
		defer close(done)
		Expect(mgr.Start(ctx)).To(Succeed())
	}()
	DeferCleanup(func() {
		cancel()
		<-done
	})
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

var _ = Describe("login, then the operator, then verify", func() {
	It("seeds a RefreshToken credential that the operator rotates, whose token then reads a DAM record", func() {
		ns := newNamespace()
		f := newFakeAprimo()
		f.AddRecord(aprimotest.Record{ID: recordID, Title: "Spring campaign hero", Status: "Released"})
		clientSecret(ns, "aprimo-client", pkceClientID, pkceSecret)
		startOperator(ns, f)

		By("signing in with --create-credential")
		r := runLogin(newBrowser(f), "", append(append([]string{"login", "-n", ns}, f.flags...),
			"--client-secret-ref", "aprimo-client", "--secret", "aprimo-bootstrap", "--create-credential", "campaign-sync")...)
		Expect(r.code).To(Equal(ExitOK), r.err)
		bootstrap := string(secretData(ns, "aprimo-bootstrap")[RefreshTokenKey])

		By("the operator redeeming the login's refresh token")
		ready := func() bool {
			return meta.IsStatusConditionTrue(get(ns, "campaign-sync").Status.Conditions, v1alpha1.ConditionReady)
		}
		Eventually(ready, 20*time.Second).Should(BeTrue())
		Expect(f.Requests()).To(HaveExactElements(
			HaveField("GrantType", "authorization_code"),
			And(HaveField("GrantType", "refresh_token"), HaveField("RefreshTokenSHA256", sha256Hex(bootstrap)), HaveField("Status", 200)),
		))
		Expect(f.ValidAccessToken(string(secretData(ns, "campaign-sync")[v1alpha1.AccessTokenKey]))).To(BeTrue())

		verify := func() result {
			return run("verify", "campaign-sync", "-n", ns, "--record", recordID,
				"--dam-url", f.URL(), f.flags[2], f.flags[3], f.flags[4], f.flags[5])
		}
		By("verify reading a record with the operator's token")
		r = verify()
		Expect(r.code).To(Equal(ExitOK), r.err)
		Expect(r.out).To(ContainSubstring("HTTP 200 OK\ntitle:  Spring campaign hero\nstatus: Released\n"))

		By("the chain rotating again on a forced refresh")
		first := string(secretData(ns, "campaign-sync")[v1alpha1.AccessTokenKey])
		clk.Step(time.Second)
		r = run("refresh", "campaign-sync", "-n", ns, "--wait", "--timeout", "20s")
		Expect(r.code).To(Equal(ExitOK), r.err)
		Expect(string(secretData(ns, "campaign-sync")[v1alpha1.AccessTokenKey])).NotTo(Equal(first))
		Expect(f.Requests()).To(HaveLen(3))
		Expect(f.Requests()[2]).To(And(HaveField("GrantType", "refresh_token"), HaveField("Status", 200)))
		r = verify()
		Expect(r.code).To(Equal(ExitOK), r.err)
		expectNoSecretIn(f, r.out, r.err)
	})
})
