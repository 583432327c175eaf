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

package plugin

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/cli-runtime/pkg/printers"
	"sigs.k8s.io/yaml"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
)

// Output formats of -o.
const (
	outputTable = "table"
	outputJSON  = "json"
	outputYAML  = "yaml"
)

var outputFormats = []string{outputTable, outputJSON, outputYAML}

// none stands for a time or value that is not set.
const none = "-"

// expiresIn says how long a token is valid: "41m", or "expired 3m ago".
func expiresIn(t *metav1.Time, now time.Time) string {
	if t == nil {
		return none
	}
	d := t.Sub(now)
	if d <= 0 {
		return "expired " + duration.HumanDuration(-d) + " ago"
	}
	return duration.HumanDuration(d)
}

// expiresHint is expiresIn for a parenthesis: "in 41m", or "expired 3m ago".
func expiresHint(t *metav1.Time, now time.Time) string {
	if t != nil && t.After(now) {
		return "in " + expiresIn(t, now)
	}
	return expiresIn(t, now)
}

// nextIn says when something is due: "in 20m", or "overdue 5s" when it is
// past, which means the operator has not acted on time.
func nextIn(t *metav1.Time, now time.Time) string {
	if t == nil {
		return none
	}
	d := t.Sub(now)
	if d < -time.Second {
		return "overdue " + duration.HumanDuration(-d)
	}
	if d < time.Second {
		return "now"
	}
	return "in " + duration.HumanDuration(d)
}

// ago says how long ago something happened: "3m ago".
func ago(t *metav1.Time, now time.Time) string {
	if t == nil {
		return none
	}
	return duration.HumanDuration(now.Sub(t.Time)) + " ago"
}

// timestamp is t in RFC 3339 with a relative hint, e.g. "2026-01-02T10:45:00Z (in 41m)".
func timestamp(t *metav1.Time, relative string) string {
	if t == nil {
		return none
	}
	return fmt.Sprintf("%s (%s)", t.UTC().Format(time.RFC3339), relative)
}

// printTable prints one row per credential, with a NAMESPACE column when
// they come from all namespaces.
func printTable(out io.Writer, items []CredentialStatus, now time.Time, withNamespace bool) error {
	w := printers.GetNewTabWriter(out)
	header := []string{"NAME", "READY", "REASON", "EXPIRES IN", "NEXT REFRESH", "LAST FAILURE"}
	if withNamespace {
		header = append([]string{"NAMESPACE"}, header...)
	}
	fmt.Fprintln(w, strings.Join(header, "\t"))
	for _, s := range items {
		row := []string{s.Name, string(s.Ready), orNone(s.Reason), expiresIn(s.ExpiresAt, now), nextIn(s.RenewalTime, now), ago(s.LastFailureTime, now)}
		if withNamespace {
			row = append([]string{s.Namespace}, row...)
		}
		fmt.Fprintln(w, strings.Join(row, "\t"))
	}
	return w.Flush()
}

// printDetail prints the detailed view of one credential.
func printDetail(out io.Writer, s CredentialStatus, now time.Time) error {
	d := s.Details
	w := printers.GetNewTabWriter(out)
	field := func(label, format string, a ...any) { fmt.Fprintf(w, label+":\t"+format+"\n", a...) }

	field("Name", "%s", s.Name)
	field("Namespace", "%s", s.Namespace)
	field("Flow", "%s", d.Flow)
	if d.Tenant != "" {
		field("Endpoint", "%s (tenant %s)", d.Endpoint, d.Tenant)
	} else {
		field("Endpoint", "%s", d.Endpoint)
	}
	if d.Flow != v1alpha1.FlowRefreshToken {
		field("Scopes", "%s", orNone(strings.Join(d.Scopes, " ")))
	}
	if d.Suspended {
		field("Suspended", "true (spec.suspend)")
	}
	for i, in := range d.Inputs {
		label := ""
		if i == 0 {
			label = "Input Secrets"
		}
		field(label, "%s (keys %s)", in.Name, strings.Join(in.Keys, ", "))
	}
	printTarget(field, d.Target)

	printCondition(field, d.Conditions, v1alpha1.ConditionReady, now)
	printCondition(field, d.Conditions, v1alpha1.ConditionStalled, now)
	field("Expires", "%s", timestamp(s.ExpiresAt, expiresHint(s.ExpiresAt, now)))
	field("Next refresh", "%s", timestamp(s.RenewalTime, nextIn(s.RenewalTime, now)))
	field("Last refresh", "%s", timestamp(s.LastRefreshTime, ago(s.LastRefreshTime, now)))
	switch s.FailedAttempts {
	case 0:
		field("Last failure", "%s", timestamp(s.LastFailureTime, ago(s.LastFailureTime, now)))
	case 1:
		field("Last failure", "%s, the first failure since the last success", timestamp(s.LastFailureTime, ago(s.LastFailureTime, now)))
	default:
		field("Last failure", "%s, %d failures in a row", timestamp(s.LastFailureTime, ago(s.LastFailureTime, now)), s.FailedAttempts)
	}
	if len(d.Events) == 0 {
		field("Events", "<none> (events are kept for one hour by default)")
	}
	if err := w.Flush(); err != nil {
		return err
	}

	if err := printEvents(out, d.Events, now); err != nil {
		return err
	}
	fmt.Fprintln(out, "What to do:")
	for _, a := range d.Advice {
		fmt.Fprintf(out, "  %s\n", a)
	}
	return nil
}

func printTarget(field func(label, format string, a ...any), t TargetSecretStatus) {
	switch {
	case t.Error != "":
		field("Target Secret", "%s (cannot read it: %s)", t.Name, t.Error)
		return
	case !t.Exists:
		field("Target Secret", "%s (does not exist yet)", t.Name)
		return
	case t.OwnedByCredential:
		field("Target Secret", "%s", t.Name)
	default:
		field("Target Secret", "%s (NOT owned by this AprimoCredential)", t.Name)
	}
	field("  Keys", "%s", orNone(strings.Join(t.Keys, ", ")))
	if t.ExpiresAt != "" {
		field("  "+v1alpha1.ExpiresAtKey, "%s", t.ExpiresAt)
	}
}

func printCondition(field func(label, format string, a ...any), conds []metav1.Condition, typ string, now time.Time) {
	var c *metav1.Condition
	for i := range conds {
		if conds[i].Type == typ {
			c = &conds[i]
		}
	}
	if c == nil {
		field(typ, "Unknown (not reported yet)")
		return
	}
	since := ""
	if !c.LastTransitionTime.IsZero() {
		since = ", since " + duration.HumanDuration(now.Sub(c.LastTransitionTime.Time))
	}
	field(typ, "%s %s%s", c.Status, c.Reason, since)
	if c.Message != "" {
		field("  Message", "%s", c.Message)
	}
}

// printEvents prints the events as kubectl describe does, if there are any.
func printEvents(out io.Writer, events []Event, now time.Time) error {
	if len(events) == 0 {
		return nil
	}
	fmt.Fprintln(out, "Events:")
	w := printers.GetNewTabWriter(out)
	fmt.Fprintln(w, "  TYPE\tREASON\tAGE\tFROM\tMESSAGE")
	for _, e := range events {
		age := none
		if e.LastSeen != nil {
			age = duration.HumanDuration(now.Sub(e.LastSeen.Time))
		}
		if e.Count > 1 && e.FirstSeen != nil {
			age = fmt.Sprintf("%s (x%d over %s)", age, e.Count, duration.HumanDuration(now.Sub(e.FirstSeen.Time)))
		}
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s\t%s\n", e.Type, e.Reason, age, orNone(e.From), e.Note)
	}
	return w.Flush()
}

// printObject prints v as JSON or YAML.
func printObject(out io.Writer, format string, v any) error {
	var data []byte
	var err error
	switch format {
	case outputJSON:
		data, err = json.MarshalIndent(v, "", "    ")
		data = append(data, '\n')
	case outputYAML:
		data, err = yaml.Marshal(v)
	default:
		return fmt.Errorf("unknown output format %q", format)
	}
	if err != nil {
		return err
	}
	_, err = out.Write(data)
	return err
}

func orNone(s string) string {
	if s == "" {
		return none
	}
	return s
}
