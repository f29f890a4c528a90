#!/usr/bin/env bash
# Runs the public CLAP validator (free-audio/clap-validator) on the release CLAP bundle when it
# is present, and says how to build it when it is not. It never downloads or commits the
# validator: build it yourself, beside the project, from its public source.
#
#   scripts/validate.sh                 # uses $CLAP_VALIDATOR, else `clap-validator` on PATH
#   CLAP_VALIDATOR=/path/to/clap-validator scripts/validate.sh
#
# Exit status: 0 when every test passed or was skipped (or the validator is absent),
# 1 when any test failed or warned.
set -euo pipefail
cd "$(dirname "$0")/.."
BUNDLE=target/bundled/mood_noir.clap
VALIDATOR="${CLAP_VALIDATOR:-$(command -v clap-validator || true)}"
if [ -z "$VALIDATOR" ] || [ ! -x "$VALIDATOR" ]; then
  cat <<'MSG'
clap-validator not found: skipping CLAP validation. To run it, build it beside the project:
  git clone https://github.com/free-audio/clap-validator ../clap-validator
  cd ../clap-validator
  # its tests/ workspace members need git dependencies: build the root package only
  sed -i '/"tests\/clack-synth",/d; /"tests\/clack-effect",/d' Cargo.toml
  cargo build --release
then run  CLAP_VALIDATOR=../clap-validator/target/release/clap-validator scripts/validate.sh
MSG
  exit 0
fi
if [ ! -e "$BUNDLE" ]; then
  echo "error: $BUNDLE missing: run cargo xtask bundle mood_noir --release" >&2
  exit 1
fi
out=$(mktemp)
trap 'rm -f "$out" "$out.log"' EXIT
"$VALIDATOR" validate "$BUNDLE" --json > "$out" 2> "$out.log" || true
python3 - "$out" <<'PY'
import json, sys
from collections import Counter
d = json.load(open(sys.argv[1]))
c = Counter()
for r in d["results"]:
    name = list(r["test"].values())[0]["test"]
    code = r["status"]["code"]
    c[code] += 1
    if code != "success":
        print(f"{code:9} {name}: {r['status'].get('details') or ''}")
print(f"clap-validator: {sum(c.values())} tests run, {c['success']} passed, "
      f"{c['failed'] + c['crashed']} failed, {c['warning']} warnings, {c['skipped']} skipped")
sys.exit(1 if c["failed"] or c["crashed"] or c["warning"] else 0)
PY
