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
	"net/url"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo"
)

// FuzzRunTimeSpecChecks: validation of the spec is CEL at admission; these are
// the operator's own checks and defaults at run time, which must hold for any
// object (an older CRD, or a rule changed later): the endpoint host, the
// target's labels, the target name, and the renewal time from spec.renewBefore.
func FuzzRunTimeSpecChecks(f *testing.F) {
	f.Add("acme", "", "team", "payments", "", int64(0), int64(time.Hour))
	f.Add("", "https://acme.aprimo.com", "example.com/team", "a-b_c.d", "acme-token", int64(10*time.Minute), int64(time.Hour))
	f.Add("", "https://evil.com", "team", "", "", int64(0), int64(time.Minute))
	f.Add("", "https://evil.com#.aprimo.com", "team", "x", "", int64(-1), int64(time.Second))
	f.Add("evil.com/", "", "team", "-bad", "", int64(time.Hour), int64(30*time.Second))
	f.Add("a@evil.com", "", "team", "bad-", "", int64(0), int64(0))
	f.Add("", "http://acme.aprimo.com", "team", "has space", "", int64(0), int64(-time.Hour))
	f.Add("", "https://127.0.0.1:8443", "team", "0123456789012345678901234567890123456789012345678901234567890123", "", int64(0), int64(time.Hour))
	f.Add("", "https://[::1]:8443", "", "ok", "", int64(1), int64(1))

	r := &AprimoCredentialReconciler{Hosts: aprimo.HostAllowlist{"*.aprimo.com", "auth.aprimodm.com", "127.0.0.1"}}
	issuedAt := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, tenant, rawURL, labelKey, labelValue, targetName string, renewBeforeNs, lifetimeNs int64) {
		cred := &v1alpha1.AprimoCredential{
			ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "cred", UID: "uid-1"},
			Spec: v1alpha1.AprimoCredentialSpec{
				Tenant: tenant, URL: rawURL,
				Target: v1alpha1.TargetSecret{Name: targetName, Labels: map[string]string{labelKey: labelValue}},
			},
		}
		if renewBeforeNs != 0 {
			cred.Spec.RenewBefore = &metav1.Duration{Duration: time.Duration(renewBeforeNs)}
		}

		if f := r.checkHost(cred); f != nil {
			expectStalledFailure(t, f, v1alpha1.ReasonHostNotAllowed)
		} else {
			u, err := url.Parse(cred.TokenEndpoint())
			if err != nil || u.Scheme != "https" || !r.Hosts.Allows(u.Hostname()) {
				t.Errorf("endpoint %q passed the host check", cred.TokenEndpoint())
			}
		}

		if f := checkTarget(cred); f != nil {
			expectStalledFailure(t, f, v1alpha1.ReasonTargetSecretConflict)
		} else if errs := validation.IsValidLabelValue(labelValue); len(errs) > 0 {
			t.Errorf("label value %q passed the target check: %v", labelValue, errs)
		}

		if name := cred.TargetName(); name == "" || (targetName != "" && name != targetName) {
			t.Errorf("target name %q for spec.target.name %q", name, targetName)
		}

		lifetime := time.Duration(lifetimeNs % int64(48*time.Hour))
		expiresAt := issuedAt.Add(lifetime)
		renewal := r.renewalTime(cred, nil, issuedAt, expiresAt)
		if lifetime > 0 && (renewal.Before(issuedAt) || !renewal.Before(expiresAt)) {
			t.Errorf("lifetime %s, renewBefore %s: renewal at %s is outside the token's life", lifetime, time.Duration(renewBeforeNs), renewal.Sub(issuedAt))
		}
	})
}

func expectStalledFailure(t *testing.T, f *failure, reason string) {
	t.Helper()
	if f.Reason != reason || !f.Stalled || f.Message == "" {
		t.Errorf("failure %+v, want a stalled %s with a message", f, reason)
	}
}
