package detector

import (
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestNeuralDevTrain runs the package's Train (what `idsledger train` does)
// on nf-bot-iot-v2/dev.csv (stratified 70:30, seed 1) for the model in
// DEV_MODEL (bilstm or autoencoder) and prints the test metrics, with the
// macro-F1 over Benign/DoS/DDoS/Reconnaissance beside the 5-class one. It
// takes minutes, so it runs only with DETECTOR_DEV_EVAL=1; other env:
// LOGSCALE (1: log1p before min-max, default 1), CORR (correlation pruning,
// default 0.95; 1 keeps all), PATIENCE (default 15), EPOCHS, CW
// (sqrt|inverse|none, Train's default when empty), TARGET_FPR (default 0.04), SEED (default 1), PARAMS
// (model parameters as name=value,...).
func TestNeuralDevTrain(t *testing.T) {
	if os.Getenv("DETECTOR_DEV_EVAL") == "" || os.Getenv("DEV_MODEL") == "" {
		t.Skip("set DETECTOR_DEV_EVAL=1 and DEV_MODEL to train on dev.csv")
	}
	path := "/work/shared/datasets/nf-bot-iot-v2/dev.csv"
	flows, _, err := LoadFiles("nf-bot-iot-v2", []string{path}, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	opt := TrainOptions{
		Dataset: "nf-bot-iot-v2", Files: []string{path}, Model: os.Getenv("DEV_MODEL"),
		Pipeline:     PipelineConfig{LogScale: envFloat("LOGSCALE", 1) == 1, CorrThreshold: envFloat("CORR", 0.95)},
		Train:        TrainConfig{Epochs: int(envFloat("EPOCHS", 0)), Patience: int(envFloat("PATIENCE", 15)), TargetFPR: envFloat("TARGET_FPR", 0.04)},
		TestFraction: 0.3, Seed: int64(envFloat("SEED", 1)), ClassWeights: os.Getenv("CW"),
		Progress: func(s EpochStats) {
			if s.Epoch%10 == 0 {
				t.Logf("epoch %d loss %.4f valid %.4f acc %.4f (%s)", s.Epoch, s.TrainLoss, s.ValidLoss, s.ValidAcc, s.Elapsed.Round(time.Second))
			}
		},
	}
	if v := os.Getenv("PARAMS"); v != "" { // name=value,...
		opt.Params = map[string]float64{}
		for _, kv := range strings.Split(v, ",") {
			name, val, _ := strings.Cut(kv, "=")
			f, err := strconv.ParseFloat(val, 64)
			if err != nil {
				t.Fatalf("PARAMS %q: %v", kv, err)
			}
			opt.Params[name] = f
		}
	}
	t0 := time.Now()
	res, err := Train(flows, opt)
	if err != nil {
		t.Fatal(err)
	}
	m := res.Test
	t.Logf("trained in %s; features %s", time.Since(t0).Round(time.Second), strings.Join(res.Detector.Pipeline.FeatureNames(), ","))
	f4 := (float64(m.PerClass["Benign"].F1) + float64(m.PerClass["DoS"].F1) + float64(m.PerClass["DDoS"].F1) + float64(m.PerClass["Reconnaissance"].F1)) / 4
	t.Logf("accuracy %.4f binary %.4f macroF1(5) %.4f macroF1(4) %.4f benignFPR %.4f rocAUC %.4f",
		m.Accuracy, m.BinaryAccuracy, m.MacroF1, f4, m.BenignFPR, m.ROCAUC)
	pc, _ := json.Marshal(m.PerClass)
	t.Logf("per class %s", pc)
	t.Logf("confusion %v (rows %v, cols %v)", m.Confusion, m.ConfusionRows, m.ConfusionCols)
}

func envFloat(name string, def float64) float64 {
	if v, err := strconv.ParseFloat(os.Getenv(name), 64); err == nil {
		return v
	}
	return def
}
