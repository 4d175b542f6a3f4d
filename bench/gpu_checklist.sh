#!/usr/bin/env bash
# The GPU checklist of shared/GPU.md (bench/gpu_checklist.py), in two steps.
#
#   bash bench/gpu_checklist.sh prep SAM2_GIT_DIR   # here: fills the ignored folders the device run needs
#   bash bench/gpu_checklist.sh run [ARGS]          # on the device: installs the carried wheels, runs the checklist
#
# prep (on a machine with the package registry, ../shared/data and .venv) writes, all git-ignored
# through .git/info/exclude and never committed:
#   .whl/       wheels for Python 3.12 x86-64 of what the device lacks: PyAV, pycocotools, platformdirs
#               (ours) and hydra-core, omegaconf, antlr4 runtime, iopath (the official code)
#   .ref/sam2   the official code at COMMIT, exported from SAM2_GIT_DIR (e.g. the bare mirror that
#               the search tool's fetch of github:facebookresearch/sam2 returns)
#   .gpu_data/  the bedroom frames and mp4, truck.jpg, and cpu_ref.npz (ours on this CPU in float32:
#               the reference the CUDA runs are held against; takes a few minutes)
#   .gpu_code/  the committed core/ at HEAD (git archive), measured instead of a working tree in flux
# Then, with the device tool:
#   run(command="bash bench/gpu_checklist.sh run", carry=[".whl", ".ref", ".gpu_data", ".gpu_code"], timeout_s=480)
# The results come back as $OUT/gpu_checklist.json and $OUT/gpu_checklist.log.
set -euo pipefail
COMMIT=2b90b9f5ceec907a1c18123530e92e794ad901a4
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

case ${1:-} in
prep)
    GIT_DIR_SRC=${2:?usage: gpu_checklist.sh prep SAM2_GIT_DIR}
    EXCLUDE=$(git rev-parse --git-path info/exclude)
    mkdir -p "$(dirname "$EXCLUDE")"
    for d in /.whl/ /.ref/ /.gpu_data/ /.gpu_code/; do grep -qxF "$d" "$EXCLUDE" 2>/dev/null || echo "$d" >>"$EXCLUDE"; done
    mkdir -p .whl
    PLAT=(--platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64)
    python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp "${PLAT[@]}" \
        -d .whl av==18.1.0 pycocotools==2.0.11 platformdirs==4.14.8 hydra-core==1.3.2 omegaconf==2.3.0
    python3 -m pip wheel -q --no-deps -w .whl antlr4-python3-runtime==4.9.3 iopath==0.1.10  # no wheels published
    rm -rf .ref/sam2 && mkdir -p .ref/sam2
    git --git-dir="$GIT_DIR_SRC" archive "$COMMIT" sam2 setup.py LICENSE | tar -x -C .ref/sam2
    mkdir -p .gpu_data/frames .gpu_data/videos .gpu_data/images
    cp -r ../shared/data/frames/bedroom .gpu_data/frames/
    cp ../shared/data/videos/bedroom.mp4 .gpu_data/videos/
    cp ../shared/data/images/truck.jpg .gpu_data/images/
    chmod -R u+w .gpu_data
    rm -rf .gpu_code && mkdir .gpu_code
    git archive HEAD core tests/__init__.py tests/sam2_helpers.py | tar -x -C .gpu_code
    git rev-parse HEAD >.gpu_code/COMMIT
    GPUCHK_CODE=.gpu_code .venv/bin/python bench/gpu_ours.py cpu-ref
    du -sh .whl .ref .gpu_data .gpu_code
    ;;
run)
    shift
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
    export PYTHONPATH=/tmp/site PYTHONUNBUFFERED=1
    if [ -d .gpu_code ]; then export GPUCHK_CODE=$ROOT/.gpu_code; fi
    python3 bench/gpu_checklist.py --out "${OUT:-$ROOT/bench/out/gpu}" "$@"
    ;;
*)
    sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
