#!/bin/sh
# Starts agentd in the container as the unprivileged user `node` (uid 1000, gid 1000).
#
# Started as root (the default): the data dir is handed to uid 1000 when it is not already
# its own — a bind mount of a directory root created (`-v /srv/aaos:/data`) would otherwise
# fail with EACCES — then root is dropped for good (setpriv: uid, gid, groups, no
# capabilities, no_new_privs) before agentd starts. Started as another user (`--user
# 1000:1000`, Kubernetes runAsUser), nothing is changed: a data dir that user cannot write
# is reported here, with what to do, instead of as EACCES from deep inside agentd.
set -eu

data="${AAOS_DATA_DIR:-/data}"
uid=1000
gid=1000

say() { printf 'aaos-entrypoint: %s\n' "$*" >&2; }

if [ "$(id -u)" = 0 ]; then
  mkdir -p "$data"
  # only what is not uid 1000's already; -xdev: never into another mount under the data dir,
  # -h: a symbolic link itself, never what it points to
  changed=$(find "$data" -xdev ! -user "$uid" -print -exec chown -h "$uid:$gid" {} + | wc -l)
  if [ "$changed" -gt 0 ]; then say "gave $changed entries of $data to uid $uid (the user agentd runs as)"; fi
  exec setpriv --reuid="$uid" --regid="$gid" --init-groups --inh-caps=-all --bounding-set=-all --no-new-privs -- agentd "$@"
fi

if [ ! -w "$data" ] || [ ! -x "$data" ]; then
  say "$data is not writable by uid $(id -u) (it belongs to uid $(stat -c %u "$data" 2>/dev/null || echo '?')):"
  say "run the container without --user (the entrypoint then gives $data to uid $uid and drops root),"
  say "or make the host directory that user's (chown -R $(id -u):$(id -g) <dir>)"
  exit 1
fi
exec agentd "$@"
