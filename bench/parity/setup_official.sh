#!/usr/bin/env bash
# Sets up the official SAM 2 (facebookresearch/sam2) beside this checkout, for the comparison
# scripts of bench/ and bench/parity/ only: it is never committed and never a dependency of
# Masklet. What it is for and how to use it: bench/parity/README.md.
#
#   bash bench/parity/setup_official.sh [DIR] [--from GIT_DIR_OR_URL]
#
# DIR (default: $SAM2_OFFICIAL_DIR, else ../sam2-official beside the checkout) receives
#   DIR/sam2   a checkout of the official code at the pinned commit (not installed: the scripts
#              put $SAM2_OFFICIAL on sys.path, so its CUDA extension is never built)
#   DIR/venv   python3 -m venv with torch $TORCH_VERSION, torchvision $TORCHVISION_VERSION, the
#              official code's pure-Python needs and what our side needs to run beside it
# --from       clone from this git directory or URL instead of GitHub (a bare mirror works;
#              it must hold the pinned commit), for a machine without access to GitHub.
# Safe to run again: an existing checkout is moved to the pinned commit, an existing venv reused.
# Ends by printing the two variables to export: SAM2_OFFICIAL and SAM2_OFFICIAL_PYTHON.
set -euo pipefail

COMMIT=2b90b9f5ceec907a1c18123530e92e794ad901a4  # "remove .pin_memory() in obj_pos", 2024-12-15
URL=https://github.com/facebookresearch/sam2
TORCH_VERSION=${TORCH_VERSION:-2.13.0}
TORCHVISION_VERSION=${TORCHVISION_VERSION:-0.28.0}  # the release made for torch 2.13
PYTHON=${PYTHON:-python3}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DIR=${SAM2_OFFICIAL_DIR:-$ROOT/../sam2-official}
FROM=$URL
while [ $# -gt 0 ]; do
    case $1 in
        --from) FROM=${2:?--from needs a git directory or URL}; shift 2 ;;
        --from=*) FROM=${1#--from=}; shift ;;
        -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "setup_official.sh: unknown option $1" >&2; exit 2 ;;
        *) DIR=$1; shift ;;
    esac
done
DIR=$(realpath -m "$DIR")
case $DIR/ in
    "$ROOT"/*) echo "setup_official.sh: $DIR is inside the checkout; put the reference beside it" >&2; exit 2 ;;
esac
mkdir -p "$DIR"
SRC=$DIR/sam2
VENV=$DIR/venv

# 1. The official code at the pinned commit.
if [ ! -d "$SRC/.git" ]; then
    echo "== cloning $FROM into $SRC"
    git clone --no-checkout --quiet "$FROM" "$SRC"
fi
if ! git -C "$SRC" cat-file -e "$COMMIT^{commit}" 2>/dev/null; then
    echo "== fetching $COMMIT from $FROM"
    git -C "$SRC" fetch --quiet "$FROM" "$COMMIT" || git -C "$SRC" fetch --quiet "$FROM"
fi
# (a partial mirror may lack a few large blobs: checkout then leaves those files out and says so)
git -C "$SRC" -c advice.detachedHead=false checkout --quiet --detach "$COMMIT" 2>"$DIR/checkout.log" || true
if [ "$(git -C "$SRC" rev-parse HEAD)" != "$COMMIT" ]; then
    cat "$DIR/checkout.log" >&2
    echo "setup_official.sh: could not check out $COMMIT in $SRC" >&2
    exit 1
fi
missing=$(git -C "$SRC" ls-files --deleted)
if grep -q '^sam2/' <<<"$missing"; then
    cat "$DIR/checkout.log" >&2
    echo "setup_official.sh: files of the sam2 package are missing from $FROM:" $missing >&2
    exit 1
fi
echo "== $SRC at $(git -C "$SRC" log -1 --format='%h %ad %s' --date=short)"
if [ -n "$missing" ]; then
    echo "   (missing from this checkout, and not needed by the scripts:" $missing")"
fi

# 2. The venv. torch first and alone, so that torchvision cannot pull another build of it.
# The official setup.py is not run: it would try to build its CUDA extension (sam2._C, used only
# for hole filling, which the official code skips on CPU) and asks for torch>=2.5.1 unpinned.
if [ ! -x "$VENV/bin/python" ]; then
    echo "== creating $VENV"
    "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip install --quiet)
"${PIP[@]}" "torch==$TORCH_VERSION"
# the official code's needs (its setup.py: torchvision, numpy, tqdm, hydra-core, iopath, pillow;
# omegaconf comes with hydra), then what the comparison scripts import for our side (core.sam2,
# bench/, the video parity's hole filling): opencv, av, pycocotools, platformdirs
"${PIP[@]}" "torch==$TORCH_VERSION" "torchvision==$TORCHVISION_VERSION" \
    numpy tqdm hydra-core omegaconf iopath pillow \
    opencv-python-headless av pycocotools platformdirs

# 3. torchvision beside CPU torch. The registry's torchvision is a CUDA build: with a CPU torch
# `import torchvision` fails ("operator torchvision::nms does not exist"). The shared
# tools/torchvision_cpu_fix.py defines the two operator schemas before torchvision's first
# import; a .pth file installs it in this venv at start-up (it imports nothing until torchvision
# is imported). Where torchvision already imports (a CPU build of it), nothing is needed.
SITE=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
FIX=$(cd "$ROOT/.." && pwd)/shared/tools/torchvision_cpu_fix.py
if [ ! -f "$SITE/torchvision_cpu_fix.pth" ] && "$VENV/bin/python" -c 'import torchvision' 2>/dev/null; then
    echo "== torchvision imports as it is"
elif [ -f "$FIX" ]; then
    cp "$FIX" "$SITE/torchvision_cpu_fix.py"
    echo "import torchvision_cpu_fix; torchvision_cpu_fix.install()" > "$SITE/torchvision_cpu_fix.pth"
    echo "== torchvision: installed the CPU fix from $FIX"
else
    echo "setup_official.sh: torchvision does not import and $FIX is missing (bench/parity/README.md)" >&2
    exit 1
fi

# 4. Check: the official builders and our model import in the venv.
(cd "$ROOT" && SAM2_OFFICIAL=$SRC "$VENV/bin/python" - <<'EOF'
import os, sys
sys.path.insert(0, os.getcwd())
from bench.parity.official import import_official
import_official()
import torch, torchvision
from sam2.build_sam import build_sam2, build_sam2_video_predictor  # noqa: F401
import core.sam2.model, tests.sam2_helpers  # noqa: F401
print(f"== check: torch {torch.__version__}, torchvision {torchvision.__version__}, official sam2 and ours import")
EOF
)

cat <<EOF

The official SAM 2 reference is ready. Export these two (bench/parity/README.md):

export SAM2_OFFICIAL=$SRC
export SAM2_OFFICIAL_PYTHON=$VENV/bin/python
EOF
