#!/usr/bin/env bash
# The device check for a session that is lent a GPU, prepared so that it runs in one call.
#
# A lent GPU gives a session about 15 minutes of device time, machine start included, on a
# machine that reaches no network. This script spends about 9 of them:
#   1. installs the project without dependencies (the machine's image has its own CUDA torch
#      and every other dependency except platformdirs; that, and setuptools >= 77 for the
#      build, are carried as wheels and used only where the machine lacks them);
#   2. runs the CUDA tests (`pytest -m gpu`, about a minute);
#   3. decodes CIFAR-10 once into the array cache (one process, so the workers read it back
#      instead of each decoding 60000 JPEGs);
#   4. runs a CIFAR-10 paper-settings suite (Deep SVDD first: issue 15's figure that needs a
#      GPU), stopped with SIGINT after RUN_SECONDS so the store closes cleanly; every finished
#      job's row is kept and a later session resumes from the returned store with --resume.
#      SUITE picks it: cifar10_paper_theano (default; the Theano code behind the paper's
#      Table 1, which reproduced its MNIST row) or cifar10_paper (their later PyTorch code).
#
# Prepare on the CPU machine, from the repository root (the working tree travels, ../shared does
# not, and the whole tree must stay under 64 MiB: CIFAR-10's archive is 19 MB):
#   echo /.gpu/ >> .git/info/exclude
#   mkdir -p .gpu/data/cifar10 .gpu/whl
#   cp ../shared/data/cifar10/cifar10-jpeg.tar.gz .gpu/data/cifar10/
#   pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#       -d .gpu/whl platformdirs==4.3.6 setuptools==80.9.0
#   # resuming: cp <returned $SUITE.sqlite> .gpu/
# Dry run here first (tiny settings, CPU): OUT=/tmp/gpu-out RUN_SECONDS=60 \
#   bash benchmarks/gpu/check.sh -d deep_svdd --seeds 0 --device cpu --set deep_svdd.epochs=1 \
#   --set deep_svdd.pretrain_epochs=1 --classes 0,1 --max-train 100 --max-test 100
# (a suite's per-detector value outranks the CLI's --epochs, so the dry run uses --set)
# Then call the device tool's run with carry [".gpu"], timeout_s 600 and the command
#   bash benchmarks/gpu/check.sh
# Arguments, if any, replace the suite run's default selection `-d deep_svdd --seeds 0 --workers 8`
# (e.g. `-d dcae --seeds 1 --workers 8`).
set -uo pipefail
: "${OUT:?OUT must name the folder whose files come back}"
RUN_SECONDS="${RUN_SECONDS:-390}"
SUITE="${SUITE:-cifar10_paper_theano}"
export PYTHONUNBUFFERED=1 BENCH_DATA_DIR="$PWD/.gpu/data" BENCH_CACHE_DIR=/tmp/bench-cache
log="$OUT/check.log"
step() { echo "== $(date -u +%H:%M:%S) $*" | tee -a "$log"; }

step "install"
missing=()
python3 -c "import platformdirs" 2>/dev/null || missing+=(.gpu/whl/platformdirs-*.whl)
python3 -c "import setuptools as s, sys; sys.exit(int(s.__version__.split('.')[0]) < 77)" \
    2>/dev/null || missing+=(.gpu/whl/setuptools-*.whl)
if [ ${#missing[@]} -gt 0 ]; then
    python3 -m pip install -q --no-index --no-deps --target /tmp/site "${missing[@]}" || exit 1
    export PYTHONPATH="/tmp/site${PYTHONPATH:+:$PYTHONPATH}"
fi
python3 -m pip install -q --no-index --no-deps --no-build-isolation -e . 2>&1 | tail -3 | tee -a "$log"
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(),
      torch.cuda.get_device_name() if torch.cuda.is_available() else '')" 2>&1 | tee -a "$log"

step "pytest -m gpu"
timeout 180 python3 -m pytest -m gpu -q -p no:cacheprovider tests/gpu 2>&1 | tail -15 | tee -a "$log"

step "decode CIFAR-10 into the cache"
python3 -m bench run -d pca --dataset cifar10 --classes 0 --max-train 10 --max-test 10 \
    --store /tmp/warm.sqlite 2>&1 | tail -2 | tee -a "$log"

step "$SUITE, at most ${RUN_SECONDS} s"
store="$OUT/$SUITE.sqlite"
[ -f ".gpu/$SUITE.sqlite" ] && cp ".gpu/$SUITE.sqlite" "$store"
args=("$@")
[ ${#args[@]} -eq 0 ] && args=(-d deep_svdd --seeds 0 --workers 8)
timeout -s INT -k 30 "$RUN_SECONDS" python3 -m bench run \
    --suite "leaderboards/suites/$SUITE.toml" --store "$store" --resume "${args[@]}" \
    >"$OUT/run.log" 2>&1
echo "bench run exit code $?" | tee -a "$log"
tail -25 "$OUT/run.log" | tee -a "$log"
step "done"
