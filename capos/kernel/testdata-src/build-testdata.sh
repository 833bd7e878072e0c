#!/bin/sh
# Builds the raw fault test programs into build/kernel-testdata/ (run from the repo root).
set -e
out=build/kernel-testdata
mkdir -p "$out"
for k in 1 2 3 4 5 6 7 8; do
    cc -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-Ttext-segment=0x400000 -Wl,-z,noexecstack \
        -DKIND=$k -o "$out/fault$k" capos/kernel/testdata-src/faults.S
done
