# Sourced by the setup scripts: logging helpers, and where the mediasoup worker binary for this
# checkout lives.
# The cache sits outside the clone, keyed by mediasoup version and platform/arch, so fresh
# clones on the same machine reuse one build. src/media/workerBinary.ts computes the same path
# at run time; keep the two in step.
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MUTEGATE_CACHE_DIR=${MUTEGATE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mutegate}
# The version pinned in package.json, so this works before `npm ci` has run.
MUTEGATE_MEDIASOUP_VERSION=$(node -p "require('$repo_root/package.json').dependencies.mediasoup")
MUTEGATE_WORKER_ARCH=$(node -p "process.platform + '-' + process.arch")
# Our patches to the worker source (scripts/worker-patches) are part of the key too.
MUTEGATE_WORKER_PATCH_REVISION=$(cat "$repo_root/scripts/worker-patches/REVISION")
MUTEGATE_WORKER_BIN="$MUTEGATE_CACHE_DIR/mediasoup-worker/$MUTEGATE_MEDIASOUP_VERSION-$MUTEGATE_WORKER_ARCH-p$MUTEGATE_WORKER_PATCH_REVISION/mediasoup-worker"
export MUTEGATE_CACHE_DIR MUTEGATE_MEDIASOUP_VERSION MUTEGATE_WORKER_ARCH MUTEGATE_WORKER_PATCH_REVISION MUTEGATE_WORKER_BIN

# Progress and errors go to stderr, prefixed with the script's tag ($log_tag) and the time.
say() { printf '[%s %s] %s\n' "${log_tag:-setup}" "$(date +%H:%M:%S)" "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }
