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
	"k8s.io/apimachinery/pkg/util/resourceversion"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// lastWrites are the resourceVersions the API server returned for this
// process's latest successful writes of a credential and of its target Secret.
// "" is unknown: no such write yet, or one whose outcome is unknown.
type lastWrites struct {
	cred   string
	target string
}

// Why a cache that shows our own latest writes needs no live read before a
// token request: the live read (cacheIsFresh) exists because the cache may lag
// the writes of this operator's previous pass, and a pass deciding on the
// older state would request a token twice. A resourceVersion names one state
// of one object; if the cache shows exactly the versions our latest writes of
// both objects returned, it already holds everything this process wrote, and
// the previous pass's token is visible to this one. Anything else (no write
// yet since this process started or since a restart or a leader change,
// someone else's write, a write whose answer was lost) falls back to the live
// read. A write by someone else that the cache has not seen yet is not one of
// ours: deciding without it cannot repeat a request this process made.

// wroteCredential records the credential's resourceVersion after a write of it
// succeeded (the write updated obj from the API server's answer).
func (r *AprimoCredentialReconciler) wroteCredential(cred client.Object) {
	w, _ := r.written.load(cred)
	w.cred = cred.GetResourceVersion()
	r.written.store(cred, w)
}

// wroteTarget records the target Secret's resourceVersion after a write of it succeeded.
func (r *AprimoCredentialReconciler) wroteTarget(cred client.Object, resourceVersion string) {
	w, _ := r.written.load(cred)
	w.target = resourceVersion
	r.written.store(cred, w)
}

// writeUnsure forgets what was written: a write failed, so its outcome, or
// another writer's, is unknown. The next token request reads live again.
func (r *AprimoCredentialReconciler) writeUnsure(cred client.Object) {
	r.written.delete(cred)
}

// cacheShowsOwnWrites: the cached credential and target Secret are exactly
// those this process wrote last (see lastWrites).
func (r *AprimoCredentialReconciler) cacheShowsOwnWrites(p *pass) bool {
	w, ok := r.written.load(p.cred)
	if !ok || w.cred == "" || w.target == "" || p.stored.secret == nil {
		return false
	}
	return w.cred == p.cred.ResourceVersion && w.target == p.stored.secret.ResourceVersion
}

// cacheBehindOwnWrite: the cache shows the credential at a resourceVersion
// older than this process's last write of it. A pass on it would decide on a
// state this process already moved past, and its status write would be
// refused; it looks again instead, reading and writing nothing. (A second
// pass right after the first, woken by an input Secret's event, sees that.)
// A newer version, someone else's write, is no reason to wait.
func (r *AprimoCredentialReconciler) cacheBehindOwnWrite(p *pass) bool {
	w, ok := r.written.load(p.cred)
	if !ok || w.cred == "" {
		return false
	}
	cmp, err := resourceversion.CompareResourceVersion(p.cred.ResourceVersion, w.cred)
	return err == nil && cmp < 0
}
