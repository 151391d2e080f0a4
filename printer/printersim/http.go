package printersim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// patch is a partial State: nil fields do not change.
type patch struct {
	Paper     *string `json:"paper"`
	CoverOpen *bool   `json:"cover_open"`
	Offline   *bool   `json:"offline"`
	Unplugged *bool   `json:"unplugged"`
	Error     *string `json:"error"`
	SlowMS    *int    `json:"slow_ms"`
	Garbage   *bool   `json:"garbage"`
}

// parsePatch reads one JSON object with State's fields and nothing else.
func parsePatch(js []byte) (patch, error) {
	var p patch
	if len(bytes.TrimSpace(js)) == 0 {
		return p, fmt.Errorf(`%w: empty body: want a JSON object such as {"paper":"out"}`, ErrBadState)
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return p, fmt.Errorf("%w: %v (fields: paper, cover_open, offline, unplugged, error, slow_ms, garbage)", ErrBadState, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return p, fmt.Errorf("%w: data after the JSON object", ErrBadState)
	}
	return p, nil
}

func (p patch) apply(st State) State {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	setb := func(dst *bool, v *bool) {
		if v != nil {
			*dst = *v
		}
	}
	set(&st.Paper, p.Paper)
	setb(&st.CoverOpen, p.CoverOpen)
	setb(&st.Offline, p.Offline)
	setb(&st.Unplugged, p.Unplugged)
	set(&st.Error, p.Error)
	if p.SlowMS != nil {
		st.SlowMS = *p.SlowMS
	}
	setb(&st.Garbage, p.Garbage)
	return st
}

const apiHelp = `printersim control API
GET    /state    the state as JSON
POST   /state    change the fields given, e.g. {"paper":"out"}; answers the new state
               paper ok|near_end|out, cover_open, offline, unplugged (bool),
               error ""|cutter|unrecoverable|recoverable, slow_ms 0..60000, garbage (bool)
GET    /output   everything printed, as text, "--- CUT ---" at each cut
DELETE /output   forget the output
`

// Handler returns the control API (DESIGN 6): GET and POST /state, GET and
// DELETE /output, and a short help at /.
func (s *Sim) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, apiHelp)
	})
	mux.HandleFunc("GET /state", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, s.State())
	})
	mux.HandleFunc("POST /state", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<16))
		if err != nil {
			http.Error(w, "printersim: read body: "+err.Error(), http.StatusBadRequest)
			return
		}
		st, err := s.PatchState(body)
		switch {
		case errors.Is(err, ErrBadState):
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		case err != nil:
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		writeJSON(w, st)
	})
	mux.HandleFunc("GET /output", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, s.Output())
	})
	mux.HandleFunc("DELETE /output", func(w http.ResponseWriter, r *http.Request) {
		s.ResetOutput()
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
