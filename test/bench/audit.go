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
	"bufio"
	"encoding/json"
	"net/url"
	"os"
	"strings"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/controllers"
)

// Kinds of write the operator makes, as the audit log shows them.
const (
	writeTarget = "target"
	writeState  = "state"
	writeStatus = "status"
	writeEvent  = "event"
	writeOther  = "other"
)

// write is one write request of the operator to the API server.
type write struct {
	at   time.Time
	kind string
	cred client.ObjectKey // the credential it concerns; zero for events
}

// auditFindings is what the API server's audit log says about the operator.
type auditFindings struct {
	writes []write
	// refused are writes the API server turned down (a 409 on a stale
	// resourceVersion, say): they cost a request without writing anything.
	refused []write
	// fullSecretReads are LISTs and WATCHes of Secrets with their data and
	// without the operator's label selector (must stay 0).
	fullSecretReads []string
}

type auditEvent struct {
	Stage, Verb, RequestURI, UserAgent string
	RequestReceivedTimestamp           time.Time
	ObjectRef                          *struct{ Resource, Subresource, Namespace, Name, APIGroup string }
	ResponseStatus                     *struct{ Code int }
}

// readAudit reads the whole audit log.
func readAudit(path string) (*auditFindings, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	selector := url.QueryEscape(v1alpha1.ManagedByLabel + "=" + v1alpha1.ManagedByValue)
	out := &auditFindings{}
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 4<<20), 4<<20)
	for s.Scan() {
		var e auditEvent
		if err := json.Unmarshal(s.Bytes(), &e); err != nil {
			return nil, err
		}
		if e.ObjectRef == nil || !strings.HasPrefix(e.UserAgent, controllers.UserAgent) {
			continue
		}
		switch e.Verb {
		case "list", "watch":
			if e.ObjectRef.Resource == "secrets" && !strings.HasPrefix(e.UserAgent, controllers.UserAgent+"/secret-metadata") &&
				!strings.Contains(e.RequestURI, "labelSelector="+selector) {
				out.fullSecretReads = append(out.fullSecretReads, e.Verb+" "+e.RequestURI)
			}
		case "create", "update", "patch":
			if e.Stage != "ResponseComplete" || e.ResponseStatus == nil {
				continue
			}
			if e.ResponseStatus.Code >= 300 {
				out.refused = append(out.refused, classify(e))
				continue
			}
			out.writes = append(out.writes, classify(e))
		}
	}
	return out, s.Err()
}

// classify names a write by what it wrote: the benchmark names each target
// Secret <credential>-token, and the operator names the refresh-token state
// Secret <credential>-aprimo-state.
func classify(e auditEvent) write {
	ref := e.ObjectRef
	w := write{at: e.RequestReceivedTimestamp, kind: writeOther}
	switch {
	case ref.Resource == "events":
		w.kind = writeEvent
	case ref.Resource == "aprimocredentials" && ref.Subresource == "status":
		w.kind, w.cred = writeStatus, client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}
	case ref.Resource == "secrets" && strings.HasSuffix(ref.Name, "-token"):
		w.kind, w.cred = writeTarget, client.ObjectKey{Namespace: ref.Namespace, Name: strings.TrimSuffix(ref.Name, "-token")}
	case ref.Resource == "secrets" && strings.HasSuffix(ref.Name, "-aprimo-state"):
		w.kind, w.cred = writeState, client.ObjectKey{Namespace: ref.Namespace, Name: strings.TrimSuffix(ref.Name, "-aprimo-state")}
	}
	return w
}

// between returns the writes received in [from, to).
func (a *auditFindings) between(from, to time.Time) []write { return within(a.writes, from, to) }

// refusedBetween returns the refused writes received in [from, to).
func (a *auditFindings) refusedBetween(from, to time.Time) []write {
	return within(a.refused, from, to)
}

func within(writes []write, from, to time.Time) []write {
	var out []write
	for _, w := range writes {
		if !w.at.Before(from) && w.at.Before(to) {
			out = append(out, w)
		}
	}
	return out
}
