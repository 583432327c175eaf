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
	"net/http"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo/aprimotest"
)

// scrape reads the manager's metrics endpoint as Prometheus would.
func scrape() map[string]*dto.MetricFamily {
	resp, err := http.Get("http://" + metricsAddr + "/metrics")
	Expect(err).NotTo(HaveOccurred())
	defer func() { _ = resp.Body.Close() }()
	Expect(resp.StatusCode).To(Equal(http.StatusOK))
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	Expect(err).NotTo(HaveOccurred())
	return families
}

// sample returns the value of the series of family whose labels include want; ok is false if none.
func sample(families map[string]*dto.MetricFamily, family string, want map[string]string) (float64, bool) {
	f, ok := families[family]
	if !ok {
		return 0, false
	}
next:
	for _, m := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if labels[k] != v {
				continue next
			}
		}
		switch {
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		}
	}
	return 0, false
}

var _ = Describe("Metrics", func() {
	It("exposes expiry, renewal, Ready and request series, and drops a deleted credential's", func() {
		w := newWorld(aprimotest.Registration{})
		w.credential("metered", nil)
		Eventually(w.condition("metered", v1alpha1.ConditionReady), timeout, interval).Should(Equal("True/TokenIssued"))
		c := w.get("metered")
		id := map[string]string{"namespace": w.ns, "name": "metered"}

		Eventually(func(g Gomega) {
			m := scrape()
			v, ok := sample(m, "aprimo_credential_expiration_timestamp_seconds", id)
			g.Expect(ok).To(BeTrue())
			g.Expect(v).To(Equal(float64(c.Status.ExpiresAt.Unix())))
			v, _ = sample(m, "aprimo_credential_renewal_timestamp_seconds", id)
			g.Expect(v).To(Equal(float64(c.Status.RenewalTime.Unix())))
			v, _ = sample(m, "aprimo_credential_ready_status", map[string]string{"namespace": w.ns, "name": "metered", "condition": "True"})
			g.Expect(v).To(Equal(1.0))
			v, _ = sample(m, "aprimo_credential_ready_status", map[string]string{"namespace": w.ns, "name": "metered", "condition": "False"})
			g.Expect(v).To(Equal(0.0))
			v, ok = sample(m, "aprimo_credential_stalled", id)
			g.Expect(ok).To(BeTrue())
			g.Expect(v).To(Equal(0.0))
			v, _ = sample(m, "aprimo_token_requests_total", map[string]string{"flow": "ClientCredentials", "result": "success"})
			g.Expect(v).To(BeNumerically(">=", 1))
			v, _ = sample(m, "aprimo_token_request_duration_seconds", map[string]string{"flow": "ClientCredentials"})
			g.Expect(v).To(BeNumerically(">=", 1))
		}, timeout, interval).Should(Succeed())

		Expect(k8s.Delete(suiteCtx, c)).To(Succeed())
		Eventually(func() bool {
			m := scrape()
			_, a := sample(m, "aprimo_credential_expiration_timestamp_seconds", id)
			_, b := sample(m, "aprimo_credential_ready_status", id)
			_, c := sample(m, "aprimo_credential_stalled", id)
			return a || b || c
		}, timeout, interval).Should(BeFalse())
	})

	It("counts failed requests by reason", func() {
		invalidClient := map[string]string{"flow": "ClientCredentials", "result": "InvalidClient"}
		before, _ := sample(scrape(), "aprimo_token_requests_total", invalidClient) // the counter is process-wide
		w := newWorld(aprimotest.Registration{ActiveAt: time.Now().Add(time.Hour)})
		w.credential("rejected", nil)
		Eventually(w.condition("rejected", v1alpha1.ConditionReady), timeout, interval).Should(Equal("False/InvalidClient"))
		Eventually(func(g Gomega) {
			m := scrape()
			v, _ := sample(m, "aprimo_token_requests_total", invalidClient)
			g.Expect(v).To(Equal(before + 1))
			v, _ = sample(m, "aprimo_credential_ready_status", map[string]string{"namespace": w.ns, "name": "rejected", "condition": "False"})
			g.Expect(v).To(Equal(1.0))
			v, _ = sample(m, "aprimo_credential_stalled", map[string]string{"namespace": w.ns, "name": "rejected"})
			g.Expect(v).To(Equal(1.0), "InvalidClient for an inactive registration is Stalled")
		}, timeout, interval).Should(Succeed())
	})
})
