#!/usr/bin/env bash
# The benchmark suite of issue 5, one command:
#
#   bash bench/run.sh [--quick] [--out DIR] [--only build,refresh,latency,startup,serving,bytes]
#                     [--rev COMMIT | --worktree] [--work DIR]
#
# Prints one Markdown table (also DIR/results.md, raw figures in DIR/results.json; DIR defaults
# to $BENCH_WORK/results). --quick: small corpora, few repetitions: a smoke run of every figure.
#
# Needs: the project's .venv (make setup), and from Debian: hugo wrk nginx time (installed here
# with apt-get when missing and run as root). Pelican is installed by this script into its own
# throwaway venv under $BENCH_WORK (default /tmp/feedsvc-bench), never into the project.
# Corpora are made once per size under $BENCH_WORK and reused (make_corpus.py is deterministic).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
WORK=${BENCH_WORK:-/tmp/feedsvc-bench}
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  if [ "${args[i]}" = "--work" ] && [ $((i + 1)) -lt ${#args[@]} ]; then WORK=${args[i + 1]}; fi
done
mkdir -p "$WORK"

PY=$ROOT/.venv/bin/python
if [ ! -x "$PY" ]; then
  echo "bench: no $PY; run 'make setup' first" >&2
  exit 2
fi

missing=()
command -v hugo >/dev/null || missing+=(hugo)
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
[ -x /usr/bin/time ] || missing+=(time)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "bench: installing ${missing[*]} from Debian" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
  else
    echo "bench: missing ${missing[*]}: apt-get install ${missing[*]}" >&2
    exit 2
  fi
fi
export PATH=$PATH:/usr/sbin

PELICAN_VENV=${PELICAN_VENV:-$WORK/pelican-venv}
if [ ! -x "$PELICAN_VENV/bin/pelican" ]; then
  echo "bench: installing Pelican into $PELICAN_VENV (not a project dependency)" >&2
  python3 -m venv "$PELICAN_VENV"
  "$PELICAN_VENV/bin/pip" install --quiet --disable-pip-version-check 'pelican==4.12.*' markdown >&2
fi

cd "$WORK"  # never the repository: its feedsvc/ must not shadow the snapshot measured
exec "$PY" "$HERE/suite.py" --work "$WORK" --pelican "$PELICAN_VENV/bin/pelican" "$@"
