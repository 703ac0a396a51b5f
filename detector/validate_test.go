package detector

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"testing"
)

// withPayload returns file with its payload replaced (the metadata kept).
func withPayload(file, payload []byte) []byte {
	end := 16 + int(binary.LittleEndian.Uint32(file[12:]))
	out := append([]byte(nil), file[:end]...)
	out = binary.LittleEndian.AppendUint64(out, uint64(len(payload)))
	return append(out, payload...)
}

// wantFieldError requires err to wrap ErrModelFile and name field.
func wantFieldError(t *testing.T, name string, err error, field string) {
	t.Helper()
	if !errors.Is(err, ErrModelFile) || !strings.Contains(err.Error(), field) {
		t.Errorf("%s: got %v, want ErrModelFile naming %s", name, err, field)
	}
}

// Payloads written with the package's own codec whose configuration (or
// the kind's state) declares sizes out of bounds are refused before the
// model is built from them; so is a CBLOF flag the writer never writes.
func TestPayloadSizesAreBounded(t *testing.T) {
	def := DefaultModelFile()
	bilstm, err := DecodeDetector(def)
	if err != nil {
		t.Fatal(err)
	}
	cfg := bilstm.Model.Config()
	huge := func(edit func(c *ModelConfig)) ModelConfig {
		c := cfg
		c.Params = map[string]float64{}
		edit(&c)
		return c
	}
	for _, c := range []struct {
		name  string
		cfg   ModelConfig
		field string
	}{
		{"steps", huge(func(c *ModelConfig) { c.T = 1 << 40 }), "model_config.t"},
		{"features", huge(func(c *ModelConfig) { c.F = 1 << 20 }), "model_config.f"},
		{"values per sequence", huge(func(c *ModelConfig) { c.T, c.F = 1000, 1000 }), "model_config.t"},
		{"hidden", huge(func(c *ModelConfig) { c.Hidden = 1 << 40 }), "model_config.hidden"},
		{"classes", huge(func(c *ModelConfig) { c.Classes = make([]string, MaxClasses+1) }), "model_config.classes"},
	} {
		payload, err := marshalModelBlob("bilstm", c.cfg, 0.5, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = DecodeDetector(withPayload(def, payload))
		wantFieldError(t, c.name, err, c.field)
	}

	forest, _ := trainSample(t, "iforest")
	file, err := forest.Detector.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	fcfg := forest.Detector.Model.Config()
	for _, c := range []struct {
		name  string
		trees float64
		psi   int
		field string
	}{
		{"no trees", 0, 256, "model_config.params.trees"},
		{"a billion trees", 1e9, 256, "model_config.params.trees"},
		{"half a tree", 1.5, 256, "model_config.params.trees"},
		{"a sample of one", 100, 1, "iforest psi"},
		{"a sample of 2^40", 100, 1 << 40, "iforest psi"},
	} {
		cfg := fcfg
		cfg.Params = map[string]float64{"trees": c.trees}
		payload, err := marshalModelBlob("iforest", cfg, 0.5, iforestState{Psi: c.psi}, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = DecodeDetector(withPayload(file, payload))
		wantFieldError(t, c.name, err, c.field)
	}

	cb, _ := trainSample(t, "cblof")
	file, err = cb.Detector.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	m := cb.Detector.Model
	w := m.Weights()
	w[len(w)-1] = 0.5
	payload, err := marshalModelBlob("cblof", m.Config(), m.Threshold(), nil, w)
	if err != nil {
		t.Fatal(err)
	}
	_, err = DecodeDetector(withPayload(file, payload))
	wantFieldError(t, "cblof flag", err, "large-cluster flag")
}

// A threshold that is not finite cannot reach a file (encoding/json has no
// NaN or Inf, and refuses 1e999), and a model that has one in memory does
// not validate.
func TestThresholdsAreFinite(t *testing.T) {
	def := DefaultModelFile()
	mlen := binary.LittleEndian.Uint32(def[12:])
	meta := bytes.Replace(def[16:16+mlen], []byte(`"threshold":0.5,`), []byte(`"threshold":1e999,`), 1)
	if len(meta) == int(mlen) {
		t.Fatal("no threshold in the default model's metadata")
	}
	file := binary.LittleEndian.AppendUint32(append([]byte(nil), def[:12]...), uint32(len(meta)))
	file = append(append(file, meta...), def[16+mlen:]...)
	if _, err := DecodeDetector(file); !errors.Is(err, ErrModelFile) {
		t.Errorf("threshold 1e999: got %v, want ErrModelFile", err)
	}

	ae, err := NewAutoencoder(ModelConfig{T: 1, F: 3, Classes: []string{"Benign", "Attack"}, Hidden: 2, Params: map[string]float64{"width": 4}})
	if err != nil {
		t.Fatal(err)
	}
	if err := ae.SetWeights(make([]float32, ae.d.size())); err != nil {
		t.Fatal(err)
	}
	for _, th := range []float64{math.Inf(1), math.Inf(-1), math.NaN()} {
		ae.SetThreshold(th)
		wantFieldError(t, "autoencoder threshold", ae.Validate(), "threshold")
	}
	ae.SetThreshold(0.1)
	if err := ae.Validate(); err != nil {
		t.Errorf("a zero autoencoder with threshold 0.1: %v", err)
	}
}

// An unknown model kind is refused as a model file (a 422 for an upload)
// and as an unknown kind.
func TestDecodeUnknownModelKind(t *testing.T) {
	d, err := DecodeDetector(DefaultModelFile())
	if err != nil {
		t.Fatal(err)
	}
	d.Meta.ModelKind = "transformer"
	file, err := d.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	_, err = DecodeDetector(file)
	if !errors.Is(err, ErrModelFile) || !errors.Is(err, ErrUnknownKind) || !strings.Contains(err.Error(), "model_kind") {
		t.Errorf("got %v, want ErrModelFile and ErrUnknownKind naming model_kind", err)
	}
}
