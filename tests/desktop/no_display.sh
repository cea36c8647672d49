#!/usr/bin/env bash
# -display sdl with no desktop to show the window on stops at once with one
# line on stderr and status 1, as QEMU's does, instead of running with a
# window nobody sees: DISPLAY and WAYLAND_DISPLAY unset, and DISPLAY naming
# an X server that is not there.
#   no_display.sh POPEK ROM
set -u
popek=$1 rom=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0
expect_refusal() { # what, then the command
    local what=$1
    shift
    timeout 30 "$@" -display sdl -bios "$rom" -monitor none < /dev/null > "$work/out" 2> "$work/err"
    local status=$?
    local lines
    lines=$(wc -l < "$work/err")
    if [ "$status" -ne 1 ] || [ "$lines" -ne 1 ] || ! grep -q '^popek: -display sdl: ' "$work/err"; then
        echo "FAIL: $what: status $status (want 1), stderr:"
        cat "$work/err"
        failed=1
    else
        echo "ok: $what: $(cat "$work/err")"
    fi
}
expect_refusal "no DISPLAY" env -u DISPLAY -u WAYLAND_DISPLAY -u SDL_VIDEODRIVER "$popek"
# A display number nobody serves (X servers listen on /tmp/.X11-unix/XN).
n=77
while [ -e "/tmp/.X11-unix/X$n" ] || [ -e "/tmp/.X$n-lock" ]; do
    n=$((n + 1))
done
expect_refusal "dead DISPLAY=:$n" env -u WAYLAND_DISPLAY -u SDL_VIDEODRIVER DISPLAY=":$n" \
    XDG_RUNTIME_DIR="$work" "$popek"
exit $failed
