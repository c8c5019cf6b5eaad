#!/usr/bin/env bash
# Takes a screenshot of each Socketbar window, running the real app under
# Xvfb on the demo Server, and saves them next to this script.
#
#   app/screenshots/take.sh        (from the repository; needs apache2, xvfb,
#                                   imagemagick and x11-utils)
set -euo pipefail
cd "$(dirname "$0")/../.."
for tool in import xwininfo xvfb-run dbus-run-session; do
  command -v "$tool" >/dev/null || { echo "take.sh needs $tool (apt-get install imagemagick x11-utils xvfb dbus)" >&2; exit 1; }
done
out=app/screenshots
work=$(mktemp -d)
trap 'kill -INT "$demo_pid" 2>/dev/null; wait "$demo_pid" 2>/dev/null; rm -rf "$work"' EXIT

go build -o "$work/socketbar" .
sb="$work/socketbar"
export SOCKETBAR_ROOT="$work/demo" XDG_CONFIG_HOME="$work/config" HOME="$work"

"$sb" demo --dir "$SOCKETBAR_ROOT" > "$work/demo.log" 2>&1 &
demo_pid=$!
for _ in $(seq 1 100); do grep -q "Press Ctrl-C" "$work/demo.log" && break; sleep 0.1; done
grep -q "Press Ctrl-C" "$work/demo.log" || { cat "$work/demo.log"; exit 1; }
state() { python3 -c "import json,sys; print(json.load(open('$SOCKETBAR_ROOT/socketbar-demo.json'))['$1'])"; }
https=$(state https)
echo_url="http://127.0.0.1:$(state echo_port)/echo/"

# shot NAME SHOW: open the window in SHOW and save it as NAME.png.
shot() {
  cat > "$work/shot.sh" <<SCRIPT
#!/usr/bin/env bash
SOCKETBAR_ROOT='$SOCKETBAR_ROOT' SOCKETBAR_SHOW='$2' "$sb" &
app=\$!
for _ in \$(seq 1 100); do
  id=\$(xwininfo -root -tree | awk '/"[^"]*Socketbar[^"]*"/ {print \$1; exit}')
  [ -n "\$id" ] && break; sleep 0.1
done
[ -n "\$id" ] || { echo "no Socketbar window appeared" >&2; kill \$app; exit 1; }
sleep 2   # let a test or a transaction the window started finish drawing
import -window "\$id" "$out/$1.png"
kill \$app
SCRIPT
  chmod +x "$work/shot.sh"
  rm -f "$out/$1.png"
  dbus-run-session -- xvfb-run -a -s "-screen 0 1280x800x24" "$work/shot.sh" > "$work/shot.log" 2>&1 || true
  [ -s "$out/$1.png" ] || { echo "no screenshot for $1:" >&2; cat "$work/shot.log" >&2; exit 1; }
  echo "saved $out/$1.png"
}

mkdir -p "$work/nothing"
SOCKETBAR_ROOT="$work/nothing" shot no-server routes   # what a new user sees first
shot test-failing "test:wss://127.0.0.1:$https/echo/"
shot add-route "add:/echo/=$echo_url"
"$sb" add /echo/ "$echo_url" > /dev/null
shot routes routes
shot test-passing "test:wss://127.0.0.1:$https/echo/"
shot test-site "test:wss://chat.socketbar.test:$https/echo/ 127.0.0.1:$https"   # the custom site, by --connect
shot test-proxy "proxy:start"
shot log log
shot about about
