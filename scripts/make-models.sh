#!/usr/bin/env bash
# Regenerates the model files winnow's tests and benchmarks use, from the workplace's generator
# (../shared/tools/models/make_models.py; random weights, deterministic for SEED, default 1234).
#   scripts/make-models.sh          tiny test fixtures -> test/fixtures/models (committed)
#   scripts/make-models.sh --bench  MiniLM-L6-shaped models -> .cache/models (gitignored, ~320 MB)
#   scripts/make-models.sh --families [NAME...]  model-family fixtures (tools/models/families.py: XLM-R, DeBERTa-v2,
#                                   ModernBERT, BERT, MPNet, DistilBERT, ELECTRA, nomic_bert) -> test/fixtures/models/families
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
gen=${WINNOW_MODEL_GENERATOR:-$here/../shared/tools/models}
[ -f "$gen/make_models.py" ] || { echo "make_models.py not found under $gen (set WINNOW_MODEL_GENERATOR)" >&2; exit 1; }
sh "$gen/install-deps.sh"
if [ "${1:-}" = "--families" ]; then
  shift
  /usr/bin/python3 -c 'import sentencepiece' 2>/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-sentencepiece >/dev/null; }
  WINNOW_QUANTIZE="$gen/quantize.py" /usr/bin/python3 "$here/tools/models/families.py" "$here/test/fixtures/models/families" "$@"
elif [ "${1:-}" = "--bench" ]; then
  /usr/bin/python3 "$gen/make_models.py" "$here/.cache/models" minilm-l6-random-cross-encoder minilm-l6-random-embedder
else
  /usr/bin/python3 "$gen/make_models.py" "$here/test/fixtures/models" tiny-random-cross-encoder tiny-random-embedder
fi
