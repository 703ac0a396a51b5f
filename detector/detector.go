package detector

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/crypto/sha3"
)

// Model file format, version 1. All integers little-endian.
//
//	offset 0   8 bytes  magic "IDSLMDL\x00"
//	offset 8   uint32   format version (1)
//	offset 12  uint32   M, length of the metadata JSON
//	offset 16  M bytes  Metadata as JSON (encoding/json of the struct, so
//	                    keys are in a fixed order and the bytes are
//	                    reproducible)
//	           uint64   P, length of the model payload
//	           P bytes  the model's MarshalBinary (kind-specific; the
//	                    classical models and codec.go use: uint32 header
//	                    length, JSON header, uint32 n, n float32 weights)
//
// Nothing may follow the payload. The model id is the lower-case hex
// keccak256 (legacy Keccak, as Ethereum) of the whole file.
const (
	modelMagic         = "IDSLMDL\x00"
	ModelFormatVersion = 1
)

// ErrModelFile wraps every error decoding a model file.
var ErrModelFile = errors.New("invalid model file")

// Metadata is the JSON part of a model file: everything about the model
// but its weights.
type Metadata struct {
	FormatVersion int         `json:"format_version"`
	ModelKind     string      `json:"model_kind"`
	Supervised    bool        `json:"supervised"`
	ModelConfig   ModelConfig `json:"model_config"`
	// Threshold is the model's alert threshold on Prediction.Score.
	Threshold float64       `json:"threshold"`
	Pipeline  *Pipeline     `json:"pipeline"`
	Training  *TrainingInfo `json:"training,omitempty"`
	// Card summarises training data, split, settings and held-out figures
	// (nil when the model was trained without a test split).
	Card *ModelCard `json:"model_card,omitempty"`
}

// TrainingInfo records how a model was trained and how it scored on its
// held-out test split.
type TrainingInfo struct {
	Dataset        string   `json:"dataset"`
	Files          []string `json:"files"` // base names
	Seed           int64    `json:"seed"`
	TestFraction   float64  `json:"test_fraction"`
	ValidFraction  float64  `json:"valid_fraction"`
	Dedup          bool     `json:"dedup"`
	DuplicatesSeen int      `json:"duplicates_dropped"`
	// SplitBy is the identifier column the splits kept whole, if any.
	SplitBy   string       `json:"split_by,omitempty"`
	Load      LoadStats    `json:"load"`
	TrainRows int          `json:"train_rows"`
	ValidRows int          `json:"valid_rows"`
	TestRows  int          `json:"test_rows"`
	Config    TrainConfig  `json:"train_config"`
	History   []EpochStats `json:"history"` // Elapsed is zeroed: files are reproducible
	Test      *Metrics     `json:"test_metrics,omitempty"`
}

// Detector is a fitted pipeline and model: raw flows in, predictions out.
// After construction it is read-only and safe for concurrent use.
type Detector struct {
	Pipeline *Pipeline
	Model    Model
	Meta     Metadata
	id       string
}

// NewDetector joins a fitted pipeline and model; training may be nil.
func NewDetector(p *Pipeline, m Model, training *TrainingInfo) (*Detector, error) {
	k, ok := LookupModel(m.Kind())
	if !ok {
		return nil, fmt.Errorf("%w: model %q", ErrUnknownKind, m.Kind())
	}
	t, f := p.Shape()
	if c := m.Config(); c.T != t || c.F != f {
		return nil, fmt.Errorf("%w: pipeline gives %dx%d, model wants %dx%d", ErrShape, t, f, c.T, c.F)
	}
	if training != nil {
		for i := range training.History {
			training.History[i].Elapsed = 0
		}
	}
	return &Detector{Pipeline: p, Model: m, Meta: Metadata{
		FormatVersion: ModelFormatVersion, ModelKind: m.Kind(), Supervised: k.Supervised,
		ModelConfig: m.Config(), Threshold: m.Threshold(), Pipeline: p, Training: training,
	}}, nil
}

// Classes are the class names; Prediction.Class indexes them.
func (d *Detector) Classes() []string { return d.Pipeline.Classes }

// ClassName names a predicted class ("Anomaly" for ClassAnomaly).
func (d *Detector) ClassName(c int) string {
	if c >= 0 && c < len(d.Pipeline.Classes) {
		return d.Pipeline.Classes[c]
	}
	return "Anomaly"
}

// Dataset is the dataset kind whose flows this detector reads.
func (d *Detector) Dataset() string { return d.Pipeline.Dataset }

// NewFlow parses named fields as a flow of the detector's dataset kind.
func (d *Detector) NewFlow(fields map[string]string) (*Flow, error) {
	return NewFlow(d.Pipeline.Dataset, fields, d.Pipeline.LoadOptions())
}

// NewFlowRow parses values aligned with h's columns as a flow of the
// detector's dataset kind (see NewFlowRow).
func (d *Detector) NewFlowRow(h *Header, values []string) (*Flow, error) {
	return NewFlowRow(d.Pipeline.Dataset, h, values, d.Pipeline.LoadOptions())
}

// Detect scores flows, one prediction per flow in order. In window mode a
// flow's window is built from the flows before it in the same call (see
// Pipeline.Transform). Safe for concurrent use. A panic while scoring is
// returned as an error wrapping ErrPanic.
func (d *Detector) Detect(flows []*Flow) (_ []Prediction, err error) {
	defer catchPanic(&err)
	if len(flows) == 0 {
		return nil, nil
	}
	return d.Model.Predict(d.Pipeline.Transform(flows))
}

// ID is the model id: hex keccak256 of the model file bytes, set when the
// detector was encoded or decoded ("" before).
func (d *Detector) ID() string { return d.id }

// ModelID returns the hex keccak256 of model file bytes.
func ModelID(file []byte) string {
	h := sha3.NewLegacyKeccak256()
	h.Write(file)
	return hex.EncodeToString(h.Sum(nil))
}

// MarshalBinary encodes the model file (deterministic) and sets ID.
func (d *Detector) MarshalBinary() ([]byte, error) {
	payload, err := d.Model.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("encode %s model: %w", d.Model.Kind(), err)
	}
	meta, err := json.Marshal(d.Meta)
	if err != nil {
		return nil, fmt.Errorf("encode model metadata: %w", err)
	}
	var buf bytes.Buffer
	buf.WriteString(modelMagic)
	binary.Write(&buf, binary.LittleEndian, uint32(ModelFormatVersion))
	binary.Write(&buf, binary.LittleEndian, uint32(len(meta)))
	buf.Write(meta)
	binary.Write(&buf, binary.LittleEndian, uint64(len(payload)))
	buf.Write(payload)
	d.id = ModelID(buf.Bytes())
	return buf.Bytes(), nil
}

// DecodeDetector reads a model file and checks it: its size, every field
// of its metadata (Detector.Validate says what), and the payload, whose
// model validates itself (Model.Validate) and must carry the configuration
// and threshold the metadata declares. Sizes are checked before anything
// is allocated from them. Errors wrap ErrModelFile and name the field (an
// unknown model kind also wraps ErrUnknownKind).
func DecodeDetector(file []byte) (*Detector, error) {
	if len(file) > MaxModelFileBytes {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrModelFile, len(file), MaxModelFileBytes)
	}
	r := bytes.NewReader(file)
	magic := make([]byte, len(modelMagic))
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != modelMagic {
		return nil, fmt.Errorf("%w: bad magic", ErrModelFile)
	}
	var ver, mlen uint32
	if binary.Read(r, binary.LittleEndian, &ver) != nil || ver != ModelFormatVersion {
		return nil, fmt.Errorf("%w: unsupported format version %d", ErrModelFile, ver)
	}
	if binary.Read(r, binary.LittleEndian, &mlen) != nil || int64(mlen) > int64(r.Len()) {
		return nil, fmt.Errorf("%w: truncated metadata", ErrModelFile)
	}
	meta := make([]byte, mlen)
	io.ReadFull(r, meta)
	var md Metadata
	if err := json.Unmarshal(meta, &md); err != nil {
		return nil, fmt.Errorf("%w: metadata: %v", ErrModelFile, err)
	}
	var plen uint64
	if binary.Read(r, binary.LittleEndian, &plen) != nil || plen != uint64(r.Len()) {
		return nil, fmt.Errorf("%w: payload length does not match the file", ErrModelFile)
	}
	payload := make([]byte, plen)
	io.ReadFull(r, payload)
	if err := md.validate(); err != nil {
		return nil, modelFileError(err)
	}
	m, err := NewModel(md.ModelKind, md.ModelConfig)
	if err != nil {
		return nil, modelFileError(err)
	}
	if err := m.UnmarshalBinary(payload); err != nil {
		return nil, fmt.Errorf("%w: %s payload: %w", ErrModelFile, md.ModelKind, err)
	}
	md.Pipeline.canonicalizeCategories()
	d := &Detector{Pipeline: md.Pipeline, Model: m, Meta: md, id: ModelID(file)}
	if err := d.validateModel(); err != nil {
		return nil, modelFileError(err)
	}
	return d, nil
}

// WriteFile writes the model file to path and returns the model id.
func (d *Detector) WriteFile(path string) (string, error) {
	b, err := d.MarshalBinary()
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return "", err
	}
	return d.id, nil
}

// LoadDetector reads a model file from path.
func LoadDetector(path string) (*Detector, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	d, err := DecodeDetector(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}
