package api

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// The OpenAPI document lists exactly the registered routes, with their roles.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(OpenAPIDocument(), &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi version %q", doc.OpenAPI)
	}
	documented := map[string][]string{}
	for path, ops := range doc.Paths {
		for method, raw := range ops {
			if method == "parameters" {
				continue
			}
			var op struct {
				Roles    []string          `json:"x-roles"`
				Security []json.RawMessage `json:"security"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			documented[strings.ToUpper(method)+" "+path] = op.Roles
		}
	}
	srv := New(Config{}, Deps{})
	registered := map[string]bool{}
	for _, r := range srv.Routes() {
		key := r.Method + " " + OpenAPIPath(r.Path)
		registered[key] = true
		roles, ok := documented[key]
		if !ok {
			t.Errorf("route %s is not in api/openapi.yaml", key)
			continue
		}
		want := make([]string, len(r.Roles))
		for i, role := range r.Roles {
			want[i] = string(role)
		}
		sort.Strings(want)
		sort.Strings(roles)
		if !slices.Equal(want, roles) {
			t.Errorf("%s: x-roles %v in the document, %v in the route table", key, roles, want)
		}
	}
	for key := range documented {
		if !registered[key] {
			t.Errorf("api/openapi.yaml documents %s, which is not a route", key)
		}
	}
}

// The problem types of the error table (problemKinds), the OpenAPI
// document's Problem schema and the table in docs/architecture.md are the
// same: type, and in the docs also status.
func TestProblemTypesDocumented(t *testing.T) {
	want := map[string]int{}
	for _, k := range problemKinds {
		want[k.slug] = k.status
	}

	var doc struct {
		Components struct {
			Schemas struct {
				Problem struct {
					Properties struct {
						Type struct {
							Enum []string `json:"enum"`
						} `json:"type"`
					} `json:"properties"`
				} `json:"Problem"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(OpenAPIDocument(), &doc); err != nil {
		t.Fatal(err)
	}
	var inSpec []string
	for _, u := range doc.Components.Schemas.Problem.Properties.Type.Enum {
		inSpec = append(inSpec, strings.TrimPrefix(u, problemBase))
	}
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	sort.Strings(inSpec)
	if !slices.Equal(keys, inSpec) {
		t.Errorf("OpenAPI Problem.type enum %v, error table %v", inSpec, keys)
	}

	md, err := os.ReadFile("../docs/architecture.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `([a-z-]+)` \\| ([0-9]{3}) \\|")
	inDocs := map[string]int{}
	for _, m := range row.FindAllStringSubmatch(string(md), -1) {
		n, _ := strconv.Atoi(m[2])
		inDocs[m[1]] = n
	}
	for slug, status := range want {
		if got, ok := inDocs[slug]; !ok || got != status {
			t.Errorf("docs/architecture.md: %s is %d there (present: %v), %d in the error table", slug, got, ok, status)
		}
	}
	for slug := range inDocs {
		if _, ok := want[slug]; !ok {
			t.Errorf("docs/architecture.md documents %s, which is not in the error table", slug)
		}
	}
}
