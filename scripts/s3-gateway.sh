#!/usr/bin/env bash
# A real S3 server for the offsite tests: Ceph's RADOS Gateway from Debian.
#
#   scripts/s3-gateway.sh start|stop|status [DIR]
#
# One monitor, one OSD (bluestore on a 12 GiB file) and one radosgw answering
# S3 on 127.0.0.1:7480, every file inside DIR (default /tmp/lrs3; keep it
# short: admin socket paths are limited to 108 bytes). Installs nothing: it
# needs `apt-get install --no-install-recommends ceph-mon ceph-osd radosgw
# ceph-common`. `start` makes the cluster the first time (bootstrapped as
# Ceph's vstart.sh does), starts whichever daemon is not running, and creates
# the S3 user "vendor", whose keys it writes to DIR/s3.json and, in the AWS
# shared-credentials format, DIR/vendor.credentials (both 0600). `stop`
# stops the daemons by the pids in their pid files; the data stays.
set -euo pipefail

cmd="${1:-}"
DIR="${2:-${LASTRESORT_S3_DIR:-/tmp/lrs3}}"
PORT=7480
ENDPOINT="http://127.0.0.1:${PORT}"
CONF="$DIR/ceph.conf"
RGW=client.rgw.gw
DAEMONS=(mon.a osd.0 "$RGW")
# The OSD's disk: a file allocated up front, so a host disk filled by
# something else cannot stop the OSD in the middle of a write (it aborts on ENOSPC).
BLOCK_BYTES=$((12 * 1024 * 1024 * 1024))

die() { printf 's3-gateway: %s\n' "$*" >&2; exit 1; }
say() { printf 's3-gateway: %s\n' "$*" >&2; }

pid_of() { cat "$DIR/run/$1.pid" 2>/dev/null || true; }
alive() { local p; p="$(pid_of "$1")"; [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }

s3_answers() {
  # No curl on a bare machine: a raw HTTP request over bash's /dev/tcp.
  local line
  line="$( (exec 3<>"/dev/tcp/127.0.0.1/$PORT" && printf 'GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3 && head -c 12 <&3) 2>/dev/null || true)"
  [[ "$line" == HTTP/1.?\ [24]* ]]
}

wait_for() { # seconds, description, test command...
  local seconds="$1" what="$2"; shift 2
  for _ in $(seq 1 $((seconds * 4))); do
    "$@" && return 0
    sleep 0.25
  done
  die "$what did not happen within ${seconds} s; see the logs in $DIR/log"
}

check_installed() {
  local missing=()
  for p in ceph-mon ceph-osd radosgw radosgw-admin ceph ceph-authtool monmaptool; do
    command -v "$p" >/dev/null || missing+=("$p")
  done
  [ "${#missing[@]}" -eq 0 ] || die "missing ${missing[*]}; install them with: apt-get install --no-install-recommends ceph-mon ceph-osd radosgw ceph-common"
  local free_kb
  free_kb="$(df -Pk "$(dirname "$DIR")" | awk 'NR==2 {print $4}')"
  [ -s "$DIR/keyring" ] || [ "$free_kb" -gt $((BLOCK_BYTES / 1024 + 1048576)) ] || die "not enough free disk for the store under $(dirname "$DIR"): it needs $((BLOCK_BYTES / 1073741824 + 1)) GiB"
  [ "${#DIR}" -le 60 ] || die "the folder $DIR is too long (admin socket paths are limited to 108 bytes); use a shorter one"
}

write_conf() {
  local fsid="$1"
  cat >"$CONF" <<EOF
[global]
fsid = $fsid
mon host = [v2:127.0.0.1:3300,v1:127.0.0.1:6789]
public addr = 127.0.0.1
cluster addr = 127.0.0.1
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
keyring = $DIR/keyring
run dir = $DIR/run
admin socket = $DIR/run/\$name.asok
pid file = $DIR/run/\$name.pid
log file = $DIR/log/\$name.log
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
osd crush chooseleaf type = 0
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon max pg per osd = 1000
mon warn on pool no redundancy = false
[mon]
mon data = $DIR/mon.\$id
mon cluster log file = $DIR/log/cluster.log
paxos propose interval = 0.05
[osd]
osd data = $DIR/osd.\$id
osd objectstore = bluestore
bluestore block create = true
bluestore block size = $BLOCK_BYTES
bluestore block preallocate file = true
# Small objects (pointers) take 4 KiB, not 64 KiB.
bluestore min alloc size = 4096
osd memory target = 1073741824
[$RGW]
rgw frontends = beast endpoint=127.0.0.1:$PORT
rgw data = $DIR/rgw
# Deleted objects give their space back within minutes (the default waits 2 hours).
rgw gc obj min wait = 60
rgw gc processor period = 60
EOF
}

ceph_cli() { ceph -c "$CONF" --connect-timeout 30 "$@"; }

# The cluster itself: keys, monitor map, monitor and OSD stores (as vstart.sh does).
bootstrap() {
  say "making a new cluster in $DIR"
  rm -rf "$DIR"
  mkdir -p "$DIR/run" "$DIR/log" "$DIR/rgw" "$DIR/mon.a" "$DIR/osd.0"
  chmod 700 "$DIR"
  local fsid osd_uuid osd_key
  fsid="$(cat /proc/sys/kernel/random/uuid)"
  osd_uuid="$(cat /proc/sys/kernel/random/uuid)"
  write_conf "$fsid"
  ceph-authtool --create-keyring "$DIR/keyring" --gen-key --name=mon. --cap mon 'allow *' >/dev/null
  ceph-authtool "$DIR/keyring" --gen-key --name=client.admin --cap mon 'allow *' --cap osd 'allow *' --cap mds 'allow *' --cap mgr 'allow *' >/dev/null
  monmaptool --create --clobber --fsid "$fsid" --addv a '[v2:127.0.0.1:3300,v1:127.0.0.1:6789]' "$DIR/monmap" >/dev/null
  ceph-mon -c "$CONF" --mkfs -i a --monmap "$DIR/monmap" --keyring "$DIR/keyring"
  ceph-mon -c "$CONF" -i a
  osd_key="$(ceph-authtool --gen-print-key)"
  printf '{"cephx_secret": "%s"}\n' "$osd_key" >"$DIR/osd.0.json"
  ceph_cli osd new "$osd_uuid" -i "$DIR/osd.0.json" >/dev/null
  rm -f "$DIR/osd.0.json"
  ceph-osd -c "$CONF" -i 0 --mkfs --key "$osd_key" --osd-uuid "$osd_uuid" >>"$DIR/log/mkfs.log" 2>&1 || die "ceph-osd --mkfs failed; see $DIR/log/mkfs.log and $DIR/log/osd.0.log"
  printf '[osd.0]\n\tkey = %s\n' "$osd_key" >>"$DIR/keyring"
  ceph_cli auth get-or-create "$RGW" mon 'allow rw' osd 'allow rwx' >>"$DIR/keyring"
}

random_text() { tr -dc "$1" </dev/urandom | head -c "$2" || true; }

# The vendor's S3 user, made once; its keys go where the tests and support read them.
ensure_vendor_user() {
  [ -s "$DIR/s3.json" ] && return 0
  local access secret
  access="$(random_text 'A-Z0-9' 20)"
  secret="$(random_text 'A-Za-z0-9' 40)"
  # Just after the first start the gateway may still be setting up its zone: try again for a while.
  local tries=0 err
  until err="$(radosgw-admin -c "$CONF" -n client.admin user create --uid vendor --display-name "Vendor support" --access-key "$access" --secret "$secret" 2>&1 >/dev/null)"; do
    tries=$((tries + 1))
    [ "$tries" -lt 20 ] || die "could not create the vendor user: $err"
    sleep 1
  done
  umask 077
  printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$access" "$secret" >"$DIR/vendor.credentials"
  printf '{"endpoint": "%s", "region": "us-east-1", "dir": "%s", "conf": "%s", "vendor": {"user": "vendor", "accessKeyId": "%s", "secretAccessKey": "%s", "credentialsFile": "%s"}}\n' \
    "$ENDPOINT" "$DIR" "$CONF" "$access" "$secret" "$DIR/vendor.credentials" >"$DIR/s3.json.tmp"
  mv "$DIR/s3.json.tmp" "$DIR/s3.json"
}

start() {
  check_installed
  if [ ! -s "$DIR/keyring" ] || [ ! -f "$DIR/osd.0/ready" ]; then bootstrap; fi
  mkdir -p "$DIR/run" "$DIR/log"
  alive mon.a || ceph-mon -c "$CONF" -i a
  alive osd.0 || ceph-osd -c "$CONF" -i 0
  wait_for 60 "the OSD coming up" sh -c "ceph -c '$CONF' --connect-timeout 5 osd stat 2>/dev/null | grep -q '1 up'"
  alive "$RGW" || radosgw -c "$CONF" -n "$RGW"
  wait_for 60 "S3 answering on $ENDPOINT" s3_answers
  ensure_vendor_user
  say "S3 answers on $ENDPOINT; keys in $DIR/s3.json"
  cat "$DIR/s3.json"
}

stop() {
  local d p
  for d in "$RGW" osd.0 mon.a; do
    p="$(pid_of "$d")"
    [ -n "$p" ] && kill -0 "$p" 2>/dev/null || continue
    kill "$p"
    for _ in $(seq 1 120); do kill -0 "$p" 2>/dev/null || break; sleep 0.25; done
    if kill -0 "$p" 2>/dev/null; then say "$d (pid $p) did not stop within 30 s; killing it"; kill -9 "$p" 2>/dev/null || true; fi
    rm -f "$DIR/run/$d.pid"
  done
  say "stopped"
}

status() {
  local all=0 d
  for d in "${DAEMONS[@]}"; do
    if alive "$d"; then echo "$d: running (pid $(pid_of "$d"))"; else echo "$d: not running"; all=1; fi
  done
  if s3_answers; then echo "s3: answering on $ENDPOINT"; else echo "s3: not answering on $ENDPOINT"; all=1; fi
  return $all
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status [DIR]" >&2; exit 2 ;;
esac
