#!/bin/sh
# Rebuilds the default model shipped in the repository,
# detector/models/default.idslm, from the development side of NF-BoT-IoT-v2
# in the shared datasets (../shared/datasets/nf-bot-iot-v2/dev-all.csv:
# 9,464 distinct vectors), holding back a stratified 30% whose figures go
# into the model card. The run is seeded and the training engine gives the
# same bits on every CPU (AVX2 or not) and with any number of cores, so the
# same sources and data give a byte-identical file and so the same model id
# (printed). detector.TestDefaultModelRebuilds checks it.
#
#   MODEL_DATA  training data (default ../shared/datasets/nf-bot-iot-v2/dev-all.csv)
#   MODEL_OUT   where to write the model (default detector/models/default.idslm)
#   GO          go command (default go)
#   IDSLEDGER   an idsledger binary to use instead of building one
#
# Exit status 3: the training data is missing.
set -eu
cd "$(dirname "$0")/.."
GO=${GO:-go}
DATA=${MODEL_DATA:-../shared/datasets/nf-bot-iot-v2/dev-all.csv}
OUT=${MODEL_OUT:-detector/models/default.idslm}

if [ ! -r "$DATA" ]; then
	echo "model.sh: training data $DATA not found (the shared datasets sit beside the repository)" >&2
	exit 3
fi
BIN=${IDSLEDGER:-}
if [ -z "$BIN" ]; then
	"$GO" build -o bin/idsledger ./cmd/idsledger
	BIN=bin/idsledger
fi
"$BIN" train --dataset nf-bot-iot-v2 --data "$DATA" --model bilstm \
	--test-fraction 0.3 --seed 1 --command "make model" --quiet \
	--out "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "default model: $OUT"
