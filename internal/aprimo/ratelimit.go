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

package aprimo

import (
	"context"
	"fmt"
	"sync"

	"golang.org/x/time/rate"
)

// hostLimits paces token requests per Aprimo host (a token bucket each), so a
// burst of thousands of credentials, at startup or when their tokens come due
// together, does not trip a tenant's rate limits. A nil *hostLimits lets
// everything through.
type hostLimits struct {
	limit rate.Limit
	burst int

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
}

// newHostLimits allows perSecond requests a second to each host, in bursts of
// up to burst (at least 1); perSecond <= 0 means no limit.
func newHostLimits(perSecond float64, burst int) *hostLimits {
	if perSecond <= 0 {
		return nil
	}
	return &hostLimits{limit: rate.Limit(perSecond), burst: max(burst, 1), buckets: map[string]*rate.Limiter{}}
}

// wait blocks until a request to host may go, or ctx ends.
func (h *hostLimits) wait(ctx context.Context, host string) error {
	if h == nil {
		return nil
	}
	h.mu.Lock()
	b, ok := h.buckets[host]
	if !ok {
		b = rate.NewLimiter(h.limit, h.burst)
		h.buckets[host] = b
	}
	h.mu.Unlock()
	return b.Wait(ctx)
}

// pace waits for the rate limit of base's host. A base that exchange refuses
// waits for nothing: it is never sent.
func (c *Client) pace(ctx context.Context, base string) error {
	if c.limits == nil {
		return nil
	}
	_, host, err := c.endpoint(base, TokenPath)
	if err != nil {
		return nil
	}
	if err := c.limits.wait(ctx, host); err != nil {
		// Typed and not Sent: the caller must know no token left the process
		// (a refresh token that waited here is still unused).
		return &Error{Class: ClassUnavailable, Err: err,
			msg: fmt.Sprintf("token request to %s not sent: waiting for --token-requests-per-second ran out of time", host)}
	}
	return nil
}
