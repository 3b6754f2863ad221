#!/usr/bin/env bash
# make check-generated: every generated-and-committed source (the micro-kernel blocks of attention
# and of the model's matmul, the fused decode kernels) equals what its generator writes now.
# The generators write unformatted Java and the build formats it (google-java-format only moves
# whitespace and re-wraps comments), so the two are compared without whitespace and '*' (a comment
# line's star moves when the formatter re-wraps it): any other difference, a token
# added, dropped or changed, fails with the generator's name and the first differing lines.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
check() { # generator, committed file
  local generator=$1 committed=$2 fresh="$tmp/$(basename "$2")"
  python3 "$generator" "$fresh"
  if ! cmp -s <(tr -d ' \t\r\n*' <"$committed") <(tr -d ' \t\r\n*' <"$fresh"); then
    echo "check-generated: $committed differs from what $generator writes:" >&2
    # statement by statement, whitespace and stars removed: the first differing statements
    diff <(tr -d ' \t\r\n*' <"$committed" | tr ';{}' '\n\n\n' | grep -v '^$') \
      <(tr -d ' \t\r\n*' <"$fresh" | tr ';{}' '\n\n\n' | grep -v '^$') | head -20 >&2 || true
    echo "run: python3 $generator && make build (which formats it), and commit both" >&2
    status=1
  else
    echo "check-generated: $committed matches $generator"
  fi
}
check scripts/gen_panel_blocks.py core/src/main/java/dev/flashattn4j/kernel/PanelBlocks.java
check scripts/gen_matmul_panels.py model/src/main/java/dev/flashattn4j/model/MatMulPanels.java
check scripts/gen_decode_fused.py core/src/main/java/dev/flashattn4j/kernel/decode/DecodeInt8Vectors.java
check scripts/gen_decode_fused.py core/src/main/java/dev/flashattn4j/kernel/decode/DecodeBfloat16Vectors.java
exit $status
