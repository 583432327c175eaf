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
	"reflect"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
)

func TestSecretIdentityKeepsOnlyNameNamespaceUIDAndResourceVersion(t *testing.T) {
	secretType := metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"}
	identity := metav1.ObjectMeta{Name: "aprimo-client", Namespace: "marketing", UID: "6f1c", ResourceVersion: "42"}
	full := func() *metav1.PartialObjectMetadata {
		return &metav1.PartialObjectMetadata{
			TypeMeta: secretType,
			ObjectMeta: metav1.ObjectMeta{
				Name: "aprimo-client", Namespace: "marketing", UID: "6f1c", ResourceVersion: "42",
				Generation:        3,
				CreationTimestamp: metav1.NewTime(time.Date(2026, 11, 21, 9, 45, 0, 0, time.UTC)),
				Labels:            map[string]string{"team": "dam"},
				Annotations: map[string]string{
					"kubectl.kubernetes.io/last-applied-configuration": `{"apiVersion":"v1","kind":"Secret","data":{"client-secret":"czNjcjN0"}}`,
				},
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: "owner", UID: "a1"}},
				Finalizers:      []string{"example.com/keep"},
				ManagedFields: []metav1.ManagedFieldsEntry{{
					Manager: "kubectl-client-side-apply", Operation: metav1.ManagedFieldsOperationUpdate,
					FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:data":{"f:client-secret":{}}}`)},
				}},
			},
		}
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "s", Annotations: map[string]string{"a": "b"}},
		Data:       map[string][]byte{"k": []byte("v")},
	}
	tombstone := cache.DeletedFinalStateUnknown{Key: "marketing/aprimo-client", Obj: full()}

	tests := map[string]struct {
		in   any
		want any
	}{
		"metadata with last-applied-configuration, labels, owners and managed fields": {
			in:   full(),
			want: &metav1.PartialObjectMetadata{TypeMeta: secretType, ObjectMeta: identity},
		},
		"metadata already reduced stays the same": {
			in:   &metav1.PartialObjectMetadata{TypeMeta: secretType, ObjectMeta: identity},
			want: &metav1.PartialObjectMetadata{TypeMeta: secretType, ObjectMeta: identity},
		},
		"another type is returned unchanged": {
			in:   secret,
			want: secret.DeepCopy(),
		},
		"a tombstone is returned unchanged": {
			in:   tombstone,
			want: tombstone,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := secretIdentity(tc.in)
			if err != nil {
				t.Fatalf("secretIdentity() error = %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("secretIdentity() = %#v, want %#v", got, tc.want)
			}
		})
	}
}

func TestCacheOptionsWatchNamespaces(t *testing.T) {
	tests := map[string]struct {
		namespaces []string
		want       []string // nil: all namespaces
	}{
		"all namespaces":       {},
		"listed namespaces":    {namespaces: []string{"team-a", "team-b"}, want: []string{"team-a", "team-b"}},
		"one listed namespace": {namespaces: []string{"team-a"}, want: []string{"team-a"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			opts := CacheOptions(tc.namespaces)
			if len(opts.ByObject) != 2 {
				t.Fatalf("ByObject = %v, want the labelled Secrets and the AprimoCredentials' transform only", opts.ByObject)
			}
			for o, b := range opts.ByObject {
				if b.Namespaces != nil {
					t.Errorf("ByObject[%T].Namespaces = %v, want the default namespaces", o, b.Namespaces)
				}
			}
			var got []string
			for ns := range opts.DefaultNamespaces {
				got = append(got, ns)
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("namespaces = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCredentialTransformDropsManagedFieldsAndLastApplied(t *testing.T) {
	cred := &v1alpha1.AprimoCredential{ObjectMeta: metav1.ObjectMeta{
		Name: "dam", Namespace: "marketing",
		Annotations: map[string]string{
			corev1.LastAppliedConfigAnnotation:    `{"spec":{}}`,
			v1alpha1.RefreshRequestedAtAnnotation: "2026-11-21T20:00:00Z",
		},
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply}},
	}}
	got, err := credentialTransform(cred)
	if err != nil {
		t.Fatalf("credentialTransform() error = %v", err)
	}
	want := map[string]string{v1alpha1.RefreshRequestedAtAnnotation: "2026-11-21T20:00:00Z"}
	c := got.(*v1alpha1.AprimoCredential)
	if c.ManagedFields != nil || !reflect.DeepEqual(c.Annotations, want) {
		t.Errorf("credentialTransform() kept managed fields %v, annotations %v; want none, %v", c.ManagedFields, c.Annotations, want)
	}
	tombstone := cache.DeletedFinalStateUnknown{Key: "marketing/dam"}
	if got, _ := credentialTransform(tombstone); got != tombstone {
		t.Errorf("credentialTransform(tombstone) = %v, want it unchanged", got)
	}
}
