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
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// A limiter's Wait fails at once when the wait would outlast the context's
// deadline, which lets these tests check the pacing without sleeping.
func TestHostLimitsPaceEachHostSeparately(t *testing.T) {
	tests := map[string]struct {
		perSecond float64
		burst     int
		// hosts are waited for in order; allowed says which pass within 50ms.
		hosts   []string
		allowed []bool
	}{
		"no limit": {
			perSecond: 0, hosts: []string{"a", "a", "a"}, allowed: []bool{true, true, true},
		},
		"a burst, then one request per interval": {
			perSecond: 1, burst: 2, hosts: []string{"a", "a", "a"}, allowed: []bool{true, true, false},
		},
		"each host has its own bucket": {
			perSecond: 1, burst: 1, hosts: []string{"a", "b", "a", "b"}, allowed: []bool{true, true, false, false},
		},
		"a burst below one means one": {
			perSecond: 1, burst: 0, hosts: []string{"a", "a"}, allowed: []bool{true, false},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			limits := newHostLimits(tc.perSecond, tc.burst)
			for i, host := range tc.hosts {
				ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
				err := limits.wait(ctx, host)
				cancel()
				if got := err == nil; got != tc.allowed[i] {
					t.Errorf("request %d to %s: allowed %v, want %v (err %v)", i, host, got, tc.allowed[i], err)
				}
			}
		})
	}
}

func TestClientWaitsForTheRateLimitBeforeSending(t *testing.T) {
	var requests atomic.Int32
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, okBody)
	}))
	defer ts.Close()
	c := NewClient(Options{Hosts: HostAllowlist{"127.0.0.1"}, Transport: ts.Client().Transport, RequestsPerSecond: 0.1, Burst: 1})
	if _, err := grants["client credentials"].call(c, t.Context(), ts.URL); err != nil {
		t.Fatalf("first request: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err := grants["client credentials"].call(c, ctx, ts.URL)
	if err == nil {
		t.Fatal("a second request within the limit's interval succeeded")
	}
	// Nothing was sent, so a refresh token waiting here is not spent.
	var e *Error
	if !errors.As(err, &e) || e.Sent || e.RefreshTokenSpent() || e.Class != ClassUnavailable {
		t.Errorf("err = %#v, want an unsent EndpointUnavailable *Error", err)
	}
	if n := requests.Load(); n != 1 {
		t.Errorf("the server saw %d requests, want 1", n)
	}
}
