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
	"crypto/sha256"
	"encoding/json"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/policy"
)

// TestAsApplied: a pass skips its apply only when the Secret holds every
// value the operator sets and was last applied as the pass would apply it.
func TestAsApplied(t *testing.T) {
	cred := &v1alpha1.AprimoCredential{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "ns", UID: "uid-1"}}
	cred.Spec.Target.Labels = map[string]string{"team": "dam", "empty": ""}
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	content := contentFromToken(&aprimo.Token{AccessToken: randomString(16), IssuedAt: now, ExpiresAt: now.Add(time.Hour)}, "inputs", "")
	r := &AprimoCredentialReconciler{}
	applied := func() *corev1.Secret { // the Secret as the API server holds it after the apply
		b, err := json.Marshal(r.targetApply(cred, content))
		if err != nil {
			t.Fatal(err)
		}
		s := &corev1.Secret{}
		if err := json.Unmarshal(b, s); err != nil {
			t.Fatal(err)
		}
		return s
	}

	tests := map[string]struct {
		edit func(s *corev1.Secret, c *v1alpha1.AprimoCredential)
		want bool
	}{
		"as applied":                      {edit: func(*corev1.Secret, *v1alpha1.AprimoCredential) {}, want: true},
		"another writer's label and note": {edit: func(s *corev1.Secret, _ *v1alpha1.AprimoCredential) { s.Labels["x"] = "y"; s.Annotations["n"] = "" }, want: true},
		"a token value changed":           {edit: func(s *corev1.Secret, _ *v1alpha1.AprimoCredential) { s.Data[v1alpha1.AccessTokenKey] = []byte("x") }},
		"a data key removed":              {edit: func(s *corev1.Secret, _ *v1alpha1.AprimoCredential) { delete(s.Data, v1alpha1.ExpiresAtKey) }},
		"an empty label removed":          {edit: func(s *corev1.Secret, _ *v1alpha1.AprimoCredential) { delete(s.Labels, "empty") }},
		"a label value changed":           {edit: func(s *corev1.Secret, _ *v1alpha1.AprimoCredential) { s.Labels["team"] = "mam" }},
		"the applied digest removed":      {edit: func(s *corev1.Secret, _ *v1alpha1.AprimoCredential) { delete(s.Annotations, appliedAnnotation) }},
		"the type changed":                {edit: func(s *corev1.Secret, _ *v1alpha1.AprimoCredential) { s.Type = corev1.SecretTypeBasicAuth }},
		"the owner removed":               {edit: func(s *corev1.Secret, _ *v1alpha1.AprimoCredential) { s.OwnerReferences = nil }},
		"another controller":              {edit: func(s *corev1.Secret, _ *v1alpha1.AprimoCredential) { s.OwnerReferences[0].UID = "uid-2" }},
		"a label dropped from the spec":   {edit: func(_ *corev1.Secret, c *v1alpha1.AprimoCredential) { delete(c.Spec.Target.Labels, "team") }},
		"an annotation added to the spec": {edit: func(_ *corev1.Secret, c *v1alpha1.AprimoCredential) {
			c.Spec.Target.Annotations = map[string]string{"a": "b"}
		}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s := applied()
			orig := cred.DeepCopy()
			defer func() { cred = orig }()
			tc.edit(s, cred)
			if got := asApplied(s, r.targetApply(cred, content)); got != tc.want {
				t.Errorf("asApplied() = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestSecretValuesDigestAsBefore: the memo's digests are the hex SHA-256 of
// the trimmed value, as the inputs-hash annotations already written were
// computed: a new format would cost every credential a token request.
func TestSecretValuesDigestAsBefore(t *testing.T) {
	secret := randomString(16)
	v := &secretValues{keys: []keyValue{
		{key: "clientSecret", digest: sha256.Sum256([]byte(secret)), value: secret, kept: true},
		{key: "other", digest: sha256.Sum256([]byte("x"))},
	}}
	if got, want := v.digest("clientSecret"), policy.SHA256(secret); got != want {
		t.Errorf("digest = %s, want %s", got, want)
	}
	if v.digest("absent") != "" || v.value("absent") != "" || v.value("other") != "" {
		t.Errorf("an absent key or a key not kept has a digest or value")
	}
	if !v.covers([]string{"clientSecret", "absent"}) || v.covers([]string{"other"}) {
		t.Errorf("covers: want the kept and absent keys covered, the key not kept not")
	}
}
