#!/usr/bin/env bash
# race.sh: the transformer against the GRU. Trains generated/char_lm (a GRU)
# and generated/char_gpt (a causal transformer) on Newton's Opticks with the
# same windows and validation split, for the same training time each on one
# core, and prints both validation losses (nats per character) at regular
# points of that time, side by side, then the final values, the CPU, the
# budget and a text sample of each model.
#
#   scripts/race.sh                    # 60 s of CPU time training each: about 2.5 minutes on an idle core
#   scripts/race.sh -budget 20s        # a quick look
#   scripts/race.sh -clock wall        # count elapsed time instead of CPU time
#
# The flags are those of internal/race (go doc ./internal/race). The two
# models run in one process with GOMAXPROCS=1 and take turns on the core
# (-slice, 500 ms), so background load falls on both alike; by default the
# budget counts the process's CPU time, so a loaded machine stretches the
# wall time but not the result; time spent measuring the validation loss is
# not counted. The models train with their
# specs' settings (DefaultTrainConfig), so the script measures whatever
# generated/char_lm and generated/char_gpt are today.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(mktemp -d)/race"
trap 'rm -rf "$(dirname "$bin")"' EXIT
go build -o "$bin" ./internal/race
GOMAXPROCS=1 "$bin" "$@"
