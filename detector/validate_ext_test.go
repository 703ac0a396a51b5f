package detector_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/idsledger/idsledger/detector"
	"github.com/idsledger/idsledger/internal/modelfiles"
)

// TestMalformedModelFilesRefused: every malformed file of modelfiles is
// refused with ErrModelFile and a message naming the field, by the decoder
// or, for a file whose fields are all in range, by the self-test.
func TestMalformedModelFilesRefused(t *testing.T) {
	for _, c := range modelfiles.Malformed(t) {
		t.Run(c.Name, func(t *testing.T) {
			d, err := detector.DecodeDetector(c.File)
			if c.SelfTest {
				if err != nil {
					t.Fatalf("decode: %v; every field is in range, the self-test is what must refuse it", err)
				}
				err = d.SelfTest()
			}
			if !errors.Is(err, detector.ErrModelFile) {
				t.Fatalf("got %v, want an error wrapping ErrModelFile", err)
			}
			if !strings.Contains(err.Error(), c.Want) {
				t.Errorf("error %q does not name %q", err, c.Want)
			}
		})
	}
}

// Every well-formed model, of every kind and input mode, passes the
// self-test.
func TestValidModelsPassTheSelfTest(t *testing.T) {
	for kind, file := range modelfiles.Valid(t) {
		d, err := detector.DecodeDetector(file)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		if err := d.SelfTest(); err != nil {
			t.Errorf("%s: %v", kind, err)
		}
	}
}

// FuzzDecodeDetector: no file makes the decoder panic or return an error
// that is not ErrModelFile's; whatever decodes passes Validate, does not
// panic while the self-test scores it (the self-test may refuse it), and
// encodes into a file that decodes again. Seeds: every well-formed and
// malformed file of modelfiles.
func FuzzDecodeDetector(f *testing.F) {
	for _, b := range modelfiles.Valid(f) {
		f.Add(b)
	}
	for _, c := range modelfiles.Malformed(f) {
		f.Add(c.File)
	}
	f.Fuzz(func(t *testing.T, file []byte) {
		d, err := detector.DecodeDetector(file)
		if err != nil {
			if !errors.Is(err, detector.ErrModelFile) {
				t.Fatalf("error %v does not wrap ErrModelFile", err)
			}
			return
		}
		if err := d.Validate(); err != nil {
			t.Fatalf("decoded, yet Validate says: %v", err)
		}
		if err := d.SelfTest(); errors.Is(err, detector.ErrPanic) {
			t.Fatalf("decoded, yet panics while scoring: %v", err)
		} else if err != nil && !errors.Is(err, detector.ErrModelFile) {
			t.Fatalf("self-test error %v does not wrap ErrModelFile", err)
		}
		b, err := d.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded, yet does not encode: %v", err)
		}
		if _, err := detector.DecodeDetector(b); err != nil {
			t.Fatalf("decoded and encoded, yet does not decode again: %v", err)
		}
	})
}
