package main

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/idsledger/idsledger/detector"
	"github.com/idsledger/idsledger/internal/testenv"
)

// TestReportInBrowser renders the reports of `train --report` (the
// held-out split) and `eval --report` (a file) in headless Chromium, as a
// person would open them, at a desktop width and at a phone's: it takes screenshots and measures the laid-out page (nothing
// wider than the window, no label cut off by its plot). Set
// IDSLEDGER_REPORT_SCREENSHOTS to a directory to keep the screenshots and
// look at them. Without Chromium the test is skipped, and under CI it
// fails (.ci/run installs it).
func TestReportInBrowser(t *testing.T) {
	browser := findChromium(t)
	keep := os.Getenv("IDSLEDGER_REPORT_SCREENSHOTS")
	dir := t.TempDir()
	for _, c := range []struct {
		kind string
		args []string
		eval bool // the report of eval on the whole sample, not train's
	}{
		{"bilstm", []string{"--epochs", "12"}, false},
		{"autoencoder", []string{"--epochs", "40"}, true},
	} {
		t.Run(c.kind, func(t *testing.T) {
			reportDir := filepath.Join(dir, c.kind)
			model := filepath.Join(dir, c.kind+".idslm")
			args := append([]string{"train", "--dataset", "nf-bot-iot-v2", "--data", detectorSampleCSV, "--model", c.kind,
				"--out", model, "--quiet"}, c.args...)
			if c.eval {
				run(t, args...)
				args = []string{"eval", "--model", model, "--data", detectorSampleCSV, "--latency-samples", "50", "--quiet"}
			}
			if out := run(t, append(args, "--report", reportDir)...); !strings.Contains(out, "report written to") {
				t.Fatalf("%s --report:\n%s", args[0], out)
			}
			d, err := detector.LoadDetector(model)
			if err != nil {
				t.Fatal(err)
			}
			page, err := os.ReadFile(filepath.Join(reportDir, "index.html"))
			if err != nil {
				t.Fatal(err)
			}
			if c.eval {
				checkReport(t, string(page), evalMetrics(t, model))
			} else {
				checkReport(t, string(page), *d.Meta.Training.Test)
			}
			for _, w := range []struct {
				name          string
				width, height int
			}{{"desktop", 1280, 1700}, {"narrow", 420, 3000}} {
				shot := filepath.Join(reportDir, w.name+".png")
				if keep != "" {
					shot = filepath.Join(keep, fmt.Sprintf("report-%s-%s.png", c.kind, w.name))
				}
				screenshot(t, browser, filepath.Join(reportDir, "index.html"), shot, w.width, w.height)
				checkLayout(t, browser, string(page), reportDir, w.width)
			}
		})
	}
}

// run runs idsledger with args and returns its standard output; it fails t
// unless the command succeeds.
func run(t *testing.T, args ...string) string {
	t.Helper()
	var code int
	out := captureTrainStdout(t, func() { code = runMain(args) })
	if code != 0 {
		t.Fatalf("idsledger %s: exit %d\n%s", strings.Join(args, " "), code, out)
	}
	return out
}

// evalMetrics are the metrics `eval --json` reports for model on the
// sample.
func evalMetrics(t *testing.T, model string) detector.Metrics {
	t.Helper()
	var m detector.Metrics
	out := run(t, "eval", "--model", model, "--data", detectorSampleCSV, "--latency-samples", "1", "--json")
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("eval --json: %v\n%s", err, out)
	}
	return m
}

// findChromium returns the headless browser's path, or skips (fails under
// CI) when there is none.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	testenv.SkipOrFail(t, "no headless browser (chromium): apt-get install chromium")
	return ""
}

// runChromium runs the browser headless on page with args and returns its
// standard output.
func runChromium(t *testing.T, browser string, width, height int, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	// Root (CI containers) needs --no-sandbox; a profile per run keeps
	// parallel runs apart.
	args = append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
		"--user-data-dir=" + t.TempDir(), fmt.Sprintf("--window-size=%d,%d", width, height)}, args...)
	cmd := exec.CommandContext(ctx, browser, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", browser, strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// screenshot renders page at width × height into the PNG file out and
// checks that it is an image of that size with something drawn on it.
func screenshot(t *testing.T, browser, page, out string, width, height int) {
	t.Helper()
	runChromium(t, browser, width, height, "--screenshot="+out, "file://"+page)
	f, err := os.Open(out)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot %s: %v", out, err)
	}
	if b := img.Bounds(); b.Dx() != width || b.Dy() != height {
		t.Errorf("screenshot %s is %dx%d, want %dx%d", out, b.Dx(), b.Dy(), width, height)
	}
	if n := colours(img, 64); n < 16 {
		t.Errorf("screenshot %s has %d colours: a blank or failed page", out, n)
	}
	t.Logf("screenshot %s", out)
}

// colours counts the distinct colours of img, up to limit.
func colours(img image.Image, limit int) int {
	seen := map[[3]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, _ := img.At(x, y).RGBA()
			seen[[3]uint32{r >> 8, g >> 8, bl >> 8}] = true
			if len(seen) >= limit {
				return len(seen)
			}
		}
	}
	return len(seen)
}

// layoutProbe, added at the end of a copy of the page, measures the laid-out
// page in the browser and writes what it found into attributes of the
// body of the page that frames it, which --dump-dom prints: the window's
// width, and every element that reaches past the window's edges or, inside
// an SVG, past its SVG's box (a label that would be cut off). Hidden
// elements have an empty box and are skipped.
const layoutProbe = `<script>
(function () {
  var vw = document.documentElement.clientWidth, bad = [];
  var name = function (el) { return el.tagName.toLowerCase() + (el.getAttribute('class') ? '.' + el.getAttribute('class').replace(/ /g, '.') : '') +
    (el.textContent && el.children.length === 0 ? ' "' + el.textContent.slice(0, 40) + '"' : ''); };
  if (document.documentElement.scrollWidth > vw) bad.push('the page is ' + document.documentElement.scrollWidth + 'px wide');
  document.querySelectorAll('body *').forEach(function (el) {
    var r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) return;
    if (r.left < -0.5 || r.right > vw + 0.5) bad.push(name(el) + ' spans ' + Math.round(r.left) + '..' + Math.round(r.right) + 'px');
    var svg = el.closest('svg');
    if (svg && svg !== el) {
      var s = svg.getBoundingClientRect();
      if (r.left < s.left - 1 || r.right > s.right + 1 || r.top < s.top - 1 || r.bottom > s.bottom + 1)
        bad.push(name(el) + ' outside its plot');
    }
  });
  parent.document.body.setAttribute('data-viewport', vw);
  parent.document.body.setAttribute('data-layout', JSON.stringify(bad));
})();
</script>`

var probeResult = regexp.MustCompile(`data-viewport="(\d+)" data-layout="([^"]*)"`)

// checkLayout lays page out at width in the browser and fails t for every
// element the probe finds outside the window or its plot. The page is laid
// out in a frame of that width: headless Chromium will not make its own
// window narrower than 500 px for --dump-dom (it does for --screenshot).
func checkLayout(t *testing.T, browser, page, dir string, width int) {
	t.Helper()
	framed := strings.Replace(page, "</body>", layoutProbe+"</body>", 1)
	host := fmt.Sprintf(`<!doctype html><html><body style="margin:0"><iframe style="border:0" width="%d" height="900" srcdoc="%s"></iframe></body></html>`,
		width, html.EscapeString(framed))
	probe := filepath.Join(dir, fmt.Sprintf("probe-%d.html", width))
	if err := os.WriteFile(probe, []byte(host), 0o644); err != nil {
		t.Fatal(err)
	}
	dom := runChromium(t, browser, width+100, 1000, "--dump-dom", "file://"+probe)
	m := probeResult.FindSubmatch(dom)
	if m == nil {
		t.Fatalf("width %d: the layout probe did not run; page:\n%.2000s", width, dom)
	}
	if vw := string(m[1]); vw != fmt.Sprint(width) {
		t.Errorf("width %d: the page was laid out %spx wide", width, vw)
	}
	var bad []string
	if err := json.Unmarshal([]byte(html.UnescapeString(string(m[2]))), &bad); err != nil {
		t.Fatalf("width %d: probe result %q: %v", width, m[2], err)
	}
	for _, b := range bad {
		t.Errorf("width %d: %s", width, b)
	}
}
