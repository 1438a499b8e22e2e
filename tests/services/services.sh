#!/usr/bin/env bash
# Start and stop the real services the carehub tests run against:
#   Apache Kafka 4.x (single KRaft node)  on 127.0.0.1:9092
#   PostgreSQL (Debian binaries)           on 127.0.0.1:5432
#
#   tests/services/services.sh up      start both and wait until both answer (no-op if already up)
#   tests/services/services.sh down    stop both and delete their data
#   tests/services/services.sh status  say what runs where
#
#   tests/services/services.sh stop kafka|postgres     stop one, keeping its data (an outage)
#   tests/services/services.sh start kafka|postgres    start it again on that data and wait until it answers
#   tests/services/services.sh restart kafka|postgres  both of the above
#
# `up` always starts on fresh, empty storage; `start` resumes with the topics, offsets and
# databases the service had when it was stopped (and starts fresh only if it has none).
#
# Kafka's jars come from Maven Central (the only source this project may download
# from) and are cached in <repo>/.cache/kafka/<version>/libs. Kafka's data, logs and
# pid file live in <repo>/.cache/services/kafka. PostgreSQL's data lives under /tmp
# because the server must run as the `postgres` OS user, who may not be able to
# traverse the checkout's parent directories.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"

KAFKA_HOST=127.0.0.1
KAFKA_PORT=9092
KAFKA_CONTROLLER_PORT=9093
PG_HOST=127.0.0.1
PG_PORT=5432
KAFKA_READY_TIMEOUT=120
PG_READY_TIMEOUT=60

KAFKA_POM="$HERE/kafka/pom.xml"
# The pom is the single place the versions are pinned.
KAFKA_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$KAFKA_POM")"
KAFKA_LIBS="$REPO/.cache/kafka/$KAFKA_VERSION/libs"
KAFKA_LIBS_MARKER="$KAFKA_LIBS/.complete"

STATE="$REPO/.cache/services"
KAFKA_STATE="$STATE/kafka"
KAFKA_DATA="$KAFKA_STATE/data"
KAFKA_LOGS="$KAFKA_STATE/logs"
KAFKA_PID_FILE="$KAFKA_STATE/kafka.pid"
KAFKA_PROPS="$KAFKA_STATE/server.properties"

# Keyed by the checkout path so two checkouts never share (or delete) each other's server.
PG_STATE="/tmp/carehub-postgres-$(printf '%s' "$REPO" | sha256sum | cut -c1-12)"
PG_DATA="$PG_STATE/data"
PG_LOG="$PG_STATE/postgres.log"

say() { printf '%s\n' "$*"; }
die() { printf 'services.sh: %s\n' "$*" >&2; exit 1; }

now_ms() { date +%s%3N; }
# Seconds since a now_ms timestamp, one decimal.
elapsed() { local ms=$(( $(now_ms) - $1 )); printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100)); }

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# Names whoever listens on a port, for error messages; empty if unknown.
port_owner() {
    command -v ss >/dev/null 2>&1 || return 0
    ss -Hltnp "sport = :$1" 2>/dev/null | head -n1 \
        | sed -n 's/.*users:(("\([^"]*\)",pid=\([0-9]*\).*/(\1, pid \2)/p' || true
}

# ---------------------------------------------------------------------------
# Kafka
# ---------------------------------------------------------------------------

find_java() {
    local java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
    command -v "$java" >/dev/null 2>&1 \
        || die "java not found; install a Java 17+ runtime (Debian: apt-get install -y openjdk-17-jre-headless) or set JAVA_HOME."
    local major
    major="$("$java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')"
    [[ "${major%%.*}" -ge 17 ]] 2>/dev/null \
        || die "Kafka $KAFKA_VERSION needs Java 17 or newer, but $java is Java ${major:-unknown}; install Java 17+ or set JAVA_HOME."
    JAVA="$java"
}

pom_hash() { sha256sum "$KAFKA_POM" | cut -d' ' -f1; }

# Download Kafka and its dependencies once; later runs find the marker and stay offline.
ensure_kafka_libs() {
    if [[ -f "$KAFKA_LIBS_MARKER" && "$(cat "$KAFKA_LIBS_MARKER")" == "$(pom_hash)" ]]; then
        return 0
    fi
    command -v mvn >/dev/null 2>&1 \
        || die "mvn not found; install Maven (Debian: apt-get install -y maven) so Kafka's jars can be fetched from Maven Central."
    say "kafka: fetching Apache Kafka $KAFKA_VERSION jars from Maven Central into ${KAFKA_LIBS#"$REPO"/} (first run only)..."
    local started tmp mvn_log attempt
    started="$(now_ms)"
    tmp="$KAFKA_LIBS.tmp.$$"
    mvn_log="$(dirname "$KAFKA_LIBS")/maven.log"
    mkdir -p "$(dirname "$KAFKA_LIBS")"
    for attempt in 1 2; do
        rm -rf "$tmp"
        # -U on the retry: Maven otherwise remembers the failed download and does not try again.
        local force=()
        if [[ $attempt == 2 ]]; then force=(-U); fi
        # Default local repository (~/.m2), so other checkouts and Maven settings/mirrors are shared.
        if mvn -B -q -f "$KAFKA_POM" "${force[@]}" \
            -Dstyle.color=never -Dmaven.wagon.http.retryHandler.count=3 \
            dependency:copy-dependencies -DoutputDirectory="$tmp" -DincludeScope=runtime \
            >"$mvn_log" 2>&1; then
            break
        fi
        if [[ $attempt == 2 ]]; then
            rm -rf "$tmp"
            # awk: drop Maven's colour codes and end the last line, so the message below starts clean.
            tail -n 20 "$mvn_log" | awk '{ gsub(/\033\[[0-9;]*m/, ""); print }' >&2 || true
            die "kafka: Maven could not fetch Apache Kafka $KAFKA_VERSION (twice); check access to Maven Central, full output in $mvn_log."
        fi
        say "kafka: Maven fetch failed, retrying once (output in $mvn_log)..."
        sleep 3
    done
    ls "$tmp"/kafka_2.13-"$KAFKA_VERSION".jar >/dev/null 2>&1 \
        || die "kafka: Maven finished but kafka_2.13-$KAFKA_VERSION.jar is missing from $tmp; see $mvn_log."
    rm -rf "$KAFKA_LIBS"
    mv "$tmp" "$KAFKA_LIBS"
    pom_hash >"$KAFKA_LIBS_MARKER"
    say "kafka: fetched $(find "$KAFKA_LIBS" -name '*.jar' | wc -l) jars ($(du -sh "$KAFKA_LIBS" | cut -f1)) in $(elapsed "$started") s."
}

# Runs a Kafka main class (CLI tool) with the cached jars; each process logs to its own file.
kafka_java() {
    local log_name="$1"; shift
    timeout 60 "$JAVA" -Xms64m -Xmx256m -Djava.awt.headless=true \
        -Dlog4j2.configurationFile="$HERE/kafka/log4j2.xml" \
        -Dcarehub.log.file="$KAFKA_LOGS/$log_name" \
        -cp "$KAFKA_LIBS/*" "$@"
}

kafka_pid() {
    [[ -f "$KAFKA_PID_FILE" ]] || return 1
    local pid cmdline
    pid="$(cat "$KAFKA_PID_FILE")"
    [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
    # Guards against a recycled pid after a crash or reboot.
    cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
    [[ "$cmdline" == *"kafka.Kafka $KAFKA_PROPS"* ]] || return 1
    printf '%s\n' "$pid"
}

kafka_log_tail() {
    say "----- last 40 lines of $KAFKA_LOGS/server.log -----" >&2
    tail -n 40 "$KAFKA_LOGS/server.log" >&2 2>/dev/null || true
    if [[ -s "$KAFKA_LOGS/kafka.out" ]]; then
        say "----- last 20 lines of $KAFKA_LOGS/kafka.out (stdout/stderr) -----" >&2
        tail -n 20 "$KAFKA_LOGS/kafka.out" >&2
    fi
}

kafka_ports_free() {
    local port
    for port in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
        if port_open "$KAFKA_HOST" "$port"; then
            die "kafka: $KAFKA_HOST:$port is already in use by something not started from this checkout $(port_owner "$port"); stop it (if it is another carehub checkout: its tests/services/services.sh down) and retry."
        fi
    done
}

# Launches the broker on fresh storage without waiting, so PostgreSQL can start meanwhile.
kafka_start() {
    KAFKA_STARTED_AT=""
    if kafka_pid >/dev/null; then
        return 0
    fi
    kafka_ports_free
    ensure_kafka_libs

    # Tests want a clean broker, so every start formats new storage.
    rm -rf "$KAFKA_STATE"
    mkdir -p "$KAFKA_DATA" "$KAFKA_LOGS"
    sed "s|@DATA_DIR@|$KAFKA_DATA|g" "$HERE/kafka/server.properties" >"$KAFKA_PROPS"
    # Lets the readiness check fail fast and retry instead of hanging on a half-started broker.
    printf 'request.timeout.ms=5000\ndefault.api.timeout.ms=10000\n' >"$KAFKA_STATE/admin.properties"

    local cluster_id
    cluster_id="$(kafka_java storage-tool.log kafka.tools.StorageTool random-uuid)" \
        || die "kafka: could not generate a cluster id; see $KAFKA_LOGS/storage-tool.log."
    kafka_java storage-tool.log kafka.tools.StorageTool format --standalone \
        -t "$cluster_id" -c "$KAFKA_PROPS" >"$KAFKA_LOGS/format.out" 2>&1 \
        || { cat "$KAFKA_LOGS/format.out" >&2; die "kafka: formatting storage in $KAFKA_DATA failed (output above)."; }
    kafka_launch
}

# Launches the broker on the storage it had when it was stopped, or on fresh storage if it has none.
kafka_resume() {
    KAFKA_STARTED_AT=""
    if kafka_pid >/dev/null; then
        return 0
    fi
    if [[ ! -f "$KAFKA_DATA/meta.properties" || ! -f "$KAFKA_PROPS" ]]; then
        kafka_start
        return 0
    fi
    kafka_ports_free
    ensure_kafka_libs
    # The readiness check looks for this run's start line, not the previous run's.
    if [[ -f "$KAFKA_LOGS/server.log" ]]; then
        mv "$KAFKA_LOGS/server.log" "$KAFKA_LOGS/server.log.previous"
    fi
    kafka_launch
}

kafka_launch() {
    KAFKA_STARTED_AT="$(now_ms)"
    # setsid: the broker outlives this script and ignores Ctrl-C aimed at `make test`.
    # 9>&-: it must not inherit (and so hold forever) the lock taken in lock().
    setsid nohup "$JAVA" -Xms256m -Xmx768m \
        -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
        -Djava.awt.headless=true \
        -Dlog4j2.configurationFile="$HERE/kafka/log4j2.xml" \
        -Dcarehub.log.file="$KAFKA_LOGS/server.log" \
        -Dkafka.logs.dir="$KAFKA_LOGS" \
        -cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_PROPS" \
        >"$KAFKA_LOGS/kafka.out" 2>&1 </dev/null 9>&- &
    echo $! >"$KAFKA_PID_FILE"
}

# Ready means: the port is open, the server logged that it started, and an admin
# client can list topics through it.
kafka_wait() {
    local started="${KAFKA_STARTED_AT:-$(now_ms)}" deadline=$((SECONDS + KAFKA_READY_TIMEOUT)) pid
    while :; do
        if ! pid="$(kafka_pid)"; then
            kafka_log_tail
            die "kafka: the broker process exited during start-up (log above); fix the cause and run '$0 up' again."
        fi
        if port_open "$KAFKA_HOST" "$KAFKA_PORT" \
            && grep -q 'Kafka Server started' "$KAFKA_LOGS/server.log" 2>/dev/null \
            && kafka_java tools.log org.apache.kafka.tools.TopicCommand \
                --bootstrap-server "$KAFKA_HOST:$KAFKA_PORT" --command-config "$KAFKA_STATE/admin.properties" \
                --list >/dev/null 2>>"$KAFKA_LOGS/tools.log"; then
            break
        fi
        if (( SECONDS >= deadline )); then
            kafka_log_tail
            die "kafka: the broker (pid $pid) did not answer on $KAFKA_HOST:$KAFKA_PORT within ${KAFKA_READY_TIMEOUT}s (log above); run '$0 down' and retry."
        fi
        sleep 0.5
    done
    if [[ -n "${KAFKA_STARTED_AT:-}" ]]; then
        say "kafka: Apache Kafka $KAFKA_VERSION started on $KAFKA_HOST:$KAFKA_PORT, ready in $(elapsed "$started") s (pid $pid, data $KAFKA_DATA)."
    else
        say "kafka: already running on $KAFKA_HOST:$KAFKA_PORT (pid $pid, data $KAFKA_DATA); left as is."
    fi
}

# Stops the broker (SIGTERM: a controlled shutdown, SIGKILL after 20 s); its pid goes to stdout.
kafka_terminate() {
    local pid waited=0
    pid="$(kafka_pid)" || return 1
    kill -TERM "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null && (( waited < 200 )); do
        sleep 0.1; waited=$((waited + 1))
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
        say "kafka: broker (pid $pid) ignored SIGTERM for 20 s; killed it." >&2
    fi
    rm -f "$KAFKA_PID_FILE"
    printf '%s\n' "$pid"
}

kafka_stop() {
    local pid
    if pid="$(kafka_terminate)"; then
        say "kafka: stopped (pid $pid); its data stays in $KAFKA_DATA for '$0 start kafka'."
    else
        say "kafka: was not running; nothing to do."
    fi
}

kafka_down() {
    local pid
    if pid="$(kafka_terminate)"; then
        rm -rf "$KAFKA_STATE"
        say "kafka: stopped (pid $pid) and deleted its data."
    elif [[ -d "$KAFKA_STATE" ]]; then
        rm -rf "$KAFKA_STATE"
        say "kafka: was not running; deleted leftover data in $KAFKA_STATE."
    else
        say "kafka: was not running; nothing to do."
    fi
}

kafka_status() {
    local pid
    if pid="$(kafka_pid)"; then
        say "kafka:    running  $KAFKA_HOST:$KAFKA_PORT  Apache Kafka $KAFKA_VERSION  pid $pid  data $KAFKA_DATA  log $KAFKA_LOGS/server.log"
    elif port_open "$KAFKA_HOST" "$KAFKA_PORT"; then
        say "kafka:    stopped  (but $KAFKA_HOST:$KAFKA_PORT is in use by something else $(port_owner "$KAFKA_PORT"))"
    else
        say "kafka:    stopped"
    fi
}

# ---------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------

newest_pg_bin() {
    local dir
    dir="$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n1)"
    [[ -n "$dir" && -x "$dir/initdb" && -x "$dir/pg_ctl" ]] && printf '%s\n' "$dir"
}

find_pg() {
    if ! PG_BIN="$(newest_pg_bin)"; then
        [[ $EUID -eq 0 ]] \
            || die "postgres: no PostgreSQL server under /usr/lib/postgresql/*/bin; install it (sudo apt-get install -y postgresql) and retry."
        say "postgres: no PostgreSQL server found; installing Debian's postgresql package..."
        if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null \
            && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }; then
            die "postgres: 'apt-get update && apt-get install -y postgresql' failed; install PostgreSQL by hand and retry."
        fi
        PG_BIN="$(newest_pg_bin)" || die "postgres: installed the postgresql package but found no initdb/pg_ctl under /usr/lib/postgresql/*/bin."
        stop_package_cluster
    fi
    PG_VERSION="$(basename "$(dirname "$PG_BIN")")"
    if [[ $EUID -eq 0 ]]; then
        id postgres >/dev/null 2>&1 \
            || die "postgres: PostgreSQL refuses to run as root and there is no 'postgres' OS user; reinstall Debian's postgresql package or run this script as a normal user."
        AS_PG=(runuser -u postgres --)
        PG_OWNER=postgres
    else
        AS_PG=()
        PG_OWNER="$(id -un)"
    fi
}

# The package starts its own cluster on 5432 with password auth; we installed the
# package only for its binaries, so that cluster must not block the test server.
stop_package_cluster() {
    command -v pg_lsclusters >/dev/null 2>&1 || return 0
    local ver name port status
    while read -r ver name port status _; do
        [[ "$port" == "$PG_PORT" ]] || continue
        [[ "$status" == online* ]] && pg_ctlcluster "$ver" "$name" stop || true
        echo manual >"/etc/postgresql/$ver/$name/start.conf" 2>/dev/null || true
        say "postgres: stopped the package's default cluster $ver/$name and set it to manual start, so the test server can use port $PG_PORT."
    done < <(pg_lsclusters -h 2>/dev/null)
}

# cd: postgres may not be allowed into the caller's cwd. 9>&-: the postmaster must not hold lock()'s lock.
pg() { (cd /tmp && "${AS_PG[@]}" "$@" 9>&-); }

psql_ok() {
    PGCONNECT_TIMEOUT=5 "$PG_BIN/psql" -X -q -w -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres \
        -tAc 'select 1' >/dev/null 2>&1
}

pg_running() { [[ -f "$PG_DATA/postmaster.pid" ]] && pg "$PG_BIN/pg_ctl" status -D "$PG_DATA" >/dev/null 2>&1; }

pg_pid() { head -n1 "$PG_DATA/postmaster.pid" 2>/dev/null; }

pg_wait() {
    local deadline=$((SECONDS + PG_READY_TIMEOUT))
    until "$PG_BIN/pg_isready" -q -h "$PG_HOST" -p "$PG_PORT" -t 2 && psql_ok; do
        if (( SECONDS >= deadline )); then
            tail -n 40 "$PG_LOG" >&2 2>/dev/null || true
            die "postgres: server did not accept 'select 1' on $PG_HOST:$PG_PORT within ${PG_READY_TIMEOUT}s (log above, full log $PG_LOG); run '$0 down' and retry."
        fi
        sleep 0.2
    done
}

pg_up() {
    find_pg
    if pg_running; then
        pg_wait
        say "postgres: already running on $PG_HOST:$PG_PORT (pid $(pg_pid), data $PG_DATA); left as is."
        return 0
    fi
    if port_open "$PG_HOST" "$PG_PORT"; then
        if psql_ok; then
            say "postgres: using the PostgreSQL server already on $PG_HOST:$PG_PORT (not started by this script, so 'down' will leave it alone); it accepts user postgres without a password."
            return 0
        fi
        die "postgres: $PG_HOST:$PG_PORT is taken by a server that refuses 'psql -U postgres' without a password $(port_owner "$PG_PORT"); stop it (e.g. pg_ctlcluster <version> main stop) and retry."
    fi

    local started
    started="$(now_ms)"
    # Fresh cluster on every start, like Kafka: fsync=off means a crashed one is not to be trusted.
    rm -rf "$PG_STATE"
    mkdir -p "$PG_DATA"
    chown -R "$PG_OWNER" "$PG_STATE"
    chmod 700 "$PG_STATE" "$PG_DATA"
    pg "$PG_BIN/initdb" -D "$PG_DATA" --auth=trust -U postgres --encoding=UTF8 --locale=C.UTF-8 --no-sync \
        >"$PG_STATE/initdb.log" 2>&1 \
        || { cat "$PG_STATE/initdb.log" >&2; die "postgres: initdb in $PG_DATA failed (output above)."; }
    pg_launch "$started"
}

# Starts the server on the cluster in $PG_DATA and waits until it answers.
pg_launch() {
    local started="$1"
    # Throwaway server: durability off for speed; socket in the state dir so no shared dir is touched.
    pg "$PG_BIN/pg_ctl" start -D "$PG_DATA" -l "$PG_LOG" -w -t "$PG_READY_TIMEOUT" \
        -o "-h $PG_HOST -p $PG_PORT -k $PG_STATE -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
        >/dev/null \
        || { tail -n 40 "$PG_LOG" >&2 2>/dev/null || true; die "postgres: pg_ctl start failed (log above, full log $PG_LOG); run '$0 down' and retry."; }
    pg_wait
    say "postgres: PostgreSQL $PG_VERSION started on $PG_HOST:$PG_PORT, ready in $(elapsed "$started") s (pid $(pg_pid), data $PG_DATA)."
}

# Starts the server on the cluster it had when it was stopped, or on a fresh one if it has none.
pg_resume() {
    find_pg
    if [[ ! -f "$PG_DATA/PG_VERSION" ]] || pg_running; then
        pg_up
        return 0
    fi
    if port_open "$PG_HOST" "$PG_PORT"; then
        die "postgres: $PG_HOST:$PG_PORT is taken by a server this script did not start $(port_owner "$PG_PORT"); stop it and retry."
    fi
    pg_launch "$(now_ms)"
}

# A fast shutdown: open transactions are rolled back and clients disconnected; the data stays.
pg_stop() {
    PG_BIN="$(newest_pg_bin)" || { say "postgres: no PostgreSQL installed; nothing to do."; return 0; }
    find_pg
    if ! pg_running; then
        if port_open "$PG_HOST" "$PG_PORT"; then
            die "postgres: the server on $PG_HOST:$PG_PORT was not started by this script; stop it yourself."
        fi
        say "postgres: was not running; nothing to do."
        return 0
    fi
    local pid
    pid="$(pg_pid)"
    pg "$PG_BIN/pg_ctl" stop -D "$PG_DATA" -m fast -w -t 30 >/dev/null 2>&1 \
        || die "postgres: server (pid $pid) did not stop within 30 s; see $PG_LOG."
    say "postgres: stopped (pid $pid); its data stays in $PG_DATA for '$0 start postgres'."
}

pg_down() {
    PG_BIN="$(newest_pg_bin)" || { say "postgres: no PostgreSQL installed; nothing to do."; return 0; }
    find_pg
    if pg_running; then
        local pid
        pid="$(pg_pid)"
        if ! pg "$PG_BIN/pg_ctl" stop -D "$PG_DATA" -m fast -w -t 30 >/dev/null 2>&1; then
            kill -KILL "$pid" 2>/dev/null || true
            say "postgres: server (pid $pid) did not stop within 30 s; killed it."
        fi
        rm -rf "$PG_STATE"
        say "postgres: stopped (pid $pid) and deleted its data."
    elif [[ -d "$PG_STATE" ]]; then
        rm -rf "$PG_STATE"
        say "postgres: was not running; deleted leftover data in $PG_STATE."
    elif port_open "$PG_HOST" "$PG_PORT"; then
        say "postgres: the server on $PG_HOST:$PG_PORT was not started by this script; left it running."
    else
        say "postgres: was not running; nothing to do."
    fi
}

pg_status() {
    if PG_BIN="$(newest_pg_bin)" && find_pg && pg_running; then
        say "postgres: running  $PG_HOST:$PG_PORT  PostgreSQL $PG_VERSION  pid $(pg_pid)  data $PG_DATA  log $PG_LOG"
    elif port_open "$PG_HOST" "$PG_PORT"; then
        say "postgres: not started by this script, but a server answers on $PG_HOST:$PG_PORT $(port_owner "$PG_PORT")"
    else
        say "postgres: stopped"
    fi
}

# ---------------------------------------------------------------------------

# One up/down at a time per checkout, e.g. when two make targets race.
lock() {
    mkdir -p "$STATE"
    exec 9>"$STATE/.lock"
    if ! flock -n 9; then
        say "waiting for another services.sh up/down of this checkout to finish..."
        flock -w 300 9 || die "another services.sh up/down of this checkout has held $STATE/.lock for 5 minutes; find it with 'fuser -v $STATE/.lock' and stop it."
    fi
}

usage() { say "usage: $0 up|down|status, or $0 stop|start|restart kafka|postgres"; }

# stop/start/restart of one service, named by the second argument.
one_service() {
    local action="$1" service="${2:-}"
    case "$service" in
        kafka|postgres) ;;
        *) usage >&2; exit 2 ;;
    esac
    lock
    if [[ "$action" == stop || "$action" == restart ]]; then
        if [[ "$service" == kafka ]]; then kafka_stop; else pg_stop; fi
    fi
    if [[ "$action" == start || "$action" == restart ]]; then
        if [[ "$service" == kafka ]]; then
            find_java
            kafka_resume
            kafka_wait
        else
            pg_resume
        fi
    fi
}

case "${1:-}" in
    up)
        lock
        find_java
        kafka_start
        pg_up
        kafka_wait
        ;;
    down)
        lock
        kafka_down
        pg_down
        ;;
    status)
        kafka_status
        pg_status
        ;;
    stop|start|restart) one_service "$1" "${2:-}" ;;
    -h|--help|help) usage ;;
    *) usage >&2; exit 2 ;;
esac
