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

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

func TestSecretMetadataWatchesNoNamespaceItMayNot(t *testing.T) {
	noCache := func(ns string) (cache.Cache, error) {
		t.Fatalf("a cache was created for namespace %q", ns)
		return nil, nil
	}
	key := types.NamespacedName{Namespace: "team-b", Name: "aprimo-client"}

	notStarted := &SecretMetadata{newCache: noCache, byNS: map[string]cache.Cache{}}
	if err := notStarted.Get(t.Context(), key, &metav1.PartialObjectMetadata{}); err == nil {
		t.Errorf("Get before the manager started succeeded")
	}

	s := &SecretMetadata{newCache: noCache, byNS: map[string]cache.Cache{}, ctx: t.Context(),
		allowed: map[string]bool{"team-a": true}}
	if err := s.Get(t.Context(), key, &metav1.PartialObjectMetadata{}); err == nil {
		t.Errorf("Get in a namespace outside --watch-namespaces succeeded")
	}
	if err := s.List(t.Context(), &metav1.PartialObjectMetadataList{}); err == nil {
		t.Errorf("a List across all namespaces succeeded")
	}
	if err := s.List(t.Context(), &metav1.PartialObjectMetadataList{}, client.InNamespace("team-b")); err == nil {
		t.Errorf("List in a namespace outside --watch-namespaces succeeded")
	}
}
