package detector_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/idsledger/idsledger/detector"
	"github.com/idsledger/idsledger/internal/modelfiles"
)

// TestMalformedModelFilesRefused: every malformed file of modelfiles is
// refused by the decoder with ErrModelFile and a message naming the field.
func TestMalformedModelFilesRefused(t *testing.T) {
	for _, c := range modelfiles.Malformed(t) {
		if c.SelfTest {
			continue // well-formed: the self-test refuses it
		}
		t.Run(c.Name, func(t *testing.T) {
			_, err := detector.DecodeDetector(c.File)
			if !errors.Is(err, detector.ErrModelFile) {
				t.Fatalf("got %v, want an error wrapping ErrModelFile", err)
			}
			if !strings.Contains(err.Error(), c.Want) {
				t.Errorf("error %q does not name %q", err, c.Want)
			}
		})
	}
}

// FuzzDecodeDetector: no file makes the decoder panic or return an error
// that is not ErrModelFile's; whatever decodes passes Validate and encodes
// into a file that decodes again. Seeds: every well-formed and malformed
// file of modelfiles.
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
		b, err := d.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded, yet does not encode: %v", err)
		}
		if _, err := detector.DecodeDetector(b); err != nil {
			t.Fatalf("decoded and encoded, yet does not decode again: %v", err)
		}
	})
}
