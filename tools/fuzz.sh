#!/usr/bin/env bash
# Runs every fuzz target of the module for FUZZTIME each, one after another
# (go test -fuzz takes one target per invocation), then prints the time
# each took and fails if any found a crasher. Targets are discovered, not
# listed, so a new FuzzX is covered the day it is written.
#
# Environment: GO (go), FUZZTIME (10s), FUZZMINTIME (1s), FUZZ (a regexp
# narrowing the target names, default all).
set -uo pipefail
cd "$(dirname "$0")/.."

go=${GO:-go}
fuzztime=${FUZZTIME:-10s}
# go test minimizes every new-coverage input for up to 60 s by default,
# during which no fuzzing happens: on a multi-KB seed that swallowed whole
# 10-second runs. One second keeps short runs fuzzing.
mintime=${FUZZMINTIME:-1s}
only=${FUZZ:-.}

targets=$(find . -name '*_test.go' \
	-not -path './bench-corpus/*' -not -path './target/*' -not -path './.demo/*' -not -path '*/testdata/*' -print0 |
	xargs -0 grep -HoE '^func Fuzz[A-Za-z0-9_]*\(' |
	sed -E 's#^\./(.*)/[^/]*_test\.go:func (Fuzz[A-Za-z0-9_]*)\($#\1 \2#' | sort -u | grep -E " ($only)" || true)
if [ -z "$targets" ]; then
	echo "no fuzz targets match $only" >&2
	exit 1
fi

summary=()
failed=0
start=$SECONDS
while read -r pkg name; do
	echo "== fuzz $pkg $name ($fuzztime)"
	t0=$SECONDS
	if "$go" test -run='^$' -fuzz="^${name}\$" -fuzztime="$fuzztime" -fuzzminimizetime="$mintime" "./$pkg"; then
		status=ok
	else
		status=FAIL
		failed=$((failed + 1))
	fi
	summary+=("$(printf '%-5s %4ds  %s %s' "$status" $((SECONDS - t0)) "$pkg" "$name")")
done <<<"$targets"

echo "== fuzz summary (wall time per target, build included; $fuzztime of fuzzing each)"
printf '%s\n' "${summary[@]}"
echo "total $((SECONDS - start))s, $failed failed"
if [ "$failed" -gt 0 ]; then
	echo "a failing input was written to <pkg>/testdata/fuzz/<target>/: keep it as a regression seed once fixed" >&2
	exit 1
fi
