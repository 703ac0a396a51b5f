#!/bin/sh
# Rebuilds the default model shipped in the repository,
# detector/models/default.idslm, from sample data the repository carries
# (detector/testdata/nf-bot-iot-v2-sample.csv: 406 rows of NF-BoT-IoT-v2).
# The run is seeded and single-threaded where it matters, so the same
# sources give a byte-identical file and so the same model id (printed).
#
#   MODEL_KIND  model kind (default bilstm)
#   GO          go command (default go)
#   IDSLEDGER   an idsledger binary to use instead of building one
set -eu
cd "$(dirname "$0")/.."
GO=${GO:-go}
KIND=${MODEL_KIND:-bilstm}
OUT=detector/models/default.idslm
DATA=detector/testdata/nf-bot-iot-v2-sample.csv

BIN=${IDSLEDGER:-}
if [ -z "$BIN" ]; then
	"$GO" build -o bin/idsledger ./cmd/idsledger
	BIN=bin/idsledger
fi
"$BIN" train --dataset nf-bot-iot-v2 --data "$DATA" --model "$KIND" \
	--test-fraction 0.3 --seed 1 --epochs 60 --patience 10 --lr 0.02 --corr 0.95 --log-scale=true \
	--out "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "default model: $OUT"
