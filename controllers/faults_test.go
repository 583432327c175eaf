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
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo/aprimotest"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/policy"
)

// requestTimeout is the token-request timeout the suite's manager runs with.
const requestTimeout = 5 * time.Second

// sendSlack is how much earlier than its retry time a request may reach the
// fake: the retry is scheduled from the start of a pass, which reads from the
// API server before it sends.
const sendSlack = 500 * time.Millisecond

// seenStatus is one status of an AprimoCredential as a watch delivered it.
type seenStatus struct {
	at     time.Time
	status v1alpha1.AprimoCredentialStatus
}

// statusHistory records every status an AprimoCredential goes through, so a
// failure that lasts less than a poll interval is still seen.
type statusHistory struct {
	mu   sync.Mutex
	seen []seenStatus
}

func (h *statusHistory) all() []seenStatus {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]seenStatus(nil), h.seen...)
}

// firstFailure returns the first status with a recorded failure.
func (h *statusHistory) firstFailure() *seenStatus {
	for _, s := range h.all() {
		if s.status.FailedAttempts > 0 {
			return &s
		}
	}
	return nil
}

// reasons returns "Status/Reason" of Ready in every status seen, in order.
func (h *statusHistory) reasons() []string {
	var out []string
	for _, s := range h.all() {
		out = append(out, conditionOf(s.status, v1alpha1.ConditionReady))
	}
	return out
}

var (
	watcherOnce sync.Once
	watcher     client.WithWatch
)

// watchStatus starts recording the statuses of the named credential, before
// it is created.
func (w *world) watchStatus(name string) *statusHistory {
	watcherOnce.Do(func() {
		var err error
		watcher, err = client.NewWithWatch(cfg, client.Options{Scheme: clientgoscheme.Scheme})
		Expect(err).NotTo(HaveOccurred())
	})
	ctx, cancel := context.WithCancel(suiteCtx)
	DeferCleanup(cancel)
	wi, err := watcher.Watch(ctx, &v1alpha1.AprimoCredentialList{}, client.InNamespace(w.ns),
		client.MatchingFieldsSelector{Selector: fields.OneTermEqualSelector("metadata.name", name)})
	Expect(err).NotTo(HaveOccurred())
	h := &statusHistory{}
	go func() {
		defer GinkgoRecover()
		defer wi.Stop()
		for ev := range wi.ResultChan() {
			if c, ok := ev.Object.(*v1alpha1.AprimoCredential); ok && (ev.Type == watch.Added || ev.Type == watch.Modified) {
				h.mu.Lock()
				h.seen = append(h.seen, seenStatus{at: time.Now(), status: *c.Status.DeepCopy()})
				h.mu.Unlock()
			}
		}
	}()
	return h
}

func conditionOf(st v1alpha1.AprimoCredentialStatus, condType string) string {
	c := meta.FindStatusCondition(st.Conditions, condType)
	if c == nil {
		return ""
	}
	return fmt.Sprintf("%s/%s", c.Status, c.Reason)
}

func conditionMessageOf(st v1alpha1.AprimoCredentialStatus, condType string) string {
	if c := meta.FindStatusCondition(st.Conditions, condType); c != nil {
		return c.Message
	}
	return ""
}

// backoff is what a failure's status says about the next try: the time from
// the failure to the next attempt (status.renewalTime - status.lastFailureTime).
func backoff(st v1alpha1.AprimoCredentialStatus) time.Duration {
	Expect(st.LastFailureTime).NotTo(BeNil())
	Expect(st.RenewalTime).NotTo(BeNil())
	return st.RenewalTime.Sub(st.LastFailureTime.Time)
}

// expectGapsAtLeast checks that consecutive token requests of a world were at
// least d apart, as the fake received them.
func expectGapsAtLeast(w *world, d time.Duration) {
	log := w.requestLog()
	for i := 1; i < len(log); i++ {
		Expect(log[i].Time.Sub(log[i-1].Time)).To(BeNumerically(">=", d-sendSlack),
			"request %d came %s after request %d", i+1, log[i].Time.Sub(log[i-1].Time), i)
	}
}

// recordRow prints one row of docs/reliability.md's fault table; run the
// suite with -ginkgo.v and grep "FAULTROW" to regenerate it.
func recordRow(condition string, requests int, observed string) {
	fmt.Fprintf(GinkgoWriter, "FAULTROW | %s | %s | %d | %s |\n", CurrentSpecReport().LeafNodeText, condition, requests, observed)
}

// gaps returns the times between a world's consecutive token requests.
func gaps(w *world) string {
	log := w.requestLog()
	var out []string
	for i := 1; i < len(log); i++ {
		out = append(out, log[i].Time.Sub(log[i-1].Time).Round(100*time.Millisecond).String())
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}

// retryAfter is a Retry-After header, built when the spec runs: an HTTP-date
// must be in the future then.
type retryAfter struct {
	seconds int
	date    time.Duration // an HTTP-date this far ahead
}

func (ra retryAfter) header() http.Header {
	switch {
	case ra.seconds > 0:
		return http.Header{"Retry-After": {strconv.Itoa(ra.seconds)}}
	case ra.date > 0:
		return http.Header{"Retry-After": {time.Now().Add(ra.date).UTC().Format(http.TimeFormat)}}
	}
	return nil
}

// minWait is the least wait the header promises when it is read: an
// HTTP-date has whole seconds, and the answer comes a little later.
func (ra retryAfter) minWait() time.Duration {
	switch {
	case ra.seconds > 0:
		return time.Duration(ra.seconds) * time.Second
	case ra.date > 0:
		return ra.date - 3*time.Second
	}
	return 0
}

// maxWait is the longest first backoff: Retry-After, or the first transient
// step (1s), rounded up to the second.
func (ra retryAfter) maxWait() time.Duration {
	switch {
	case ra.seconds > 0:
		return time.Duration(ra.seconds)*time.Second + time.Second
	case ra.date > 0:
		return ra.date + time.Second
	}
	return policy.TransientBase + time.Second
}

// transientCase is one fault the operator retries with backoff.
type transientCase struct {
	fault aprimotest.Fault
	ra    retryAfter
	// times the fault answers in a row; the request after them gets a token.
	times  int
	reason string
	// message is part of the Ready condition's message while failing.
	message string
}

func tokenJSON(fields string) string {
	return `{"token_type":"Bearer"` + fields + `}`
}

var _ = Describe("Faults at the token endpoint", func() {
	DescribeTable("a transient fault: the documented reason, one request per try, backoff, recovery",
		func(c transientCase) {
			w := newWorld(aprimotest.Registration{})
			seen := w.watchStatus("faulty")
			f := c.fault
			if h := c.ra.header(); h != nil {
				f.Header = h
			}
			fake.FailNextFor(w.clientID, c.times, f)
			w.credential("faulty", nil)

			Eventually(seen.firstFailure, timeout, interval).ShouldNot(BeNil())
			failed := seen.firstFailure().status
			Expect(conditionOf(failed, v1alpha1.ConditionReady)).To(Equal("False/" + c.reason))
			Expect(conditionOf(failed, v1alpha1.ConditionStalled)).To(Equal("False/" + c.reason))
			Expect(conditionMessageOf(failed, v1alpha1.ConditionReady)).To(ContainSubstring(c.message))
			Expect(failed.FailedAttempts).To(Equal(int32(1)))
			// The first transient backoff is 1s at most (full jitter), unless
			// Retry-After asks for longer; renewalTime is rounded up to the second.
			wait := backoff(failed)
			Expect(wait).To(BeNumerically(">=", max(c.ra.minWait(), policy.MinRequeue)))
			Expect(wait).To(BeNumerically("<=", c.ra.maxWait()))

			Eventually(w.condition("faulty", v1alpha1.ConditionReady), timeout, interval).Should(Equal("True/TokenIssued"))
			Expect(w.condition("faulty", v1alpha1.ConditionStalled)()).To(Equal("False/TokenIssued"))
			Expect(w.get("faulty").Status.FailedAttempts).To(BeZero())
			// Exactly one request per try: nothing below the operator retried on its own.
			Consistently(w.requests, time.Second, interval).Should(Equal(c.times + 1))
			expectGapsAtLeast(w, c.ra.minWait())
			Eventually(w.events("faulty"), timeout, interval).Should(ContainElements("Warning/"+c.reason, "Normal/Recovered"))
			recordRow("Ready=False, Stalled=False, "+c.reason, w.requests(),
				fmt.Sprintf("status: next try %s after the failure; requests %s apart", wait, gaps(w)))
		},
		Entry("500, twice", transientCase{fault: aprimotest.Fault{Status: 500}, times: 2,
			reason: v1alpha1.ReasonEndpointUnavailable, message: "HTTP 500"}),
		Entry("500 with Retry-After in seconds", transientCase{fault: aprimotest.Fault{Status: 500}, ra: retryAfter{seconds: 3}, times: 1,
			reason: v1alpha1.ReasonEndpointUnavailable, message: "retry after 3s"}),
		Entry("500 with Retry-After as an HTTP-date", transientCase{fault: aprimotest.Fault{Status: 500}, ra: retryAfter{date: 6 * time.Second}, times: 1,
			reason: v1alpha1.ReasonEndpointUnavailable, message: "retry after"}),
		Entry("502", transientCase{fault: aprimotest.Fault{Status: 502}, times: 1,
			reason: v1alpha1.ReasonEndpointUnavailable, message: "HTTP 502"}),
		Entry("502 with Retry-After in seconds", transientCase{fault: aprimotest.Fault{Status: 502}, ra: retryAfter{seconds: 3}, times: 1,
			reason: v1alpha1.ReasonEndpointUnavailable, message: "retry after 3s"}),
		Entry("502 with Retry-After as an HTTP-date", transientCase{fault: aprimotest.Fault{Status: 502}, ra: retryAfter{date: 6 * time.Second}, times: 1,
			reason: v1alpha1.ReasonEndpointUnavailable, message: "retry after"}),
		Entry("503", transientCase{fault: aprimotest.Fault{Status: 503}, times: 1,
			reason: v1alpha1.ReasonEndpointUnavailable, message: "HTTP 503"}),
		Entry("503 with Retry-After in seconds", transientCase{fault: aprimotest.Fault{Status: 503}, ra: retryAfter{seconds: 3}, times: 1,
			reason: v1alpha1.ReasonEndpointUnavailable, message: "retry after 3s"}),
		Entry("503 with Retry-After as an HTTP-date", transientCase{fault: aprimotest.Fault{Status: 503}, ra: retryAfter{date: 6 * time.Second}, times: 1,
			reason: v1alpha1.ReasonEndpointUnavailable, message: "retry after"}),
		Entry("504", transientCase{fault: aprimotest.Fault{Status: 504}, times: 1,
			reason: v1alpha1.ReasonEndpointUnavailable, message: "HTTP 504"}),
		Entry("504 with Retry-After in seconds", transientCase{fault: aprimotest.Fault{Status: 504}, ra: retryAfter{seconds: 3}, times: 1,
			reason: v1alpha1.ReasonEndpointUnavailable, message: "retry after 3s"}),
		Entry("504 with Retry-After as an HTTP-date", transientCase{fault: aprimotest.Fault{Status: 504}, ra: retryAfter{date: 6 * time.Second}, times: 1,
			reason: v1alpha1.ReasonEndpointUnavailable, message: "retry after"}),
		Entry("429 with Retry-After in seconds", transientCase{fault: aprimotest.Fault{Status: 429}, ra: retryAfter{seconds: 3}, times: 1,
			reason: v1alpha1.ReasonRateLimited, message: "retry after 3s"}),
		Entry("429 with Retry-After as an HTTP-date", transientCase{fault: aprimotest.Fault{Status: 429}, ra: retryAfter{date: 6 * time.Second}, times: 1,
			reason: v1alpha1.ReasonRateLimited, message: "retry after"}),
		Entry("a connection reset", transientCase{fault: aprimotest.Fault{Drop: true}, times: 1,
			reason: v1alpha1.ReasonEndpointUnavailable, message: "unreachable"}),
		Entry("a slow-drip body", transientCase{
			fault: aprimotest.Fault{Status: 200, ContentType: "application/json", Drip: 200 * time.Millisecond,
				Body: tokenJSON(`,"access_token":"at-drip-drip-drip-drip-drip","expires_in":3600`)},
			times: 1, reason: v1alpha1.ReasonEndpointUnavailable, message: "did not arrive within " + requestTimeout.String()}),
		Entry("a body over 1 MiB", transientCase{
			fault: aprimotest.Fault{Status: 200, ContentType: "application/json",
				Body: tokenJSON(`,"expires_in":3600,"access_token":"` + strings.Repeat("A", 1<<20) + `"`)},
			times: 1, reason: v1alpha1.ReasonInvalidResponse, message: "body larger than 1 MiB"}),
		Entry("an HTML error page from a proxy (502)", transientCase{
			fault: aprimotest.Fault{Status: 502, ContentType: "text/html", Body: "<html><body><h1>502 Bad Gateway</h1>squid</body></html>"},
			times: 1, reason: v1alpha1.ReasonEndpointUnavailable, message: "HTTP 502"}),
		Entry("an HTML page with 200 (a proxy's login page)", transientCase{
			fault: aprimotest.Fault{Status: 200, ContentType: "text/html", Body: "<html><form>Sign in to the proxy</form></html>"},
			times: 1, reason: v1alpha1.ReasonInvalidResponse, message: "HTML page"}),
		Entry("JSON with access_token of the wrong type", transientCase{
			fault: aprimotest.Fault{Status: 200, ContentType: "application/json", Body: tokenJSON(`,"access_token":12345,"expires_in":3600`)},
			times: 1, reason: v1alpha1.ReasonInvalidResponse, message: "access_token is not a string"}),
		Entry("JSON with expires_in of the wrong type", transientCase{
			fault: aprimotest.Fault{Status: 200, ContentType: "application/json", Body: tokenJSON(`,"access_token":"at-wrongtype","expires_in":"soon"`)},
			times: 1, reason: v1alpha1.ReasonInvalidResponse, message: "expires_in is not a number"}),
		Entry("JSON that is an array", transientCase{
			fault: aprimotest.Fault{Status: 200, ContentType: "application/json", Body: `["access_token"]`},
			times: 1, reason: v1alpha1.ReasonInvalidResponse, message: "not a JSON object"}),
		Entry("JSON without access_token", transientCase{
			fault: aprimotest.Fault{Status: 200, ContentType: "application/json", Body: tokenJSON(`,"expires_in":3600`)},
			times: 1, reason: v1alpha1.ReasonInvalidResponse, message: "access_token is missing"}),
		Entry("JSON without expires_in", transientCase{
			fault: aprimotest.Fault{Status: 200, ContentType: "application/json", Body: tokenJSON(`,"access_token":"at-noexpiry"`)},
			times: 1, reason: v1alpha1.ReasonInvalidResponse, message: "expires_in is missing"}),
		Entry("expires_in 0", transientCase{
			fault: aprimotest.Fault{Status: 200, ContentType: "application/json", Body: tokenJSON(`,"access_token":"at-zero","expires_in":0`)},
			times: 1, reason: v1alpha1.ReasonInvalidResponse, message: "expires_in is not positive"}),
		Entry("expires_in negative", transientCase{
			fault: aprimotest.Fault{Status: 200, ContentType: "application/json", Body: tokenJSON(`,"access_token":"at-negative","expires_in":-3600`)},
			times: 1, reason: v1alpha1.ReasonInvalidResponse, message: "expires_in is not positive"}),
	)

	It("caps an absurd expires_in (years) at 24 hours and refreshes before then", func() {
		w := newWorld(aprimotest.Registration{})
		token := "at-" + randomString(32)
		w.secret("absurd-token", map[string]string{"value": token}) // so the leak scan covers it
		fake.FailNextFor(w.clientID, 1, aprimotest.Fault{Status: 200, ContentType: "application/json",
			Body: tokenJSON(`,"access_token":"` + token + `","expires_in":315360000`)}) // ten years
		w.credential("absurd", nil)
		Eventually(w.condition("absurd", v1alpha1.ConditionReady), timeout, interval).Should(Equal("True/TokenIssued"))
		Expect(w.accessToken("absurd")()).To(Equal(token))
		st := w.get("absurd").Status
		Expect(st.ExpiresAt.Sub(st.LastRefreshTime.Time)).To(Equal(24 * time.Hour))
		Expect(st.RenewalTime.Time).To(BeTemporally("<", st.ExpiresAt.Time))
		Consistently(w.requests, time.Second, interval).Should(Equal(1))
		recordRow("Ready=True, TokenIssued", w.requests(), "expiresAt capped at 24h; renewal before it")
	})

	It("abandons a request that is never answered at the request timeout, and other credentials go on meanwhile", func() {
		w := newWorld(aprimotest.Registration{})
		seen := w.watchStatus("hung")
		fake.FailNextFor(w.clientID, 1, aprimotest.Fault{Hang: true})
		w.credential("hung", nil)
		Eventually(w.requests, timeout, interval).Should(Equal(1))
		hungAt := w.requestLog()[0].Time

		other := newWorld(aprimotest.Registration{})
		other.credential("meanwhile", nil)
		Eventually(other.condition("meanwhile", v1alpha1.ConditionReady), requestTimeout, interval).Should(Equal("True/TokenIssued"))
		Expect(time.Since(hungAt)).To(BeNumerically("<", requestTimeout), "the other credential was served while the request hung")

		Eventually(seen.firstFailure, 2*requestTimeout, 50*time.Millisecond).ShouldNot(BeNil())
		failed := seen.firstFailure()
		Expect(conditionOf(failed.status, v1alpha1.ConditionReady)).To(Equal("False/" + v1alpha1.ReasonEndpointUnavailable))
		Expect(conditionMessageOf(failed.status, v1alpha1.ConditionReady)).To(ContainSubstring("did not answer within " + requestTimeout.String()))
		// The worker was held for the timeout and not longer.
		Expect(failed.at.Sub(hungAt)).To(And(BeNumerically(">=", requestTimeout-sendSlack), BeNumerically("<", requestTimeout+2*time.Second)))

		Eventually(w.condition("hung", v1alpha1.ConditionReady), timeout, interval).Should(Equal("True/TokenIssued"))
		Expect(w.requests()).To(Equal(2))
		recordRow("Ready=False, Stalled=False, "+v1alpha1.ReasonEndpointUnavailable, w.requests(),
			fmt.Sprintf("failure seen %s after the request (timeout %s); next try %s later; another credential served meanwhile",
				failed.at.Sub(hungAt).Round(100*time.Millisecond), requestTimeout, backoff(failed.status)))
	})

	It("abandons a connection that is accepted and never spoken on (no TLS handshake) at the request timeout", func() {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(l.Close)
		var mu sync.Mutex
		var held []net.Conn // kept open and silent until the spec ends
		DeferCleanup(func() {
			mu.Lock()
			defer mu.Unlock()
			for _, c := range held {
				_ = c.Close()
			}
		})
		accepted := make(chan time.Time, 16)
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				mu.Lock()
				held = append(held, c)
				mu.Unlock()
				accepted <- time.Now()
			}
		}()

		w := newWorld(aprimotest.Registration{})
		seen := w.watchStatus("silent")
		w.credential("silent", func(s *v1alpha1.AprimoCredentialSpec) { s.URL = "https://" + l.Addr().String() })
		var acceptedAt time.Time
		Eventually(accepted, timeout).Should(Receive(&acceptedAt))
		Eventually(seen.firstFailure, 2*requestTimeout, 50*time.Millisecond).ShouldNot(BeNil())
		failed := seen.firstFailure()
		Expect(conditionOf(failed.status, v1alpha1.ConditionReady)).To(Equal("False/" + v1alpha1.ReasonEndpointUnavailable))
		Expect(conditionMessageOf(failed.status, v1alpha1.ConditionReady)).To(ContainSubstring("did not answer within " + requestTimeout.String()))
		Expect(failed.at.Sub(acceptedAt)).To(And(BeNumerically(">=", requestTimeout-sendSlack), BeNumerically("<", requestTimeout+2*time.Second)))
		recordRow("Ready=False, Stalled=False, "+v1alpha1.ReasonEndpointUnavailable, 0,
			fmt.Sprintf("failure seen %s after the connection was accepted (timeout %s); next try %s later",
				failed.at.Sub(acceptedAt).Round(100*time.Millisecond), requestTimeout, backoff(failed.status)))
	})

	It("reports a certificate from an unknown CA as EndpointUnavailable and sends the endpoint nothing", func() {
		untrusted, err := aprimotest.NewServer(aprimotest.Options{}) // its own CA, which the manager does not trust
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(untrusted.Close)
		w := newWorld(aprimotest.Registration{})
		untrusted.AddRegistration(aprimotest.Registration{ClientID: w.clientID, ClientSecret: w.clientSecret})
		w.credential("untrusted", func(s *v1alpha1.AprimoCredentialSpec) { s.URL = untrusted.URL() })

		Eventually(w.condition("untrusted", v1alpha1.ConditionReady), timeout, interval).Should(Equal("False/" + v1alpha1.ReasonEndpointUnavailable))
		Expect(w.condition("untrusted", v1alpha1.ConditionStalled)()).To(Equal("False/" + v1alpha1.ReasonEndpointUnavailable))
		Expect(w.conditionMessage("untrusted", v1alpha1.ConditionReady)).To(ContainSubstring("certificate signed by unknown authority"))
		st := w.get("untrusted").Status
		Expect(st.FailedAttempts).To(BeNumerically(">=", 1))
		Expect(backoff(st)).To(BeNumerically(">=", policy.MinRequeue))
		// The handshake failed before any HTTP: no request, no credential, reached either endpoint.
		Consistently(untrusted.Requests, time.Second, interval).Should(BeEmpty())
		Expect(w.requests()).To(BeZero())
		recordRow("Ready=False, Stalled=False, "+v1alpha1.ReasonEndpointUnavailable, 0,
			fmt.Sprintf("%d handshakes failed, none reached HTTP; next try %s after the last", st.FailedAttempts, backoff(st)))
	})

	DescribeTable("never follows a redirect, and the other host sees no connection",
		func(status int) {
			port, accepted := countingListener()

			w := newWorld(aprimotest.Registration{})
			seen := w.watchStatus("redirected")
			// An allowed host, so only the no-redirect rule stops the client.
			location := "https://127.0.0.1:" + port + "/login/connect/token"
			fake.FailNextFor(w.clientID, 1, aprimotest.Fault{Status: status, Header: http.Header{"Location": {location}}})
			w.credential("redirected", nil)

			Eventually(seen.firstFailure, timeout, interval).ShouldNot(BeNil())
			failed := seen.firstFailure().status
			Expect(conditionOf(failed, v1alpha1.ConditionReady)).To(Equal("False/" + v1alpha1.ReasonInvalidResponse))
			Expect(conditionMessageOf(failed, v1alpha1.ConditionReady)).To(ContainSubstring(fmt.Sprintf("HTTP %d, a redirect to 127.0.0.1:%s that is not followed", status, port)))
			Expect(backoff(failed)).To(BeNumerically("<=", policy.TransientBase+time.Second))
			Eventually(w.condition("redirected", v1alpha1.ConditionReady), timeout, interval).Should(Equal("True/TokenIssued"))
			Consistently(w.requests, time.Second, interval).Should(Equal(2))
			Expect(accepted.Load()).To(BeZero())
			recordRow("Ready=False, Stalled=False, "+v1alpha1.ReasonInvalidResponse, w.requests(),
				fmt.Sprintf("next try %s after the failure; the redirect target accepted %d connections", backoff(failed), accepted.Load()))
		},
		Entry("307", http.StatusTemporaryRedirect),
		Entry("308", http.StatusPermanentRedirect),
	)

	DescribeTable("stalls on each RFC 6749 §5.2 error code with its documented reason",
		func(status int, code, reason string) {
			w := newWorld(aprimotest.Registration{})
			fake.FailNextFor(w.clientID, 1, aprimotest.Fault{Status: status, ContentType: "application/json",
				Body: `{"error":"` + code + `","error_description":"as the test says"}`})
			w.credential("refused", nil)
			Eventually(w.condition("refused", v1alpha1.ConditionReady), timeout, interval).Should(Equal("False/" + reason))
			Expect(w.condition("refused", v1alpha1.ConditionStalled)()).To(Equal("True/" + reason))
			Expect(w.conditionMessage("refused", v1alpha1.ConditionReady)).To(ContainSubstring(fmt.Sprintf("%s (HTTP %d)", code, status)))
			st := w.get("refused").Status
			Expect(st.FailedAttempts).To(Equal(int32(1)))
			// Stalled: 30s, plus up to 10% jitter, rounded up to the second.
			Expect(backoff(st)).To(And(BeNumerically(">=", policy.StalledBase), BeNumerically("<=", policy.StalledBase*11/10+2*time.Second)))
			Consistently(w.requests, 500*time.Millisecond, interval).Should(Equal(1))
			Eventually(w.events("refused"), timeout, interval).Should(ConsistOf("Warning/" + reason))
			recordRow("Ready=False, Stalled=True, "+reason, w.requests(), fmt.Sprintf("next try %s after the failure", backoff(st)))
		},
		rfc6749Entries(http.StatusBadRequest),
		rfc6749Entries(http.StatusUnauthorized),
	)

	It("keeps Ready=True/RefreshFailing while the endpoint fails, retries within the backoff, and never lets the Secret's token expire", func() {
		const lifetime = 20 * time.Second
		w := newWorld(aprimotest.Registration{TokenLifetime: lifetime})
		seen := w.watchStatus("bridged")
		w.credential("bridged", nil)
		Eventually(w.condition("bridged", v1alpha1.ConditionReady), timeout, interval).Should(Equal("True/TokenIssued"))
		first := w.get("bridged").Status
		fake.FailNextFor(w.clientID, 2, aprimotest.Fault{Status: http.StatusServiceUnavailable})

		// Past the renewal, two failures and the recovery: the Secret always
		// holds a token the fake still accepts.
		tokenValid := func() bool { return fake.ValidAccessToken(w.accessToken("bridged")()) }
		Consistently(tokenValid, time.Until(first.ExpiresAt.Time)+time.Second, interval).Should(BeTrue())
		Eventually(w.condition("bridged", v1alpha1.ConditionReady), timeout, interval).Should(Equal("True/TokenIssued"))
		Expect(w.get("bridged").Status.ExpiresAt.Time).To(BeTemporally(">", first.ExpiresAt.Time))
		var statuses []int
		for _, r := range w.requestLog() {
			statuses = append(statuses, r.Status)
		}
		Expect(len(statuses)).To(BeNumerically(">=", 4))
		Expect(statuses[:4]).To(Equal([]int{200, 503, 503, 200}))

		reasons := seen.reasons()
		issued := slices.Index(reasons, "True/"+v1alpha1.ReasonTokenIssued)
		Expect(reasons[issued:]).To(ContainElement("True/" + v1alpha1.ReasonRefreshFailing))
		Expect(reasons[issued:]).NotTo(ContainElement(HavePrefix("False/")), "Ready never turned False")
		for _, s := range seen.all() {
			if conditionOf(s.status, v1alpha1.ConditionReady) == "True/"+v1alpha1.ReasonRefreshFailing {
				Expect(conditionOf(s.status, v1alpha1.ConditionStalled)).To(Equal("False/" + v1alpha1.ReasonEndpointUnavailable))
				// Each retry is before the stored token expires, with a margin.
				Expect(s.status.RenewalTime.Time).To(BeTemporally("<=", first.ExpiresAt.Add(-policy.ExpiryMargin)))
			}
		}
		recordRow("Ready=True, RefreshFailing, then TokenIssued", 4,
			fmt.Sprintf("requests %s apart; recovered %s before the old token expired",
				gaps(w), first.ExpiresAt.Sub(w.requestLog()[3].Time).Round(100*time.Millisecond)))
	})
})

// rfc6749Entries are the RFC 6749 §5.2 codes answered with status, and the
// reasons docs/troubleshooting.md documents for them.
func rfc6749Entries(status int) []TableEntry {
	reasons := []struct{ code, reason string }{
		{"invalid_request", v1alpha1.ReasonUnauthorizedClient},
		{"invalid_client", v1alpha1.ReasonInvalidClient},
		{"invalid_grant", v1alpha1.ReasonInvalidGrant},
		{"unauthorized_client", v1alpha1.ReasonUnauthorizedClient},
		{"unsupported_grant_type", v1alpha1.ReasonUnauthorizedClient},
		{"invalid_scope", v1alpha1.ReasonInvalidScope},
	}
	var out []TableEntry
	for _, r := range reasons {
		out = append(out, Entry(fmt.Sprintf("%s as HTTP %d", r.code, status), status, r.code, r.reason))
	}
	return out
}
