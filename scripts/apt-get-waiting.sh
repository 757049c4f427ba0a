# Sourced by scripts/setup.sh: apt_get, an apt-get that waits for apt's locks.
#
# Another apt-get or dpkg (unattended-upgrades on a fresh machine, a second
# set-up running in parallel) holds apt's locks for minutes; apt-get then
# fails at once with "Could not get lock". apt_get waits instead, bounded:
# dpkg's locks through apt's own DPkg::Lock::Timeout, and any lock error
# (apt-get update's lists lock included) by retrying every few seconds, for
# at most TESSERA_APT_LOCK_WAIT seconds in all (default 600). Other failures
# are returned at once.
apt_get() {
  local wait=${TESSERA_APT_LOCK_WAIT:-600} poll=${TESSERA_APT_LOCK_POLL:-5}
  local start=$SECONDS err status
  err=$(mktemp)
  while :; do
    status=0
    apt-get -o DPkg::Lock::Timeout="$wait" "$@" </dev/null 2>"$err" || status=$?
    cat "$err" >&2
    if [ "$status" -eq 0 ]; then
      rm -f "$err"
      return 0
    fi
    if ! grep -qE 'Could not get lock|Unable to acquire the dpkg frontend lock|Unable to lock|is another process using it' "$err"; then
      rm -f "$err"
      return "$status"
    fi
    if [ $((SECONDS - start)) -ge "$wait" ]; then
      printf 'tessera setup: apt is still locked by another process after %ss (TESSERA_APT_LOCK_WAIT); try again when it is done\n' "$wait" >&2
      rm -f "$err"
      return "$status"
    fi
    printf 'tessera setup: another apt-get or dpkg holds apt'"'"'s lock; waiting (at most %ss in all)\n' "$wait" >&2
    sleep "$poll"
  done
}
