package flsim

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"sort"
	"strings"

	"github.com/idsledger/idsledger/detector"
)

// WriteReport writes a self-contained HTML page of a simulation: its
// configuration, the final figures beside the centralized model's and the
// majority baseline, the sites, a table of the rounds, and four charts:
// macro-F1 per round, accepted and rejected updates per round,
// reputations per site, and ε per site.
func WriteReport(w io.Writer, res *Result) error {
	data := struct {
		*Result
		MacroF1, Verdicts, Reputation, Epsilon template.HTML
		HasEpsilon                             bool
		Classes                                []string
	}{Result: res, MacroF1: macroF1Chart(res), Verdicts: verdictChart(res), Reputation: reputationChart(res), Epsilon: epsilonChart(res)}
	for _, r := range res.Rounds {
		if len(r.Epsilon) > 0 {
			data.HasEpsilon = true
		}
	}
	classes := map[string]bool{}
	for _, s := range res.Sites {
		for c := range s.Classes {
			classes[c] = true
		}
	}
	data.Classes = sortedKeys(classes)
	return reportTmpl.Execute(w, data)
}

func roundsX(res *Result) []float64 {
	xs := make([]float64, len(res.Rounds))
	for i, r := range res.Rounds {
		xs[i] = float64(r.Round)
	}
	return xs
}

// constant is a horizontal reference line over the rounds.
func constant(name, color string, xs []float64, v float64) series {
	ys := make([]float64, len(xs))
	for i := range ys {
		ys[i] = v
	}
	return series{name: name, color: color, x: xs, y: ys, dash: true}
}

func macroF1Chart(res *Result) template.HTML {
	xs := append([]float64{0}, roundsX(res)...)
	f1 := []float64{float64(res.Initial.MacroF1)}
	acc := []float64{float64(res.Initial.Accuracy)}
	for _, r := range res.Rounds {
		f1 = append(f1, float64(r.MacroF1))
		acc = append(acc, float64(r.Accuracy))
	}
	return lineChart{xlabel: "round (0: the first global model)", ylabel: "score on the test flows", intX: true, fixedY: true, ymin: 0, ymax: 1,
		series: []series{
			{name: "macro-F1", color: palette[0], x: xs, y: f1},
			{name: "accuracy", color: palette[2], x: xs, y: acc},
			constant("centralized macro-F1", palette[3], xs, float64(res.Centralized.MacroF1)),
			constant("majority-class macro-F1", palette[7], xs, float64(res.Majority.MacroF1)),
		}}.render()
}

func verdictChart(res *Result) template.HTML {
	xs := roundsX(res)
	var ha, hr, ma, mr []float64
	for _, r := range res.Rounds {
		ha, hr = append(ha, float64(r.Accepted.Honest)), append(hr, float64(r.Rejected.Honest))
		ma, mr = append(ma, float64(r.Accepted.Malicious)), append(mr, float64(r.Rejected.Malicious))
	}
	s := []series{
		{name: "honest accepted", color: palette[2], x: xs, y: ha},
		{name: "honest rejected", color: palette[1], x: xs, y: hr},
	}
	if res.Config.Malicious > 0 {
		s = append(s, series{name: "malicious accepted", color: palette[3], x: xs, y: ma, dash: true},
			series{name: "malicious rejected", color: palette[4], x: xs, y: mr, dash: true})
	}
	return lineChart{xlabel: "round", ylabel: "updates", intX: true, series: s}.render()
}

// perSite draws one series per site from get (NaN where a round has no
// value for the site); malicious sites dashed.
func perSite(res *Result, get func(RoundFigures, string) (float64, bool)) []series {
	xs := roundsX(res)
	var out []series
	for i, s := range res.Sites {
		ys := make([]float64, len(res.Rounds))
		for j, r := range res.Rounds {
			ys[j] = math.NaN()
			if v, ok := get(r, s.Name); ok {
				ys[j] = v
			}
		}
		name := s.Name
		if s.Malicious {
			name += " (malicious)"
		}
		out = append(out, series{name: name, color: palette[i%len(palette)], x: xs, y: ys, dash: s.Malicious})
	}
	return out
}

func reputationChart(res *Result) template.HTML {
	return lineChart{xlabel: "round", ylabel: "reputation after the round", intX: true,
		series: perSite(res, func(r RoundFigures, site string) (float64, bool) {
			v, ok := r.Reputation[site]
			return float64(v), ok
		})}.render()
}

func epsilonChart(res *Result) template.HTML {
	return lineChart{xlabel: "round", ylabel: "ε spent (δ = 1e-5)", intX: true,
		series: perSite(res, func(r RoundFigures, site string) (float64, bool) {
			v, ok := r.Epsilon[site]
			return v, ok && !math.IsInf(v, 0)
		})}.render()
}

var reportTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"f": func(v detector.Float) string {
		if math.IsNaN(float64(v)) {
			return "–"
		}
		return fmt.Sprintf("%.4f", float64(v))
	},
	"bytes": func(n uint64) string {
		switch {
		case n >= 1<<20:
			return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
		case n >= 1<<10:
			return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
		}
		return fmt.Sprintf("%d B", n)
	},
	"count": func(m map[string]int, c string) int { return m[c] },
	"u64":   func(v float64) uint64 { return uint64(v) },
	"whyRejected": func(us []UpdateFigures) string {
		var parts []string
		for _, u := range us {
			if !u.Accepted {
				mark := ""
				if u.Malicious {
					mark = "*"
				}
				parts = append(parts, fmt.Sprintf("%s%s: %s (%.2f)", u.Site, mark, strings.Join(u.Reasons, "+"), u.Accuracy))
			}
		}
		return strings.Join(parts, ", ")
	},
	"pct":  func(v float64) string { return fmt.Sprintf("%.1f%%", 100*v) },
	"join": func(s []string) string { return strings.Join(s, ", ") },
	"reps": func(m map[string]uint16) string {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
		}
		return strings.Join(parts, ", ")
	},
}).Parse(`<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>idsledger fl-sim: {{.Config.Sites}} sites, {{.Config.Rounds}} rounds</title>
<style>
body{font-family:system-ui,sans-serif;margin:1em auto;padding:0 1em;max-width:1100px;color:#222}
.scroll{overflow-x:auto}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}td.why{text-align:left;min-width:18em}
.plots{display:flex;flex-wrap:wrap;gap:1.5em}figure{margin:0;flex:1 1 400px;max-width:520px;min-width:0}
figcaption{font-weight:600;margin-bottom:.3em}svg{width:100%;height:auto;display:block}
ul.legend{list-style:none;padding:0;margin:.3em 0;display:flex;flex-wrap:wrap;gap:.2em 1em;font-size:.85em}
ul.legend span{display:inline-block;width:14px;height:3px;margin-right:.4em;vertical-align:middle}
code{font-size:.85em;overflow-wrap:anywhere}
</style></head><body>
<h1>Federated learning simulation</h1>
<p>{{.Config.Sites}} sites ({{.Config.Malicious}} malicious{{if .Config.Attack}}, attack <code>{{.Config.Attack}}</code>{{end}}),
{{.Config.Rounds}} rounds of {{.Config.Epochs}} local epoch(s), model <b>{{.Config.Model}}</b> on <b>{{.Config.Dataset}}</b>,
partition <code>{{.Config.Partition}}</code>, aggregation <code>{{.Config.Rule}}</code>, DP {{.Config.DP}}, encoding {{.Config.Compression}}, seed {{.Config.Seed}}.
{{.Config.TestFlows}} test flows; the coordinator holds {{.Config.CoordFlows}} flows of its own (its validation set, and the first global model's training data).</p>
<div class="scroll"><table>
<tr><th>model</th><th>accuracy</th><th>macro-F1</th><th>benign FPR</th><th>ROC-AUC</th></tr>
<tr><td>first global model (round 0)</td><td>{{f .Initial.Accuracy}}</td><td>{{f .Initial.MacroF1}}</td><td>{{f .Initial.BenignFPR}}</td><td>{{f .Initial.ROCAUC}}</td></tr>
<tr><td>federated, after round {{.Config.Rounds}}</td><td>{{f .Final.Accuracy}}</td><td>{{f .Final.MacroF1}}</td><td>{{f .Final.BenignFPR}}</td><td>{{f .Final.ROCAUC}}</td></tr>
<tr><td>centralized ({{.Centralized.Epochs}} epochs on the sites' {{.Centralized.TrainRows}} training rows)</td><td>{{f .Centralized.Accuracy}}</td><td>{{f .Centralized.MacroF1}}</td><td>{{f .Centralized.BenignFPR}}</td><td>{{f .Centralized.ROCAUC}}</td></tr>
<tr><td>majority class ({{.Majority.Class}})</td><td>{{f .Majority.Accuracy}}</td><td>{{f .Majority.MacroF1}}</td><td>{{f .Majority.BenignFPR}}</td><td>{{f .Majority.ROCAUC}}</td></tr>
</table></div>
<p>{{with .Outcome}}99% of the final macro-F1 from round {{.RoundsTo99}}. Uploaded {{bytes .BytesUp}} in all ({{bytes (u64 .BytesUpPerUpdate)}} per update), downloaded {{bytes .BytesDown}}.
Honest updates rejected: {{pct .HonestRejected}}{{if $.Config.Malicious}}; attackers' updates accepted: {{pct .MaliciousAccepted}}{{if .AttackersExcluded}}; every attacker below the reputation threshold after round {{.AttackersExcluded}}{{end}}{{end}}.{{if .MaxEpsilon}}
Privacy spent: ε ≤ {{printf "%.2f" .MaxEpsilon}} per site (δ = 10⁻⁵).{{end}}{{end}}</p>
<div class="plots">
<figure><figcaption>Macro-F1 per round</figcaption>{{.MacroF1}}</figure>
<figure><figcaption>Accepted and rejected updates per round</figcaption>{{.Verdicts}}</figure>
<figure><figcaption>Reputation per site</figcaption>{{.Reputation}}</figure>
<figure><figcaption>Privacy spent per site</figcaption>{{if .HasEpsilon}}{{.Epsilon}}{{else}}<p>No differential privacy: no ε is accounted.</p>{{end}}</figure>
</div>
<h2>Rounds</h2>
<div class="scroll"><table>
<tr><th>round</th><th>state</th><th>accuracy</th><th>macro-F1</th><th>benign FPR</th><th>up</th><th>down</th><th>accepted (honest / malicious)</th><th>rejected</th><th>of which refused on submission</th><th>missing</th><th>why rejected (* malicious; accuracy the coordinator measured)</th><th>reputations</th><th>seconds</th></tr>
{{range .Rounds}}<tr><td>{{.Round}}</td><td>{{.State}}{{if .FailReason}}: {{.FailReason}}{{end}}</td><td>{{f .Accuracy}}</td><td>{{f .MacroF1}}</td><td>{{f .BenignFPR}}</td>
<td>{{bytes .BytesUp}}</td><td>{{bytes .BytesDown}}</td><td>{{.Accepted.Honest}} / {{.Accepted.Malicious}}</td><td>{{.Rejected.Honest}} / {{.Rejected.Malicious}}</td>
<td>{{.Refused.Honest}} / {{.Refused.Malicious}}</td><td>{{.Missing.Honest}} / {{.Missing.Malicious}}</td><td class="why">{{whyRejected .Updates}}</td><td>{{reps .Reputation}}</td><td>{{printf "%.1f" .Seconds}}</td></tr>
{{end}}</table></div>
<h2>Sites</h2>
<div class="scroll"><table>
<tr><th>site</th><th>address</th><th>malicious</th><th>flows</th>{{range .Classes}}<th>{{.}}</th>{{end}}<th>victim hosts</th></tr>
{{range .Sites}}{{$s := .}}<tr><td>{{.Name}}</td><td><code>{{.Address.Hex}}</code></td><td>{{if .Malicious}}yes{{else}}no{{end}}</td><td>{{.Flows}}</td>
{{range $.Classes}}<td>{{count $s.Classes .}}</td>{{end}}<td>{{join .Hosts}}</td></tr>
{{end}}</table></div>
</body></html>
`))
