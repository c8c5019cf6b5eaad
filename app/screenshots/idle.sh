#!/usr/bin/env bash
# Prints what Socketbar costs while it idles: CPU (share of one core,
# from /proc/PID/stat utime+stime) and RSS (VmRSS), running the real app
# under Xvfb on the demo Server, once with no window open (in the tray)
# and once with the routes window open.
#
#   app/screenshots/idle.sh [SECONDS]   (default 40; needs apache2, xvfb, dbus)
#
# Then the same for an empty Fyne app (fynebare, next to this script): what
# Fyne's own loop costs, which the app cannot bring down.
#
# Xvfb has no tray host, so for the no-window case trayhost (next to this
# script) stands in for a panel's StatusNotifierWatcher: without one the
# app, rightly, quits when its last window closes.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-40}
for tool in xvfb-run dbus-run-session; do
  command -v "$tool" >/dev/null || { echo "idle.sh needs $tool (apt-get install xvfb dbus)" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'kill -INT "$demo_pid" 2>/dev/null; wait "$demo_pid" 2>/dev/null; rm -rf "$work"' EXIT

go build -o "$work/socketbar" .
sb="$work/socketbar"
go build -o "$work/trayhost" ./app/screenshots/trayhost
go build -o "$work/fynebare" ./app/screenshots/fynebare
export SOCKETBAR_ROOT="$work/demo" XDG_CONFIG_HOME="$work/config" HOME="$work"
"$sb" demo --dir "$SOCKETBAR_ROOT" > "$work/demo.log" 2>&1 &
demo_pid=$!
for _ in $(seq 1 100); do grep -q "Press Ctrl-C" "$work/demo.log" && break; sleep 0.1; done
grep -q "Press Ctrl-C" "$work/demo.log" || { cat "$work/demo.log"; exit 1; }

# measure LABEL SHOW TRAY [CMD]: run the app (or CMD) opening SHOW ("none":
# no window), with a stand-in tray host when TRAY is 1, and print its idle
# figures.
measure() {
  cat > "$work/measure.sh" <<SCRIPT
#!/usr/bin/env bash
host=
if [ "$3" = 1 ]; then "$work/trayhost" & host=\$!; sleep 0.5; fi
SOCKETBAR_SHOW='$2' ${4:-"$sb"} > "$work/app.log" 2>&1 &
app=\$!
sleep 8   # start-up, first load and first frames are not idle
hz=\$(getconf CLK_TCK)
t0=\$(awk '{print \$14+\$15}' /proc/\$app/stat); s0=\$(date +%s.%N)
sleep $secs
t1=\$(awk '{print \$14+\$15}' /proc/\$app/stat); s1=\$(date +%s.%N)
rss=\$(awk '/VmRSS/ {print \$2}' /proc/\$app/status)
awk -v l="$1" -v t0=\$t0 -v t1=\$t1 -v s0=\$s0 -v s1=\$s1 -v hz=\$hz -v rss=\$rss \
  'BEGIN { printf "%-22s CPU %5.2f %% of a core over %.0f s, RSS %3d MiB\n", l, 100*(t1-t0)/hz/(s1-s0), s1-s0, rss/1024 }'
kill \$app \$host; wait 2>/dev/null; true
SCRIPT
  chmod +x "$work/measure.sh"
  dbus-run-session -- xvfb-run -a -s "-screen 0 1280x800x24" "$work/measure.sh" 2>&1 | grep -v "fd limit" || true
}

measure "no window (tray)" none 1
measure "routes window open" routes 0
# The same with an empty Fyne app: what Fyne itself costs.
measure "bare Fyne, no window" none 1 "$work/fynebare"
measure "bare Fyne, one window" none 0 "$work/fynebare window"
