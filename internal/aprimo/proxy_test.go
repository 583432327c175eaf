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
	"bytes"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http/httpproxy"
)

// connectProxy is a loopback HTTPS proxy (HTTP CONNECT). It sends every tunnel
// to target, whatever host was asked for, and keeps what it saw.
type connectProxy struct {
	target string

	mu      sync.Mutex
	asked   []string     // CONNECT hosts, in order
	carried bytes.Buffer // every byte the client sent through a tunnel
}

func (p *connectProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect {
		http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
		return
	}
	p.mu.Lock()
	p.asked = append(p.asked, r.Host)
	p.mu.Unlock()
	upstream, err := net.Dial("tcp", p.target)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer func() { _ = upstream.Close() }()
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer func() { _ = conn.Close() }()
	_, _ = io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n")
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(conn, upstream)
	}()
	_, _ = io.Copy(io.MultiWriter(upstream, p), buf)
	_ = upstream.Close()
	<-done
}

func (p *connectProxy) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.carried.Write(b)
}

func (p *connectProxy) seen() ([]string, []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.asked...), bytes.Clone(p.carried.Bytes())
}

// fromEnvironment is the proxy choice of http.ProxyFromEnvironment, read from
// the environment now: ProxyFromEnvironment reads it once per process.
func fromEnvironment() func(*http.Request) (*url.URL, error) {
	choose := httpproxy.FromEnvironment().ProxyFunc()
	return func(r *http.Request) (*url.URL, error) { return choose(r.URL) }
}

// proxyFixture is an Aprimo token endpoint for "example.com" (the name the
// httptest certificate carries) that only the proxy knows how to reach.
func proxyFixture(t *testing.T) (*connectProxy, *x509.CertPool) {
	t.Helper()
	tenant := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"access_token":"at-through-the-proxy","token_type":"Bearer","expires_in":3600}`)
	}))
	t.Cleanup(tenant.Close)
	p := &connectProxy{target: tenant.Listener.Addr().String()}
	ps := httptest.NewServer(p)
	t.Cleanup(ps.Close)
	t.Setenv("HTTPS_PROXY", ps.URL)
	t.Setenv("https_proxy", "")
	t.Setenv("NO_PROXY", "")
	t.Setenv("no_proxy", "")
	roots := x509.NewCertPool()
	roots.AddCert(tenant.Certificate())
	return p, roots
}

func TestHTTPSProxyFromTheEnvironmentCarriesTheRequest(t *testing.T) {
	p, roots := proxyFixture(t)
	c := NewClient(Options{Hosts: HostAllowlist{"example.com"}, RootCAs: roots, Proxy: fromEnvironment(), Timeout: 5 * time.Second})

	tok, err := c.ClientCredentials(t.Context(), "https://example.com", "proxied-client", "cs-Pr0xyS3cr3tV4lue", []string{"api"})
	if err != nil {
		t.Fatalf("token request through the proxy: %v", err)
	}
	if tok.AccessToken != "at-through-the-proxy" {
		t.Errorf("access token = %q", tok.AccessToken)
	}
	asked, carried := p.seen()
	if len(asked) != 1 || asked[0] != "example.com:443" {
		t.Errorf("the proxy was asked for %q, want one tunnel to example.com:443", asked)
	}
	// A tunnel: the proxy sees TLS, never the client secret.
	if strings.Contains(string(carried), "Pr0xyS3cr3t") || len(carried) == 0 {
		t.Errorf("the proxy carried %d bytes, in which the client secret is readable: %v", len(carried), strings.Contains(string(carried), "Pr0xyS3cr3t"))
	}
}

func TestNoProxyFromTheEnvironmentBypassesTheProxy(t *testing.T) {
	p, roots := proxyFixture(t)
	t.Setenv("NO_PROXY", "example.com")
	// Direct, example.com is not this test's server: the request fails, and the proxy sees nothing.
	c := NewClient(Options{Hosts: HostAllowlist{"example.com"}, RootCAs: roots, Proxy: fromEnvironment(), Timeout: time.Second})
	_, _ = c.ClientCredentials(t.Context(), "https://example.com", "proxied-client", "cs-Pr0xyS3cr3tV4lue", nil)
	if asked, _ := p.seen(); len(asked) != 0 {
		t.Errorf("the proxy was asked for %q despite NO_PROXY", asked)
	}
}

func TestDefaultProxyIsTheEnvironments(t *testing.T) {
	c := NewClient(Options{})
	tr, ok := c.http.Transport.(*http.Transport)
	if !ok || tr.Proxy == nil {
		t.Fatal("the default transport has no proxy function")
	}
	if reflect.ValueOf(tr.Proxy).Pointer() != reflect.ValueOf(http.ProxyFromEnvironment).Pointer() {
		t.Error("the default proxy function is not http.ProxyFromEnvironment")
	}
}
