#!/usr/bin/env bash
# Installs the Debian packages (and Go modules) a make target needs. It only
# touches apt when something is missing, so on a prepared machine it is a
# silent no-op that make can call before every target.
#
# usage: scripts/deps.sh [build|bench|package|screenshot]
set -euo pipefail

set_name=${1:-build}
case $set_name in
build)
	# go-gl/glfw needs the X11/GL headers and pkg-config; Fyne v2.8 also
	# links Wayland and xkbcommon. xvfb/xauth run the UI headlessly,
	# poppler-utils checks generated PDF reports, whose text is set in
	# DejaVu Sans with Droid Sans Fallback for Chinese, Japanese and Korean.
	pkgs=(gcc libc6-dev pkg-config libgl1-mesa-dev libx11-dev libxcursor-dev
		libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev libwayland-dev
		libxkbcommon-dev xvfb xauth poppler-utils fonts-droid-fallback fonts-dejavu-core)
	;;
bench)
	# Debian's SimPy is the reference engine the comparison runs against.
	pkgs=(python3 python3-simpy)
	;;
package)
	# fyne package compresses the Linux bundle with xz.
	pkgs=(xz-utils)
	;;
screenshot)
	# make screenshot drives the real app under Xvfb with xdotool's key
	# presses and captures the X screen with ImageMagick's import (Fyne's
	# own capture is blank under Xvfb); a real locale keeps Fyne quiet.
	pkgs=(xvfb xauth xdotool imagemagick x11-utils)
	;;
*)
	echo "usage: $0 [build|bench|package|screenshot]" >&2
	exit 2
	;;
esac

missing=()
for p in "${pkgs[@]}"; do
	if [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) != "install ok installed" ]]; then
		missing+=("$p")
	fi
done

# apt is noisy; keep its output for when it fails.
quiet() {
	local log rc=0
	log=$(mktemp)
	"$@" >"$log" 2>&1 || rc=$?
	if ((rc != 0)); then
		cat "$log" >&2
		echo "deps: failed: $*" >&2
	fi
	rm -f "$log"
	return "$rc"
}

if ((${#missing[@]} > 0)); then
	sudo=()
	if ((EUID != 0)); then
		if ! command -v sudo >/dev/null; then
			echo "deps: missing ${missing[*]}; run as root or install sudo" >&2
			exit 1
		fi
		sudo=(sudo)
	fi
	# Another apt run (e.g. unattended-upgrades) may hold the lock briefly.
	apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300)
	echo "deps: apt-get update"
	quiet "${apt[@]}" update
	echo "deps: installing ${missing[*]}"
	quiet "${apt[@]}" install -y --no-install-recommends "${missing[@]}"
fi

if [[ $set_name == build ]]; then
	cd "$(dirname "$0")/.."
	go=${GO:-go}
	# Trying offline first keeps the warm path silent and network-free.
	if ! GOPROXY=off "$go" mod download >/dev/null 2>&1; then
		echo "deps: go mod download"
		"$go" mod download
	fi
fi
