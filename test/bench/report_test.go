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
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TestFramedWritesIgnoreTheWindowEdge: a window that closes between a
// target write and its status write still counts whole rotations.
func TestFramedWritesIgnoreTheWindowEdge(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	cc, pw := client.ObjectKey{Namespace: "ns", Name: "cc"}, client.ObjectKey{Namespace: "ns", Name: "pw"}
	flowOf := map[client.ObjectKey]string{cc: flowOwn, pw: flowPassword}
	var rots []rotation
	var writes []write
	at := func(s int, ms int) time.Time {
		return t0.Add(time.Duration(s)*time.Second + time.Duration(ms)*time.Millisecond)
	}
	for i := range 4 { // rotations every 10 s; the last one's status falls after the window
		s := 10 * i
		rots = append(rots, rotation{cred: cc, landed: at(s, 0)}, rotation{cred: pw, landed: at(s, 500)})
		writes = append(writes,
			write{at: at(s, 0), kind: writeTarget, cred: cc}, write{at: at(s, 20), kind: writeStatus, cred: cc},
			write{at: at(s, 300), kind: writeState, cred: pw}, write{at: at(s, 400), kind: writeState, cred: pw},
			write{at: at(s, 500), kind: writeTarget, cred: pw}, write{at: at(s, 520), kind: writeStatus, cred: pw})
	}
	counts, rotations := framedWrites(rots, writes, flowOf)
	for flow, want := range map[string]rotationWrites{flowOwn: {secret: 1, status: 1}, flowPassword: {secret: 3, status: 1}} {
		if rotations[flow] != 3 {
			t.Fatalf("%s: %d framed rotations, want 3 (4 rotations frame 3)", flow, rotations[flow])
		}
		if got := counts[flow]; got.secret != 3*want.secret || got.status != 3*want.status {
			t.Errorf("%s: %+v writes over 3 rotations, want %+v each", flow, got, want)
		}
	}
}
