package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"time"
)

func init() {
	registerBench(benchmark{
		name:    "query",
		summary: "latency of alert listing (every filter), reports and verification against a running server",
		run:     runBenchQuery,
	})
}

// queryBenchResult is the JSON object `bench query --json` prints.
type queryBenchResult struct {
	URL      string        `json:"url"`
	Requests int           `json:"requests_per_query"`
	Queries  []queryFigure `json:"queries"`
	Errors   int           `json:"errors"`
}

type queryFigure struct {
	Name  string  `json:"name"`
	Path  string  `json:"path"`
	P50MS float64 `json:"p50_ms"`
	P95MS float64 `json:"p95_ms"`
	P99MS float64 `json:"p99_ms"`
	// Items is how many alerts the first answer listed (listings only).
	Items int `json:"items,omitempty"`
}

func runBenchQuery(ctx context.Context, args []string) error {
	fs := newFlagSet("bench query", "bench query --url URL --key KEY [--requests N] [--json]")
	baseURL := fs.String("url", "", "base URL of a running idsledger (e.g. http://127.0.0.1:8080)")
	key := fs.String("key", "", "an API key with the analyst role")
	n := fs.Int("requests", 100, "requests per query, one at a time")
	asJSON := fs.Bool("json", false, "print one JSON object instead of a table")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case *baseURL == "":
		return usagef("--url is required")
	case *key == "":
		return usagef("--key is required (an analyst key: idsledger apikey create --role analyst)")
	case *n < 1:
		return usagef("--requests must be positive")
	}
	q := &queryBencher{client: &http.Client{Timeout: 60 * time.Second}, base: strings.TrimRight(*baseURL, "/"), key: *key}

	// The filters are taken from the data: the newest alert's sensor,
	// addresses and model, the rarest class of the last 31 days.
	var page struct {
		Items []struct {
			ID     string `json:"id"`
			Sensor string `json:"sensor"`
			Flow   struct {
				Src string `json:"src_addr"`
				Dst string `json:"dst_addr"`
			} `json:"flow"`
			Model struct {
				ID string `json:"id"`
			} `json:"model"`
		} `json:"items"`
		Next *string `json:"next_cursor"`
	}
	if err := q.getJSON(ctx, "/v1/alerts?limit=100", &page); err != nil {
		return err
	}
	if len(page.Items) == 0 {
		return errors.New("the server has no alerts to query: ingest some first (bench ingest)")
	}
	first := page.Items[0]
	now := time.Now().UTC()
	var month struct {
		ByClass map[string]int64 `json:"by_class"`
	}
	if err := q.getJSON(ctx, "/v1/reports/summary?bucket=day&from="+url.QueryEscape(now.Add(-31*24*time.Hour).Format(time.RFC3339)), &month); err != nil {
		return err
	}
	rarest := ""
	for c, k := range month.ByClass {
		if rarest == "" || k < month.ByClass[rarest] || (k == month.ByClass[rarest] && c < rarest) {
			rarest = c
		}
	}

	type query struct{ name, path string }
	list := func(v url.Values) string { v.Set("limit", "100"); return "/v1/alerts?" + v.Encode() }
	queries := []query{
		{"list, newest first", list(url.Values{})},
		{"list, last hour", list(url.Values{"from": {now.Add(-time.Hour).Format(time.RFC3339)}})},
		{"list, rarest class (" + rarest + ")", list(url.Values{"class": {rarest}})},
		{"list, severity critical", list(url.Values{"severity": {"critical"}})},
		{"list, sensor", list(url.Values{"sensor": {first.Sensor}})},
		{"list, model", list(url.Values{"model": {first.Model.ID}})},
		{"list, anchored", list(url.Values{"anchor_status": {"anchored"}})},
		{"list, pending", list(url.Values{"anchor_status": {"pending"}})},
	}
	if page.Next != nil {
		queries = append(queries, query{"list, second page", list(url.Values{"cursor": {*page.Next}})})
	}
	if a, err := netip.ParseAddr(first.Flow.Src); err == nil {
		queries = append(queries, query{"list, source address", list(url.Values{"src": {a.String()}})})
		if p, err := a.Prefix(16); err == nil && a.Is4() {
			queries = append(queries, query{"list, source /16", list(url.Values{"src": {p.String()}})})
		}
	}
	if a, err := netip.ParseAddr(first.Flow.Dst); err == nil {
		queries = append(queries, query{"list, destination address", list(url.Values{"dst": {a.String()}})})
	}
	report := func(from time.Duration, bucket string) string {
		return "/v1/reports/summary?bucket=" + bucket + "&from=" + url.QueryEscape(now.Add(-from).Format(time.RFC3339))
	}
	queries = append(queries,
		query{"report, 24 h hourly", report(24*time.Hour, "hour")},
		query{"report, 7 days hourly", report(7*24*time.Hour, "hour")},
		query{"report, 31 days daily", report(31*24*time.Hour, "day")},
		query{"verify (API, chain read)", "/v1/alerts/%s/verify"},
	)

	res := queryBenchResult{URL: *baseURL, Requests: *n}
	for _, qu := range queries {
		lat := make([]time.Duration, 0, *n)
		items := -1
		for i := range *n {
			path := qu.path
			if strings.Contains(path, "%s") { // verify cycles through the page's alerts
				path = fmt.Sprintf(path, page.Items[i%len(page.Items)].ID)
			}
			t0 := time.Now()
			body, err := q.get(ctx, path)
			lat = append(lat, time.Since(t0))
			if err != nil {
				res.Errors++
				fmt.Fprintf(os.Stderr, "bench query: %s: %v\n", qu.name, err)
				continue
			}
			if items < 0 && strings.HasPrefix(path, "/v1/alerts?") {
				var p struct {
					Items []json.RawMessage `json:"items"`
				}
				if json.Unmarshal(body, &p) == nil {
					items = len(p.Items)
				}
			}
		}
		res.Queries = append(res.Queries, queryFigure{Name: qu.name, Path: qu.path,
			P50MS: quantileMS(lat, 0.5), P95MS: quantileMS(lat, 0.95), P99MS: quantileMS(lat, 0.99), Items: max(items, 0)})
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	fmt.Printf("%-36s %8s %8s %8s  (%d requests each, one at a time)\n", "query", "p50 ms", "p95 ms", "p99 ms", *n)
	for _, f := range res.Queries {
		fmt.Printf("%-36s %8.1f %8.1f %8.1f\n", f.Name, f.P50MS, f.P95MS, f.P99MS)
	}
	fmt.Printf("errors: %d\n", res.Errors)
	return nil
}

type queryBencher struct {
	client    *http.Client
	base, key string
}

func (q *queryBencher) get(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, q.base+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+q.key)
	resp, err := q.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: HTTP %d: %.300s", path, resp.StatusCode, body)
	}
	return body, nil
}

func (q *queryBencher) getJSON(ctx context.Context, path string, v any) error {
	body, err := q.get(ctx, path)
	if err != nil {
		return err
	}
	return json.Unmarshal(body, v)
}
