#!/usr/bin/env bash
# DS Export set-up for Linux and macOS, from a clone of the repository:
#   1. finds Python >= 3.10,
#   2. creates (or reuses) a private virtual environment in DS Export's data folder
#      (Linux: ${XDG_DATA_HOME:-~/.local/share}/dsexport/venv,
#       macOS: ~/Library/Application Support/dsexport/venv),
#   3. installs this checkout into it (re-running upgrades in place),
#   4. registers the helper with every browser found (`dsexport install`),
#   5. runs `dsexport demo` when Chromium is available,
#   6. prints the one manual step: loading the extension.
# Browser knowledge lives in Python (dsexport/installer/browsers.py), not here.
#
#   bash install/install.sh                       install or upgrade
#   bash install/install.sh --browser chromium    options other than ours go to `dsexport install`
#   bash install/install.sh --no-demo             skip the demo (or DSEXPORT_NO_DEMO=1)
#   bash install/install.sh --uninstall           remove the registration and the environment
#   bash install/install.sh --uninstall --browser firefox   unregister Firefox only
#   DSEXPORT_PYTHON=/usr/bin/python3.12 bash install/install.sh   use this interpreter
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd -P)
extension="$repo/extension"

say() { printf '%s\n' "$*"; }
fail() {
  printf 'install.sh: %s\n' "$*" >&2
  exit 1
}

uninstall=0
no_demo=${DSEXPORT_NO_DEMO:-0}
dry_run=0
args=()
for arg in "$@"; do
  case "$arg" in
    --uninstall) uninstall=1 ;;
    --no-demo) no_demo=1 ;;
    -h | --help)
      sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      [ "$arg" = "--dry-run" ] && dry_run=1
      args+=("$arg")
      ;;
  esac
done

# Same folder as platformdirs' user_data_dir("dsexport"), which the Python side uses.
case "$(uname -s)" in
  Darwin) data_dir="$HOME/Library/Application Support/dsexport" ;;
  *)
    case "${XDG_DATA_HOME:-}" in
      /*) data_dir="$XDG_DATA_HOME/dsexport" ;;
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
say "Installing DS Export from $repo"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade "$repo" ||
  fail "pip could not install DS Export into $venv (see its message above; no network?)."
"$venv/bin/python" -c 'import dsexport; print("Installed DS Export", dsexport.__version__)'

# ---------------------------------------------------------------- 4. register with browsers
"$dsexport" install --extension-dir "$extension" ${args[@]+"${args[@]}"} ||
  fail "\`dsexport install\` failed (see above). Fix that, then run this script again."
[ "$dry_run" = 1 ] && exit 0

if on_path "$HOME/.local/bin" && { [ ! -e "$link" ] || link_is_ours; }; then
  mkdir -p "$HOME/.local/bin"
  ln -sfn "$dsexport" "$link"
  command_name="dsexport"
else
  command_name="\"$dsexport\""
fi

# ---------------------------------------------------------------- 5. demo
chromium=""
for candidate in chromium chromium-browser; do
  if command -v "$candidate" >/dev/null 2>&1; then chromium=$candidate && break; fi
done
[ -x "/Applications/Chromium.app/Contents/MacOS/Chromium" ] && chromium=Chromium.app
if [ "$no_demo" = 1 ]; then
  say "Demo skipped (--no-demo)."
elif ! "$dsexport" demo --help >/dev/null 2>&1; then
  say "Demo skipped: this version of DS Export has no \`dsexport demo\` command."
elif [ -z "$chromium" ]; then
  say "Demo skipped: it drives Chromium, and no Chromium was found (chromium, chromium-browser)."
else
  say "Running the demo (a bundled sample conversation, saved by the real extension in $chromium)..."
  demo_args=()
  if "$dsexport" demo --help 2>/dev/null | grep -q -- '--extension-dir'; then
    demo_args=(--extension-dir "$extension")
  fi
  set +e
  "$dsexport" demo ${demo_args[@]+"${demo_args[@]}"}
  status=$?
  set -e
  if [ "$status" -ne 0 ]; then
    say "The demo failed with exit status $status; its messages above say why."
    say "DS Export itself is installed; \`$command_name doctor\` checks the browser side."
  fi
fi

# ---------------------------------------------------------------- 6. the manual step
cat <<EOF

DS Export is installed. One step is left: load the extension into your browser.
  Chrome, Chromium, Edge, Brave, Vivaldi, Opera: open chrome://extensions, switch on
  "Developer mode", click "Load unpacked" and choose the folder
      $extension
  Firefox: open about:debugging#/runtime/this-firefox, click "Load Temporary Add-on..." and
  choose the file
      $extension/manifest.json
Then check every browser end to end with:  $command_name doctor
EOF
