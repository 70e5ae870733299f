#!/usr/bin/env python3
# Rebuilds the bare-metal programs of the system machine and records their console.
#
#   apt-get install -y gcc-riscv64-linux-gnu qemu-system-misc
#   python3 scenarios/baremetal/build.py [NAME…]   (only the programs named, when given)
#
# Each program is src/<name>.c with the shared start.S and modes.S, linked at the start
# of RAM of QEMU's virt board into bin/<name>.elf. It then runs under
#   qemu-system-riscv64 -M virt -m 128M -bios none -kernel bin/<name>.elf
# and its UART output and exit status go to expected/<name>.txt and .status. The tests
# boot the same ELFs on virtlab's machine and compare, so they need neither tool.
#
# The C code is compiled for rv64imac (lp64): its trap handlers are C functions whose
# prologues would otherwise save FP registers, which traps when a test turns FS off;
# the FP instructions the tests execute are written as instruction words.
import pathlib
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
CC = "riscv64-linux-gnu-gcc"
CFLAGS = ["-nostdlib", "-ffreestanding", "-static", "-march=rv64imac_zicsr", "-mabi=lp64", "-mcmodel=medany",
          "-O2", "-fno-pic", "-no-pie", "-Wl,--build-id=none", "-T", str(HERE / "src" / "link.ld")]
PROGRAMS = ["traps", "vm"]


def build(name: str) -> None:
    elf = HERE / "bin" / f"{name}.elf"
    elf.parent.mkdir(exist_ok=True)
    srcs = [HERE / "src" / "start.S", HERE / "src" / "modes.S", HERE / "src" / f"{name}.c"]
    subprocess.run([CC, *CFLAGS, "-o", str(elf), *map(str, srcs)], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp) / "console.txt"
        # The console goes to a file: with -nographic, QEMU's stdio may hold back output.
        run = subprocess.run(["qemu-system-riscv64", "-M", "virt", "-m", "128M", "-bios", "none", "-kernel", str(elf),
                              "-display", "none", "-monitor", "none", "-serial", f"file:{out}"],
                             stdin=subprocess.DEVNULL, timeout=60)
        (HERE / "expected").mkdir(exist_ok=True)
        (HERE / "expected" / f"{name}.txt").write_bytes(out.read_bytes())
        (HERE / "expected" / f"{name}.status").write_text(f"{run.returncode}\n")
    print(f"{name}: {elf.stat().st_size} bytes, status {run.returncode}")


if __name__ == "__main__":
    for n in sys.argv[1:] or PROGRAMS:
        build(n)
