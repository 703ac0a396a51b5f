// Package detector scores network-flow records with intrusion detectors.
//
// It owns the flow schemas and dataset loaders, the preprocessing pipeline
// (fitted on training data only and saved with the model), the models behind
// one Model interface (BiLSTM and autoencoder, trained and served in plain
// Go; gradient-boosted trees; isolation forest, PCA/Mahalanobis, k-means
// and CBLOF), the metrics, and the versioned model file whose keccak256 is
// the model id. It imports no other package of idsledger.
//
// # Training the neural models
//
// The fast engine (bilstm_fast.go, autoencoder_fast.go) runs the forward
// and backward passes on the serving path's kernels: AVX2 + FMA assembly
// where the CPU has it (lstm_amd64.s), and elsewhere its Go reference
// (kernels.go), which gives the same bits. Mini-batches are cut into a fixed
// number of shards, computed on all cores and summed in a fixed order, and
// Adam is computed as gorgonia computes it. So a seeded run gives the same
// model on any machine and any number of cores, which is what lets `make
// model` rebuild the committed default model byte for byte. gorgonia's
// graph stays as the reference engine (TrainConfig.Engine "gorgonia") and
// the oracle of the gradient tests. Per-kind training defaults live in one
// place, ModelKind.Defaults (DefaultsFor); Train records the resolved
// settings and a ModelCard in the model file.
//
// For measurements outside Fit, InitWeights gives a servable seeded model
// of a shape, a Stepper runs one training step on any engine (fast with
// AVX2, fast portable, gorgonia), and GorgoniaPredictor is the serving
// path's reference forward pass: what `idsledger bench train` and `bench
// detector` time.
//
// # Data in
//
// Dataset kinds (LookupSchema, DatasetKinds): "bot-iot-argus" (original
// Argus columns, full or "10 best" release, tab, semicolon or comma
// separated, with or without a header), "nf-bot-iot-v2" (any NetFlow-v2
// set), "ton-iot-telemetry" (UTF-8 BOM, CRLF), "n-baiot" (class from the
// file name), "ethereum-accounts" (one row per Ethereum account, its
// columns defined by EthAccountFeatures for a chain follower to compute)
// and "csv" (generic, LoadOptions.LabelColumn). Each Schema names
// its identifier columns, which are never features (addresses, ports,
// timestamps, sequence and row ids: they identify or date a flow and leak
// the label), its label and categorical columns, and its 5-tuple columns:
// every Flow carries its FiveTuple for Community ID hashing.
//
// Reader streams one file with bounded memory. A malformed row is an error
// wrapping ErrMalformed that names file and line, or, with
// LoadOptions.SkipMalformed, is counted in LoadStats and skipped.
//
// # What a flow must contain
//
// Rules (Pipeline.Rules) are the one validation of a flow before a model
// scores it; ingest applies them to every record of POST /v1/flows (JSON,
// NDJSON and CSV alike) and `idsledger eval` to every row it scores, so a
// flow is judged the same whichever way it comes in. A flow is refused
// (a *FlowError, ErrInvalidFlow, naming each field and why) when it has
//
//   - an unknown field: neither a column of the dataset kind
//     (Schema.Columns, and its identifier, label and ignored columns) nor
//     a column of the model's training data (Pipeline.Candidates);
//   - a numeric feature whose value is not a number ("abc", true);
//   - a missing feature (absent, or "", "-", "?", "NaN", "null", ...),
//     unless the caller's impute list allows that feature: it then takes
//     its training median (or the unknown slot) and Check counts it. A
//     model file declares the features it can impute (Pipeline.Imputable,
//     from `train --imputable`), which a caller allows with
//     ImputeDeclared;
//   - where the schema has 5-tuple columns, a missing or invalid address,
//     protocol or port (ports may be empty for protocols without ports);
//     these are never imputed: an alert must name its flow.
//
// CheckHeader judges a header once (a CSV file or body): unknown and
// absent required columns. Readers of kinds with a fixed column set refuse
// a file with an unknown column outright, training data included.
//
// # Preprocessing
//
// FitPipeline fits on the training split only: label encoding of
// categorical columns with an "unknown" slot (code 0; numeric category
// codes are compared as numbers, so "7", "7.0" and "7e0" are one
// category, at fit time, at transform time and in model files written
// before that rule), min-max scaling to
// [0,1] (optionally after log1p compression, counted in a step the schema
// names: one wei for ether amounts), and feature selection by
// mutual information with the class and pruning of correlated features;
// the chosen features, their scaling and their relevance are saved in the
// model file. Value policy at transform time, counted in ValueStats (for
// served and evaluated flows, Rules have already refused what the caller
// did not allow to be imputed): missing or unparseable numbers and NaN
// take the training median; ±Inf
// scale to 1 / 0; scaled values outside [0,1] are clipped; unseen
// categories take the unknown slot. Nothing panics on odd values (a
// FLOW_DURATION_MILLISECONDS near 2^32 is just a large number).
//
// StratifiedSplit gives seeded stratified splits (70:30 by default in
// Train); Dedup drops repeated feature vectors before splitting.
// Sequences (InputMode): one flow per row (T=1), per-flow sequences (the
// selected features of one flow as T steps of F=1, the research's BiLSTM
// setup) or windows of T consecutive flows of one source (Pipeline.Transform
// within a batch; Stream across calls).
//
// # Honest evaluation
//
// Evaluate reports multi-class accuracy beside binary accuracy, macro-F1,
// per-class precision, recall and F1, benign false-positive rate, ROC-AUC
// and the confusion matrix. Anomaly detectors, which only say benign or
// not, are evaluated as such (Metrics.Task "anomaly": detection rates, and
// a matrix of true class × {Benign, Anomaly}). ROCCurve gives the exact
// ROC curve where Metrics.ROC keeps a sample.
package detector
