#!/usr/bin/env bash
# Sets up everything mutegate needs on a fresh Debian/Ubuntu machine. Idempotent: a second run
# checks each step and skips what is already done (a few seconds).
#
#   1. Debian packages the mediasoup worker builds and runs against (apt-get, as root or sudo)
#   2. npm packages (npm ci), with mediasoup's own postinstall kept off the network
#   3. the mediasoup worker binary: cached, prebuilt, or built from the package's own source
#      (about 4 minutes on 2 cores the first time on a machine; cached outside the clone)
#   4. with --browser: Debian's chromium, for the browser tests (playwright-core drives it);
#      with --test: chromium and Debian's redis-server (the cluster tests start their own Redis on
#      a free port, so the package's system service is stopped and disabled right after install)
#   5. with --bench: Debian's janus (1.1.x), for `npm run bench -- --targets ...,janus` only; the
#      bench starts its own Janus with a generated configuration, so the package's system service
#      is stopped and disabled right after it is installed. Serving the gateway never needs it.
#
# Usage: scripts/setup.sh [--browser | --test] [--bench]
set -euo pipefail

with_browser=0
with_bench=0
with_redis=0
for arg in "$@"; do
	case "$arg" in
	--browser) with_browser=1 ;;
	--test) with_browser=1; with_redis=1 ;;
	--bench) with_bench=1 ;;
	*) echo "usage: scripts/setup.sh [--browser | --test] [--bench]" >&2; exit 2 ;;
	esac
done

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
cd "$repo"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	echo "[setup] ERROR: node and npm are missing: install Node.js 20 or newer" >&2
	exit 1
fi
log_tag=setup
# shellcheck source=scripts/common.sh
source "$here/common.sh"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || die "Node.js $(node -v) is too old: mutegate needs 20 or newer"

# --- 1. Debian packages -------------------------------------------------------------------
apt_packages=(
	g++ python3 python3-pip pkg-config ninja-build
	libuv1-dev libssl-dev libsrtp2-dev libusrsctp-dev libabsl-dev
	flatbuffers-compiler libflatbuffers-dev
)
if [ "$with_browser" = 1 ]; then apt_packages+=(chromium fonts-dejavu-core); fi
if [ "$with_bench" = 1 ]; then apt_packages+=(janus); fi
if [ "$with_redis" = 1 ]; then apt_packages+=(redis-server); fi
missing=()
if command -v dpkg-query >/dev/null; then
	for pkg in "${apt_packages[@]}"; do
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		if [ "$(id -u)" -eq 0 ]; then
			apt=(env DEBIAN_FRONTEND=noninteractive apt-get)
		elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
			apt=(sudo env DEBIAN_FRONTEND=noninteractive apt-get)
		else
			die "missing Debian packages: ${missing[*]}. Install them with: sudo apt-get install -y ${missing[*]}"
		fi
		say "installing Debian packages: ${missing[*]}"
		"${apt[@]}" update -qq >/dev/null || die "apt-get update failed"
		"${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
			|| die "apt-get install failed for: ${missing[*]}"
		if [[ " ${missing[*]} " == *" janus "* ]] && command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
			# The package starts a system-wide Janus (its demo configuration, on every interface);
			# the bench runs its own, so that one is stopped and disabled.
			as_root=()
			[ "$(id -u)" -eq 0 ] || as_root=(sudo)
			if "${as_root[@]}" systemctl disable --now janus.service >/dev/null 2>&1; then
				say "janus installed for the bench; its system service is stopped and disabled"
			else
				say "WARNING: janus installed, but its system service could not be stopped: systemctl disable --now janus"
			fi
		fi
		if [[ " ${missing[*]} " == *" redis-server "* ]]; then
			# The package starts a Redis on 127.0.0.1:6379 for the whole system; the tests start
			# their own on free ports, and a cluster's operator chooses where Redis runs.
			as_root=()
			[ "$(id -u)" -eq 0 ] || as_root=(sudo)
			if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
				"${as_root[@]}" systemctl disable --now redis-server.service >/dev/null 2>&1 || true
			else
				"${as_root[@]}" service redis-server stop >/dev/null 2>&1 || true
			fi
			say "redis-server installed for the cluster tests; its system service is stopped"
		fi
	else
		say "Debian packages present"
	fi
else
	say "not a Debian system: make sure the equivalents of these are installed: ${apt_packages[*]}"
fi

# --- 2. npm packages ----------------------------------------------------------------------
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
stamp=node_modules/.mutegate-lock.sha256
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$lock_hash" ]; then
	say "npm packages up to date"
else
	say "installing npm packages (npm ci)"
	# MEDIASOUP_WORKER_BIN makes mediasoup's postinstall skip its download/build: we provide
	# the worker in step 3, and its own source build needs the internet.
	MEDIASOUP_WORKER_BIN="${MEDIASOUP_WORKER_BIN:-$MUTEGATE_WORKER_BIN}" npm ci --no-audit --no-fund --loglevel=error \
		|| die "npm ci failed"
	echo "$lock_hash" >"$stamp"
fi

# --- 3. mediasoup worker ------------------------------------------------------------------
bash "$here/build-worker.sh"

if [ "$with_browser" = 1 ]; then
	[ -x /usr/bin/chromium ] || die "chromium was not installed at /usr/bin/chromium"
	say "browser: $(/usr/bin/chromium --version 2>/dev/null || echo 'chromium (version unknown)')"
fi

if [ "$with_redis" = 1 ]; then
	command -v redis-server >/dev/null || die "redis-server was not installed"
	say "tests: $(redis-server --version | cut -d' ' -f1-3)"
fi

if [ "$with_bench" = 1 ]; then
	command -v janus >/dev/null || die "janus was not installed"
	say "bench: janus $(dpkg-query -W -f='${Version}' janus 2>/dev/null || echo '(version unknown)')"
fi

say "setup complete (mediasoup $MUTEGATE_MEDIASOUP_VERSION worker: ${MEDIASOUP_WORKER_BIN:-$MUTEGATE_WORKER_BIN})"
