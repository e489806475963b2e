#!/usr/bin/env bash
# Builds the image from this checkout and checks it the way an operator uses it:
#   a daemon started with `run -d` on a root-owned bind mount becomes healthy through the
#   image's own HEALTHCHECK, `agentd health` answers inside, health probes leave no
#   connection behind, a goal submitted with `exec` completes with a report built from the
#   inbox, `stop` ends it with exit 0; `run --stdin` works one flag away; `--user` on a
#   directory it cannot write is refused with a clear message; labels, HEALTHCHECK and no apt
#   lists or cache are in the image.
#
# usage: npm run container-check        (or: bash scripts/container-check.sh)
# env:   CONTAINER_ENGINE  docker | podman (default: docker if its engine answers, else podman)
#        NODE_IMAGE        base image (default node:22-bookworm-slim; pulled if missing)
#        IMAGE             tag to build (default localhost/aaos:container-check)
#        WORK              scratch directory (default /tmp/aaos-container-check)
# Offline (no registry reachable) and NODE_IMAGE unset, it builds a local stand-in for the
# Node base image: a Debian bookworm minbase rootfs (debootstrap, root needed) with this
# machine's node and npm and a user `node` with uid 1000, as the official image has.
set -uo pipefail
cd "$(dirname "$0")/.."

image=${IMAGE:-localhost/aaos:container-check}
work=${WORK:-/tmp/aaos-container-check}
name=aaos-check-$$
mkdir -p "$work"

passed=0
failed=0
ok() { passed=$((passed + 1)); printf 'ok %d - %s\n' $((passed + failed)) "$1"; }
not_ok() { failed=$((failed + 1)); printf 'not ok %d - %s\n' $((passed + failed)) "$1"; [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/#   /'; }
check() { local what=$1; shift; local out; if out=$("$@" 2>&1); then ok "$what"; else not_ok "$what" "$out"; fi; }
die() { printf 'container-check: %s\n' "$*" >&2; exit 2; }
# one field of a JSON document on stdin (pretty-printed), or of the last line of NDJSON
json() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{let v;try{v=JSON.parse(s)}catch{v=JSON.parse(s.trim().split("\n").pop())}for(const k of process.argv[1].split("."))v=v?.[k];process.stdout.write(String(v??""))})' "$1"; }

# ── the engine ────────────────────────────────────────────────────────────────
engine=${CONTAINER_ENGINE:-}
if [ -z "$engine" ]; then
  if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then engine=docker
  elif command -v podman >/dev/null 2>&1; then engine=podman
  else die "no container engine: install podman (apt-get install podman) or start a Docker engine"
  fi
fi
build_flags=()
if [ "$engine" = podman ]; then
  # the OCI format has no HEALTHCHECK: without --format docker podman silently drops it
  # the base is present by now (pulled or the stand-in): never look for it in a registry
  build_flags+=(--format docker --pull=never)
  # podman's default limits for containers (open files 1048576, processes 4194304) cannot be
  # set where this machine's hard limits are lower (runc: "error setting rlimit … operation
  # not permitted"): open files up to the hard limit; processes 32768 (some sandboxes refuse
  # more than that even below the hard limit), which is plenty for one daemon
  limits=()
  nofile=$(ulimit -Hn); nproc=$(ulimit -Hu)
  [ "$nofile" = unlimited ] || [ "$nofile" -ge 1048576 ] || limits+=("\"nofile=$nofile:$nofile\"")
  if [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ]; then nproc=32768; fi
  limits+=("\"nproc=$nproc:$nproc\"")
  if [ -z "${CONTAINERS_CONF:-}" ]; then
    export CONTAINERS_CONF=$work/containers.conf
    (IFS=,; printf '[containers]\ndefault_ulimits = [%s]\n' "${limits[*]}") >"$CONTAINERS_CONF"
  fi
fi
echo "# engine: $engine"

# ── the base image ────────────────────────────────────────────────────────────
standin_base() {
  local major; major=$(node -p 'process.versions.node.split(".")[0]')
  local tag=localhost/aaos-node-standin:$major
  if "$engine" image inspect "$tag" >/dev/null 2>&1; then echo "$tag"; return; fi
  [ "$(id -u)" = 0 ] || die "no registry reachable and NODE_IMAGE unset: building a stand-in base needs root (or set NODE_IMAGE to a local Node image)"
  command -v debootstrap >/dev/null || die "no registry reachable and NODE_IMAGE unset: the stand-in base needs debootstrap (apt-get install debootstrap)"
  local root=$work/rootfs mirror
  rm -rf "$root"
  mirror=$(sed -n 's/^URIs: //p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
  echo "# building the stand-in base $tag (debootstrap bookworm, node $(node -v)); log: $work/debootstrap.log" >&2
  debootstrap --variant=minbase bookworm "$root" ${mirror:+"$mirror"} >"$work/debootstrap.log" 2>&1 || die "debootstrap failed: see $work/debootstrap.log"
  install -m 755 "$(command -v node)" "$root/usr/local/bin/node"
  mkdir -p "$root/usr/local/lib/node_modules" "$root/etc/ssl/certs"
  cp -a "$(npm root -g)/npm" "$root/usr/local/lib/node_modules/"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
  cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
  chroot "$root" groupadd --gid 1000 node
  chroot "$root" useradd --uid 1000 --gid node --create-home --shell /bin/bash node
  # as the official images: no apt lists or downloaded packages
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb
  tar -C "$root" -c . | "$engine" import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
    --change 'CMD ["node"]' - "$tag" >"$work/import.log" 2>&1 || die "importing the stand-in base failed: see $work/import.log"
  rm -rf "$root"
  echo "$tag"
}
base=${NODE_IMAGE:-node:22-bookworm-slim}
if ! "$engine" image inspect "$base" >/dev/null 2>&1 && ! timeout 60 "$engine" pull -q "$base" >/dev/null 2>&1; then
  [ -z "${NODE_IMAGE:-}" ] || die "base image $NODE_IMAGE is neither present nor pullable"
  echo "# $base cannot be pulled (offline?): using a local stand-in"
  base=$(standin_base) || exit 2
fi
echo "# base: $base"

# ── build ─────────────────────────────────────────────────────────────────────
version=$(node -p 'require("./package.json").version')
revision=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if ! "$engine" build "${build_flags[@]}" --network host --build-arg "NODE_IMAGE=$base" \
  --build-arg "VERSION=$version" --build-arg "REVISION=$revision" -t "$image" . >"$work/build.log" 2>&1; then
  tail -30 "$work/build.log"
  die "build failed (full log: $work/build.log)"
fi
ok "image builds ($engine build ${build_flags[*]}), $("$engine" image inspect --format '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}')"

label() { "$engine" image inspect --format "{{ index .Config.Labels \"org.opencontainers.image.$1\" }}" "$image"; }
[ "$(label version)" = "$version" ] && [ "$(label revision)" = "$revision" ] && [ "$(label licenses)" = MIT ] && [ -n "$(label title)" ] \
  && ok "OCI labels: version $version, revision $revision, licenses MIT" || not_ok "OCI labels" "$("$engine" image inspect --format '{{json .Config.Labels}}' "$image")"
hc=$("$engine" image inspect --format '{{json .Config.Healthcheck}}' "$image")
[[ $hc == *agentd*health* ]] && ok "HEALTHCHECK kept in the image: $hc" || not_ok "HEALTHCHECK kept in the image" "$hc"
leftovers=$("$engine" run --rm --network none --entrypoint sh "$image" -c 'find /var/lib/apt/lists /var/cache/apt -type f ! -name lock 2>/dev/null | wc -l')
[ "$leftovers" = 0 ] && ok "no apt lists or cache in the image" || not_ok "no apt lists or cache in the image" "$leftovers files"

# ── a daemon on a root-owned bind mount ───────────────────────────────────────
data=$(mktemp -d "$work/data.XXXXXX")
chmod 755 "$data"
cleanup() { "$engine" rm -f "$name" >/dev/null 2>&1; "$engine" volume rm -f "$name-data" >/dev/null 2>&1; rm -rf "$data"; }
trap cleanup EXIT
[ "$(stat -c %u "$data")" = "$(id -u)" ] || die "cannot make the test data dir"
check "run -d with the default command (data dir owned by uid $(id -u))" "$engine" run -d --name "$name" --network none -v "$data:/data" "$image"

# podman runs HEALTHCHECK from systemd timers; without systemd, run the image's check by hand
wait_healthy() {
  local status=
  for _ in $(seq 1 90); do
    [ "$engine" = podman ] && podman healthcheck run "$name" >/dev/null 2>&1
    status=$("$engine" inspect --format '{{.State.Health.Status}}' "$name" 2>/dev/null)
    [ "$status" = healthy ] && return 0
    [ "$("$engine" inspect --format '{{.State.Running}}' "$name")" = true ] || break
    sleep 1
  done
  printf "status '%s'\n" "$status"; "$engine" logs "$name" 2>&1 | tail -20
  return 1
}
check "the image's HEALTHCHECK reports healthy" wait_healthy
# as the container sees it (rootless podman maps uid 1000 to another uid on the host)
owner=$("$engine" exec "$name" stat -c %u /data)
[ "$owner" = 1000 ] && ok "the entrypoint gave the bind-mounted data dir to uid 1000" || not_ok "the entrypoint gave the bind-mounted data dir to uid 1000" "owner: $owner"
pid_uid=$("$engine" exec "$name" sh -c 'for p in /proc/[0-9]*; do [ "$(cat $p/comm 2>/dev/null)" = node ] && stat -c %u $p && break; done')
[ "$pid_uid" = 1000 ] && ok "agentd runs as uid 1000, not root" || not_ok "agentd runs as uid 1000, not root" "uid '${pid_uid}'"

health=$("$engine" exec "$name" agentd health 2>&1) && ok "agentd health inside: $(head -1 <<<"$health")" || not_ok "agentd health inside" "$health"

# the socket is in the bind mount: a CLI on the host reaches the daemon through it (when built here)
if [ -f dist/src/cli/agentd.js ]; then
  out=$(node dist/src/cli/agentd.js health --socket "$data/run/agentd.sock" 2>&1) && ok "the socket mounted out answers a host CLI: $(head -1 <<<"$out")" \
    || not_ok "the socket mounted out answers a host CLI" "$out"
fi

before=$("$engine" exec "$name" agentd health --json | json connections)
for _ in 1 2 3 4 5; do
  if [ "$engine" = podman ]; then podman healthcheck run "$name" >/dev/null 2>&1; else "$engine" exec "$name" agentd health >/dev/null 2>&1; fi
done
after=$("$engine" exec "$name" agentd health --json | json connections)
[ -n "$before" ] && [ "$before" = "$after" ] && ok "five health probes leave no connection open ($before before, $after after, counting the asking one)" \
  || not_ok "health probes leave no connection open" "before '$before', after '$after'"

end=$("$engine" exec "$name" agentd submit --json "Summarise the files in /data/inbox" 2>"$work/submit.err" | tail -1)
run_id=$(json run_id <<<"$end")
[ "$(json status <<<"$end")" = completed ] && ok "a goal submitted with exec completes (run $run_id)" || not_ok "a goal submitted with exec completes" "$end $(cat "$work/submit.err")"
report=$data/workspace/$run_id/report.md
grep -q "262 were rideable" "$report" 2>/dev/null && ok "its report is built from the inbox the container seeded" || not_ok "its report is built from the inbox" "$(ls -R "$data" | head -20)"

boot_id=$("$engine" exec "$name" agentd health --json | json bootstrap_agent_id)
running=$("$engine" inspect --format '{{.State.Running}}' "$name")
check "stop exits 0" "$engine" stop -t 30 "$name"
code=$("$engine" inspect --format '{{.State.ExitCode}}' "$name")
logs=$("$engine" logs "$name" 2>&1)
[ "$running" = true ] && [ "$code" = 0 ] && [[ $logs == *"SIGTERM received, shutting down"* ]] \
  && ok "agentd shut down in order on SIGTERM (exit code 0)" || not_ok "agentd shut down in order on SIGTERM" "running before: $running; exit code $code; $(tail -5 <<<"$logs")"

# ── the same container again: the same state, the same bootstrap agent ──────
check "start again on the same bind mount" "$engine" start "$name"
check "healthy again" wait_healthy
again=$("$engine" exec "$name" agentd health --json | json bootstrap_agent_id)
[ -n "$boot_id" ] && [ "$again" = "$boot_id" ] && ok "the bootstrap agent kept its id across the restart ($boot_id)" || not_ok "the bootstrap agent kept its id across the restart" "before '$boot_id', after '$again'"
# killed, not stopped: the next start finds the store and the data dir lock as a crash leaves them
check "kill -s KILL" "$engine" kill -s KILL "$name"
check "start after the kill" "$engine" start "$name"
check "healthy after the kill" wait_healthy
again=$("$engine" exec "$name" agentd health --json | json bootstrap_agent_id)
[ "$again" = "$boot_id" ] && ok "the bootstrap agent kept its id across the kill" || not_ok "the bootstrap agent kept its id across the kill" "before '$boot_id', after '$again'"
# the check says when the daemon cannot serve: without its bootstrap agent it is `degraded`
check "agentd stop --force bootstrap" "$engine" exec "$name" agentd stop --force bootstrap
unhealthy() {
  local status=
  for _ in $(seq 1 150); do
    [ "$engine" = podman ] && podman healthcheck run "$name" >/dev/null 2>&1
    status=$("$engine" inspect --format '{{.State.Health.Status}}' "$name" 2>/dev/null)
    [ "$status" = unhealthy ] && return 0
    sleep 1
  done
  printf "status '%s'\n" "$status"
  return 1
}
check "then the HEALTHCHECK reports unhealthy (after its retries)" unhealthy
check "stop exits 0 again" "$engine" stop -t 30 "$name"

# ── one flag away: goals on stdin ─────────────────────────────────────────────
out=$(printf 'write a one-line hello report\n' | "$engine" run --rm -i --network none "$image" run --stdin 2>&1) \
  && ok "run --stdin takes a goal from a pipe and exits 0" || not_ok "run --stdin takes a goal from a pipe and exits 0" "$(tail -10 <<<"$out")"

# ── locked down: no capabilities, read-only root, no new privileges, uid 1000 ──
out=$(printf 'write a one-line hello report\n' | "$engine" run --rm -i --network none --cap-drop=ALL --security-opt no-new-privileges \
  --read-only --user 1000:1000 -v "$name-data:/data" "$image" run --stdin 2>&1) \
  && ok "run --stdin with --cap-drop=ALL --read-only --security-opt no-new-privileges --user 1000:1000" \
  || not_ok "run --stdin locked down (--cap-drop=ALL --read-only --security-opt no-new-privileges --user 1000:1000)" "$(tail -10 <<<"$out")"

# ── --user on a directory that user cannot write ──────────────────────────────
locked=$(mktemp -d "$work/locked.XXXXXX")
chmod 755 "$locked"
out=$("$engine" run --rm --network none --user 1000:1000 -v "$locked:/data" "$image" 2>&1)
code=$?
rm -rf "$locked"
[ "$code" = 1 ] && [[ $out == *"/data is not writable by uid 1000"* ]] && ok "--user 1000:1000 on a root-owned data dir stops with a clear message" \
  || not_ok "--user 1000:1000 on a root-owned data dir stops with a clear message" "exit $code: $out"

echo "container-check: $passed passed, $failed failed ($engine, image $image)"
[ "$failed" = 0 ]
