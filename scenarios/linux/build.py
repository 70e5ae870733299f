#!/usr/bin/env python3
# Rebuilds the Linux kernel, the initramfs and the firmware that virtlab boots, and
# records what qemu-system-riscv64 does with them.
#
#   apt-get install -y linux-source-6.1 gcc-riscv64-linux-gnu flex bison bc \
#       opensbi qemu-system-misc device-tree-compiler
#   python3 scenarios/linux/build.py [--jobs N] [--skip-kernel] [--skip-record]
#
# 1. Extracts /usr/src/linux-source-6.1.tar.xz into a build folder outside the
#    repository ($VIRTLAB_LINUX_BUILD, default $TMPDIR/virtlab-linux), configures
#    `make ARCH=riscv tinyconfig` + linux.config (merged with the kernel's
#    scripts/kconfig/merge_config.sh; every value of the fragment must survive
#    olddefconfig) and builds arch/riscv/boot/Image with riscv64-linux-gnu-gcc. The
#    build's user, host and time are fixed so that the "Linux version" banner on the
#    console is the same for every rebuild.
# 2. Compiles init.c and forkmap.c static and writes initramfs.cpio (newc,
#    uncompressed, every timestamp 0, owner root): /init, /dev/console, /proc, and in
#    /bin the programs init.c runs — forkmap and the guest suite's committed ELFs
#    (scenarios/guests/bin/<name>.elf).
# 3. Copies Image, its System.map and full .config (Image.config), and Debian's
#    OpenSBI generic fw_jump.bin with the package's copyright file (fw_jump.LICENSE).
# 4. Records the DTB QEMU's virt board generates for this command line
#    (qemu-virt.dtb, and qemu-virt.dts decompiled with dtc), then boots the kernel
#    under QEMU and writes its console to console.qemu.txt (carriage returns removed);
#    it prints the wall time QEMU took to reach init and to power off.
#
# The QEMU command line (QEMU below) is the reference the virtlab boot is compared
# against. Addresses, for the machine that boots these files (Debian opensbi 1.1,
# read from fw_jump.elf: fw_next_addr loads 0x80200000, fw_next_arg1 computes
# 1041 << 21, fw_next_mode answers 1):
#   - fw_jump.bin is loaded at 0x80000000 and entered in M-mode with a0 = hart id,
#     a1 = the DTB's address, a2 = 0 (QEMU's reset vector at 0x1000 does this);
#   - FW_JUMP_ADDR = 0x80200000: the Image is loaded there, and OpenSBI enters it in
#     S-mode (the Image's header says text_offset 0x200000 from the start of RAM);
#   - FW_JUMP_FDT_ADDR = 0x82200000: OpenSBI copies the DTB from a1 to there and
#     passes that address to the kernel in a1;
#   - QEMU puts the DTB at the top of RAM aligned down to 2 MiB (0x87e00000 for
#     128 MiB) and the initrd at 0x80200000 + min(RAM / 2, 128 MiB) = 0x84200000
#     for 128 MiB (see linux,initrd-start/-end in qemu-virt.dts).
import argparse
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
GUESTS = HERE.parent / "guests" / "bin"
SOURCE = pathlib.Path("/usr/src/linux-source-6.1.tar.xz")
OPENSBI = pathlib.Path("/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin")
OPENSBI_COPYRIGHT = pathlib.Path("/usr/share/doc/opensbi/copyright")
BUILD = pathlib.Path(os.environ.get("VIRTLAB_LINUX_BUILD", pathlib.Path(tempfile.gettempdir()) / "virtlab-linux"))
CROSS = "riscv64-linux-gnu-"
CFLAGS = ["-O2", "-march=rv64gc", "-mabi=lp64d", "-s", "-Wall", "-Wextra"]
# Fixed so that the banner ("Linux version 6.1.x (virtlab@virtlab) ... #1 ...") does
# not depend on who rebuilt the kernel, or when.
KBUILD_ENV = {
    "ARCH": "riscv",
    "CROSS_COMPILE": CROSS,
    "KBUILD_BUILD_USER": "virtlab",
    "KBUILD_BUILD_HOST": "virtlab",
    "KBUILD_BUILD_VERSION": "1",
    "KBUILD_BUILD_TIMESTAMP": "Thu Jan  1 00:00:00 UTC 1970",
}

MEMORY = "128M"
# initramfs_async=0: Linux unpacks the initramfs in a worker by default, so where
# "Unpacking initramfs..." falls among the other lines depends on the machine's speed;
# unpacked in line, the console is the same on every machine.
APPEND = "console=ttyS0 earlycon initramfs_async=0"
# The hart virtlab models: rv64imafdc with Zicsr and Zifencei, no hypervisor (H), no
# S-mode timer compare (Sstc: Linux would use stimecmp instead of SBI timer calls), no
# programmable performance counters (OpenSBI and the DTB's /pmu node count them), no
# bit-manipulation extensions. QEMU 7.2's default rv64 has all four; every one changes
# what OpenSBI or Linux print. (Its MMU also offers Sv57, which 7.2 cannot turn off:
# Linux 6.1 takes the widest mode satp accepts, Sv57, then Sv48, then Sv39.)
CPU = "rv64,h=false,sstc=false,pmu-num=0,zba=false,zbb=false,zbc=false,zbs=false"
QEMU = ["qemu-system-riscv64", "-M", "virt", "-cpu", CPU, "-m", MEMORY, "-smp", "1", "-nographic",
        "-bios", "fw_jump.bin", "-kernel", "Image", "-initrd", "initramfs.cpio", "-append", APPEND]
# init.c's first and last lines, and what the kernel prints once init asked it to power off.
INIT_FIRST = "init: virtlab initramfs, PID 1"
INIT_FINAL = "init: all programs done, powering off"
POWER_OFF = "reboot: Power down"


def kernel_tree() -> pathlib.Path:
    tree = BUILD / "linux-source-6.1"
    if not (tree / "Makefile").is_file():
        BUILD.mkdir(parents=True, exist_ok=True)
        print(f"extracting {SOURCE} into {BUILD}")
        subprocess.run(["tar", "-xf", str(SOURCE), "-C", str(BUILD)], check=True)
    return tree


def config_values(text: str) -> dict:
    """CONFIG_X -> value ('n' for "is not set") of a .config or a fragment."""
    values = {}
    for line in text.splitlines():
        m = re.fullmatch(r"(CONFIG_\w+)=(.*)", line)
        if m:
            values[m[1]] = m[2]
        m = re.fullmatch(r"# (CONFIG_\w+) is not set", line)
        if m:
            values[m[1]] = "n"
    return values


def build_kernel(tree: pathlib.Path, jobs: int) -> None:
    env = {**os.environ, **KBUILD_ENV}
    make = ["make", f"-j{jobs}"]
    subprocess.run([*make, "tinyconfig"], cwd=tree, env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["scripts/kconfig/merge_config.sh", "-m", ".config", str(HERE / "linux.config")], cwd=tree, env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([*make, "olddefconfig"], cwd=tree, env=env, check=True, stdout=subprocess.DEVNULL)
    wanted = config_values((HERE / "linux.config").read_text())
    got = config_values((tree / ".config").read_text())
    lost = [f"{k}: asked {v}, got {got.get(k, 'n')}" for k, v in wanted.items() if got.get(k, "n") != v]
    if lost:
        raise SystemExit("linux.config values that did not survive olddefconfig:\n  " + "\n  ".join(lost))
    subprocess.run([*make, "Image"], cwd=tree, env=env, check=True)
    shutil.copyfile(tree / "arch/riscv/boot/Image", HERE / "Image")
    shutil.copyfile(tree / "System.map", HERE / "System.map")
    shutil.copyfile(tree / ".config", HERE / "Image.config")


def compile_static(source: pathlib.Path, out: pathlib.Path) -> None:
    subprocess.run([CROSS + "gcc", "-static", *CFLAGS, "-o", str(out), str(source)], check=True)


def init_programs() -> list:
    """The /bin programs init.c runs, from its table: names, in order."""
    return re.findall(r'\{\s*"/bin/([\w-]+)"', (HERE / "init.c").read_text())


def cpio_entry(name: str, mode: int, data: bytes = b"", rdev: tuple = (0, 0), ino: int = 0) -> bytes:
    """One newc record, owned by root, timestamp 0, padded to 4 bytes."""
    fields = [ino, mode, 0, 0, 2 if mode & 0o170000 == 0o040000 else 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(name) + 1, 0]
    head = b"070701" + b"".join(b"%08X" % f for f in fields) + name.encode() + b"\0"
    head += b"\0" * (-len(head) % 4)
    return head + data + b"\0" * (-len(data) % 4)


def write_initramfs(work: pathlib.Path) -> None:
    compile_static(HERE / "init.c", work / "init")
    compile_static(HERE / "forkmap.c", work / "forkmap")
    entries = [
        ("dev", 0o040755, b"", (0, 0)),
        ("dev/console", 0o020600, b"", (5, 1)),
        ("proc", 0o040555, b"", (0, 0)),
        ("bin", 0o040755, b"", (0, 0)),
        ("init", 0o100755, (work / "init").read_bytes(), (0, 0)),
    ]
    for name in init_programs():
        elf = work / name if (work / name).exists() else GUESTS / f"{name}.elf"
        entries.append((f"bin/{name}", 0o100755, elf.read_bytes(), (0, 0)))
    out = b"".join(cpio_entry(n, m, d, r, ino=i + 1) for i, (n, m, d, r) in enumerate(entries))
    out += cpio_entry("TRAILER!!!", 0)
    (HERE / "initramfs.cpio").write_bytes(out)


def copy_firmware() -> None:
    shutil.copyfile(OPENSBI, HERE / "fw_jump.bin")
    shutil.copyfile(OPENSBI_COPYRIGHT, HERE / "fw_jump.LICENSE")


def record() -> None:
    # The DTB QEMU passes in a1, for this memory size, command line and initrd.
    dumped = [*QEMU[:2], f"virt,dumpdtb={HERE / 'qemu-virt.dtb'}", *QEMU[3:]]
    subprocess.run(dumped, cwd=HERE, check=True, stdin=subprocess.DEVNULL, capture_output=True)
    dts = subprocess.run(["dtc", "-I", "dtb", "-O", "dts", str(HERE / "qemu-virt.dtb")], check=True, capture_output=True, text=True)
    (HERE / "qemu-virt.dts").write_text(dts.stdout)

    # The boot itself; the power-off ends QEMU. A hang is a failure, not a recording.
    start = time.monotonic()
    qemu = subprocess.Popen(QEMU, cwd=HERE, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
    console = bytearray()
    at_init = None
    assert qemu.stdout is not None
    while True:
        chunk = qemu.stdout.read1(4096)
        if not chunk:
            break
        console += chunk
        if at_init is None and INIT_FIRST.encode() in console:
            at_init = time.monotonic() - start
        if time.monotonic() - start > 600:
            qemu.kill()
            raise SystemExit("qemu-system-riscv64 did not power off within 600 s")
    status = qemu.wait()
    total = time.monotonic() - start
    text = console.decode("utf-8", "replace").replace("\r", "")
    (HERE / "console.qemu.txt").write_text(text)
    if status != 0 or INIT_FINAL not in text:
        raise SystemExit(f"the boot under QEMU did not end as expected (status {status}); see console.qemu.txt")
    print(f"QEMU: init after {at_init:.2f} s, powered off after {total:.2f} s (status {status})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--skip-kernel", action="store_true", help="keep the committed Image")
    parser.add_argument("--skip-record", action="store_true", help="do not boot under QEMU")
    args = parser.parse_args()
    if not args.skip_kernel:
        build_kernel(kernel_tree(), args.jobs)
    with tempfile.TemporaryDirectory(prefix="virtlab-initramfs-") as work:
        write_initramfs(pathlib.Path(work))
    copy_firmware()
    if not args.skip_record:
        record()
    for name in ("Image", "initramfs.cpio", "fw_jump.bin"):
        if (HERE / name).exists():
            print(f"{name}: {(HERE / name).stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
