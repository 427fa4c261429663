"""LSN value type: SQL Server's numeric(25,0) log sequence number."""

from __future__ import annotations

from dataclasses import dataclass

from restoreplan.core.errors import InputError

_VLF = 10**15
_BLOCK = 10**5
_MAX = 10**25 - 1


@dataclass(frozen=True, slots=True, order=True)
class LSN:
    """A log sequence number. Compare, never do arithmetic on it (restore-rules B.1).

    The decimal form is ``vlf * 10**15 + block * 10**5 + slot`` (msdb, HEADERONLY); the
    hex form ``0000001a:000000f0:0001`` is what fn_dblog and error logs print.
    """

    value: int

    def __post_init__(self) -> None:
        if not 0 <= self.value <= _MAX:
            raise InputError(f"LSN {self.value} is outside numeric(25,0)", hint="check the LSN column")

    @classmethod
    def parse(cls, text: str | int) -> LSN:
        """Parse the decimal form (up to 25 digits) or the ``vlf:block:slot`` hex form."""
        if isinstance(text, bool):
            raise InputError(f"not an LSN: {text!r}", hint="an LSN is a number of up to 25 digits")
        if isinstance(text, int):
            return cls(text)
        s = str(text).strip()
        if ":" in s:
            parts = s.split(":")
            if len(parts) != 3:
                raise InputError(f"not an LSN: {s!r}", hint="use decimal digits or vlf:block:slot in hex")
            try:
                vlf, block, slot = (int(p, 16) for p in parts)
            except ValueError:
                raise InputError(
                    f"not an LSN: {s!r}", hint="use decimal digits or vlf:block:slot in hex"
                ) from None
            return cls.from_parts(vlf, block, slot)
        if s.endswith(".0"):  # some exports print numeric(25,0) with a decimal part
            s = s[:-2]
        if not s.isdigit() or not s.isascii() or len(s) > 25:
            raise InputError(f"not an LSN: {s!r}", hint="an LSN is a number of up to 25 digits")
        return cls(int(s))

    @classmethod
    def from_parts(cls, vlf: int, block: int, slot: int) -> LSN:
        if not (0 <= vlf < 2**32 and 0 <= block < 2**32 and 0 <= slot < 2**16):
            raise InputError(f"LSN parts out of range: {vlf}:{block}:{slot}", hint="check the LSN")
        if block >= _BLOCK * 10 or slot >= _BLOCK:
            # numeric form reserves 10 digits for block and 5 for slot
            pass
        return cls(vlf * _VLF + block * _BLOCK + slot)

    @property
    def parts(self) -> tuple[int, int, int]:
        vlf, rest = divmod(self.value, _VLF)
        block, slot = divmod(rest, _BLOCK)
        return vlf, block, slot

    @property
    def hex(self) -> str:
        vlf, block, slot = self.parts
        return f"{vlf:08x}:{block:08x}:{slot:04x}"

    def __str__(self) -> str:
        return str(self.value)

    def __repr__(self) -> str:
        return f"LSN({self.value})"
