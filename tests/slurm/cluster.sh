#!/usr/bin/env bash
# A single-node SLURM cluster (munged + slurmctld + slurmd) that lives entirely under one directory.
#
#   bash tests/slurm/cluster.sh start DIR    # writes DIR/slurm.conf, a munge key, starts the 3 daemons,
#                                            # waits until the node is idle; prints `export SLURM_CONF=...`
#   bash tests/slurm/cluster.sh status DIR   # sinfo + squeue of that cluster
#   bash tests/slurm/cluster.sh stop DIR     # cancels the cluster's jobs, stops the daemons it started
#                                            # (by the process ids recorded in DIR/pids), never by name
#   bash tests/slurm/cluster.sh logs DIR     # the daemons' logs (for debugging)
#
# Needs root (slurmd runs jobs as their submitting user) and Debian/Ubuntu's packages slurmctld, slurmd,
# slurm-client and munge (`bash tests/slurm/cluster.sh install` installs them through apt-get).
# Nothing is written outside DIR: config, munge key and socket, state, spool, logs and pid files are all
# in it, and the daemons listen on their own ports (the first free pair from 16817/16818 on, or
# SLURM_TEST_CTLD_PORT / SLURM_TEST_SLURMD_PORT), so a system-wide SLURM or munge installation is left alone.
# Clients find the cluster through SLURM_CONF=DIR/slurm.conf (the config names munge's socket).
set -euo pipefail

usage() {
    echo "usage: $0 {install|start|stop|status|logs} DIR" >&2
    exit 2
}

log() { echo "cluster.sh: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

PACKAGES=(slurmctld slurmd slurm-client munge)

install_packages() {
    if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null \
        && command -v munged >/dev/null; then
        return 0
    fi
    [ "$(id -u)" -eq 0 ] || die "slurmctld/slurmd/munged are missing and installing them needs root: apt-get install ${PACKAGES[*]}"
    command -v apt-get >/dev/null || die "slurmctld/slurmd/munged are missing and there is no apt-get to install them"
    log "installing ${PACKAGES[*]} with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y --no-install-recommends "${PACKAGES[@]}"; then
        log "apt-get install failed; running apt-get update and trying again"
        apt-get update || die "apt-get update failed"
        apt-get install -y --no-install-recommends "${PACKAGES[@]}" || die "apt-get install ${PACKAGES[*]} failed"
    fi
    for tool in slurmctld slurmd sbatch sinfo munged; do
        command -v "$tool" >/dev/null || die "$tool is still missing after installing ${PACKAGES[*]}"
    done
}

# ------------------------------------------------------------------------------------------------ helpers

# The process ids recorded by `start`, one "name pid" per line, in DIR/pids.
pid_alive() {  # running, and not a zombie waiting for its parent to reap it
    [ -n "$1" ] && kill -0 "$1" 2>/dev/null || return 1
    local state
    state=$(awk '{ sub(/^.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null || true)
    [ "$state" != Z ]
}

# Is process $1 still the program $2 we started (guards against a reused process id)?
pid_is() {
    local pid=$1 name=$2 exe
    pid_alive "$pid" || return 1
    exe=$(readlink "/proc/$pid/exe" 2>/dev/null || true)
    case "$(basename "${exe% (deleted)}")" in
        "$name"*) return 0 ;;
        *) return 1 ;;
    esac
}

stop_pid() {  # stop_pid NAME PID: TERM, wait up to 15 s, then KILL
    local name=$1 pid=$2 i
    if ! pid_is "$pid" "$name"; then
        log "$name (pid $pid) is not running"
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 150); do
        pid_alive "$pid" || { log "stopped $name (pid $pid)"; return 0; }
        sleep 0.1
    done
    log "$name (pid $pid) ignored SIGTERM for 15 s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do
        pid_alive "$pid" || return 0
        sleep 0.1
    done
    log "WARNING: $name (pid $pid) survived SIGKILL"
    return 1
}

# Processes of this cluster that can outlive slurmd: slurmstepd (started by slurmd, which passes on our
# SLURM_CONF) and the jobs' processes (SLURM_CONF and SLURM_JOB_ID in their environment).  This shell,
# its subshells and its ancestors are never included.
cluster_processes() {
    local conf=$1 pid env exe p keep
    local -A skip=()
    p=$$
    while [ -n "$p" ] && [ "$p" -gt 1 ]; do
        skip[$p]=1
        p=$(awk '{ print $4 }' "/proc/$p/stat" 2>/dev/null || true)
    done
    skip[$BASHPID]=1
    for dir in /proc/[0-9]*; do
        pid=${dir#/proc/}
        [ -n "${skip[$pid]:-}" ] && continue
        env=$({ tr '\0' '\n' < "$dir/environ"; } 2>/dev/null || true)
        grep -qxF "SLURM_CONF=$conf" <<< "$env" || continue
        exe=$(readlink "$dir/exe" 2>/dev/null || true)
        keep=0
        case "$(basename "${exe% (deleted)}")" in slurmstepd*) keep=1 ;; esac
        grep -q '^SLURM_JOB_ID=' <<< "$env" && keep=1
        [ "$keep" -eq 1 ] && echo "$pid"
    done
    return 0
}

port_in_use() {  # something accepts connections on 127.0.0.1:$1
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start_daemon() {  # start_daemon NAME LOGFILE CMD...: runs CMD in the foreground of a new session
    local name=$1 out=$2
    shift 2
    # setsid: the daemon is not killed with the caller's process group; stdio goes to a file so a
    # caller reading our output (subprocess.run(capture_output=True)) is not kept waiting.
    setsid "$@" </dev/null >>"$out" 2>&1 &
    local pid=$!
    echo "$name $pid" >> "$DIR/pids"
    sleep 0.3
    pid_alive "$pid" || { cat "$out" >&2 || true; die "$name exited right after starting (see $out)"; }
    log "started $name (pid $pid)"
}

recorded_pid() { awk -v n="$1" '$1 == n { p = $2 } END { print p }' "$DIR/pids" 2>/dev/null; }

dump_logs() {
    local f
    for f in "$DIR"/log/*.log; do
        [ -e "$f" ] || continue
        echo "===== $f (last 60 lines)"
        tail -n 60 "$f"
    done
}

# ------------------------------------------------------------------------------------------------ start

write_config() {
    local host cpus_line mem_total mem real_mem ctld_port slurmd_port
    host=$(hostname -s 2>/dev/null || cat /proc/sys/kernel/hostname)
    host=${host%%.*}
    [ -n "$host" ] || die "cannot determine the short host name"
    # The hardware line slurmd itself reports (CPUs, sockets, cores, threads), so the node is not drained
    # for a topology mismatch; fall back to nproc.
    cpus_line=$(slurmd -C 2>/dev/null | head -n 1 | tr ' ' '\n' \
        | grep -E '^(CPUs|Boards|SocketsPerBoard|CoresPerSocket|ThreadsPerCore)=' | tr '\n' ' ' || true)
    case "$cpus_line" in
        *CPUs=*) ;;
        *) cpus_line="CPUs=$(nproc)" ;;
    esac
    # Slightly less memory than the machine has: slurmd drains a node that reports less than configured.
    mem_total=$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)
    mem=$(( mem_total - mem_total / 10 - 256 ))
    real_mem=$(( mem > 512 ? mem : 512 ))
    if [ -n "${SLURM_TEST_CTLD_PORT:-}" ] || [ -n "${SLURM_TEST_SLURMD_PORT:-}" ]; then
        ctld_port=${SLURM_TEST_CTLD_PORT:-16817}
        slurmd_port=${SLURM_TEST_SLURMD_PORT:-$((ctld_port + 1))}
    else  # the first free pair from 16817/16818 on (another cluster.sh cluster may be running)
        ctld_port=16817
        while port_in_use "$ctld_port" || port_in_use "$((ctld_port + 1))"; do
            ctld_port=$((ctld_port + 2))
            [ "$ctld_port" -lt 16917 ] || die "no free pair of ports from 16817 to 16917"
        done
        slurmd_port=$((ctld_port + 1))
    fi

    cat > "$DIR/slurm.conf" <<EOF
# Single-node test cluster written by tests/slurm/cluster.sh; everything lives under $DIR.
ClusterName=lcsimtest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$DIR/munge/munge.socket
MpiDefault=none
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobContainerType=job_container/none
SwitchType=switch/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
# A plain-text record of every finished job (sacct needs slurmdbd, which this cluster does not run).
JobCompType=jobcomp/filetxt
JobCompLoc=$DIR/log/jobcomp.log
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
SlurmctldTimeout=60
SlurmdTimeout=60
InactiveLimit=0
MinJobAge=300
KillWait=10
Waittime=0
NodeName=$host NodeAddr=127.0.0.1 NodeHostname=$host ${cpus_line}RealMemory=$real_mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
    # Only used if a plugin loads the cgroup machinery; keeps slurmd from probing the system's cgroups.
    cat > "$DIR/cgroup.conf" <<EOF
CgroupAutomount=no
ConstrainCores=no
ConstrainRAMSpace=no
EOF
    NODE=$host
}

wait_for_munge() {
    local i
    for i in $(seq 1 100); do
        [ -S "$DIR/munge/munge.socket" ] && munge -n -S "$DIR/munge/munge.socket" 2>/dev/null \
            | unmunge -S "$DIR/munge/munge.socket" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    dump_logs >&2
    die "munged did not answer on $DIR/munge/munge.socket within 10 s"
}

wait_for_idle_node() {
    local i state
    for i in $(seq 1 120); do
        state=$(sinfo -h -N -n "$NODE" -o '%T' 2>/dev/null | head -n 1 || true)
        case "$state" in
            idle) log "node $NODE is idle"; return 0 ;;
            drain*|down*|fail*|inval*)
                if [ "$i" -gt 20 ]; then
                    scontrol show node "$NODE" >&2 || true
                    dump_logs >&2
                    die "node $NODE is $state"
                fi ;;
        esac
        sleep 0.5
    done
    scontrol show node "$NODE" >&2 || true
    dump_logs >&2
    die "node $NODE did not become idle within 60 s (last state: ${state:-none})"
}

cmd_start() {
    [ "$(id -u)" -eq 0 ] || die "the single-node cluster needs root (slurmd starts jobs as their user)"
    install_packages
    if [ -s "$DIR/pids" ]; then
        local name pid
        while read -r name pid; do
            if pid_is "$pid" "$name"; then
                die "a cluster in $DIR is still running ($name, pid $pid): run '$0 stop $DIR' first"
            fi
        done < "$DIR/pids"
    fi
    # A fresh cluster every time: old state, spool and logs would only confuse.
    rm -rf "$DIR/state" "$DIR/spool" "$DIR/run" "$DIR/log" "$DIR/munge" "$DIR/pids"
    mkdir -p "$DIR/state" "$DIR/spool" "$DIR/run" "$DIR/log" "$DIR/munge"
    # munged refuses group/world-writable directories on the way to its socket, key and logs.
    chmod 700 "$DIR/munge" "$DIR/state" "$DIR/spool" "$DIR/run"
    chmod 755 "$DIR/log"
    : > "$DIR/pids"
    # If anything below fails, stop the daemons already started (the logs stay in DIR/log).
    trap 'log "start failed: stopping the daemons started so far"; cmd_stop || true' EXIT
    write_config
    export SLURM_CONF="$DIR/slurm.conf"

    dd if=/dev/urandom of="$DIR/munge/munge.key" bs=1024 count=1 status=none
    chmod 400 "$DIR/munge/munge.key"
    start_daemon munged "$DIR/log/munged.out" munged --foreground --force \
        --socket="$DIR/munge/munge.socket" --key-file="$DIR/munge/munge.key" \
        --pid-file="$DIR/munge/munged.pid" --log-file="$DIR/log/munged.log" --seed-file="$DIR/munge/munged.seed"
    wait_for_munge

    # -D: stay in the foreground (the recorded pid is the daemon); -i: ignore state from an earlier run.
    start_daemon slurmctld "$DIR/log/slurmctld.out" slurmctld -D -i -f "$SLURM_CONF"
    local i
    for i in $(seq 1 100); do
        scontrol ping 2>/dev/null | grep -q UP && break
        sleep 0.2
    done
    start_daemon slurmd "$DIR/log/slurmd.out" slurmd -D -f "$SLURM_CONF" -N "$NODE"
    wait_for_idle_node
    trap - EXIT
    log "cluster is up; pids in $DIR/pids"
    echo "export SLURM_CONF=$SLURM_CONF"
}

# ------------------------------------------------------------------------------------------------ stop

cmd_stop() {
    local conf="$DIR/slurm.conf" status=0 i jobs left
    [ -f "$DIR/pids" ] || { log "no $DIR/pids: nothing to stop"; return 0; }
    export SLURM_CONF="$conf"
    # First the cluster's jobs (their processes are children of slurmstepd, not of the daemons).
    if pid_is "$(recorded_pid slurmctld)" slurmctld; then
        jobs=$(squeue -h -o '%i' 2>/dev/null || true)
        if [ -n "$jobs" ]; then
            log "cancelling jobs: $(echo $jobs)"
            # shellcheck disable=SC2086
            scancel $jobs 2>/dev/null || true
            for i in $(seq 1 60); do
                [ -z "$(squeue -h -t all -o '%i %T' 2>/dev/null | grep -Ev 'COMPLETED|CANCELLED|FAILED|TIMEOUT|NODE_FAIL|PREEMPTED|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE' || true)" ] && break
                sleep 0.5
            done
        fi
    fi
    # Then the daemons, in reverse order of starting, by their recorded process ids.
    for name in slurmd slurmctld munged; do
        pid=$(recorded_pid "$name")
        [ -n "$pid" ] || continue
        stop_pid "$name" "$pid" || status=1
    done
    # Anything left that carries this cluster's SLURM_CONF (a slurmstepd or job that outlived slurmd).
    left=$(cluster_processes "$conf")
    if [ -n "$left" ]; then
        log "processes of this cluster still running after the daemons stopped: $(echo $left); TERM, then KILL"
        # shellcheck disable=SC2086
        kill -TERM $left 2>/dev/null || true
        for i in $(seq 1 50); do
            left=$(for p in $left; do if pid_alive "$p"; then echo "$p"; fi; done)
            [ -z "$left" ] && break
            sleep 0.1
        done
        # shellcheck disable=SC2086
        [ -z "$left" ] || kill -KILL $left 2>/dev/null || true
    fi
    mv "$DIR/pids" "$DIR/pids.stopped"
    return $status
}

cmd_status() {
    export SLURM_CONF="$DIR/slurm.conf"
    sinfo
    squeue
}

# ------------------------------------------------------------------------------------------------ main

[ $# -ge 1 ] || usage
command=$1
if [ "$command" = install ]; then
    install_packages
    exit 0
fi
[ $# -eq 2 ] || usage
mkdir -p "$2"
DIR=$(cd "$2" && pwd -P)
case "$command" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    logs) dump_logs ;;
    *) usage ;;
esac
