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
	"encoding/json"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo/aprimotest"
)

// notSecret are Secret keys whose values may be shown: identifiers and times.
var notSecret = map[string]bool{
	v1alpha1.ExpiresAtKey: true, v1alpha1.TokenTypeKey: true, "client-id": true, "username": true,
}

// expectNoSecretLeaked scans everything the operator wrote for people to read
// (its logs at debug level, events, and AprimoCredential status) for any
// 8-character piece of any secret value this suite used: client secrets, user
// tokens, bootstrap tokens, and every access and refresh token the fake issued.
// It runs after every spec has run, from AfterSuite.
func expectNoSecretLeaked() {
	secrets := fake.Secrets()
	var all corev1.SecretList
	Expect(k8s.List(suiteCtx, &all)).To(Succeed())
	for _, s := range all.Items {
		if s.Namespace[:2] != "t-" {
			continue
		}
		for k, v := range s.Data {
			if !notSecret[k] {
				secrets = append(secrets, string(v))
			}
		}
	}
	if cfg, _ := GinkgoConfiguration(); len(cfg.FocusStrings)+len(cfg.SkipStrings)+len(cfg.FocusFiles)+len(cfg.LabelFilter) == 0 {
		Expect(len(secrets)).To(BeNumerically(">", 50), "the scan must cover the suite's secrets")
	}

	var creds v1alpha1.AprimoCredentialList
	Expect(k8s.List(suiteCtx, &creds)).To(Succeed())
	var events eventsv1.EventList
	Expect(k8s.List(suiteCtx, &events)).To(Succeed())

	texts := map[string]string{"logs": logs.String()}
	for _, c := range creds.Items {
		b, err := json.Marshal(c.Status)
		Expect(err).NotTo(HaveOccurred())
		texts["status of "+c.Namespace+"/"+c.Name] = string(b)
	}
	for _, e := range events.Items {
		texts["event "+e.Namespace+"/"+e.Name] = e.Reason + " " + e.Action + " " + e.Note
	}
	for where, text := range texts {
		for _, secret := range secrets {
			if len(secret) < 8 { // a value this short is not a credential (e.g. "Bearer")
				continue
			}
			Expect(aprimotest.QuotesSecret(text, secret)).To(BeFalse(), "%s quotes a piece of a secret value", where)
		}
	}
}
