#!/usr/bin/env bash
# install.sh -- installs what the lab needs on a Debian machine, and only what
# is missing, so that it is cheap to run before every build (`make deps`) and
# every `services.sh up`: the compiler and C libraries, PostgreSQL, Redis,
# Redis Sentinel (the replicated topology), Java and Maven, wrk, gnuplot and Chromium (headless, for the page tests) from apt, then Kafka's jars from Maven
# Central (Debian does not package Kafka) into infra/kafka/target/dependency.
set -euo pipefail
source "$(dirname "$0")/common.sh"

packages=(build-essential pkg-config postgresql redis-server redis-sentinel libpq-dev libhiredis-dev
          librdkafka-dev libmicrohttpd-dev libcmocka-dev gnuplot-nox
          openjdk-17-jre-headless maven wrk
          curl  # curl: infra/attack.sh talks to the service with it
          jq    # jq: scripts/regress.sh (make regress) reads the attack's JSON summary
          chromium)  # headless: the tests load the live page and the report in a real browser

# as_root runs a command as root: directly, or through sudo when there is one.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"
    elif command -v sudo >/dev/null; then sudo "$@"
    else die "not root and no sudo: cannot run $*"
    fi
}

# apt_missing prints the packages that dpkg does not report as installed.
apt_missing() {
    local p
    for p in "${packages[@]}"; do
        [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || echo "$p"
    done
}

missing=$(apt_missing | tr '\n' ' ')
if [ -n "$missing" ]; then
    say "installing with apt-get: $missing"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
    # shellcheck disable=SC2086 # one word per package
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
fi

jars=$LAB_ROOT/infra/kafka/target/dependency
if ! compgen -G "$jars/kafka_2.13-*.jar" >/dev/null; then
    say "fetching Kafka's jars with Maven into ${jars#"$LAB_ROOT"/}"
    mkdir -p "$LAB_LOGS"
    mvn -B -Dstyle.color=never -f "$LAB_ROOT/infra/kafka/pom.xml" \
        dependency:copy-dependencies -DincludeScope=runtime >"$LAB_LOGS/maven.log" 2>&1 ||
        { tail -n 30 "$LAB_LOGS/maven.log" >&2; die "Maven could not fetch Kafka's jars (log: .lab/log/maven.log)"; }
fi
