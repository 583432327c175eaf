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
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/policy"
)

// DefaultRevokeDeadline is how long a deletion waits for a failing revoke.
const DefaultRevokeDeadline = 3 * time.Minute

// wantsRevoke: a LegacyUserToken credential with spec.legacy.revokeOnDelete.
func wantsRevoke(cred *v1alpha1.AprimoCredential) bool {
	l := cred.Spec.Legacy
	return cred.Spec.Flow == v1alpha1.FlowLegacyUserToken && l != nil && l.RevokeOnDelete && l.UserID != ""
}

// syncFinalizer adds the revoke finalizer to a credential that asks for a
// revoke on deletion, and removes it from one that no longer does. ok is false
// when the pass must look again (the credential changed meanwhile).
func (r *AprimoCredentialReconciler) syncFinalizer(ctx context.Context, p *pass) (ok bool, err error) {
	want, has := wantsRevoke(p.cred), controllerutil.ContainsFinalizer(p.cred, v1alpha1.RevokeFinalizer)
	if want == has {
		return true, nil
	}
	if want {
		controllerutil.AddFinalizer(p.cred, v1alpha1.RevokeFinalizer)
	} else {
		controllerutil.RemoveFinalizer(p.cred, v1alpha1.RevokeFinalizer)
	}
	if ok, err := r.patchFinalizers(ctx, p); !ok || err != nil {
		return false, err
	}
	// The patch returned the credential as it is now; its status is unchanged.
	p.before = p.cred.DeepCopy()
	return true, nil
}

// patchFinalizers writes p.cred's finalizers with an optimistic lock; ok is
// false when the cached credential was stale.
func (r *AprimoCredentialReconciler) patchFinalizers(ctx context.Context, p *pass) (ok bool, err error) {
	base := p.before.DeepCopy()
	base.Status = p.cred.Status // a merge patch of metadata only
	err = r.Patch(ctx, p.cred, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}), fieldOwner)
	if err == nil {
		r.wroteCredential(p.cred)
	} else {
		r.writeUnsure(p.cred)
	}
	switch {
	case apierrors.IsConflict(err):
		r.lookAgain(p)
		return false, nil
	case apierrors.IsNotFound(err):
		p.stale = true // gone: nothing to write
		return false, nil
	}
	return err == nil, err
}

// finalize revokes the user's refresh tokens of a deleted credential that asked
// for it, then lets the deletion go on. A failing revoke is reported and
// retried, for at most RevokeDeadline after the deletion: it never holds the
// deletion longer.
func (r *AprimoCredentialReconciler) finalize(ctx context.Context, p *pass) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(p.cred, v1alpha1.RevokeFinalizer) {
		return ctrl.Result{}, nil // nothing of ours to clean up
	}
	userID := ""
	if p.cred.Spec.Legacy != nil {
		userID = p.cred.Spec.Legacy.UserID
	}
	err := r.revoke(ctx, p, userID)
	now := r.Clock.Now()
	retryAt, giveUp := policy.RevokeRetry(now, p.cred.DeletionTimestamp.Time, r.revokeDeadline())
	switch {
	case err == nil:
		r.event(p, corev1.EventTypeNormal, v1alpha1.ReasonRevoked,
			"Revoked all refresh tokens of Aprimo user %s before deletion.", userID)
		logf.FromContext(ctx).Info("Revoked legacy refresh tokens", "credential", klog.KObj(p.cred), "userID", userID)
	case giveUp:
		r.event(p, corev1.EventTypeWarning, v1alpha1.ReasonRevokeAbandoned,
			"Deleted without revoking the refresh tokens of Aprimo user %s: the revoke kept failing for %s (last: %s). Revoke them by hand: DELETE %s/api/oauth/revoke/%s.",
			userID, r.revokeDeadline(), err.Error(), p.cred.TokenEndpoint(), userID)
		logf.FromContext(ctx).Error(err, "Failed to revoke legacy refresh tokens; deleting without it", "credential", klog.KObj(p.cred))
	default:
		r.event(p, corev1.EventTypeWarning, v1alpha1.ReasonRevokeFailed,
			"Failed to revoke the refresh tokens of Aprimo user %s: %s. Retrying until %s; the deletion waits at most until then.",
			userID, err.Error(), rfc3339(p.cred.DeletionTimestamp.Add(r.revokeDeadline())))
		logf.FromContext(ctx).Info("Failed to revoke legacy refresh tokens; retrying", "credential", klog.KObj(p.cred),
			"error", err.Error(), "retryAt", rfc3339(retryAt))
		return ctrl.Result{RequeueAfter: policy.RequeueAfter(now, retryAt)}, nil
	}
	controllerutil.RemoveFinalizer(p.cred, v1alpha1.RevokeFinalizer)
	_, err = r.patchFinalizers(ctx, p) // a conflict looks again, and revokes again
	return ctrl.Result{}, err
}

// revokeMargin is the life a stored access token must have left to be used
// for the revoke call, so that it does not expire on the way.
const revokeMargin = 30 * time.Second

// revoke calls the revoke route with an access token of the user: the one in
// the target Secret while it has life left, so that a deletion, or each retry
// of a failing revoke, costs no token request; else a new one (renewed with the
// stored refresh token, or a new pair), which is not written: the credential
// is going away.
func (r *AprimoCredentialReconciler) revoke(ctx context.Context, p *pass, userID string) error {
	if userID == "" {
		return fmt.Errorf("spec.legacy.userID is empty")
	}
	if f := r.checkHost(p.cred); f != nil {
		return f
	}
	creds, f, err := r.readCredentials(ctx, p.cred)
	if f != nil {
		return f
	}
	if err != nil {
		return err
	}
	accessToken, err := r.storedAccessToken(ctx, p)
	if err != nil {
		return err
	}
	if accessToken == "" {
		tok, err := r.legacyFlow(ctx, p, creds)
		if err != nil {
			return err
		}
		accessToken = tok.AccessToken
	}
	return r.Tokens.LegacyRevoke(ctx, p.cred.TokenEndpoint(), creds.clientID, accessToken, userID)
}

// storedAccessToken returns the target Secret's access token when this
// credential wrote it and it has revokeMargin of life left; else "".
func (r *AprimoCredentialReconciler) storedAccessToken(ctx context.Context, p *pass) (string, error) {
	stored, f, err := r.observeTarget(ctx, p.cred)
	if err != nil || f != nil || !stored.usable(r.Clock.Now().Add(revokeMargin)) {
		return "", err
	}
	return string(stored.secret.Data[v1alpha1.AccessTokenKey]), nil
}

func (r *AprimoCredentialReconciler) revokeDeadline() time.Duration {
	if r.RevokeDeadline > 0 {
		return r.RevokeDeadline
	}
	return DefaultRevokeDeadline
}

func (r *AprimoCredentialReconciler) event(p *pass, eventType, reason, format string, args ...any) {
	if r.Recorder != nil {
		r.Recorder.Eventf(p.cred, nil, eventType, reason, "RevokeOnDelete", format, args...)
	}
}
