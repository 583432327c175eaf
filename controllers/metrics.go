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
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
)

// Metrics in the shape cert-manager users know, on the manager's metrics
// endpoint (controller-runtime's registry).
var (
	expirationTimestamp = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "aprimo_credential_expiration_timestamp_seconds",
		Help: "When the token in the credential's target Secret expires, in seconds since the epoch.",
	}, []string{"namespace", "name"})
	renewalTimestamp = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "aprimo_credential_renewal_timestamp_seconds",
		Help: "When the credential's next token request is due (refresh or retry), in seconds since the epoch.",
	}, []string{"namespace", "name"})
	readyStatus = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "aprimo_credential_ready_status",
		Help: "The credential's Ready condition: 1 for the current status (True, False or Unknown), 0 for the others.",
	}, []string{"namespace", "name", "condition"})
	stalledStatus = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "aprimo_credential_stalled",
		Help: "1 while the credential's Stalled condition is True: retrying alone will not help, a person must act (even while the stored token is still valid), else 0.",
	}, []string{"namespace", "name"})
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

func init() {
	metrics.Registry.MustRegister(expirationTimestamp, renewalTimestamp, readyStatus, stalledStatus, tokenRequests, tokenRequestDuration)
}

// recordCredential sets a credential's series from its status.
func recordCredential(cred *v1alpha1.AprimoCredential) {
	ns, name := cred.Namespace, cred.Name
	setTimestamp(expirationTimestamp, ns, name, cred.Status.ExpiresAt)
	setTimestamp(renewalTimestamp, ns, name, cred.Status.RenewalTime)
	current := metav1.ConditionUnknown
	if c := meta.FindStatusCondition(cred.Status.Conditions, v1alpha1.ConditionReady); c != nil {
		current = c.Status
	}
	for _, s := range []metav1.ConditionStatus{metav1.ConditionTrue, metav1.ConditionFalse, metav1.ConditionUnknown} {
		v := 0.0
		if s == current {
			v = 1
		}
		readyStatus.WithLabelValues(ns, name, string(s)).Set(v)
	}
	stalled := 0.0
	if meta.IsStatusConditionTrue(cred.Status.Conditions, v1alpha1.ConditionStalled) {
		stalled = 1
	}
	stalledStatus.WithLabelValues(ns, name).Set(stalled)
}

func setTimestamp(g *prometheus.GaugeVec, ns, name string, t *metav1.Time) {
	if t == nil {
		g.DeleteLabelValues(ns, name)
		return
	}
	g.WithLabelValues(ns, name).Set(float64(t.Unix()))
}

// forgetCredential removes a deleted credential's series.
func forgetCredential(ns, name string) {
	l := prometheus.Labels{"namespace": ns, "name": name}
	expirationTimestamp.DeletePartialMatch(l)
	renewalTimestamp.DeletePartialMatch(l)
	readyStatus.DeletePartialMatch(l)
	stalledStatus.DeletePartialMatch(l)
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
