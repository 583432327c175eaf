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
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/event"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo"
)

func TestOwnSecretEventsPassOnlyWhatNeedsARepair(t *testing.T) {
	issued := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	content := contentFromToken(&aprimo.Token{AccessToken: "at", TokenType: "Bearer", IssuedAt: issued, ExpiresAt: issued.Add(time.Hour)}, "inputs", "")
	target := func(mutate func(*corev1.Secret)) *corev1.Secret {
		s := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{
				Name: "dam-token", Namespace: "ns",
				Labels:          map[string]string{v1alpha1.ManagedByLabel: v1alpha1.ManagedByValue, v1alpha1.CredentialLabel: "dam"},
				Annotations:     content.annotations,
				OwnerReferences: []metav1.OwnerReference{{Kind: "AprimoCredential", Name: "dam", Controller: ptr.To(true)}},
			},
			Data: content.data,
		}
		if mutate != nil {
			mutate(s)
		}
		return s
	}
	tests := map[string]struct {
		secret *corev1.Secret
		pass   bool
	}{
		"an intact target Secret, as the operator wrote it": {secret: target(nil), pass: false},
		"a state Secret":                    {secret: target(func(s *corev1.Secret) { s.Annotations = map[string]string{phaseAnnotation: "Unused"} }), pass: false},
		"a hand-edited token":               {secret: target(func(s *corev1.Secret) { s.Data = map[string][]byte{v1alpha1.AccessTokenKey: []byte("x")} }), pass: true},
		"the credential label removed":      {secret: target(func(s *corev1.Secret) { delete(s.Labels, v1alpha1.CredentialLabel) }), pass: true},
		"no controller":                     {secret: target(func(s *corev1.Secret) { s.OwnerReferences = nil }), pass: true},
		"a label naming another credential": {secret: target(func(s *corev1.Secret) { s.Labels[v1alpha1.CredentialLabel] = "other" }), pass: true},
		"the managed-by label removed":      {secret: target(func(s *corev1.Secret) { delete(s.Labels, v1alpha1.ManagedByLabel) }), pass: true},
	}
	p := ownSecretNeedsAttention()
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := p.Update(event.UpdateEvent{ObjectOld: target(nil), ObjectNew: tc.secret}); got != tc.pass {
				t.Errorf("update passes = %v, want %v", got, tc.pass)
			}
			if got := p.Create(event.CreateEvent{Object: tc.secret}); got != tc.pass {
				t.Errorf("create passes = %v, want %v", got, tc.pass)
			}
			if !p.Delete(event.DeleteEvent{Object: tc.secret}) {
				t.Error("a delete must always pass")
			}
		})
	}
}
