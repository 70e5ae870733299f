#!/usr/bin/env python3
# Rebuilds the guest programs and records their expected outputs.
#
#   apt-get install -y gcc-riscv64-linux-gnu qemu-user
#   python3 scenarios/guests/build.py [NAME…]   (only the programs named, when given)
#
# For every program in guests.json: compile src/<source>.c with riscv64-linux-gnu-gcc
# -static (or -static-pie; -pthread for programs marked "threads") into bin/<name>.elf, then run each case under qemu-riscv64
# with exactly the case's environment, arguments and standard input, and write
# expected/<name>.<case>.stdout|.stderr|.status. The tests compare every execution
# engine of virtlab with these files, so they need neither the compiler nor qemu.
#
# A program with "vendor" is third-party code (see LICENSES.md) with a driver of ours
# in src/: its sources come from the npm package named there, fetched with `npm pack`
# into a cache outside the repository and checked against the recorded integrity,
# then compiled with the driver. A case's arguments under /tmp/ name files the guest
# creates in the sandbox's /tmp; under qemu they go to a fresh temporary folder.
import base64
import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tarfile
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
CC = "riscv64-linux-gnu-gcc"
CFLAGS = ["-O2", "-march=rv64gc", "-mabi=lp64d", "-s"]
CACHE = pathlib.Path(os.environ.get("VIRTLAB_VENDOR_CACHE", pathlib.Path(tempfile.gettempdir()) / "virtlab-vendor"))


def vendor_tree(vendor: dict) -> pathlib.Path:
    """The unpacked npm package of a third-party program (fetched once, integrity checked)."""
    spec = vendor["package"]
    root = CACHE / spec.replace("/", "+")
    if (root / "package").is_dir():
        return root / "package"
    root.mkdir(parents=True, exist_ok=True)
    out = subprocess.run(["npm", "pack", spec, "--json", "--pack-destination", str(root)], check=True, capture_output=True, text=True)
    tgz = root / json.loads(out.stdout)[0]["filename"]
    digest = "sha512-" + base64.b64encode(hashlib.sha512(tgz.read_bytes()).digest()).decode()
    if digest != vendor["integrity"]:
        shutil.rmtree(root)
        raise SystemExit(f"{spec}: integrity {digest} is not the recorded {vendor['integrity']}")
    with tarfile.open(tgz) as t:
        t.extractall(root, filter="data")
    return root / "package"


def vendor_flags(vendor: dict) -> list:
    tree = vendor_tree(vendor)
    return [*(f"-D{d}" for d in vendor.get("defines", [])), *(f"-I{tree / i}" for i in vendor.get("include", [])), *(str(tree / s) for s in vendor["sources"])]


def main() -> int:
    manifest = json.loads((HERE / "guests.json").read_text())
    (HERE / "bin").mkdir(exist_ok=True)
    (HERE / "expected").mkdir(exist_ok=True)
    subprocess.run([sys.executable, str(HERE / "gen-cold-code.py")], check=True)
    only = set(sys.argv[1:])
    for prog in manifest["programs"]:
        name = prog["name"]
        if only and name not in only:
            continue
        src = HERE / "src" / f"{prog.get('source', name)}.c"
        elf = HERE / "bin" / f"{name}.elf"
        if prog.get("pie"):
            # Freestanding: Debian's cross glibc has no rcrt1.o for a libc static-PIE.
            cmd = [CC, "-static-pie", "-Wl,--no-dynamic-linker", "-fPIE", "-nostdlib", "-ffreestanding", *CFLAGS, "-o", str(elf), str(src)]
        else:
            threads = ["-pthread"] if prog.get("threads") else []
            vendor = vendor_flags(prog["vendor"]) if prog.get("vendor") else []
            cmd = [CC, "-static", *threads, *CFLAGS, "-o", str(elf), str(src), *vendor, "-lm"]
        subprocess.run(cmd, check=True)
        for case in prog["cases"]:
            args = list(case.get("args", []))
            for m in case.get("mounts", []):
                args = [str(HERE / m["host"]) if a == m["guest"] else a for a in args]
            scratch = tempfile.mkdtemp(prefix="virtlab-guest-")
            args = [scratch + a[4:] if a.startswith("/tmp/") else a for a in args]
            stdin = (HERE / case["stdin"]).read_bytes() if case.get("stdin") else b""
            env = dict(case.get("env", {}))
            r = subprocess.run(["qemu-riscv64", str(elf), *args], input=stdin, capture_output=True, env=env, cwd="/")
            shutil.rmtree(scratch)
            status = r.returncode if r.returncode >= 0 else 128 - r.returncode
            base = HERE / "expected" / f"{name}.{case['id']}"
            base.with_suffix(base.suffix + ".stdout").write_bytes(r.stdout)
            base.with_suffix(base.suffix + ".stderr").write_bytes(r.stderr)
            base.with_suffix(base.suffix + ".status").write_text(f"{status}\n")
            print(f"{name}.{case['id']}: status {status}, {len(r.stdout)} bytes of output")
    return 0


if __name__ == "__main__":
    sys.exit(main())
