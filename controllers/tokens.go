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
	"errors"
	"fmt"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/policy"
)

// TokenSource is the Aprimo token client as the reconciler uses it.
type TokenSource interface {
	ClientCredentials(ctx context.Context, base, clientID, clientSecret string, scopes []string) (*aprimo.Token, error)
	Password(ctx context.Context, base, clientID, clientSecret, username, userToken string, scopes []string) (*aprimo.Token, error)
	Refresh(ctx context.Context, base, clientID, clientSecret, refreshToken string) (*aprimo.Token, error)
	DistributedMarketing(ctx context.Context, base, clientID, username, password string) (*aprimo.Token, error)
	LegacyNativeToken(ctx context.Context, base, clientID, username, userToken string) (*aprimo.Token, error)
	LegacyRefresh(ctx context.Context, base, clientID, refreshToken string) (*aprimo.Token, error)
	LegacyRevoke(ctx context.Context, base, clientID, accessToken, userID string) error
}

// requestToken runs the credential's flow once. Errors are *failure, *aprimo.Error or API errors.
func (r *AprimoCredentialReconciler) requestToken(ctx context.Context, p *pass, c *credentials) (*aprimo.Token, error) {
	cred := p.cred
	if sharesTokens(cred.Spec.Flow) {
		return r.clientCredentials(ctx, p, c) // shared by credentials of one client: sharedtokens.go
	}
	switch cred.Spec.Flow {
	case v1alpha1.FlowRefreshToken:
		tok, err := r.redeem(ctx, p, c, c.bootstrap, refreshBinding(cred, c))
		if errors.Is(err, policy.ErrNoRefreshToken) && c.bootstrapProblem != nil {
			return nil, c.bootstrapProblem // nothing to start a chain from: say what is missing
		}
		return tok, chainFailure(cred, err)
	case v1alpha1.FlowResourceOwnerPassword:
		return r.passwordFlow(ctx, p, c)
	case v1alpha1.FlowDistributedMarketing:
		return r.distributedMarketingFlow(ctx, p, c)
	case v1alpha1.FlowLegacyUserToken:
		return r.legacyFlow(ctx, p, c)
	default:
		return nil, fmt.Errorf("unknown flow %q", cred.Spec.Flow) // the CRD's enum admits none
	}
}

// passwordFlow renews with the refresh token of an earlier answer when there
// is one, and falls back to the password grant when there is none, Aprimo
// rejects it, or the user, client or scopes changed since it was issued.
func (r *AprimoCredentialReconciler) passwordFlow(ctx context.Context, p *pass, c *credentials) (*aprimo.Token, error) {
	cred, binding := p.cred, passwordBinding(p.cred, c)
	tok, err := r.redeem(ctx, p, c, "", binding)
	if err == nil {
		return tok, nil
	}
	var f *failure
	if !isChainLoss(err) || errors.As(err, &f) {
		return nil, err
	}
	p.sent = true
	started := r.Clock.Now()
	tok, err = r.Tokens.Password(ctx, cred.TokenEndpoint(), c.clientID, c.clientSecret, c.username, c.userToken, cred.Spec.Scopes)
	recordRequest(cred, r.Clock.Since(started), err)
	if err != nil || tok.RefreshToken == "" {
		return tok, err
	}
	// The user token can always start again, so failing to keep this refresh
	// token costs one password grant later, nothing more.
	st := policy.ChainState{RefreshToken: tok.RefreshToken, Phase: policy.ChainUnused, Binding: binding}
	if perr := (chainStore{r, cred}).persist(ctx, st); perr != nil {
		logf.FromContext(ctx).Error(perr, "Failed to store the refresh token; the next renewal uses the password grant")
	}
	return tok, nil
}

// redeem sends one refresh token of the chain, exactly once: it records the
// send before sending and the answer before returning (policy.BeforeSend and
// AfterAnswer). The critical section is not cancelled by a stopping manager.
func (r *AprimoCredentialReconciler) redeem(ctx context.Context, p *pass, c *credentials, bootstrap, binding string) (*aprimo.Token, error) {
	store := chainStore{r, p.cred}
	if err := r.persistPending(ctx, store); err != nil {
		return nil, err
	}
	state, current, err := store.load(ctx)
	if err != nil {
		return nil, err
	}
	choice, err := policy.ChooseRefreshToken(bootstrap, binding, state)
	if err != nil {
		return nil, err
	}
	if choice.FromBootstrap && p.cred.Spec.Flow == v1alpha1.FlowRefreshToken {
		if f, err := r.bootstrapShared(ctx, p.cred); f != nil || err != nil {
			return nil, errors.Join(f.orNil(), err)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err // stopping: do not start what must not be interrupted
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), chainBudget)
	defer cancel()

	sent := policy.BeforeSend(state, choice)
	if err := store.write(ctx, current, sent); err != nil {
		return nil, err // nothing sent; a conflict is retried by the next pass
	}
	p.sent = true
	started := r.Clock.Now()
	tok, err := r.Tokens.Refresh(ctx, p.cred.TokenEndpoint(), c.clientID, c.clientSecret, choice.Token)
	recordRequest(p.cred, r.Clock.Since(started), err)

	outcome := policy.Outcome{Issued: err == nil, Spent: err != nil && refreshTokenSpent(err)}
	if tok != nil {
		outcome.Successor = tok.RefreshToken
	}
	next := policy.AfterAnswer(sent, choice, binding, outcome)
	if perr := store.persist(ctx, next); perr != nil {
		// The state still says the token was sent, so it is never resent. A
		// successor is kept in memory and stored first by the next pass.
		logf.FromContext(ctx).Error(perr, "Failed to record the refresh-token chain state", "secret", store.key())
		if outcome.Successor != "" {
			r.pending.store(p.cred, next)
		}
	}
	if err != nil && choice.FromBootstrap && outcome.Spent {
		ref := p.cred.Spec.RefreshTokenRef
		return nil, stalled(v1alpha1.ReasonInvalidGrant,
			"%s. Aprimo did not accept the bootstrap refresh token in key %q of Secret %s/%s, and it is never sent again; any chain already running goes on. Put a new refresh token there to start a new chain.",
			upperFirst(err.Error()), ref.Key, p.cred.Namespace, ref.Name)
	}
	return tok, err
}

// persistPending stores a successor the last pass could not record.
func (r *AprimoCredentialReconciler) persistPending(ctx context.Context, store chainStore) error {
	v, ok := r.pending.load(store.cred)
	if !ok {
		return nil
	}
	if err := store.persist(ctx, v); err != nil {
		return err
	}
	r.pending.delete(store.cred)
	return nil
}

// bootstrapShared refuses to send a bootstrap token that an older
// AprimoCredential also uses: a refresh token can start only one chain, and
// sending it twice would kill both.
func (r *AprimoCredentialReconciler) bootstrapShared(ctx context.Context, cred *v1alpha1.AprimoCredential) (*failure, error) {
	var list v1alpha1.AprimoCredentialList
	if err := r.List(ctx, &list, client.InNamespace(cred.Namespace)); err != nil {
		return nil, err
	}
	ref := *cred.Spec.RefreshTokenRef
	for i := range list.Items {
		other := &list.Items[i]
		if other.UID == cred.UID || other.Spec.Flow != v1alpha1.FlowRefreshToken || other.Spec.RefreshTokenRef == nil || *other.Spec.RefreshTokenRef != ref {
			continue
		}
		if older(other, cred) {
			return stalled(v1alpha1.ReasonInvalidGrant,
				"Key %q of Secret %s/%s is also the bootstrap refresh token of AprimoCredential %s, which was created first. A refresh token can start only one chain: give this credential a bootstrap token of its own.",
				ref.Key, cred.Namespace, ref.Name, other.Name), nil
		}
	}
	return nil, nil
}

func older(a, b *v1alpha1.AprimoCredential) bool {
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	}
	return a.Name < b.Name
}

// refreshBinding ties a chain to the endpoint and client it was issued for.
func refreshBinding(cred *v1alpha1.AprimoCredential, c *credentials) string {
	return policy.ShortHash(cred.TokenEndpoint() + "\n" + c.clientID)
}

// passwordBinding also ties it to the user and scopes, so a change of either
// starts again with the password grant.
func passwordBinding(cred *v1alpha1.AprimoCredential, c *credentials) string {
	return policy.ShortHash(strings.Join([]string{cred.TokenEndpoint(), c.clientID, c.username, policy.SHA256(c.userToken), strings.Join(cred.Spec.Scopes, " ")}, "\n"))
}

// refreshTokenSpent is true when Aprimo may have redeemed the token sent.
// Errors that are not Aprimo answers count as spent: never send a token twice.
func refreshTokenSpent(err error) bool {
	var ae *aprimo.Error
	if errors.As(err, &ae) {
		return ae.RefreshTokenSpent()
	}
	return true
}

// isChainLoss reports whether err means the chain has no live token any more.
func isChainLoss(err error) bool {
	var ae *aprimo.Error
	return errors.Is(err, policy.ErrChainInterrupted) || errors.Is(err, policy.ErrChainSpent) ||
		errors.Is(err, policy.ErrNoRefreshToken) || errors.Is(err, policy.ErrChainForeign) ||
		(errors.As(err, &ae) && ae.RefreshTokenSpent())
}

// chainFailure reports a lost chain of the RefreshToken flow as InvalidGrant,
// with how to re-seed it; other errors pass through.
func chainFailure(cred *v1alpha1.AprimoCredential, err error) error {
	var f *failure
	if err == nil || errors.As(err, &f) || !isChainLoss(err) {
		return err
	}
	var ae *aprimo.Error
	switch {
	case errors.As(err, &ae) && ae.OAuthError != "":
		return stalled(v1alpha1.ReasonInvalidGrant, "%s. Aprimo rejected the refresh token: %s.", ae.Error(), reseedAdvice(cred))
	case errors.As(err, &ae):
		return stalled(v1alpha1.ReasonInvalidGrant, "%s. The refresh token was sent and no usable answer came back, so it may have been redeemed and is never sent again: %s.", ae.Error(), reseedAdvice(cred))
	default:
		return stalled(v1alpha1.ReasonInvalidGrant, "%s: %s.", upperFirst(err.Error()), reseedAdvice(cred))
	}
}

func upperFirst(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
