# Sourced by scripts/demo and scripts/test: make a fresh machine ready, idempotently.
# Installs what is missing (Debian/Ubuntu packages as root), a .venv with the project,
# and the Node.js example's packages; says in a line what it does, keeps the rest in a log.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mkdir -p .venv
SETUP_LOG="$PWD/.venv/setup.log"

quietly() {  # run a step, its output to the log; on failure show the log's tail
  if ! "$@" >>"$SETUP_LOG" 2>&1; then
    echo "setup failed: $*; the last lines of $SETUP_LOG:" >&2
    tail -n 30 "$SETUP_LOG" >&2
    return 1
  fi
}

# redis-server (the fleet's Redis), systemd-analyze (the units are checked in the tests),
# node and npm (the protocol's second client, examples/node), promtool (the alert rules'
# unit tests; Debian's prometheus package), ip (iproute2: hosts in network namespaces),
# opencv-doc (its examples/data/vtest.avi), chromium and its driver (the status page in a
# real browser, headless).
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
command -v ip >/dev/null 2>&1 || missing+=(iproute2)  # the multi-host tests' namespaces
# vtest.avi, a real fixed-camera clip with pedestrians: the incident benchmark and tests.
[ -f /usr/share/doc/opencv-doc/examples/data/vtest.avi ] || missing+=(opencv-doc)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing ${missing[*]} (apt-get) ..." >&2
    quietly apt-get update -qq
    quietly env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  else
    echo "missing: ${missing[*]}; install them (sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
fi

# The dev environment is the lock's, exactly: a stale lock stops here with the fix named,
# and a changed lock gets a new .venv (pip would leave packages the lock no longer has).
PYTHON=${PYTHON:-python3}
"$PYTHON" scripts/deps.py check
stamp=.venv/.is21-installed
if [ ! -f "$stamp" ] || ! cmp -s requirements/dev.txt "$stamp"; then
  echo "installing requirements/dev.txt and the project into .venv ..." >&2
  find .venv -mindepth 1 -maxdepth 1 ! -name setup.log -exec rm -rf {} +
  quietly "$PYTHON" -m venv .venv
  quietly .venv/bin/python -m pip install --require-hashes --no-deps -r requirements/dev.txt
  quietly .venv/bin/python -m pip install --no-deps --no-build-isolation -e .
  cp requirements/dev.txt "$stamp"
fi
node_stamp=examples/node/node_modules/.is21-installed
if [ ! -f "$node_stamp" ] || [ examples/node/package-lock.json -nt "$node_stamp" ]; then
  echo "installing the Node.js example's packages ..." >&2
  quietly npm ci --prefix examples/node --no-audit --no-fund
  touch "$node_stamp"
fi
export PATH="$PWD/.venv/bin:$PATH"
