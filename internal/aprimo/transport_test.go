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
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestBurstsReuseConnections: bursts of concurrent requests to one host, as
// a renewal wave makes them, reuse the connections of the burst before over
// HTTP/1.1 (an endpoint or proxy without HTTP/2), instead of closing all but
// two and paying a TLS handshake for each of the others next time.
func TestBurstsReuseConnections(t *testing.T) {
	const concurrent, bursts = 32, 3
	var newConns atomic.Int32
	var mu sync.Mutex
	gate, arrived := make(chan struct{}), make(chan struct{}, concurrent)
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Take this burst's gate before saying so: once all have arrived the
		// test replaces it, and a late reader would wait for the next burst.
		mu.Lock()
		g := gate
		mu.Unlock()
		arrived <- struct{}{}
		select { // every request of the burst is in flight at once
		case <-g:
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(okBody))
	}))
	ts.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			newConns.Add(1)
		}
	}
	ts.StartTLS() // HTTP/1.1 only: httptest enables HTTP/2 only when asked
	defer ts.Close()
	roots := x509.NewCertPool()
	roots.AddCert(ts.Certificate())
	// A loaded CI machine (-race, other packages' control planes) can take
	// seconds for 32 TLS handshakes, and a timed-out request redials.
	const patience = time.Minute
	c := NewClient(Options{Hosts: HostAllowlist{"127.0.0.1"}, RootCAs: roots, Timeout: patience})

	for b := 1; b <= bursts; b++ {
		var wg sync.WaitGroup
		for range concurrent {
			wg.Go(func() {
				if _, err := c.ClientCredentials(context.Background(), ts.URL, testClientID, testSecret, nil); err != nil {
					t.Error(err)
				}
			})
		}
		timeout := time.After(patience)
		for i := range concurrent {
			select {
			case <-arrived:
			case <-timeout:
				t.Fatalf("burst %d: %d requests in flight, want %d", b, i, concurrent)
			}
		}
		mu.Lock()
		close(gate)
		gate = make(chan struct{})
		mu.Unlock()
		wg.Wait()
	}
	if n := newConns.Load(); n > concurrent {
		t.Errorf("%d bursts of %d requests opened %d connections, want %d: idle ones were closed between bursts", bursts, concurrent, n, concurrent)
	}
}
