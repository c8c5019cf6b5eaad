#!/usr/bin/env bash
# Takes the screenshots of the Servers menu and the Add Server window,
# running the real app under Xvfb on the demo Server (This Mac) with two
# Servers over SSH in its preferences: mini.socketbar.test, which does not
# resolve (so the menu shows it unreachable, retrying), and the selected
# This Mac.
#
#   app/screenshots/servers.sh   (needs apache2, xvfb, imagemagick, x11-utils, xdotool)
set -euo pipefail
cd "$(dirname "$0")/../.."
for tool in import xwininfo xdotool xvfb-run dbus-run-session; do
  command -v "$tool" >/dev/null || { echo "servers.sh needs $tool (apt-get install imagemagick x11-utils xdotool xvfb dbus)" >&2; exit 1; }
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

prefs="$XDG_CONFIG_HOME/fyne/com.socketbar.app"
mkdir -p "$prefs"
cat > "$prefs/preferences.json" <<'JSON'
{"servers":"[{\"host\":\"admin@mini.socketbar.test\"},{\"host\":\"admin@xserve.socketbar.test:2222\"}]","selected":""}
JSON

# shot NAME SHOW [CLICK]: open the window in SHOW, click its menu bar at
# CLICK (x,y in the window) if given, and save the window as NAME.png.
shot() {
  cat > "$work/shot.sh" <<SCRIPT
#!/usr/bin/env bash
SOCKETBAR_SHOW='$2' "$sb" &
app=\$!
for _ in \$(seq 1 100); do
  id=\$(xwininfo -root -tree | awk -v t='$4' 'index(\$0, t) {print \$1; exit}')
  [ -n "\$id" ] && break; sleep 0.1
done
[ -n "\$id" ] || { echo "no window appeared" >&2; kill \$app; exit 1; }
sleep 5   # the Servers' first reads over SSH
if [ -n "$3" ]; then
  xdotool mousemove --window "\$id" ${3%,*} ${3#*,}
  sleep 0.5
  xdotool mousedown 1; sleep 0.1; xdotool mouseup 1
  sleep 1
fi
import -window "\$id" "$out/$1.png"
kill \$app
SCRIPT
  chmod +x "$work/shot.sh"
  rm -f "$out/$1.png"
  dbus-run-session -- xvfb-run -a -s "-screen 0 1280x800x24" "$work/shot.sh" > "$work/shot.log" 2>&1 || true
  [ -s "$out/$1.png" ] || { echo "no screenshot for $1:" >&2; cat "$work/shot.log" >&2; exit 1; }
  echo "saved $out/$1.png"
}

shot servers-menu routes "${SERVERS_MENU_AT:-126,14}" 'Service Proxy Routes'
shot add-server "server:admin@mini.local" "" 'Add Server'
