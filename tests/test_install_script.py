"""``install.sh`` builds the embedded model's runtime from the CPU's flags, and never with AMX.

The AMX crash itself cannot happen on a CPU without AMX, so the guarantee is tested where it is
made: the CMake flags the script derives from a ``/proc/cpuinfo`` (here: copies of an Intel Xeon
with AMX, an AMD EPYC and an AVX2-only CPU) and the wheel cache key they give.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "install.sh"
BASE = "fpu sse sse2 ssse3 sse4_1 sse4_2 popcnt avx f16c fma bmi1 bmi2 avx2"
AVX512 = "avx512f avx512dq avx512cd avx512bw avx512vl avx512vbmi avx512_vnni avx512_bf16"
INTEL_AMX = f"{BASE} {AVX512} avx_vnni avx512_fp16 amx_bf16 amx_tile amx_int8"
AMD_EPYC = f"{BASE} {AVX512}"


def _flags(tmp_path: Path, cpu: str, mode: str = "") -> str:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nflags\t\t: {cpu}\n")
    done = subprocess.run(
        ["bash", "-c", f'source "{SCRIPT}"; cpu_flags {mode}'],
        capture_output=True,
        text=True,
        check=True,
        env={"LLMGS_CPUINFO": str(cpuinfo), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    return done.stdout.strip()


def test_intel_amx_cpu_gets_avx512_but_never_amx_nor_native(tmp_path: Path) -> None:
    flags = _flags(tmp_path, INTEL_AMX).split()
    assert flags[0] == "-DGGML_NATIVE=OFF"
    assert not [f for f in flags if "AMX" in f]
    for wanted in ("AVX2", "FMA", "F16C", "AVX512", "AVX512_VNNI", "AVX512_BF16", "AVX_VNNI"):
        assert f"-DGGML_{wanted}=ON" in flags


def test_amd_epyc_gets_its_avx512_set(tmp_path: Path) -> None:
    flags = _flags(tmp_path, AMD_EPYC).split()
    assert "-DGGML_AVX512=ON" in flags and "-DGGML_AVX512_VBMI=ON" in flags
    assert "-DGGML_AVX_VNNI=ON" not in flags  # not listed by this CPU


@pytest.mark.parametrize("cpu", [INTEL_AMX, AMD_EPYC, BASE])
def test_portable_stops_at_avx2(tmp_path: Path, cpu: str) -> None:
    flags = _flags(tmp_path, cpu, "portable").split()
    assert "-DGGML_AVX2=ON" in flags
    assert not [f for f in flags if "AVX512" in f or "VNNI" in f or "AMX" in f]


def test_avx512_needs_all_four_base_sets(tmp_path: Path) -> None:
    partial = f"{BASE} avx512f avx512dq"  # an OS that does not save the full AVX-512 state
    assert "AVX512" not in _flags(tmp_path, partial)
