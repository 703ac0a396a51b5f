package api

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
	"gopkg.in/yaml.v3"
)

//go:embed openapi.yaml
var openapiYAML []byte

// openapiJSON is the document converted once, at start.
var openapiJSON = mustYAMLToJSON(openapiYAML)

// OpenAPIDocument returns the OpenAPI document as JSON.
func OpenAPIDocument() []byte { return openapiJSON }

func serveOpenAPI(c *gin.Context) {
	c.Data(http.StatusOK, "application/json", openapiJSON)
}

func mustYAMLToJSON(y []byte) []byte {
	var doc any
	if err := yaml.Unmarshal(y, &doc); err != nil {
		panic(fmt.Sprintf("api/openapi.yaml: %v", err))
	}
	b, err := json.Marshal(doc)
	if err != nil {
		panic(fmt.Sprintf("api/openapi.yaml is not JSON-compatible: %v", err))
	}
	return b
}
