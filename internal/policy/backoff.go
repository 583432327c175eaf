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

import (
	"time"
)

const (
	// Transient failures (5xx, network, 429, bad answers): exponential backoff
	// with full jitter from 1s up to 5m.
	TransientBase = time.Second
	TransientMax  = 5 * time.Minute
	// Failures only a person can fix retry slowly, from 30s doubling to 10m; a
	// change to the AprimoCredential or an input Secret retries at once.
	StalledBase = 30 * time.Second
	StalledMax  = 10 * time.Minute
	// MaxRetryAfter caps a server's Retry-After.
	MaxRetryAfter = 15 * time.Minute
	// ExpiryMargin is how long before a stored token expires the last retry is
	// placed when the backoff would otherwise sleep past the expiry.
	ExpiryMargin = 2 * time.Second
)

// Failure describes a failed token request for the backoff.
type Failure struct {
	// Attempts counts consecutive failures, this one included (1 for the first).
	Attempts int32
	// Stalled is true when only a person can fix the failure.
	Stalled bool
	// RetryAfter is the server's Retry-After, 0 if none.
	RetryAfter time.Duration
}

// NextAttempt returns when the next token request may be made after a failure.
// random returns a number in [0,1) for the jitter. tokenExpiresAt is the expiry
// of the token still stored in the target Secret (zero if none): the wait never
// runs past it when an earlier try is possible, so a recovered endpoint is
// reached before the workload's token expires.
func NextAttempt(now time.Time, f Failure, tokenExpiresAt time.Time, random func() float64) time.Time {
	var wait time.Duration
	if f.Stalled {
		base := exponential(StalledBase, StalledMax, f.Attempts)
		// Up to 10% extra so stalled credentials do not retry in lockstep.
		wait = base + time.Duration(float64(base)*0.1*random())
	} else {
		wait = time.Duration(float64(exponential(TransientBase, TransientMax, f.Attempts)) * random())
	}
	if ra := min(f.RetryAfter, MaxRetryAfter); ra > wait {
		wait = ra
	}
	wait = max(wait, MinRequeue)

	next := now.Add(wait)
	if !tokenExpiresAt.IsZero() {
		if latest := tokenExpiresAt.Add(-ExpiryMargin); next.After(latest) && latest.After(now.Add(MinRequeue)) {
			next = latest
		}
	}
	return next.Add(time.Second - 1).Truncate(time.Second) // rounded up to whole seconds
}

// exponential returns base * 2^(attempts-1), capped at maxWait.
func exponential(base, maxWait time.Duration, attempts int32) time.Duration {
	d := base
	for i := int32(1); i < attempts; i++ {
		d *= 2
		if d >= maxWait {
			return maxWait
		}
	}
	return min(d, maxWait)
}
