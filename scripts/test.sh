#!/usr/bin/env bash
# The one test command (npm test): installs what the tests need, builds, lints, and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm install --no-audit --no-fund
bash scripts/ensure-peers.sh
npm run --silent build
# One code style (prettier, .prettierrc.json); `npm run format` fixes what this finds.
npx prettier --check --log-level warn "**/*.{ts,tsx,js,mjs,cjs,css}"
npx eslint --max-warnings 0 .
# The layers (core <- metrics | logs | traces <- alerting <- server) and the dev-only test kit: see .dependency-cruiser.cjs.
npx depcruise packages/server/src --config .dependency-cruiser.cjs
# tsc -b does not type-check the UI, which esbuild bundles; check it here.
npx tsc -p packages/ui --noEmit
# Test files are compiled next to their modules; run every one of them.
mapfile -t files < <(find packages/server/dist-test packages/sdk/dist packages/ui/dist examples/*/dist -name '*.test.js' 2>/dev/null | sort)
# Under c8, which prints a coverage summary of the code the tests ran (mapped back to the .ts sources).
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
npx c8 --reporter=text-summary --exclude '**/*.test.*' --exclude '**/testkit/**' --exclude '**/node_modules/**' \
  node --test --test-concurrency=2 "${files[@]}" | tee "$log" || status=$?
# The coverage table comes after the runner's totals; repeat them as the closing line.
echo "tests: $(grep -E '^# pass ' "$log" | tail -1 | awk '{print $3}') passed, $(grep -E '^# fail ' "$log" | tail -1 | awk '{print $3}') failed"
exit "$status"
