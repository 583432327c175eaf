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

	"k8s.io/apimachinery/pkg/types"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
)

func TestMemoryIsPerCredentialAndForgotten(t *testing.T) {
	cred := func(uid types.UID) *v1alpha1.AprimoCredential {
		c := &v1alpha1.AprimoCredential{}
		c.Namespace, c.Name, c.UID = "marketing", "dam-reader", uid
		return c
	}
	var m memory[string]
	m.store(cred("first"), "inputs-1")
	if v, ok := m.load(cred("first")); !ok || v != "inputs-1" {
		t.Fatalf("load = %q, %v; want the stored value", v, ok)
	}
	if _, ok := m.load(cred("recreated")); ok {
		t.Error("a credential recreated under the same name inherited the old one's memory")
	}
	m.forget(types.NamespacedName{Namespace: "marketing", Name: "dam-reader"})
	if _, ok := m.load(cred("first")); ok {
		t.Error("forget left the entry behind")
	}
	m.store(cred("first"), "inputs-2")
	m.delete(cred("first"))
	if _, ok := m.load(cred("first")); ok {
		t.Error("delete left the entry behind")
	}
}
