"""Fargate's valid vCPU / memory pairs (AWS Batch on Fargate documentation)."""

from __future__ import annotations

from .errors import InvalidJobSpec


def _steps(start: int, stop: int, step: int) -> tuple[int, ...]:
    return tuple(range(start, stop + 1, step))


VALID_MEMORY_MIB: dict[float, tuple[int, ...]] = {
    0.25: (512, 1024, 2048),
    0.5: _steps(1024, 4096, 1024),
    1: _steps(2048, 8192, 1024),
    2: _steps(4096, 16384, 1024),
    4: _steps(8192, 30720, 1024),
    8: _steps(16384, 61440, 4096),
    16: _steps(32768, 122880, 8192),
}


def nearest_pairs(vcpu: float, memory_mib: int, count: int = 3) -> list[tuple[float, int]]:
    """The valid pairs closest to the request: smallest relative difference in vCPU plus memory,
    ties to the fewer vCPUs."""
    pairs = [(cpu, mem) for cpu, mems in VALID_MEMORY_MIB.items() for mem in mems]

    def distance(pair: tuple[float, int]) -> tuple[float, float]:
        cpu, mem = pair
        return (abs(cpu - vcpu) / max(vcpu, 0.25) + abs(mem - memory_mib) / max(memory_mib, 512), cpu)

    return sorted(pairs, key=distance)[:count]


def format_vcpu(vcpu: float) -> str:
    """Batch wants '1', not '1.0', and '0.25' for fractions."""
    return str(int(vcpu)) if float(vcpu).is_integer() else str(vcpu)


def check_fargate_pair(vcpu: float, memory_mib: int) -> None:
    """Raise InvalidJobSpec naming the nearest valid pairs; never adjust the request silently."""
    if memory_mib in VALID_MEMORY_MIB.get(vcpu, ()):
        return
    suggestions = ", ".join(
        f"vcpu={format_vcpu(cpu)} mem_mb={mem}" for cpu, mem in nearest_pairs(vcpu, memory_mib)
    )
    raise InvalidJobSpec(
        f"vcpu={format_vcpu(vcpu)} with mem_mb={memory_mib} is not a valid Fargate combination; "
        f"nearest valid: {suggestions}"
    )
