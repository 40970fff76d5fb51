"""Whether this machine can print Chinese PDFs: a CJK font and HarfBuzz's subsetter.

Without a font covering Chinese, WeasyPrint draws every character as an empty box; without
`libharfbuzz-subset0` it falls back to fontTools, whose subsets of the Noto CJK fonts leave the
text of the PDF unextractable (no copy, no search, no screen reader). Both produce a file that
looks like a document and is not one, so rendering refuses instead (`PdfFontsMissing`, 503) and
says what to install. `scripts/ensure-system.sh` installs both; `make run` and `make test` call it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from dataclasses import dataclass

# Debian's packages that provide what is missing (the messages name them).
FONT_PACKAGE = "fonts-noto-cjk"
SUBSET_PACKAGE = "libharfbuzz-subset0"


@dataclass(frozen=True)
class PdfReadiness:
    cjk_fonts: tuple[str, ...]  # families that cover Simplified Chinese
    harfbuzz_subset: bool

    @property
    def missing_packages(self) -> list[str]:
        missing = []
        if not self.cjk_fonts:
            missing.append(FONT_PACKAGE)
        if not self.harfbuzz_subset:
            missing.append(SUBSET_PACKAGE)
        return missing

    @property
    def ready(self) -> bool:
        return not self.missing_packages


def _fontconfig() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("fontconfig") or "libfontconfig.so.1"
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        return None
    lib.FcInitLoadConfigAndFonts.restype = ctypes.c_void_p
    lib.FcNameParse.restype = ctypes.c_void_p
    lib.FcNameParse.argtypes = [ctypes.c_char_p]
    lib.FcObjectSetBuild.restype = ctypes.c_void_p
    lib.FcFontList.restype = ctypes.c_void_p
    lib.FcFontList.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    lib.FcPatternGetString.argtypes = [
        ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(ctypes.c_char_p),
    ]  # fmt: skip
    lib.FcPatternDestroy.argtypes = [ctypes.c_void_p]
    lib.FcObjectSetDestroy.argtypes = [ctypes.c_void_p]
    lib.FcFontSetDestroy.argtypes = [ctypes.c_void_p]
    lib.FcConfigDestroy.argtypes = [ctypes.c_void_p]
    return lib


class _FcFontSet(ctypes.Structure):
    _fields_ = [
        ("nfont", ctypes.c_int),
        ("sfont", ctypes.c_int),
        ("fonts", ctypes.POINTER(ctypes.c_void_p)),
    ]


def cjk_font_families() -> tuple[str, ...]:
    """Font families fontconfig knows that cover Simplified Chinese (`:lang=zh-cn`), sorted.

    A fresh fontconfig configuration is read each call, so fonts installed after the process
    started count too."""
    lib = _fontconfig()
    if lib is None:
        return ()
    config = lib.FcInitLoadConfigAndFonts()
    pattern = lib.FcNameParse(b":lang=zh-cn")
    objects = lib.FcObjectSetBuild(b"family", None)
    found: set[str] = set()
    try:
        fontset = lib.FcFontList(config, pattern, objects)
        if fontset:
            fs = ctypes.cast(fontset, ctypes.POINTER(_FcFontSet)).contents
            for i in range(fs.nfont):
                value = ctypes.c_char_p()
                got = lib.FcPatternGetString(fs.fonts[i], b"family", 0, ctypes.byref(value))
                if got == 0 and value.value:
                    found.add(value.value.decode("utf-8", "replace"))
            lib.FcFontSetDestroy(fontset)
    finally:
        lib.FcObjectSetDestroy(objects)
        lib.FcPatternDestroy(pattern)
        if config:
            lib.FcConfigDestroy(config)
    return tuple(sorted(found))


def harfbuzz_subset_available() -> bool:
    """Whether WeasyPrint found HarfBuzz's subsetter (else it subsets with fontTools)."""
    from weasyprint.text import ffi

    return ffi.harfbuzz_subset is not None


def probe() -> PdfReadiness:
    return PdfReadiness(cjk_font_families(), harfbuzz_subset_available())


_ready = False  # once the machine can print, it stays able to (packages are not removed live)


def missing_packages() -> list[str]:
    """Debian packages this process still needs to print Chinese PDFs (empty: ready).

    While something is missing each call looks again, so fonts installed later count without a
    restart (HarfBuzz's subsetter is loaded once by WeasyPrint: that one needs a restart)."""
    global _ready
    if _ready:
        return []
    missing = probe().missing_packages
    _ready = not missing
    return missing
