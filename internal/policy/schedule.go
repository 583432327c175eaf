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

// Package policy holds the operator's decisions as pure functions of time and
// observed state: when a token is refreshed, how long to back off after a
// failure, whether a token request is due now, and which refresh token may be
// sent. The controller gathers the inputs and carries out the answers.
package policy

import (
	"hash/fnv"
	"time"
)

const (
	// MinRenewBefore and MaxRenewBeforeFraction clamp renewBefore: never later
	// than 10s before expiry, never earlier than 10% into the lifetime.
	MinRenewBefore         = 10 * time.Second
	MaxRenewBeforeFraction = 0.9
	// SpreadFraction is the renewal window: a token is refreshed at a point
	// spread over up to 20% of its lifetime before expiresAt - renewBefore,
	// so credentials that share an expiry (one shared client's, or a batch
	// created at once) do not all come due in the same seconds. 60s tokens
	// spread over 12s, 5m tokens over 60s. The cost is rotating 10% of the
	// lifetime earlier on average.
	SpreadFraction = 0.2
	// MinHeldFraction keeps the spread from renewing a token in the first 5%
	// of its lifetime, where a long renewBefore leaves no room for it.
	MinHeldFraction = 0.05
	// MinRequeue is the floor of every wait, so a schedule never spins.
	MinRequeue = time.Second
)

// RenewBefore returns how long before expiry a token with this lifetime is
// refreshed at the latest: the requested value (default one third of the
// lifetime), clamped to between MinRenewBefore and 90% of the lifetime.
func RenewBefore(lifetime, requested time.Duration) time.Duration {
	rb := requested
	if rb <= 0 {
		rb = lifetime / 3
	}
	if rb < MinRenewBefore {
		rb = MinRenewBefore
	}
	if maxRB := time.Duration(float64(lifetime) * MaxRenewBeforeFraction); rb > maxRB {
		rb = maxRB
	}
	return rb
}

// Spread returns how much earlier than expiresAt - renewBefore a token with
// this lifetime may be refreshed: SpreadFraction of the lifetime, less where
// renewBefore leaves under MinHeldFraction of the lifetime before it.
func Spread(lifetime, renewBefore time.Duration) time.Duration {
	room := lifetime - renewBefore - time.Duration(float64(lifetime)*MinHeldFraction)
	return max(min(time.Duration(float64(lifetime)*SpreadFraction), room), 0)
}

// FirstSpread is Spread for a credential's first token: half the time
// between issue and expiresAt - renewBefore (so between one and two thirds of
// the lifetime by default), if that is wider. Credentials created at once get
// their first tokens as fast as the token rate limit allows (100 a second by
// default), so with Spread alone their first renewals would come due about as
// bunched as their creation. Starting no earlier than halfway keeps those
// renewals clear of the creation burst itself. It costs one earlier rotation
// in the life of a credential; later tokens inherit the spread.
func FirstSpread(lifetime, renewBefore time.Duration) time.Duration {
	room := lifetime - renewBefore - time.Duration(float64(lifetime)*MinHeldFraction)
	return max(Spread(lifetime, renewBefore), min(room, (lifetime-renewBefore)/2))
}

// IsFirstToken reports whether a token issued at issuedAt is the one its
// target Secret, created at secretCreated, was created with: the request
// is sent before the Secret is created, every later one after.
func IsFirstToken(issuedAt, secretCreated time.Time) bool {
	return !issuedAt.After(secretCreated)
}

// RenewalTime returns when a token issued at issuedAt and expiring at expiresAt
// is refreshed: a point in [expiresAt - renewBefore - Spread, expiresAt -
// renewBefore] (FirstSpread for a credential's first token) derived from seed
// (the credential's UID) and the expiry, so the same token always gets the
// same time, also after a restart, and credentials holding tokens of the same
// expiry get different times.
func RenewalTime(issuedAt, expiresAt time.Time, renewBefore time.Duration, seed string, first bool) time.Time {
	lifetime := expiresAt.Sub(issuedAt)
	if lifetime <= 0 {
		return expiresAt
	}
	rb := RenewBefore(lifetime, renewBefore)
	spread := Spread(lifetime, rb)
	if first {
		spread = FirstSpread(lifetime, rb)
	}
	jitter := time.Duration(float64(spread) * unitHash(seed, expiresAt))
	t := expiresAt.Add(-rb).Add(-jitter).Truncate(time.Second)
	if t.Before(issuedAt) {
		// Truncating can cross issuedAt when the lifetime is under 20s.
		return issuedAt
	}
	return t
}

// unitHash maps (seed, t) to [0,1) deterministically.
func unitHash(seed string, t time.Time) float64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(seed))
	_, _ = h.Write([]byte(t.UTC().Format(time.RFC3339)))
	return float64(h.Sum64()>>11) / float64(1<<53)
}
