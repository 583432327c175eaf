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

// Package controllers holds the AprimoCredential reconciler.
package controllers

import (
	"context"
	"errors"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/policy"
)

// FieldOwner is the field manager of every write the operator makes.
const FieldOwner = "aprimo-credential-operator"

var fieldOwner = client.FieldOwner(FieldOwner)

// writeBudget bounds the writes that finish a pass after its context ended.
const writeBudget = 10 * time.Second

// AprimoCredentialReconciler keeps a valid Aprimo access token in each
// AprimoCredential's target Secret.
type AprimoCredentialReconciler struct {
	// Client reads AprimoCredentials and the operator's own labelled Secrets from the cache.
	client.Client
	// APIReader reads input Secrets and the chain state directly from the API server.
	APIReader client.Reader
	// SecretMetadata reads Secret metadata from a metadata-only cache.
	SecretMetadata client.Reader
	Scheme         *runtime.Scheme
	Clock          clock.PassiveClock
	Recorder       events.EventRecorder
	Tokens         TokenSource
	Hosts          aprimo.HostAllowlist
	// Random returns a number in [0,1) for backoff jitter.
	Random func() float64
	// RevokeDeadline bounds how long a deletion waits for a failing revoke
	// (spec.legacy.revokeOnDelete); DefaultRevokeDeadline when 0.
	RevokeDeadline time.Duration

	// values memoises what is read of input Secrets, by Secret version.
	values inputValues

	// failed holds, per credential, the inputs hash of the last failed
	// attempt, so a change to the inputs retries at once. It is kept in memory,
	// not in status: a digest over secret values must not be readable by those
	// who may only read AprimoCredentials. After a restart a failing credential
	// retries once.
	failed memory[string]

	// pending holds, per credential, a refresh-token successor that could not
	// be stored; the next pass stores it before anything else.
	pending memory[policy.ChainState]

	// shared holds the latest client-credentials token of each Aprimo client.
	shared sharedTokens

	// written holds, per credential, the resourceVersions of this process's
	// latest writes of it and of its target Secret (see lastWrites).
	written memory[lastWrites]
}

// pass is what one reconcile learns about one credential.
type pass struct {
	cred      *v1alpha1.AprimoCredential
	before    *v1alpha1.AprimoCredential
	now       time.Time
	stored    *storedToken
	inputs    string // inputs hash; "" until computed
	decided   bool   // policy.Decide asked for a token request
	sent      bool   // a token request was sent to Aprimo
	completed bool   // the pass ran to a decision; observedGeneration may move
	stale     bool   // the pass saw a stale cache and writes nothing
	log       logr.Logger
}

// +kubebuilder:rbac:groups=aprimo.credentials.dev,resources=aprimocredentials,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=aprimo.credentials.dev,resources=aprimocredentials/finalizers,verbs=update
// +kubebuilder:rbac:groups=aprimo.credentials.dev,resources=aprimocredentials/status,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;update;patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile makes sure the target Secret holds a token that is valid now and
// is refreshed before it expires.
func (r *AprimoCredentialReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, reterr error) {
	cred := &v1alpha1.AprimoCredential{}
	if err := r.Get(ctx, req.NamespacedName, cred); err != nil {
		if apierrors.IsNotFound(err) {
			r.forget(req.NamespacedName) // its Secrets are garbage collected
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	p := &pass{cred: cred, before: cred.DeepCopy(), now: r.Clock.Now(), log: logf.FromContext(ctx)}
	defer func() {
		// Written also while the manager stops: a token obtained is worth keeping.
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeBudget)
		defer cancel()
		reterr = errors.Join(reterr, r.writeStatus(wctx, p))
		if ctx.Err() != nil && errors.Is(reterr, context.Canceled) {
			reterr = nil // the manager is stopping: not a failure to report, and nothing is retried now
		}
		switch {
		case reterr != nil:
			result = ctrl.Result{} // controller-runtime retries errors with its own backoff
		case p.stale:
			result = r.lookAgain(p) // the cache had not caught up; nothing was lost
		}
	}()

	if r.cacheBehindOwnWrite(p) {
		return r.lookAgain(p), nil
	}
	if !cred.DeletionTimestamp.IsZero() {
		return r.finalize(ctx, p)
	}
	if ok, err := r.syncFinalizer(ctx, p); !ok || err != nil {
		return r.lookAgain(p), err
	}

	stored, f, err := r.observeTarget(ctx, cred)
	if err != nil {
		return ctrl.Result{}, err
	}
	p.stored = stored
	if f != nil {
		return r.fail(p, f), nil
	}
	if cred.Spec.Suspend {
		return r.suspend(p), nil
	}
	if f := r.checkHost(cred); f != nil {
		return r.fail(p, f), nil
	}
	if f := checkTarget(cred); f != nil {
		return r.fail(p, f), nil
	}
	if p.inputs, f, err = r.inputsHash(ctx, cred); err != nil || f != nil {
		return r.fail(p, f), err
	}

	obs := r.observe(p)
	if obs.NewBootstrap, err = r.newBootstrap(ctx, cred); err != nil {
		return ctrl.Result{}, err
	}
	decision := policy.Decide(obs)
	if !decision.Request {
		return r.keep(ctx, p, decision)
	}
	if fresh, err := r.cacheIsFresh(ctx, p); err != nil || !fresh {
		return r.lookAgain(p), err
	}
	p.decided = true
	logf.FromContext(ctx).V(1).Info("Requesting a token", "credential", klog.KObj(cred), "why", decision.Why)
	tok, err := r.issue(ctx, p)
	if err != nil {
		return r.failRequest(p, err)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeBudget)
	defer cancel()
	return r.store(ctx, p, tok)
}

// observe gathers what policy.Decide needs.
func (r *AprimoCredentialReconciler) observe(p *pass) policy.Observation {
	st := p.cred.Status
	o := policy.Observation{
		Now:              p.now,
		HasToken:         p.stored.usable(p.now),
		TokenExpiresAt:   p.stored.expiresAt,
		TokenInputs:      p.stored.inputs,
		Inputs:           p.inputs,
		FailedAttempts:   st.FailedAttempts,
		FailedInputs:     r.failedInputs(p.cred),
		RefreshRequested: refreshRequested(p),
	}
	if o.HasToken {
		o.TokenRenewal = r.renewalTime(p.cred, p.stored.secret, p.stored.issuedAt, p.stored.expiresAt)
	}
	if st.RenewalTime != nil {
		o.NextAttempt = st.RenewalTime.Time
	}
	if r.shared.retryNow(client.ObjectKeyFromObject(p.cred)) {
		o.NextAttempt = p.now // its client has a new token: take it now (sharedtokens.go)
	}
	if st.LastFailureTime != nil {
		o.LastFailure = st.LastFailureTime.Time
	}
	if o.HasToken {
		o.TokenIssuedAt = p.stored.issuedAt
	}
	return o
}

// cacheIsFresh confirms on the API server's word that the cached credential
// and target Secret are current before a token request is spent. The cache can
// lag the writes of the previous pass, and deciding on that would request a
// token twice. A cache that shows exactly this process's latest writes of both
// needs no confirmation (see lastWrites): that is every steady rotation. Nor
// does a pass that takes its client's latest token (takesSharedToken).
func (r *AprimoCredentialReconciler) cacheIsFresh(ctx context.Context, p *pass) (bool, error) {
	if r.cacheShowsOwnWrites(p) || r.takesSharedToken(ctx, p) {
		return true, nil
	}
	live := &v1alpha1.AprimoCredential{}
	if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(p.cred), live); err != nil {
		return false, client.IgnoreNotFound(err)
	}
	if p.stored.live { // this pass already read the target Secret from the API server: a new credential's
		return live.ResourceVersion == p.cred.ResourceVersion, nil
	}
	target := &corev1.Secret{}
	err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: p.cred.Namespace, Name: p.cred.TargetName()}, target)
	if err != nil && !apierrors.IsNotFound(err) {
		return false, err
	}
	cachedTargetRV := ""
	if p.stored.secret != nil {
		cachedTargetRV = p.stored.secret.ResourceVersion
	}
	return live.ResourceVersion == p.cred.ResourceVersion && target.ResourceVersion == cachedTargetRV, nil
}

// lookAgain drops a pass that saw a stale cache, without writing anything.
func (r *AprimoCredentialReconciler) lookAgain(p *pass) ctrl.Result {
	p.stale = true
	return ctrl.Result{RequeueAfter: policy.MinRequeue}
}

// issue reads the input Secrets and requests a token with them.
func (r *AprimoCredentialReconciler) issue(ctx context.Context, p *pass) (*aprimo.Token, error) {
	creds, f, err := r.readCredentials(ctx, p.cred)
	if f != nil {
		return nil, f
	}
	if err != nil {
		return nil, err
	}
	return r.requestToken(ctx, p, creds)
}

// store writes a new token to the target Secret and schedules its renewal.
func (r *AprimoCredentialReconciler) store(ctx context.Context, p *pass, tok *aprimo.Token) (ctrl.Result, error) {
	// A token request may have taken seconds since observeTarget read the
	// absent target live; a pass that sent nothing read it moments ago.
	if p.stored.secret == nil && p.sent {
		if f, err := r.stillFree(ctx, p.cred); f != nil || err != nil {
			return r.fail(p, f), err
		}
	}
	// A new token always changes the Secret: no need to compare with what it holds (nil).
	if _, err := r.applyTarget(ctx, p.cred, nil, contentFromToken(tok, p.inputs, refreshRequest(p.cred))); err != nil {
		if apierrors.IsInvalid(err) || apierrors.IsForbidden(err) {
			// Retrying at once would request a token each time: back off as for any stalled failure.
			return r.fail(p, stalled(v1alpha1.ReasonTargetSecretConflict, "Secret %s/%s could not be written: %s",
				p.cred.Namespace, p.cred.TargetName(), apierrors.ReasonForError(err))), nil
		}
		return ctrl.Result{}, err
	}
	// The Secret keeps whole seconds; schedule from the same values, so a
	// later pass that reads them back computes the same renewal time.
	issuedAt, expiresAt := tok.IssuedAt.Truncate(time.Second), tok.ExpiresAt.Truncate(time.Second)
	renewal := r.renewalTime(p.cred, p.stored.secret, issuedAt, expiresAt)
	r.markIssued(p, issuedAt, expiresAt, renewal)
	logf.FromContext(ctx).Info("Refreshed token", "credential", klog.KObj(p.cred), "secret", p.cred.TargetName(),
		"expiresAt", tok.ExpiresAt.UTC().Format(time.RFC3339), "renewalTime", renewal.UTC().Format(time.RFC3339))
	return requeueAt(p.now, renewal), nil
}

// keep leaves a valid token in place: it repairs the target Secret's metadata
// if someone changed it, refreshes the status from the stored token, and waits.
func (r *AprimoCredentialReconciler) keep(ctx context.Context, p *pass, d policy.Decision) (ctrl.Result, error) {
	if d.Failing {
		r.markStillFailing(p)
		return requeueAt(p.now, d.WakeAt), nil
	}
	if _, err := r.applyTarget(ctx, p.cred, p.stored.secret, contentFromSecret(p.stored.secret)); err != nil {
		return ctrl.Result{}, err
	}
	r.markIssued(p, p.stored.issuedAt, p.stored.expiresAt, d.WakeAt)
	return requeueAt(p.now, d.WakeAt), nil
}

// suspend stops refreshing; the target Secret keeps what it holds.
func (r *AprimoCredentialReconciler) suspend(p *pass) ctrl.Result {
	r.markSuspended(p)
	return ctrl.Result{}
}

// fail records a failure found before any token request.
func (r *AprimoCredentialReconciler) fail(p *pass, f *failure) ctrl.Result {
	if f == nil {
		return ctrl.Result{}
	}
	return requeueAt(p.now, r.markFailed(p, f))
}

// failRequest records a failed token request, or returns an API error for a retry.
func (r *AprimoCredentialReconciler) failRequest(p *pass, err error) (ctrl.Result, error) {
	var f *failure
	var ae *aprimo.Error
	if apierrors.IsConflict(err) {
		// Another writer changed the state Secret before the send was
		// recorded, so nothing was sent: look again with what it wrote.
		return r.lookAgain(p), nil
	}
	if !errors.As(err, &f) && !errors.As(err, &ae) {
		return ctrl.Result{}, err // the API server, not Aprimo: controller-runtime retries
	}
	return requeueAt(p.now, r.markFailed(p, fromTokenError(p.cred, err))), nil
}

// renewalTime is when a token of this credential is refreshed; target is the
// Secret that holds it or will hold it, nil if the token creates it.
func (r *AprimoCredentialReconciler) renewalTime(cred *v1alpha1.AprimoCredential, target *corev1.Secret, issuedAt, expiresAt time.Time) time.Time {
	var renewBefore time.Duration
	if cred.Spec.RenewBefore != nil {
		renewBefore = cred.Spec.RenewBefore.Duration
	}
	first := target == nil || policy.IsFirstToken(issuedAt, target.CreationTimestamp.Time)
	return policy.RenewalTime(issuedAt, expiresAt, renewBefore, string(cred.UID), first)
}

// failedInputs is the inputs hash of the credential's last failed attempt, "" if unknown.
func (r *AprimoCredentialReconciler) failedInputs(cred *v1alpha1.AprimoCredential) string {
	v, _ := r.failed.load(cred)
	return v
}

// forget drops everything kept about a deleted credential.
func (r *AprimoCredentialReconciler) forget(key types.NamespacedName) {
	r.failed.forget(key)
	r.pending.forget(key)
	r.written.forget(key)
	r.shared.settle(key)
}

func refreshRequest(cred *v1alpha1.AprimoCredential) string {
	return cred.Annotations[v1alpha1.RefreshRequestedAtAnnotation]
}

// refreshRequested: the annotation holds a value neither the status nor the
// stored token records as served.
func refreshRequested(p *pass) bool {
	v := refreshRequest(p.cred)
	return v != "" && v != p.cred.Status.LastRefreshRequest && v != p.stored.served
}

func requeueAt(now, t time.Time) ctrl.Result {
	if t.IsZero() {
		return ctrl.Result{}
	}
	return ctrl.Result{RequeueAfter: policy.RequeueAfter(now, t)}
}
