"""Prints the architecture (arm64 or x86_64) of the Lambda `bootstrap` inside a cargo-lambda zip, read from the
binary's ELF header: `make build` records it beside the zip, and the CDK provider deploys the function with that
architecture (a zip deployed as the wrong one cannot start, and every event would wait an hour unanswered)."""

import sys
import zipfile

MACHINES = {0xB7: "arm64", 0x3E: "x86_64"}

with zipfile.ZipFile(sys.argv[1]) as z:
    head = z.open("bootstrap").read(20)
if head[:4] != b"\x7fELF":
    sys.exit(f"{sys.argv[1]}: bootstrap is not an ELF binary")
machine = int.from_bytes(head[18:20], "little")
if machine not in MACHINES:
    sys.exit(f"{sys.argv[1]}: bootstrap is built for machine {machine:#x}, which Lambda does not run")
print(MACHINES[machine])
