#!/usr/bin/env bash
# Provision the mediasoup worker binary for the installed mediasoup package.
#
# Order of preference:
#   1. $MEDIASOUP_WORKER_BIN, if the caller set it to a binary that exists;
#   2. the cached binary for this mediasoup version and arch (outside the clone);
#   3. a prebuilt worker already inside node_modules (mediasoup's own postinstall
#      fetches one on a machine with internet), copied into the cache;
#   4. a build from node_modules/mediasoup/worker against Debian's libraries, with the
#      downloading meson .wrap files replaced by scripts/worker-subprojects/*.
# Every candidate must pass a smoke test (start a real worker and a router, close them)
# before it is used. Idempotent: a second run with a good cache takes a second.
# Progress goes to stderr; the binary's path is $MUTEGATE_WORKER_BIN from common.sh.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
log_tag=build-worker
# shellcheck source=scripts/common.sh
source "$here/common.sh"

pkg_dir="$repo/node_modules/mediasoup"
[ -f "$pkg_dir/package.json" ] || die "node_modules/mediasoup is missing: run 'npm ci' first (scripts/setup.sh does)."

# Start a real worker from the binary and close it again: proves it runs on this machine.
smoke_test() {
	local bin=$1
	[ -x "$bin" ] || return 1
	(cd "$repo" && MEDIASOUP_WORKER_BIN="$bin" timeout 30 node --input-type=module -e "
		const ms = await import('mediasoup');
		const worker = await ms.createWorker({ logLevel: 'error' });
		const router = await worker.createRouter({ mediaCodecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 }] });
		router.close();
		worker.close();
	") >/dev/null 2>&1
}

install_into_cache() {
	local src=$1
	mkdir -p "$(dirname "$MUTEGATE_WORKER_BIN")"
	cp "$src" "$MUTEGATE_WORKER_BIN.tmp.$$"
	chmod 0755 "$MUTEGATE_WORKER_BIN.tmp.$$"
	mv -f "$MUTEGATE_WORKER_BIN.tmp.$$" "$MUTEGATE_WORKER_BIN"
}

# 1. Caller-provided binary.
if [ -n "${MEDIASOUP_WORKER_BIN:-}" ] && [ "$MEDIASOUP_WORKER_BIN" != "$MUTEGATE_WORKER_BIN" ]; then
	if smoke_test "$MEDIASOUP_WORKER_BIN"; then
		say "using MEDIASOUP_WORKER_BIN=$MEDIASOUP_WORKER_BIN (it starts a worker)"
		exit 0
	fi
	die "MEDIASOUP_WORKER_BIN=$MEDIASOUP_WORKER_BIN does not start a mediasoup $MUTEGATE_MEDIASOUP_VERSION worker; unset it to let this script provide one."
fi

# 2. Cache.
if [ -x "$MUTEGATE_WORKER_BIN" ]; then
	if smoke_test "$MUTEGATE_WORKER_BIN"; then
		say "cached worker is good: $MUTEGATE_WORKER_BIN"
		exit 0
	fi
	say "cached worker at $MUTEGATE_WORKER_BIN does not start; rebuilding it"
	rm -f "$MUTEGATE_WORKER_BIN"
fi

# 3. Prebuilt worker that mediasoup's own postinstall put into the package.
for candidate in "$pkg_dir/worker/out/Release/mediasoup-worker" "$pkg_dir/worker/prebuild/mediasoup-worker"; do
	if [ -x "$candidate" ] && smoke_test "$candidate"; then
		say "using the prebuilt worker shipped into the package: $candidate"
		install_into_cache "$candidate"
		say "cached as $MUTEGATE_WORKER_BIN"
		exit 0
	fi
done

# 4. Build from the package's own C++ sources.
say "no usable worker binary for mediasoup $MUTEGATE_MEDIASOUP_VERSION ($MUTEGATE_WORKER_ARCH); building it from source"
say "this takes about 4 minutes on 2 cores; progress follows"

missing=()
command -v c++ >/dev/null || missing+=("a C++ compiler (Debian: g++)")
command -v python3 >/dev/null || missing+=("python3")
command -v pkg-config >/dev/null || missing+=("pkg-config")
command -v flatc >/dev/null || missing+=("flatc (Debian: flatbuffers-compiler)")
declare -A pc_pkg=(
	[openssl]=libssl-dev [libuv]=libuv1-dev [libsrtp2]=libsrtp2-dev [usrsctp]=libusrsctp-dev
	[absl_flat_hash_map]=libabsl-dev [absl_btree]=libabsl-dev [absl_strings]=libabsl-dev
	[flatbuffers]=libflatbuffers-dev
)
if command -v pkg-config >/dev/null; then
	for mod in "${!pc_pkg[@]}"; do
		pkg-config --exists "$mod" || missing+=("pkg-config module $mod (Debian: ${pc_pkg[$mod]})")
	done
fi
if [ ${#missing[@]} -gt 0 ]; then
	die "cannot build the worker, missing: $(IFS=';'; echo "${missing[*]}"). scripts/setup.sh installs them with apt-get when run as root."
fi

# meson >= 1.1 (mediasoup's floor) and ninja, from pip into the cache; Debian's meson 1.0.1 as
# a fallback with the floor relaxed in our build copy (it configures this worker fine).
meson_cmd=()
relax_meson_floor=0
tools_dir="$MUTEGATE_CACHE_DIR/tools/meson-ninja"
meson_ok() { "$@" --version 2>/dev/null | awk -F. '{ exit !($1 > 1 || ($1 == 1 && $2 >= 1)) }'; }
if command -v meson >/dev/null && meson_ok meson; then
	meson_cmd=(meson)
elif [ -f "$tools_dir/mesonbuild/mesonmain.py" ] && PYTHONPATH="$tools_dir" meson_ok python3 -m mesonbuild.mesonmain; then
	meson_cmd=(env "PYTHONPATH=$tools_dir" python3 -m mesonbuild.mesonmain)
else
	say "installing meson and ninja with pip into $tools_dir"
	rm -rf "$tools_dir"
	if python3 -m pip install --quiet --no-input --retries 2 --target "$tools_dir" meson ninja >&2; then
		meson_cmd=(env "PYTHONPATH=$tools_dir" python3 -m mesonbuild.mesonmain)
	else
		say "pip could not install meson; falling back to Debian's meson with mediasoup's version floor relaxed"
		if ! command -v meson >/dev/null && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends meson >/dev/null || true
		fi
	fi
	if [ ${#meson_cmd[@]} -gt 0 ]; then
		:
	elif command -v meson >/dev/null; then
		say "using system meson $(meson --version)"
		meson_cmd=(meson)
		relax_meson_floor=1
	else
		die "meson >= 1.1 is needed: 'python3 -m pip install meson ninja' failed and no system meson exists (Debian: apt-get install meson ninja-build)."
	fi
fi
export PATH="$tools_dir/bin:$PATH"
command -v ninja >/dev/null || die "ninja is missing (pip's ninja did not install; Debian: ninja-build)"
say "meson $("${meson_cmd[@]}" --version), ninja $(ninja --version), flatc $(flatc --version | awk '{print $3}')"

build_root="$MUTEGATE_CACHE_DIR/build/mediasoup-$MUTEGATE_MEDIASOUP_VERSION-$MUTEGATE_WORKER_ARCH"
src="$build_root/worker"
out="$build_root/out"
say "copying $pkg_dir/worker to $src"
rm -rf "$build_root"
mkdir -p "$build_root"
cp -a "$pkg_dir/worker" "$src"
rm -rf "$src/out" "$src/prebuild" "$src/pip_invoke"
for wrap in openssl libuv libsrtp2 usrsctp abseil-cpp catch2 flatbuffers; do
	rm -f "$src/subprojects/$wrap.wrap"
	cp -a "$here/worker-subprojects/$wrap" "$src/subprojects/$wrap"
done
for patch in "$here"/worker-patches/*.sed; do
	[ -e "$patch" ] || continue
	target=$(sed -n 's/^# file: //p' "$patch")
	expect=$(sed -n 's/^# expect: //p' "$patch")
	grep -qF -- "$expect" "$src/$target" || die "patch $(basename "$patch") no longer matches $target (expected: $expect)"
	sed -i -f "$patch" "$src/$target"
	grep -qF -- "$expect" "$src/$target" && die "patch $(basename "$patch") did not change $target"
	say "applied $(basename "$patch")"
done
if [ "$relax_meson_floor" = 1 ]; then
	sed -i "s/meson_version: '>= 1.1.0'/meson_version: '>= 1.0.0'/" "$src/meson.build"
fi

say "meson setup (release with NDEBUG as upstream builds it, no liburing, no downloads)"
"${meson_cmd[@]}" setup "$out" "$src" --buildtype=release -Db_ndebug=true -Dms_disable_liburing=true --wrap-mode=nodownload >"$build_root/meson-setup.log" 2>&1 \
	|| { tail -n 40 "$build_root/meson-setup.log" >&2; die "meson setup failed; full log: $build_root/meson-setup.log"; }

jobs=$(nproc 2>/dev/null || echo 2)
# The flatbuffers headers first: libwebrtc's sources include them without depending on the target.
say "generating flatbuffers headers (fbs/FBS)"
ninja -C "$out" -j "$jobs" fbs/FBS >"$build_root/ninja.log" 2>&1 \
	|| { tail -n 40 "$build_root/ninja.log" >&2; die "flatbuffers generation failed; log: $build_root/ninja.log"; }

say "compiling mediasoup-worker with $jobs jobs"
start=$(date +%s)
# ninja prints "[done/total] ..." per file; show one line in 25 plus the last so it visibly advances.
set +e
ninja -C "$out" -j "$jobs" mediasoup-worker 2>&1 | tee -a "$build_root/ninja.log" \
	| awk '/^\[[0-9]+\/[0-9]+\]/ { split(substr($1, 2), p, "/"); n = p[1] + 0; if (n % 25 == 0 || n == p[2] + 0) { printf "[build-worker] compiled %d/%d files\n", n, p[2] + 0; fflush() } }' >&2
status=${PIPESTATUS[0]}
set -e
if [ "$status" -ne 0 ]; then
	grep -E 'error|Error' "$build_root/ninja.log" | head -n 20 >&2 || true
	die "compiling the worker failed; full log: $build_root/ninja.log"
fi
say "compiled in $(( $(date +%s) - start )) s"

smoke_test "$out/mediasoup-worker" || die "the freshly built worker does not start (binary: $out/mediasoup-worker)"
install_into_cache "$out/mediasoup-worker"
rm -rf "$build_root"
say "worker ready: $MUTEGATE_WORKER_BIN"
