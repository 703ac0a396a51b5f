package detector

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
)

// modelBlob is the shared payload layout models may use for MarshalBinary:
//
//	uint32 little-endian length of the JSON header, JSON header
//	uint32 little-endian weight count n, n float32 little-endian
//
// The JSON header carries the kind, ModelConfig, threshold and any
// kind-specific state (State). Encoding is deterministic.
type modelBlob struct {
	Kind      string          `json:"kind"`
	Config    ModelConfig     `json:"config"`
	Threshold float64         `json:"threshold"`
	State     json.RawMessage `json:"state,omitempty"`
}

// marshalModelBlob encodes a model payload in the modelBlob layout. state
// (may be nil) is JSON-encoded into the header.
func marshalModelBlob(kind string, cfg ModelConfig, threshold float64, state any, weights []float32) ([]byte, error) {
	h := modelBlob{Kind: kind, Config: cfg, Threshold: threshold}
	if state != nil {
		s, err := json.Marshal(state)
		if err != nil {
			return nil, fmt.Errorf("marshal %s state: %w", kind, err)
		}
		h.State = s
	}
	hj, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("marshal %s header: %w", kind, err)
	}
	var buf bytes.Buffer
	buf.Grow(8 + len(hj) + 4*len(weights))
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], uint32(len(hj)))
	buf.Write(n[:])
	buf.Write(hj)
	binary.LittleEndian.PutUint32(n[:], uint32(len(weights)))
	buf.Write(n[:])
	for _, w := range weights {
		binary.LittleEndian.PutUint32(n[:], math.Float32bits(w))
		buf.Write(n[:])
	}
	return buf.Bytes(), nil
}

// unmarshalModelBlob decodes a modelBlob payload, checks its kind, and
// decodes the kind-specific state into state when both are non-nil.
func unmarshalModelBlob(kind string, data []byte, state any) (modelBlob, []float32, error) {
	var h modelBlob
	if len(data) < 4 {
		return h, nil, fmt.Errorf("%s model: truncated payload", kind)
	}
	hl := int(binary.LittleEndian.Uint32(data))
	if hl > len(data)-8 {
		return h, nil, fmt.Errorf("%s model: truncated header", kind)
	}
	if err := json.Unmarshal(data[4:4+hl], &h); err != nil {
		return h, nil, fmt.Errorf("%s model header: %w", kind, err)
	}
	if h.Kind != kind {
		return h, nil, fmt.Errorf("%s model: payload is a %q model", kind, h.Kind)
	}
	// The payload's sizes are what the model is built from: bound them
	// before anything is (DecodeDetector then requires them to be the
	// metadata's).
	if err := h.Config.validate(); err != nil {
		return h, nil, err
	}
	rest := data[4+hl:]
	n := int(binary.LittleEndian.Uint32(rest))
	rest = rest[4:]
	if len(rest) != 4*n {
		return h, nil, fmt.Errorf("%s model: %d weight bytes for %d weights", kind, len(rest), n)
	}
	w := make([]float32, n)
	for i := range w {
		w[i] = math.Float32frombits(binary.LittleEndian.Uint32(rest[4*i:]))
	}
	if state != nil && len(h.State) > 0 {
		if err := json.Unmarshal(h.State, state); err != nil {
			return h, nil, fmt.Errorf("%s model state: %w", kind, err)
		}
	}
	return h, w, nil
}
