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

package aprimotest

import (
	"net/http"
	"time"
)

// drip writes body one byte per interval, flushing each, until it is written,
// the client gives up, or the server closes.
func (s *Server) drip(w http.ResponseWriter, r *http.Request, body string, interval time.Duration) {
	rc := http.NewResponseController(w)
	_ = rc.Flush() // the headers go out at once; the body trickles
	t := time.NewTicker(interval)
	defer t.Stop()
	for i := 0; i < len(body); i++ {
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		}
		if _, err := w.Write([]byte{body[i]}); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}
