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
	"context"
	"encoding/json"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/policy"
)

// markIssued says the target Secret holds a valid token.
func (r *AprimoCredentialReconciler) markIssued(p *pass, issuedAt, expiresAt, renewal time.Time) {
	st := &p.cred.Status
	st.FailedAttempts, st.LastFailureTime = 0, nil
	r.failed.delete(p.cred)
	st.LastRefreshTime, st.ExpiresAt, st.RenewalTime = stamp(issuedAt), stamp(expiresAt), stamp(renewal)
	r.setConditions(p, metav1.ConditionTrue, v1alpha1.ReasonTokenIssued,
		fmt.Sprintf("Secret %s holds a token valid until %s; the next refresh is at %s.",
			p.cred.TargetName(), rfc3339(expiresAt), rfc3339(renewal)), false, v1alpha1.ReasonTokenIssued, "")
	p.completed = true
}

// markFailed records a failure and returns when to try again.
func (r *AprimoCredentialReconciler) markFailed(p *pass, f *failure) time.Time {
	st := &p.cred.Status
	if wasStalled := failureStalled(p.before); st.FailedAttempts > 0 && wasStalled != f.Stalled {
		st.FailedAttempts = 0 // transient and stalled failures back off on their own scales
	}
	st.FailedAttempts++
	st.LastFailureTime = stamp(p.now)
	// A failure found before any decision (a missing Secret, a conflict) is
	// checked again on every pass: those checks cost Aprimo nothing. One found
	// after the decision waits for its retry, or for a change of the inputs.
	if p.decided {
		r.failed.store(p.cred, p.inputs)
	} else {
		r.failed.delete(p.cred)
	}
	var tokenExpiry time.Time
	if p.stored.usable(p.now) {
		tokenExpiry = p.stored.expiresAt
	}
	next := policy.NextAttempt(p.now, policy.Failure{Attempts: st.FailedAttempts, Stalled: f.Stalled, RetryAfter: f.RetryAfter}, tokenExpiry, r.Random)
	if !f.NextAttempt.IsZero() {
		next = f.NextAttempt
	}
	st.RenewalTime = stamp(next)
	r.setFailureConditions(p, f.Reason, f.Message, f.Stalled)
	p.log.Info("Failed to get a token", "credential", klog.KObj(p.cred), "reason", f.Reason, "stalled", f.Stalled,
		"message", f.Message, "nextAttempt", rfc3339(next))
	p.completed = true
	if !tokenExpiry.IsZero() && tokenExpiry.Before(next) {
		return tokenExpiry // Ready turns False when the stored token expires
	}
	return next
}

// markStillFailing keeps the last failure while waiting for the next try, and
// turns Ready False once the stored token has expired.
func (r *AprimoCredentialReconciler) markStillFailing(p *pass) {
	stalledCond := meta.FindStatusCondition(p.cred.Status.Conditions, v1alpha1.ConditionStalled)
	if stalledCond == nil {
		return
	}
	r.setFailureConditions(p, stalledCond.Reason, stalledCond.Message, stalledCond.Status == metav1.ConditionTrue)
	p.completed = true
}

func (r *AprimoCredentialReconciler) setFailureConditions(p *pass, reason, message string, isStalled bool) {
	next := "The next try is at an unknown time."
	if rt := p.cred.Status.RenewalTime; rt != nil && isStalled {
		next = fmt.Sprintf("The operator tries again at %s, and at once when the AprimoCredential or its Secrets change.", rfc3339(rt.Time))
	} else if rt != nil {
		next = fmt.Sprintf("The next try is at %s.", rfc3339(rt.Time))
	}
	if p.stored.usable(p.now) {
		p.cred.Status.ExpiresAt = stamp(p.stored.expiresAt)
		r.setConditions(p, metav1.ConditionTrue, v1alpha1.ReasonRefreshFailing,
			fmt.Sprintf("The last refresh failed (%s): %s Secret %s still holds a token valid until %s. %s",
				reason, message, p.cred.TargetName(), rfc3339(p.stored.expiresAt), next), isStalled, reason, message)
		return
	}
	r.setConditions(p, metav1.ConditionFalse, reason, message+" "+next, isStalled, reason, message)
}

// markSuspended says nothing is refreshed.
func (r *AprimoCredentialReconciler) markSuspended(p *pass) {
	msg := "spec.suspend is true: no token is requested."
	if p.stored.usable(p.now) {
		msg += fmt.Sprintf(" Secret %s keeps a token valid until %s.", p.cred.TargetName(), rfc3339(p.stored.expiresAt))
	}
	p.cred.Status.RenewalTime = nil
	r.setConditions(p, metav1.ConditionFalse, v1alpha1.ReasonSuspended, msg, false, v1alpha1.ReasonSuspended, "")
	p.completed = true
}

// setConditions sets Ready, and Stalled (True when only a person can fix it).
// Stalled carries the failure's reason and message also while Ready is True.
func (r *AprimoCredentialReconciler) setConditions(p *pass, ready metav1.ConditionStatus, reason, message string, isStalled bool, stalledReason, stalledMessage string) {
	gen := p.cred.Generation
	meta.SetStatusCondition(&p.cred.Status.Conditions, metav1.Condition{
		Type: v1alpha1.ConditionReady, Status: ready, Reason: reason, Message: message, ObservedGeneration: gen,
	})
	stalledStatus := metav1.ConditionFalse
	if isStalled {
		stalledStatus = metav1.ConditionTrue
	}
	meta.SetStatusCondition(&p.cred.Status.Conditions, metav1.Condition{
		Type: v1alpha1.ConditionStalled, Status: stalledStatus, Reason: stalledReason, Message: stalledMessage, ObservedGeneration: gen,
	})
}

// writeStatus patches the status once, if it changed, and emits an event on
// each transition. It runs deferred from Reconcile.
func (r *AprimoCredentialReconciler) writeStatus(ctx context.Context, p *pass) error {
	if p.stale {
		return nil
	}
	st := &p.cred.Status
	if p.sent {
		st.LastRefreshRequest = refreshRequest(p.cred)
	}
	if p.completed {
		st.ObservedGeneration = p.cred.Generation
	}
	if meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionReady) == nil {
		r.setConditions(p, metav1.ConditionFalse, v1alpha1.ReasonPending, "Waiting for the first token.", false, v1alpha1.ReasonPending, "")
	}
	markDeprecation(p)
	if equality.Semantic.DeepEqual(p.before.Status, *st) {
		return nil
	}
	patch, err := statusPatch(p.before.ResourceVersion, st)
	if err != nil {
		return err
	}
	// The answer is read as metadata only: the pass needs only the new
	// resourceVersion, and custom resources decode from JSON, at a cost on
	// every rotation.
	written := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: p.cred.Namespace, Name: p.cred.Name}}
	written.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind("AprimoCredential"))
	if err := r.Status().Patch(ctx, written, patch, fieldOwner); err != nil {
		r.writeUnsure(p.cred)
		if apierrors.IsConflict(err) {
			p.stale = true
			return nil
		}
		return client.IgnoreNotFound(err)
	}
	p.cred.ResourceVersion = written.ResourceVersion
	r.wroteCredential(p.cred)
	r.emitEvents(p) // only for a transition that was written
	return nil
}

// statusPatch replaces the whole status, on condition that the credential is
// still at the resourceVersion the pass read: the API server refuses it with a
// Conflict otherwise, so a pass that read a stale cache never writes an older
// status over a newer one. It marshals the status alone, where a merge patch
// marshals the whole object twice and diffs the two.
func statusPatch(resourceVersion string, st *v1alpha1.AprimoCredentialStatus) (client.Patch, error) {
	type op struct {
		Op    string `json:"op"`
		Path  string `json:"path"`
		Value any    `json:"value"`
	}
	data, err := json.Marshal([]op{
		{Op: "replace", Path: "/metadata/resourceVersion", Value: resourceVersion},
		{Op: "add", Path: "/status", Value: st}, // add replaces a status that exists
	})
	if err != nil {
		return nil, err
	}
	return client.RawPatch(types.JSONPatchType, data), nil
}

// emitEvents emits a Warning on each new failure reason, and a Normal event on
// the first token and on recovery. An idle credential emits nothing.
func (r *AprimoCredentialReconciler) emitEvents(p *pass) {
	if r.Recorder == nil {
		return
	}
	r.emitDeprecation(p)
	before, after := p.before.Status, p.cred.Status
	failing := func(s v1alpha1.AprimoCredentialStatus) string {
		if s.FailedAttempts == 0 {
			return ""
		}
		if c := meta.FindStatusCondition(s.Conditions, v1alpha1.ConditionStalled); c != nil {
			return c.Reason
		}
		return ""
	}
	target := &corev1.ObjectReference{Kind: "Secret", APIVersion: "v1", Namespace: p.cred.Namespace, Name: p.cred.TargetName()}
	switch was, is := failing(before), failing(after); {
	case is != "" && is != was:
		c := meta.FindStatusCondition(after.Conditions, v1alpha1.ConditionStalled)
		r.Recorder.Eventf(p.cred, nil, corev1.EventTypeWarning, is, "RequestToken", "%s", c.Message)
	case is == "" && was != "" && after.LastRefreshTime != nil:
		r.Recorder.Eventf(p.cred, target, corev1.EventTypeNormal, v1alpha1.ReasonRecovered, "RequestToken",
			"Secret %s holds a new token valid until %s.", p.cred.TargetName(), rfc3339(after.ExpiresAt.Time))
	case is == "" && before.LastRefreshTime == nil && after.LastRefreshTime != nil:
		r.Recorder.Eventf(p.cred, target, corev1.EventTypeNormal, v1alpha1.ReasonTokenIssued, "RequestToken",
			"Secret %s holds a token valid until %s.", p.cred.TargetName(), rfc3339(after.ExpiresAt.Time))
	}
}

// stamp truncates to the second, so status does not change on every pass.
// failureStalled reports whether a credential's recorded failure is a stalled one.
func failureStalled(cred *v1alpha1.AprimoCredential) bool {
	c := meta.FindStatusCondition(cred.Status.Conditions, v1alpha1.ConditionStalled)
	return c != nil && c.Status == metav1.ConditionTrue
}

func stamp(t time.Time) *metav1.Time {
	mt := metav1.NewTime(t.Truncate(time.Second))
	return &mt
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }
