#!/bin/bash
# kexecsim simulate as a Slurm job array: one array task per shard (docs/scale-out.md).
#
#   sbatch --array=1-8 deploy/slurm/simulate-array.sh
#
# Slurm gives each task its index in SLURM_ARRAY_TASK_ID; with --array=1-N the task runs shard
# K = SLURM_ARRAY_TASK_ID of N = SLURM_ARRAY_TASK_MAX (--shard K/N: the run indices i with
# i % N == K-1) and writes its JSON result to $RESULTS/shard-K.json. Then merge, after every task:
#
#   sbatch --dependency=afterany:<job id> --wrap 'kexecsim merge results/shard-*.json'
#
# Set what to simulate in the environment (sbatch --export=ALL,RUNS=1000000,...) or below.
#SBATCH --job-name=kexecsim-simulate
#SBATCH --cpus-per-task=2
#SBATCH --output=kexecsim-simulate-%A_%a.log
set -u

KEXECSIM=${KEXECSIM:-kexecsim}
MODEL=${MODEL:-models/catalog/seed000-stop-wbinvd.kflow}
SCENARIO=${SCENARIO:-stop-online-count-reboot}
CPUS=${CPUS:-192}
RUNS=${RUNS:-1000000}
SEED=${SEED:-1}
STRATEGY=${STRATEGY:-pct}
RESULTS=${RESULTS:-results}

if [ -z "${SLURM_ARRAY_TASK_ID:-}" ] || [ -z "${SLURM_ARRAY_TASK_MAX:-}" ]; then
    echo "simulate-array.sh: run it as a job array: sbatch --array=1-N $0" >&2
    exit 2
fi
if [ "${SLURM_ARRAY_TASK_MIN:-1}" != 1 ]; then
    echo "simulate-array.sh: the array must start at 1 (--array=1-N), not ${SLURM_ARRAY_TASK_MIN}" >&2
    exit 2
fi
K=$SLURM_ARRAY_TASK_ID
N=${SHARDS:-$SLURM_ARRAY_TASK_MAX}

mkdir -p "$RESULTS"
"$KEXECSIM" simulate "$MODEL" --scenario "$SCENARIO" --cpus "$CPUS" \
    --runs "$RUNS" --seed "$SEED" --strategy "$STRATEGY" \
    --shard "$K/$N" --workers "${SLURM_CPUS_PER_TASK:-1}" --format json > "$RESULTS/shard-$K.json"
status=$?
# 0 (expectation met), 1 (a violation: the result says which) and 3 (a limit: the figures so far)
# are results to merge; 2 is bad input, a failed task.
case $status in
    0|1|3) exit 0 ;;
    *) exit "$status" ;;
esac
