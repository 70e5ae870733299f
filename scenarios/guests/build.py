#!/usr/bin/env python3
# Rebuilds the guest programs and records their expected outputs.
#
#   apt-get install -y gcc-riscv64-linux-gnu qemu-user
#   python3 scenarios/guests/build.py
#
# For every program in guests.json: compile src/<source>.c with riscv64-linux-gnu-gcc
# -static (or -static-pie; -pthread for programs marked "threads") into bin/<name>.elf, then run each case under qemu-riscv64
# with exactly the case's environment, arguments and standard input, and write
# expected/<name>.<case>.stdout|.stderr|.status. The tests compare every execution
# engine of virtlab with these files, so they need neither the compiler nor qemu.
import json
import os
import pathlib
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
CC = "riscv64-linux-gnu-gcc"
CFLAGS = ["-O2", "-march=rv64gc", "-mabi=lp64d", "-s"]


def main() -> int:
    manifest = json.loads((HERE / "guests.json").read_text())
    (HERE / "bin").mkdir(exist_ok=True)
    (HERE / "expected").mkdir(exist_ok=True)
    subprocess.run([sys.executable, str(HERE / "gen-cold-code.py")], check=True)
    for prog in manifest["programs"]:
        name = prog["name"]
        src = HERE / "src" / f"{prog.get('source', name)}.c"
        elf = HERE / "bin" / f"{name}.elf"
        if prog.get("pie"):
            # Freestanding: Debian's cross glibc has no rcrt1.o for a libc static-PIE.
            cmd = [CC, "-static-pie", "-Wl,--no-dynamic-linker", "-fPIE", "-nostdlib", "-ffreestanding", *CFLAGS, "-o", str(elf), str(src)]
        else:
            threads = ["-pthread"] if prog.get("threads") else []
            cmd = [CC, "-static", *threads, *CFLAGS, "-o", str(elf), str(src), "-lm"]
        subprocess.run(cmd, check=True)
        for case in prog["cases"]:
            args = list(case.get("args", []))
            for m in case.get("mounts", []):
                args = [str(HERE / m["host"]) if a == m["guest"] else a for a in args]
            stdin = (HERE / case["stdin"]).read_bytes() if case.get("stdin") else b""
            env = dict(case.get("env", {}))
            r = subprocess.run(["qemu-riscv64", str(elf), *args], input=stdin, capture_output=True, env=env, cwd="/")
            status = r.returncode if r.returncode >= 0 else 128 - r.returncode
            base = HERE / "expected" / f"{name}.{case['id']}"
            base.with_suffix(base.suffix + ".stdout").write_bytes(r.stdout)
            base.with_suffix(base.suffix + ".stderr").write_bytes(r.stderr)
            base.with_suffix(base.suffix + ".status").write_text(f"{status}\n")
            print(f"{name}.{case['id']}: status {status}, {len(r.stdout)} bytes of output")
    return 0


if __name__ == "__main__":
    sys.exit(main())
