#!/usr/bin/env bash
# Run a command with apt-get, apt-cache, apt, dpkg and sudo replaced by
# stubs that fail, so a ctest fixture that reaches for the package system
# fails at once instead of racing another fixture for dpkg's lock.
# Package setup belongs in scripts/setup.sh, which runs before any test.
#   tests/guests/no-package-tools.sh COMMAND [ARGS...]
set -euo pipefail
stubs=$(mktemp -d)
trap 'rm -rf "$stubs"' EXIT
for tool in apt-get apt-cache apt dpkg sudo; do
    printf '#!/bin/sh\necho "%s: not allowed in a test fixture (scripts/setup.sh does package setup)" >&2\nexit 1\n' \
        "$tool" > "$stubs/$tool"
    chmod +x "$stubs/$tool"
done
PATH="$stubs:$PATH" "$@"
