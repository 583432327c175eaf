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

package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo/aprimotest"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/test/harness"
)

// watcher polls the credential and its Secret once a second, as a user with
// kubectl would, and remembers what the summary needs. Polling keeps it
// simple: a change shows up within a second, and nothing needs resyncing.
type watcher struct {
	k8s        client.Client
	fake       *harness.FakeAprimo
	manager    *harness.Manager
	managerLog string
	kubectl    func(args ...string) error
	appliedAt  time.Time
	// parentPID: under 'make demo' our parent is 'go run', which dies on
	// SIGTERM without passing it on; then we stop too, rather than linger.
	parentPID int

	lastRow, lastErr string
	readyAt          time.Time // first time Ready was True; zero if never
	shownWide        bool
	token            tokenState
	tokens           int      // distinct tokens seen in the Secret
	bad              []string // times the Secret held an expired or rejected token
	leaks            int      // condition messages withheld because they quoted a secret
	managerDied      error
	requests         []aprimotest.Request // the fake's record, taken when the watch ends
}

// tokenState is what the demo keeps of the token in the Secret: never the
// token itself, only its hash and expiry.
type tokenState struct {
	sum       string
	expiresAt time.Time
	flagged   bool // already reported as expired or rejected
}

// A status line is the time, then the status columns.
const (
	timeFormat   = "%-8s  "
	statusFormat = "%-7s  %-20s  %-8s  %-8s  %s"
)

func (w *watcher) run(ctx context.Context) {
	say(timeFormat+statusFormat, "TIME", "READY", "REASON", "EXPIRES", "RENEWAL", "TOKEN REQUESTS")
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	defer func() { w.requests = w.requestsOf(clientID) }()
	for {
		w.poll()
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				step("DEMO_DURATION has passed")
			} else {
				step("Interrupted")
			}
			return
		case <-w.manager.Done():
			w.managerDied = w.manager.Err()
			if w.managerDied == nil {
				w.managerDied = errors.New("exit status 0")
			}
			step("The manager exited unexpectedly (%v); see %s", w.managerDied, w.managerLog)
			return
		case <-tick.C:
		}
		if os.Getppid() != w.parentPID {
			step("Our parent process exited; stopping")
			return
		}
	}
}

// poll prints a line if the credential's status changed, a line per new
// token in the Secret, and checks the token is still valid. Its reads are not
// cut short when the run ends, so the last poll sees what happened last.
func (w *watcher) poll() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	now := time.Now()
	var cred v1alpha1.AprimoCredential
	if err := w.k8s.Get(ctx, client.ObjectKey{Namespace: namespace, Name: credentialName}, &cred); err != nil {
		w.warn(now, "reading the AprimoCredential: %v", err)
		return
	}
	w.showStatus(now, &cred)
	var secret corev1.Secret
	err := w.k8s.Get(ctx, client.ObjectKey{Namespace: namespace, Name: targetSecretName}, &secret)
	switch {
	case apierrors.IsNotFound(err): // no token yet
	case err != nil:
		w.warn(now, "reading the Secret: %v", err)
	default:
		w.checkToken(now, &secret)
	}
	if !w.readyAt.IsZero() && !w.shownWide {
		w.shownWide = true
		if err := w.kubectl("get", "aprimocredentials", "-o", "wide"); err != nil {
			w.warn(now, "kubectl get: %v", err)
		}
	}
}

func (w *watcher) showStatus(now time.Time, cred *v1alpha1.AprimoCredential) {
	ready, reason, message := "-", "-", ""
	if c := meta.FindStatusCondition(cred.Status.Conditions, v1alpha1.ConditionReady); c != nil {
		ready, reason, message = string(c.Status), c.Reason, c.Message
		if c.Status == metav1.ConditionTrue && w.readyAt.IsZero() {
			w.readyAt = now
		}
	}
	row := fmt.Sprintf(statusFormat, ready, reason, clockOf(cred.Status.ExpiresAt),
		clockOf(cred.Status.RenewalTime), fmt.Sprint(w.fake.CountRequests(clientID)))
	if row == w.lastRow {
		return
	}
	w.lastRow = row
	say(timeFormat+"%s", clock(now), row)
	if ready != string(metav1.ConditionTrue) && message != "" {
		say(timeFormat+"message: %s", "", w.withholdSecrets(message))
	}
}

// checkToken reports a new token in the Secret and flags one that has expired,
// that the fake no longer accepts, or whose expiry cannot be read.
func (w *watcher) checkToken(now time.Time, secret *corev1.Secret) {
	token := secret.Data[v1alpha1.AccessTokenKey]
	if len(token) == 0 {
		return
	}
	expiresAt, parseErr := time.Parse(time.RFC3339, string(secret.Data[v1alpha1.ExpiresAtKey]))
	sum := sha256.Sum256(token)
	if s := hex.EncodeToString(sum[:]); s != w.token.sum {
		w.tokens++
		if w.tokens == 1 {
			say("%s  token issued: sha256 %s…, expires %s", clock(now), s[:8], clock(expiresAt))
		} else {
			say("%s  token rotated (#%d): sha256 %s… -> %s…, %s before the old one expired",
				clock(now), w.tokens-1, w.token.sum[:8], s[:8], w.token.expiresAt.Sub(now).Round(time.Second))
		}
		w.token = tokenState{sum: s, expiresAt: expiresAt}
	}
	switch {
	case w.token.flagged:
	case parseErr != nil:
		w.flag(now, "the Secret's expires_at is not an RFC 3339 time")
	case !now.Before(expiresAt):
		w.flag(now, "the Secret holds a token that expired at "+clock(expiresAt))
	case !w.fake.ValidAccessToken(string(token)):
		w.flag(now, "the Secret holds a token the fake Aprimo rejects")
	}
}

// flag records a moment the Secret held a token no client could use.
func (w *watcher) flag(now time.Time, what string) {
	w.token.flagged = true
	w.bad = append(w.bad, clock(now)+": "+what)
	say("%s  !! %s", clock(now), what)
}

// withholdSecrets guards the rule that the demo never prints a secret, even
// if the operator were to put one in a message.
func (w *watcher) withholdSecrets(message string) string {
	if aprimotest.QuotesSecret(message, clientSecret) {
		w.leaks++
		return "(withheld: it quotes the client secret)"
	}
	return message
}

// warn prints a problem once, not every second.
func (w *watcher) warn(now time.Time, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if msg == w.lastErr {
		return
	}
	w.lastErr = msg
	say("%s  (%s)", clock(now), msg)
}

func (w *watcher) requestsOf(id string) []aprimotest.Request {
	var out []aprimotest.Request
	for _, r := range w.fake.Requests() {
		if r.ClientID == id {
			out = append(out, r)
		}
	}
	return out
}

// summary prints what happened and returns the exit code: 1 unless the
// credential became Ready, its Secret never held an unusable token, and
// everything started and stopped cleanly.
func (w *watcher) summary(stopErr error) int {
	step("Summary")
	var failures []string
	if w.readyAt.IsZero() {
		say("    became Ready:                never")
		failures = append(failures, "the AprimoCredential never became Ready")
	} else {
		say("    became Ready:                %s after kubectl apply", w.readyAt.Sub(w.appliedAt).Round(100*time.Millisecond))
	}
	say("    token requests (fake Aprimo): %d (%s)", len(w.requests), answers(w.requests))
	say("    tokens seen in the Secret:   %d; rotations: %d", w.tokens, max(w.tokens-1, 0))
	if len(w.bad) == 0 {
		say("    expired or rejected token:   never")
	} else {
		say("    expired or rejected token:   %d times: %s", len(w.bad), strings.Join(w.bad, "; "))
		failures = append(failures, "the Secret held an expired or rejected token")
	}
	say("    manager log:                 %s (%s)", w.managerLog, errorLines(w.managerLog))
	if w.managerDied != nil {
		failures = append(failures, "the manager exited unexpectedly: "+w.managerDied.Error())
	}
	if w.leaks > 0 {
		failures = append(failures, fmt.Sprintf("%d status messages quoted the client secret", w.leaks))
	}
	if stopErr != nil {
		failures = append(failures, stopErr.Error())
	}
	if len(failures) > 0 {
		say("FAIL: %s", strings.Join(failures, "; "))
		return 1
	}
	say("OK")
	return 0
}

// answers counts the fake's answers by status and OAuth error.
func answers(reqs []aprimotest.Request) string {
	counts := map[string]int{}
	var order []string
	for _, r := range reqs {
		k := fmt.Sprint(r.Status)
		if r.OAuthError != "" {
			k += " " + r.OAuthError
		}
		if counts[k] == 0 {
			order = append(order, k)
		}
		counts[k]++
	}
	if len(order) == 0 {
		return "none"
	}
	parts := make([]string, len(order))
	for i, k := range order {
		parts[i] = fmt.Sprintf("%d answered %s", counts[k], k)
	}
	return strings.Join(parts, ", ")
}

// errorLines counts the manager's error-level log lines: a demo that passes
// can still show the operator stumbling.
func errorLines(logFile string) string {
	data, err := os.ReadFile(logFile)
	if err != nil {
		return err.Error()
	}
	n := strings.Count(string(data), `"level":"error"`)
	if n == 1 {
		return "1 error line"
	}
	return fmt.Sprintf("%d error lines", n)
}

func clock(t time.Time) string { return t.Local().Format(time.TimeOnly) }

func clockOf(t *metav1.Time) string {
	if t == nil {
		return "-"
	}
	return clock(t.Time)
}
