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
}

// requestToken runs the credential's flow once. Errors are *failure, *aprimo.Error or API errors.
func (r *AprimoCredentialReconciler) requestToken(ctx context.Context, cred *v1alpha1.AprimoCredential, c *credentials) (*aprimo.Token, error) {
	switch cred.Spec.Flow {
	case v1alpha1.FlowRefreshToken:
		tok, err := r.redeem(ctx, cred, c, c.bootstrap)
		return tok, chainFailure(cred, err)
	case v1alpha1.FlowResourceOwnerPassword:
		return r.passwordFlow(ctx, cred, c)
	default:
		return r.Tokens.ClientCredentials(ctx, endpoint(cred), c.clientID, c.clientSecret, cred.Spec.Scopes)
	}
}

// passwordFlow renews with the refresh token of an earlier answer when there
// is one, and falls back to the password grant when there is none or Aprimo
// rejects it.
func (r *AprimoCredentialReconciler) passwordFlow(ctx context.Context, cred *v1alpha1.AprimoCredential, c *credentials) (*aprimo.Token, error) {
	tok, err := r.redeem(ctx, cred, c, "")
	if err == nil {
		return tok, nil
	}
	var f *failure
	if !isChainLoss(err) || errors.As(err, &f) {
		return nil, err
	}
	tok, err = r.Tokens.Password(ctx, endpoint(cred), c.clientID, c.clientSecret, c.username, c.userToken, cred.Spec.Scopes)
	if err != nil || tok.RefreshToken == "" {
		return tok, err
	}
	// The user token can always start again, so failing to keep this refresh
	// token costs one password grant later, nothing more.
	if perr := (chainStore{r, cred}).persist(ctx, policy.ChainState{RefreshToken: tok.RefreshToken, Phase: policy.ChainUnused}); perr != nil {
		logf.FromContext(ctx).Error(perr, "Failed to store the refresh token; the next renewal uses the password grant")
	}
	return tok, nil
}

// redeem sends the chain's live refresh token, exactly once. It records the
// token as in flight before sending it, and the answer (the new token, or the
// old one still live, or spent) before returning.
func (r *AprimoCredentialReconciler) redeem(ctx context.Context, cred *v1alpha1.AprimoCredential, c *credentials, bootstrap string) (*aprimo.Token, error) {
	store := chainStore{r, cred}
	state, current, err := store.load(ctx)
	if err != nil {
		return nil, err
	}
	token, fromBootstrap, err := policy.ChooseRefreshToken(bootstrap, state)
	if err != nil {
		return nil, err
	}
	sent := policy.ChainState{RefreshToken: token, Phase: policy.ChainInFlight}
	if fromBootstrap {
		sent.BootstrapSHA256 = policy.SHA256(bootstrap)
	} else {
		sent.BootstrapSHA256 = state.BootstrapSHA256
	}
	if _, err := store.write(ctx, current, sent); err != nil {
		return nil, err // nothing sent; a conflict is retried by the next pass
	}

	tok, err := r.Tokens.Refresh(ctx, endpoint(cred), c.clientID, c.clientSecret, token)

	next := policy.ChainState{BootstrapSHA256: sent.BootstrapSHA256, Phase: policy.ChainSpent}
	switch {
	case err == nil && tok.RefreshToken != "":
		next.RefreshToken, next.Phase = tok.RefreshToken, policy.ChainUnused
	case err != nil && !refreshTokenSpent(err):
		next.RefreshToken, next.Phase = token, policy.ChainUnused // nothing was issued: still live
	}
	if perr := store.persist(ctx, next); perr != nil {
		// The state still says in flight, so the token is never resent; the
		// next pass reports the chain as lost.
		logf.FromContext(ctx).Error(perr, "Failed to record the refresh-token chain state", "secret", store.key())
	}
	return tok, err
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
		errors.Is(err, policy.ErrNoRefreshToken) || (errors.As(err, &ae) && ae.RefreshTokenSpent())
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
