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
	"sync"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// memory is what the reconciler keeps about credentials between passes, in
// memory only. It is keyed by name and guarded by UID, so a credential deleted
// and created again starts afresh, and forget drops a deleted one's entry.
type memory[T any] struct{ m sync.Map }

type remembered[T any] struct {
	uid types.UID
	v   T
}

func (m *memory[T]) load(o client.Object) (T, bool) {
	if e, ok := m.m.Load(client.ObjectKeyFromObject(o)); ok && e.(remembered[T]).uid == o.GetUID() {
		return e.(remembered[T]).v, true
	}
	var zero T
	return zero, false
}

func (m *memory[T]) store(o client.Object, v T) {
	m.m.Store(client.ObjectKeyFromObject(o), remembered[T]{uid: o.GetUID(), v: v})
}

func (m *memory[T]) delete(o client.Object) { m.m.Delete(client.ObjectKeyFromObject(o)) }

func (m *memory[T]) forget(key types.NamespacedName) { m.m.Delete(key) }
