#!/usr/bin/env bash
# DS Export set-up for Linux and macOS:
#   1. finds Python >= 3.10,
#   2. creates (or reuses) a private virtual environment in DS Export's data folder
#      (Linux: ${XDG_DATA_HOME:-~/.local/share}/dsexport/venv,
#       macOS: ~/Library/Application Support/dsexport/venv),
#   3. installs DS Export into it: this checkout, or what --from names (re-running upgrades),
#   4. registers the helper with every browser found (`dsexport install`); with none found it
#      installs Debian's Chromium on Debian and Ubuntu (as root or with sudo), and elsewhere
#      says what to install and exits with status 3,
#   5. runs `dsexport demo` when Chromium is available,
#   6. prints the one manual step: loading the extension (`dsexport extension`).
# Browser knowledge lives in Python (dsexport/installer/browsers.py), not here.
#
#   bash install/install.sh                       install or upgrade
#   bash install/install.sh --browser chromium    options other than ours go to `dsexport install`
#   bash install/install.sh --no-demo             skip the demo (or DSEXPORT_NO_DEMO=1)
#   bash install/install.sh --no-browser          never install a browser
#   bash install/install.sh --from dsexport-0.1.0-py3-none-any.whl   install this instead
#   bash install/install.sh --uninstall           remove the registration and the environment
#   bash install/install.sh --uninstall --browser firefox   unregister Firefox only
#   DSEXPORT_PYTHON=/usr/bin/python3.12 bash install/install.sh   use this interpreter
#
# Exit status: 0 installed; 3 installed, but no supported browser to register (the message says
# what to install); 1 anything else failed (the message says what).
set -eu

here=$(cd "$(dirname "$0")" && pwd -P)
repo=$(cd "$here/.." && pwd -P)

EXIT_NO_BROWSER=3

say() { printf '%s\n' "$*"; }
fail() {
  printf 'install.sh: %s\n' "$*" >&2
  exit 1
}

uninstall=0
no_demo=${DSEXPORT_NO_DEMO:-0}
no_browser=0
dry_run=0
source_spec=""
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --uninstall) uninstall=1 ;;
    --no-demo) no_demo=1 ;;
    --no-browser) no_browser=1 ;;
    --from)
      [ $# -ge 2 ] || fail "--from needs what to install: a wheel, a folder or a pip requirement"
      source_spec=$2
      shift
      ;;
    -h | --help)
      sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      [ "$1" = "--dry-run" ] && dry_run=1
      args+=("$1")
      ;;
  esac
  shift
done
if [ -z "$source_spec" ]; then
  if [ -f "$repo/pyproject.toml" ] && [ -d "$repo/host/dsexport" ]; then
    source_spec=$repo
  else
    source_spec=dsexport
  fi
fi

# Same folder as dsexport.paths.data_dir(), which the Python side uses.
case "${XDG_DATA_HOME:-}" in
  /*) data_dir="$XDG_DATA_HOME/dsexport" ;;
  *)
    case "$(uname -s)" in
      Darwin) data_dir="$HOME/Library/Application Support/dsexport" ;;
      *) data_dir="$HOME/.local/share/dsexport" ;;
    esac
    ;;
esac
venv="$data_dir/venv"
dsexport="$venv/bin/dsexport"
link="$HOME/.local/bin/dsexport"

# A link in ~/.local/bin is made only when that folder is on PATH, and removed only if it is ours.
on_path() { case ":$PATH:" in *":$1:"*) return 0 ;; *) return 1 ;; esac }
link_is_ours() { [ -L "$link" ] && [ "$(readlink "$link")" = "$dsexport" ]; }

if [ "$uninstall" = 1 ]; then
  if [ -x "$dsexport" ]; then
    "$dsexport" uninstall ${args[@]+"${args[@]}"}
  else
    say "No DS Export environment at $venv; nothing registered by it to remove."
  fi
  # --uninstall --browser NAME unregisters that browser; while others stay registered (the
  # install record is still there) their helper needs the environment.
  if [ -f "$data_dir/install-state.json" ] || [ "$dry_run" = 1 ]; then
    say "The environment $venv stays: other browsers still use it."
    exit 0
  fi
  if link_is_ours; then rm -f "$link" && say "Removed the link $link."; fi
  if [ -d "$venv" ]; then rm -rf "$venv" && say "Removed the environment $venv."; fi
  rmdir "$data_dir" 2>/dev/null || true
  say "Your saved images, settings and catalog are kept. Remove the extension itself at"
  say "chrome://extensions (or about:addons in Firefox)."
  exit 0
fi

# ---------------------------------------------------------------- 1. Python >= 3.10
python=""
for candidate in ${DSEXPORT_PYTHON:-} python3 python3.13 python3.12 python3.11 python3.10 python; do
  command -v "$candidate" >/dev/null 2>&1 || continue
  if "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' 2>/dev/null; then
    python=$(command -v "$candidate")
    break
  fi
done
[ -n "$python" ] || fail "DS Export needs Python 3.10 or newer, and none was found on PATH.
Install it (Debian/Ubuntu: sudo apt install python3 python3-venv; macOS: brew install python,
or python.org), or set DSEXPORT_PYTHON=/path/to/python3 and run this again."
say "Python: $python ($("$python" -c 'import platform; print(platform.python_version())'))"

# ---------------------------------------------------------------- 2. private environment
if [ -d "$venv" ] && ! "$venv/bin/python" -c '' >/dev/null 2>&1; then
  # The interpreter it was made from is gone (system upgrade): start over.
  say "The environment in $venv is broken; recreating it."
  rm -rf "$venv"
fi
if [ ! -d "$venv" ]; then
  say "Creating the environment $venv"
  mkdir -p "$data_dir"
  "$python" -m venv "$venv" || fail "could not create a virtual environment with $python.
On Debian/Ubuntu install the venv module: sudo apt install python3-venv"
fi

# ---------------------------------------------------------------- 3. install / upgrade
say "Installing DS Export from $source_spec"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade "$source_spec" ||
  fail "pip could not install DS Export into $venv (see its message above; no network?)."
"$venv/bin/python" -c 'import dsexport; print("Installed DS Export", dsexport.__version__)'

# ---------------------------------------------------------------- 4. register with browsers
register() {
  set +e
  "$dsexport" install ${args[@]+"${args[@]}"}
  status=$?
  set -e
  [ "$status" = 0 ] || [ "$status" = "$EXIT_NO_BROWSER" ] ||
    fail "\`dsexport install\` failed with status $status (its message is above). Fix that, then run this script again."
  return "$status"
}

# apt's candidate for a package, or nothing ("(none)" when apt knows the name but has no build).
apt_candidate() {
  command -v apt-cache >/dev/null 2>&1 || return 0
  apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: *//p' | grep -v '^(none)$' || true
}

is_debian_like() {
  [ -r /etc/os-release ] || return 1
  # shellcheck disable=SC1091
  (. /etc/os-release && case " ${ID:-} ${ID_LIKE:-} " in *" debian "* | *" ubuntu "*) exit 0 ;; *) exit 1 ;; esac)
}

no_browser_help() {
  say ""
  say "DS Export is installed, but no supported browser was found, so it is not registered yet."
  case "$(uname -s)" in
    Darwin)
      say "Install Google Chrome (https://www.google.com/chrome/), Chromium (brew install --cask"
      say "chromium), Microsoft Edge, Brave or Firefox, start it once, then run this script again."
      ;;
    *)
      if is_debian_like && [ -n "$(apt_candidate chromium)" ]; then
        say "Install one, e.g. Debian's Chromium (sudo apt-get install chromium, or run this script"
        say "without --no-browser), Google Chrome, Microsoft Edge, Brave or Firefox; start it once,"
        say "then run this script again."
      elif is_debian_like; then
        say "This system has no installable 'chromium' package (Ubuntu ships Chromium only as a"
        say "snap, whose sandbox normally cannot start DS Export's helper). Install Google Chrome"
        say "(https://www.google.com/chrome/, the .deb), Microsoft Edge, Brave or Firefox, start it"
        say "once, then run this script again."
      else
        say "Install Chromium (Fedora: sudo dnf install chromium; Arch: sudo pacman -S chromium;"
        say "openSUSE: sudo zypper install chromium), Google Chrome, Microsoft Edge, Brave or"
        say "Firefox, start it once, then run this script again."
      fi
      ;;
  esac
}

# Runs its arguments as root: directly, or through sudo (which may ask for a password).
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    say "This step needs root, and sudo is not available; as root run:  $*"
    return 1
  fi
}

apt_lists_empty() { ! ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1; }

# Debian's own Chromium (what Debian's apt calls chromium; not a snap): the demo drives it and
# the helper works with it. A fresh machine may have no package lists yet, so they are fetched
# first; unattended upgrades may hold apt's lock for a while, so apt waits for it.
install_chromium() {
  local apt=(apt-get -o DPkg::Lock::Timeout=300 -qq)
  export DEBIAN_FRONTEND=noninteractive
  if [ -z "$(apt_candidate chromium)" ] && apt_lists_empty; then
    say "Fetching the package lists (apt-get update)..."
    as_root "${apt[@]}" update || return 1
  fi
  [ -n "$(apt_candidate chromium)" ] || return 2
  say "No supported browser was found: installing Debian's Chromium $(apt_candidate chromium),"
  say "so DS Export has a browser to work with (--no-browser skips this)."
  [ "$(id -u)" -eq 0 ] || say "(sudo may ask for your password)"
  as_root "${apt[@]}" install -y --no-install-recommends chromium
}

status=0
register || status=$?
[ "$dry_run" = 1 ] && exit "$status"
installed_chromium=""
if [ "$status" = "$EXIT_NO_BROWSER" ]; then
  if [ "$no_browser" = 1 ]; then
    say "Not installing a browser (--no-browser)."
  elif is_debian_like && command -v apt-get >/dev/null 2>&1; then
    set +e
    install_chromium
    apt_status=$?
    set -e
    if [ "$apt_status" = 0 ] && [ -x /usr/bin/chromium ]; then
      installed_chromium=/usr/bin/chromium
      # Named, because a PATH without /usr/bin (a desktop launcher, a tool's sandbox) would not
      # find it by itself.
      args+=(--browser chromium)
      status=0
      register || status=$?
    elif [ "$apt_status" != 2 ]; then
      say "Installing Chromium did not work (apt-get exit status $apt_status; see above)."
    fi
  fi
fi
if [ "$status" = "$EXIT_NO_BROWSER" ]; then
  no_browser_help
  say "Check the result any time with: $dsexport doctor"
  exit "$EXIT_NO_BROWSER"
fi

if on_path "$HOME/.local/bin" && { [ ! -e "$link" ] || link_is_ours; }; then
  mkdir -p "$HOME/.local/bin"
  ln -sfn "$dsexport" "$link"
  command_name="dsexport"
else
  command_name="\"$dsexport\""
fi

# ---------------------------------------------------------------- 5. demo
chromium=$installed_chromium
for candidate in chromium chromium-browser; do
  [ -z "$chromium" ] || break
  if command -v "$candidate" >/dev/null 2>&1; then chromium=$(command -v "$candidate"); fi
done
mac_chromium=/Applications/Chromium.app/Contents/MacOS/Chromium
[ -n "$chromium" ] || [ ! -x "$mac_chromium" ] || chromium=$mac_chromium
if [ "$no_demo" = 1 ]; then
  say "Demo skipped (--no-demo)."
elif [ -z "$chromium" ]; then
  say "Demo skipped: it drives Chromium, and no Chromium was found (chromium, chromium-browser)."
else
  say "Running the demo (a bundled sample conversation, saved by the real extension in $chromium)..."
  set +e
  "$dsexport" demo --browser "$chromium"
  demo_status=$?
  set -e
  if [ "$demo_status" -ne 0 ]; then
    say "The demo failed with exit status $demo_status; its messages above say why."
    say "DS Export itself is installed; \`$command_name doctor\` checks the browser side."
  fi
fi

# ---------------------------------------------------------------- 6. the manual step
folder=$("$dsexport" extension --folder) || fail "\`dsexport extension\` failed (see above)."
cat <<EOF

DS Export is installed. One step is left: load the extension into your browser.
  Chrome, Chromium, Edge, Brave, Vivaldi, Opera: open chrome://extensions, switch on
  "Developer mode", click "Load unpacked" and choose the folder
      $folder
  Firefox: open about:debugging#/runtime/this-firefox, click "Load Temporary Add-on..." and
  choose the file
      $folder/manifest.json
  (\`$command_name extension\` shows this again, with the .xpi that keeps it across restarts.)
Then check every browser end to end with:  $command_name doctor
EOF
