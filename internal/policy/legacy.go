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

package policy

import "time"

// LegacyRefreshLifetime is the documented life of a legacy refresh token: it
// gets new access tokens for 7 days, and is not single-use.
const LegacyRefreshLifetime = 7 * 24 * time.Hour

// maxLegacyPairMargin bounds how early a legacy pair is replaced.
const maxLegacyPairMargin = 24 * time.Hour

// LegacyPairRenewal is when a legacy refresh token issued at issuedAt is replaced
// by a new pair from create-native-token: a quarter of its life before its end, at
// most a day before (so 6 days after issue for the documented 7). expiresAt zero
// means the documented 7 days.
func LegacyPairRenewal(issuedAt, expiresAt time.Time) time.Time {
	if expiresAt.IsZero() {
		expiresAt = issuedAt.Add(LegacyRefreshLifetime)
	}
	return expiresAt.Add(-min(expiresAt.Sub(issuedAt)/4, maxLegacyPairMargin))
}

// LegacyRefreshUsable reports whether the stored legacy refresh token may renew
// the access token now: there is one, it was issued for binding (endpoint,
// client, user and user token), and it is not near its end. Otherwise the
// credential gets a new pair with the user token.
func LegacyRefreshUsable(state *ChainState, binding string, now time.Time) bool {
	return state != nil && state.RefreshToken != "" && state.Phase == ChainUnused && state.Binding == binding &&
		!state.IssuedAt.IsZero() && now.Before(LegacyPairRenewal(state.IssuedAt, state.ExpiresAt))
}

// MaxRevokeRetry bounds the wait between two revoke attempts on deletion.
const MaxRevokeRetry = 30 * time.Second

// RevokeRetry says, after a failed revoke, whether to give up (the deletion
// has waited deadline since deletedAt) and else when to try again: after half
// the time waited so far, at least a second and at most MaxRevokeRetry, and never
// after the deadline.
func RevokeRetry(now, deletedAt time.Time, deadline time.Duration) (retryAt time.Time, giveUp bool) {
	end := deletedAt.Add(deadline)
	if !now.Before(end) {
		return time.Time{}, true
	}
	wait := min(max(now.Sub(deletedAt)/2, time.Second), MaxRevokeRetry)
	retryAt = now.Add(wait)
	if retryAt.After(end) {
		retryAt = end
	}
	return retryAt, false
}
