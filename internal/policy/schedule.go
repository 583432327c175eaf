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
	// MaxJitterFraction spreads refreshes of many credentials: up to 5% of the
	// lifetime earlier, so thousands do not refresh in the same second.
	MaxJitterFraction = 0.05
	// MinRequeue is the floor of every wait, so a schedule never spins.
	MinRequeue = time.Second
)

// RenewBefore returns how long before expiry a token with this lifetime is
// refreshed: the requested value (default one third of the lifetime), clamped
// to between MinRenewBefore and 90% of the lifetime.
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

// RenewalTime returns when a token issued at issuedAt and expiring at expiresAt
// is refreshed. The jitter is derived from seed (the credential's UID) and the
// expiry, so the same token always gets the same time, also after a restart.
func RenewalTime(issuedAt, expiresAt time.Time, renewBefore time.Duration, seed string) time.Time {
	lifetime := expiresAt.Sub(issuedAt)
	if lifetime <= 0 {
		return expiresAt
	}
	jitter := time.Duration(float64(lifetime) * MaxJitterFraction * unitHash(seed, expiresAt))
	t := expiresAt.Add(-RenewBefore(lifetime, renewBefore)).Add(-jitter).Truncate(time.Second)
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
