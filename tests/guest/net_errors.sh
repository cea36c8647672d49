#!/usr/bin/env bash
# Bad network options get one line naming the option and the problem, and
# exit status 1, before the machine starts.  Only 127.0.0.1 is used.
#   net_errors.sh POPEK ROM
set -u
popek=$1 rom=$2
dir=$(mktemp -d)
holder=""
cleanup() {
    [ -n "$holder" ] && kill "$holder" 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT
fails=0

# expect NAME PATTERN -- popek args...: exit status 1, exactly one stderr
# line, containing PATTERN.
expect() {
    local name=$1 pattern=$2
    shift 3
    timeout 30 "$popek" -display none -bios "$rom" "$@" >"$dir/out" 2>"$dir/err" </dev/null
    local status=$?
    local lines
    lines=$(wc -l <"$dir/err")
    if [ "$status" -eq 1 ] && [ "$lines" -eq 1 ] && grep -qF -e "$pattern" "$dir/err"; then
        echo "ok: $name: $(cat "$dir/err")"
    else
        echo "FAIL: $name: status $status, stderr:"; cat "$dir/err"
        fails=$((fails + 1))
    fi
}

# A loopback port held by a listener for the whole script, and one nobody
# listens on.
python3 -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
print(s.getsockname()[1], flush=True)
time.sleep(300)
' >"$dir/busy" &
holder=$!
for _ in $(seq 50); do
    [ -s "$dir/busy" ] && break
    sleep 0.1
done
busy=$(cat "$dir/busy")
free=$(python3 -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
')

expect "malformed hostfwd" \
    "-netdev user,id=n0,hostfwd=tcp::22: Invalid host forwarding rule 'tcp::22' (Bad host port separator)" \
    -- -netdev user,id=n0,hostfwd=tcp::22 -device e1000,netdev=n0
expect "hostfwd bad protocol" "Invalid host forwarding rule 'sctp::2222-:22' (Bad protocol name)" \
    -- -nic user,hostfwd=sctp::2222-:22
expect "unknown netdev property" "-netdev user,id=n0,frob=1: Invalid parameter 'frob'" \
    -- -netdev user,id=n0,frob=1
expect "unsupported backend" "-netdev tap,id=t0: network backend 'tap' is not supported" \
    -- -netdev tap,id=t0
expect "netdev without id" "-netdev user: Parameter 'id' is missing" -- -netdev user
expect "bad network" "-netdev user,id=n0,net=10.0.2.0/99: Invalid netmask" \
    -- -netdev user,id=n0,net=10.0.2.0/99
expect "socket needs one mode" "exactly one of listen=, connect= or mcast= is required" \
    -- -netdev socket,id=s0
expect "not a multicast group" "mcast=127.0.0.1:5000: not a multicast address" \
    -- -netdev socket,id=s0,mcast=127.0.0.1:5000
expect "unknown -nic model" "-nic user,model=rtl8139: Unsupported NIC model: rtl8139" \
    -- -nic user,model=rtl8139
expect "unknown -net nic model" "-net nic,model=ne2k_pci: Unsupported NIC model: ne2k_pci" \
    -- -net nic,model=ne2k_pci -net user
expect "unknown -device" "-device: unknown device 'rtl8139'" -- -device rtl8139,netdev=n0
expect "bad MAC" "-device e1000,mac=52:54:00:12:34: bad MAC address" \
    -- -device e1000,mac=52:54:00:12:34
expect "hostfwd port in use" \
    "Could not set up host forwarding rule 'tcp:127.0.0.1:$busy-:22': Address already in use" \
    -- -nic user,hostfwd=tcp:127.0.0.1:$busy-:22
expect "listen port in use" "cannot listen on 127.0.0.1:$busy: Address already in use" \
    -- -netdev socket,id=s0,listen=127.0.0.1:$busy -device e1000,netdev=s0
expect "unreachable connect peer" \
    "-netdev socket,id=s0,connect=127.0.0.1:$free: cannot connect to 127.0.0.1:$free: Connection refused" \
    -- -netdev socket,id=s0,connect=127.0.0.1:$free -device e1000,netdev=s0
expect "netdev= names no netdev" "-device e1000,netdev=nope: no netdev named 'nope'" \
    -- -device e1000,netdev=nope
expect "dump of no netdev" "no netdev named 'nope'" \
    -- -object filter-dump,id=d0,netdev=nope,file="$dir/x.pcap"
expect "dump file unwritable" "cannot write '$dir/no/x.pcap'" \
    -- -nic user,id=n0 -object filter-dump,id=d0,netdev=n0,file="$dir/no/x.pcap"
expect "duplicate netdev id" "-netdev socket,id=a,listen=127.0.0.1:0: Duplicate ID 'a' for netdev" \
    -- -netdev user,id=a -netdev socket,id=a,listen=127.0.0.1:0
expect "duplicate device id" "Duplicate ID 'x' for device" \
    -- -nic user,id=n0 -device e1000,id=x -device virtio-net-pci,id=x
expect "netdev used twice" "-device virtio-net-pci,netdev=a: netdev 'a' is already used by NIC 'e1000.0'" \
    -- -netdev user,id=a -device e1000,netdev=a -device virtio-net-pci,netdev=a
expect "legacy hub" "popek has no hub" -- -net nic -net nic -net user
expect "missing value" "option '-netdev' needs a value" -- -netdev

if [ "$fails" -ne 0 ]; then
    echo "$fails network error check(s) failed"
    exit 1
fi
