#!/usr/bin/env bash
# Installs what Socketbar needs and is missing, and puts Go on PATH.
# Sourced by .dev/app, .dev/test and .ci/run (which then call setup); run on
# its own, it only installs. Safe to run again: it installs nothing twice.
#
# Debian/Ubuntu: apt packages (through sudo when not root; apt-get update
# only when something is missing), and Go when there is none: Go 1.21 or later
# fetches the toolchain go.mod asks for by itself; an older Go (Debian 12 has
# 1.19) fetches it once through the Go module proxy into /usr/local/go.
# macOS: the Xcode command line tools (the C compiler the app needs) and Go
# (through Homebrew when it is there).

# as_root runs a command as root: directly when root, else through sudo.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    echo "Installing needs root: run this as root, or install sudo." >&2
    return 1
  fi
}

# go_wanted prints the Go release go.mod asks for.
go_wanted() {
  awk '$1 == "toolchain" { sub(/^go/, "", $2); t = $2 } $1 == "go" { g = $2 } END { print (t != "" ? t : g) }' go.mod
}

# go_switches says whether the go on PATH is 1.21 or later, which fetches
# the toolchain go.mod asks for by itself.
go_switches() {
  local v
  command -v go >/dev/null 2>&1 || return 1
  v=$(GOTOOLCHAIN=local go version | awk '{ sub(/^go/, "", $3); print $3 }')
  [ "${v%%.*}" -gt 1 ] || { v=${v#1.}; [ "${v%%[!0-9]*}" -ge 21 ]; }
}

# go_bootstrap DIR installs go.mod's Go in DIR with an older go: it
# downloads the golang.org/toolchain module, which the module proxy serves
# and go checks against the checksum database, as Go 1.21+ does itself.
go_bootstrap() {
  local dest=$1 v arch tmp
  v=$(go_wanted)
  case "$(uname -m)" in
    x86_64) arch=amd64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "Install Go $v from https://go.dev/dl/ and run this again." >&2; return 1 ;;
  esac
  if [ -e "$dest" ]; then
    echo "$dest holds a Go older than 1.21: replace it with Go $v from https://go.dev/dl/." >&2
    return 1
  fi
  echo "== installing Go $v in $dest (the go on PATH, $(go version | awk '{print $3}'), cannot fetch it by itself)"
  tmp=$(mktemp -d)
  (cd "$tmp" && GO111MODULE=on GOFLAGS=-modcacherw GOPATH="$tmp" GOMODCACHE="$tmp/mod" \
    go mod download "golang.org/toolchain@v0.0.1-go$v.linux-$arch")
  local dir="$tmp/mod/golang.org/toolchain@v0.0.1-go$v.linux-$arch"
  chmod a+x "$dir"/bin/* "$dir"/pkg/tool/*/*   # a module zip keeps no modes
  as_root cp -R "$dir" "$dest"
  rm -rf "$tmp"
}

setup_debian() {
  local missing=() pkg
  command -v gcc >/dev/null 2>&1 || missing+=(gcc)
  command -v patch >/dev/null 2>&1 || missing+=(patch)
  [ -x /usr/sbin/apache2 ] || missing+=(apache2)
  # The SSH transport's tests (issue 17) run a real sshd on loopback, and
  # test sudo's password path as a throwaway account.
  [ -x /usr/sbin/sshd ] || missing+=(openssh-server)
  command -v ssh >/dev/null 2>&1 || missing+=(openssh-client)
  command -v sudo >/dev/null 2>&1 || missing+=(sudo)
  for pkg in libgl1-mesa-dev xorg-dev ca-certificates; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  command -v go >/dev/null 2>&1 || missing+=(golang-go)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "== installing: ${missing[*]}"
    as_root apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
  go_switches || go_bootstrap /usr/local/go
  PATH="/usr/local/go/bin:$PATH"
}

setup_macos() {
  if ! xcode-select -p >/dev/null 2>&1; then
    echo "Socketbar's app needs the Xcode command line tools (a C compiler)." >&2
    echo "Run 'xcode-select --install', finish the installer, and run this again." >&2
    return 1
  fi
  if ! command -v go >/dev/null 2>&1; then
    if command -v brew >/dev/null 2>&1; then
      echo "== installing: go (Homebrew)"
      brew install go
    else
      echo "Install Go from https://go.dev/dl/ (the .pkg) or Homebrew ('brew install go'), and run this again." >&2
      return 1
    fi
  fi
  go_switches || { echo "Go 1.21 or later is needed (it fetches the Go go.mod asks for): 'brew upgrade go' or https://go.dev/dl/." >&2; return 1; }
}

# setup installs what is missing and leaves a go on PATH that builds
# Socketbar; it prints which Go that is.
setup() {
  [ -d /usr/local/go/bin ] && PATH="/usr/local/go/bin:$PATH"
  case "$(uname -s)" in
    Darwin) setup_macos ;;
    Linux)
      if command -v apt-get >/dev/null 2>&1; then
        setup_debian
      else
        echo "Not Debian or Ubuntu: install gcc, patch, Apache httpd, OpenSSH (client and server), sudo, the OpenGL and X11 headers, and Go $(go_wanted) yourself." >&2
      fi
      ;;
  esac
  export PATH
  command -v go >/dev/null 2>&1 || { echo "No go on PATH after set-up." >&2; return 1; }
  echo "== $(go version)"   # Go 1.21+ fetches go.mod's toolchain here if it is newer
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  cd "$(dirname "$0")/.."
  setup
fi
