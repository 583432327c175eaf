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

// Observation is what the controller knows when it decides whether to request a token.
type Observation struct {
	Now time.Time

	// HasToken is true when the target Secret holds a token written by this
	// credential; TokenExpiresAt and TokenRenewal describe it, and TokenInputs
	// is the inputs hash it was issued with.
	HasToken       bool
	TokenIssuedAt  time.Time
	TokenExpiresAt time.Time
	TokenRenewal   time.Time
	TokenInputs    string

	// Inputs is the hash of the current spec and input Secret versions.
	Inputs string

	// FailedAttempts, NextAttempt and FailedInputs come from status: how many
	// requests failed since the last success, when the next try is planned, and
	// the inputs hash of the last failed request.
	FailedAttempts int32
	LastFailure    time.Time
	NextAttempt    time.Time
	FailedInputs   string

	// RefreshRequested is true when the force-refresh annotation holds a value
	// not acted on yet.
	RefreshRequested bool

	// NewBootstrap is true when the bootstrap Secret holds a refresh token the
	// chain has never seen.
	NewBootstrap bool
}

// Decision says whether to request a token now, why, and otherwise when to look again.
type Decision struct {
	Request bool
	// Why is a short human explanation, for logs.
	Why string
	// WakeAt is when the credential must be looked at again if no request is made.
	WakeAt time.Time
	// Failing is true while the last failure still stands: no token was
	// issued since, and the status keeps reporting it.
	Failing bool
}

// Decide returns whether a token request is due.
func Decide(o Observation) Decision {
	// A token issued after the last failure supersedes it, even when the
	// status that recorded the success was never written.
	failing := o.FailedAttempts > 0 && !(o.HasToken && o.TokenIssuedAt.After(o.LastFailure))
	switch {
	case o.RefreshRequested:
		return Decision{Request: true, Why: "refresh requested by annotation"}
	case o.NewBootstrap:
		return Decision{Request: true, Why: "a new bootstrap refresh token was supplied"}
	case failing && o.Inputs != o.FailedInputs:
		return Decision{Request: true, Why: "inputs changed since the last failure"}
	case failing && !o.Now.Before(o.NextAttempt):
		return Decision{Request: true, Why: "retry after failure"}
	case failing:
		return Decision{WakeAt: earliestFuture(o.Now, o.NextAttempt, tokenExpiry(o)), Failing: true}
	case !o.HasToken:
		return Decision{Request: true, Why: "no token stored"}
	case o.TokenInputs != o.Inputs:
		return Decision{Request: true, Why: "inputs changed"}
	case !o.Now.Before(o.TokenRenewal):
		return Decision{Request: true, Why: "renewal due"}
	default:
		return Decision{WakeAt: o.TokenRenewal}
	}
}

// RequeueAfter converts a wake-up time to a wait, never less than MinRequeue.
func RequeueAfter(now, wakeAt time.Time) time.Duration {
	return max(wakeAt.Sub(now), MinRequeue)
}

func tokenExpiry(o Observation) time.Time {
	if o.HasToken {
		return o.TokenExpiresAt
	}
	return time.Time{}
}

// earliestFuture returns the earliest of ts that is after now, or the first
// non-zero one if none is; zero times are ignored.
func earliestFuture(now time.Time, ts ...time.Time) time.Time {
	var best time.Time
	for _, t := range ts {
		if t.IsZero() || !t.After(now) {
			continue
		}
		if best.IsZero() || t.Before(best) {
			best = t
		}
	}
	if best.IsZero() {
		for _, t := range ts {
			if !t.IsZero() {
				return t
			}
		}
	}
	return best
}
