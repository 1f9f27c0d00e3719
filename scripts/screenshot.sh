#!/usr/bin/env bash
# Screenshots of the real desktop app for a person to look at: the
# library, a replay in progress, a comparison, and the export dialog. The
# app runs under Xvfb with a fresh home (no preferences, an empty run
# history) and is driven the way a planner would: its own command-line
# start states and its keyboard shortcuts, sent with xdotool. The X screen
# is captured with ImageMagick's import, since Fyne's own capture of a
# real window is blank under Xvfb.
#
# usage: scripts/screenshot.sh BINARY OUTDIR
set -euo pipefail

bin=$(realpath "$1")
out=$(realpath -m "$2")
mkdir -p "$out"
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT

# A real locale keeps Fyne from complaining about "C".
export LANG=en_US.UTF-8 HOME=$home XDG_CONFIG_HOME=$home/.config XDG_DATA_HOME=$home/.local/share \
	XDG_CACHE_HOME=$home/.cache XDG_RUNTIME_DIR=$home/run
mkdir -p "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$XDG_CACHE_HOME"
mkdir -m 0700 "$XDG_RUNTIME_DIR"

# shot NAME SECONDS ARGS...: start the app with ARGS, wait, capture the
# window, and close the app.
shot() {
	export NAME=$1 WAIT=$2
	shift 2
	# Two xvfb-run -a started at once (a test run beside this one) can pick
	# the same display and one of them loses it: try again.
	local try
	for try in 1 2 3; do
		if one_shot "$@"; then
			echo "wrote $out/$NAME.png"
			return 0
		fi
		echo "screenshot: $NAME: attempt $try failed (see $out/$NAME.log)" >&2
		sleep 2
	done
	return 1
}

one_shot() {
	xvfb-run -a -s "-screen 0 1280x1024x24" bash -c '
		set -euo pipefail
		"$0" desktop "$@" >"$OUT/$NAME.log" 2>&1 &
		app=$!
		# The window appears once Fyne has its GL context.
		for _ in $(seq 60); do
			win=$(xdotool search --name "^Stormglass" 2>/dev/null | head -1) && [ -n "$win" ] && break
			kill -0 $app 2>/dev/null || break # the app has stopped
			sleep 0.5
		done
		[ -n "${win:-}" ] || { echo "screenshot: no window for $NAME" >&2; kill $app 2>/dev/null || true; exit 1; }
		sleep "$WAIT"
		if [ -n "${KEYS:-}" ]; then
			xdotool windowactivate --sync "$win" 2>/dev/null || xdotool windowfocus "$win"
			for k in $KEYS; do xdotool key --window "$win" "$k"; sleep 1.5; done
		fi
		import -window root -crop 1280x860+0+0 "$OUT/$NAME.png"
		kill $app 2>/dev/null || true
		wait $app 2>/dev/null || true
	' "$bin" "$@"
}

export OUT=$out KEYS=
shot library 4
shot replay 12 --scenario reactive-outage-2025 --variant incident --play --speed 3600×
# checkout's two variants run paired in a few seconds.
shot compare 20 --scenario checkout --variant incident --compare remediated
# The export dialog, opened with its shortcut (Ctrl+E) over the comparison.
KEYS=ctrl+e shot export 20 --scenario checkout --variant incident --compare remediated
# The run history, holding the runs the shots above kept.
shot history 4 --tab history
