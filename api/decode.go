package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// decodeJSON reads the request body into v strictly: the content type must be
// JSON, unknown fields and trailing data are refused, and a body over the
// configured limit is refused. On failure it has already written the problem
// response and returns false.
func decodeJSON(c *gin.Context, v any) bool {
	if !hasJSONContentType(c.Request) {
		abort(c, probUnsupportedMedia, "send the body as application/json")
		return false
	}
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			err = errors.New("unexpected data after the JSON value")
		}
	}
	if err != nil {
		abortDecode(c, err)
		return false
	}
	return true
}

// abortDecode turns a decoding error into the right problem.
func abortDecode(c *gin.Context, err error) {
	var tooBig *http.MaxBytesError
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &tooBig):
		abort(c, probTooLarge, fmt.Sprintf("the body is larger than %d bytes", tooBig.Limit))
	case errors.As(err, &syntax):
		abort(c, probBadRequest, fmt.Sprintf("malformed JSON at byte %d", syntax.Offset))
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "(document)"
		}
		abort(c, probBadRequest, fmt.Sprintf("field %s: expected %s, got JSON %s", field, typ.Type, typ.Value),
			ItemError{Pointer: "/" + strings.ReplaceAll(typ.Field, ".", "/"), Detail: "wrong type"})
	case errors.Is(err, io.EOF):
		abort(c, probBadRequest, "the body is empty")
	case errors.Is(err, io.ErrUnexpectedEOF):
		abort(c, probBadRequest, "the JSON document ends early")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		abort(c, probBadRequest, strings.TrimPrefix(err.Error(), "json: "))
	default:
		abort(c, probBadRequest, err.Error())
	}
}

func hasJSONContentType(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// jsonEncode writes v as JSON without HTML escaping (alerts carry '<' and '&'
// in payload strings; escaping them would change nothing but readability).
func jsonEncode(w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}
