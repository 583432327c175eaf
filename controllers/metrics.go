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
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
)

// Metrics in the shape cert-manager users know, on the manager's metrics
// endpoint (controller-runtime's registry).
var (
	expirationTimestamp = prometheus.NewDesc("aprimo_credential_expiration_timestamp_seconds",
		"When the token in the credential's target Secret expires, in seconds since the epoch.",
		[]string{"namespace", "name"}, nil)
	renewalTimestamp = prometheus.NewDesc("aprimo_credential_renewal_timestamp_seconds",
		"When the credential's next token request is due (refresh or retry), in seconds since the epoch.",
		[]string{"namespace", "name"}, nil)
	readyStatus = prometheus.NewDesc("aprimo_credential_ready_status",
		"The credential's Ready condition: 1 for the current status (True, False or Unknown), 0 for the others.",
		[]string{"namespace", "name", "condition"}, nil)
	stalledStatus = prometheus.NewDesc("aprimo_credential_stalled",
		"1 while the credential's Stalled condition is True: retrying alone will not help, a person must act (even while the stored token is still valid), else 0.",
		[]string{"namespace", "name"}, nil)
	tokenRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "aprimo_token_requests_total",
		Help: "Token requests sent to Aprimo, by flow and result (success, or the failure reason).",
	}, []string{"flow", "result"})
	tokenRequestDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "aprimo_token_request_duration_seconds",
		Help:    "Duration of token requests to Aprimo, answered or not.",
		Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
	}, []string{"flow"})
)

// credentialMetrics reports the credentials of the latest manager set up
// (a test suite may start several in turn).
var credentialMetrics = &credentialCollector{}

func init() {
	metrics.Registry.MustRegister(tokenRequests, tokenRequestDuration, credentialMetrics)
}

// credentialCollector computes the per-credential series at each scrape from
// the cached AprimoCredentials' status, instead of keeping six series per
// credential in memory (about 4 KiB each: 20 MB at 5,000, docs/performance.md).
// Only the leader reports them, as when the reconciler set them.
type credentialCollector struct {
	mu          sync.Mutex
	credentials client.Reader
	elected     <-chan struct{}
}

// registerCredentialMetrics reports the per-credential series of the
// credentials in the manager's cache.
func registerCredentialMetrics(mgr ctrl.Manager) {
	credentialMetrics.mu.Lock()
	defer credentialMetrics.mu.Unlock()
	credentialMetrics.credentials, credentialMetrics.elected = mgr.GetCache(), mgr.Elected()
}

func (c *credentialCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{expirationTimestamp, renewalTimestamp, readyStatus, stalledStatus} {
		ch <- d
	}
}

func (c *credentialCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	credentials, elected := c.credentials, c.elected
	c.mu.Unlock()
	if credentials == nil {
		return
	}
	select {
	case <-elected:
	default:
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var list v1alpha1.AprimoCredentialList
	// Read only: the cache's objects themselves, not copies.
	if err := credentials.List(ctx, &list, client.UnsafeDisableDeepCopy); err != nil {
		return
	}
	for i := range list.Items {
		collectCredential(ch, &list.Items[i])
	}
}

// collectCredential sends a credential's series, from its status.
func collectCredential(ch chan<- prometheus.Metric, cred *v1alpha1.AprimoCredential) {
	ns, name := cred.Namespace, cred.Name
	for d, t := range map[*prometheus.Desc]*metav1.Time{expirationTimestamp: cred.Status.ExpiresAt, renewalTimestamp: cred.Status.RenewalTime} {
		if t != nil {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(t.Unix()), ns, name)
		}
	}
	current := metav1.ConditionUnknown
	if c := meta.FindStatusCondition(cred.Status.Conditions, v1alpha1.ConditionReady); c != nil {
		current = c.Status
	}
	for _, s := range []metav1.ConditionStatus{metav1.ConditionTrue, metav1.ConditionFalse, metav1.ConditionUnknown} {
		v := 0.0
		if s == current {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(readyStatus, prometheus.GaugeValue, v, ns, name, string(s))
	}
	stalled := 0.0
	if meta.IsStatusConditionTrue(cred.Status.Conditions, v1alpha1.ConditionStalled) {
		stalled = 1
	}
	ch <- prometheus.MustNewConstMetric(stalledStatus, prometheus.GaugeValue, stalled, ns, name)
}

// recordRequest counts one token request and its duration. The result is
// "success" or the reason the one table in failures.go gives the failure.
func recordRequest(cred *v1alpha1.AprimoCredential, took time.Duration, err error) {
	result := "success"
	if err != nil {
		result = fromTokenError(cred, err).Reason
	}
	tokenRequestDuration.WithLabelValues(string(cred.Spec.Flow)).Observe(took.Seconds())
	tokenRequests.WithLabelValues(string(cred.Spec.Flow), result).Inc()
}
