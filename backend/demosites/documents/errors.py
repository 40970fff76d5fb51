"""Errors of the documents domain, each with its problem code."""

from __future__ import annotations

from typing import Any

from demosites.core.errors import Conflict, DomainError, NotFound, ValidationFailed
from demosites.core.field_messages import msg_zh


class ImportInvalid(ValidationFailed):
    """The uploaded sheet was refused whole; `errors` lists every problem by row and column."""

    code, title = (
        "import_invalid",
        "The import was refused; nothing was imported / 导入被拒绝，未导入任何数据",
    )

    def __init__(
        self, detail: str | None = None, errors: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(detail, errors=errors)


class JobNotFound(NotFound):
    code, title = "document_job_not_found", "Document job not found / 未找到该文档任务"


class JobNotReady(Conflict):
    code, title = "document_job_not_ready", "The document is not ready (yet) / 文档尚未生成完成"


class JobExpired(DomainError):
    """The job finished, but its file was kept only DOCUMENT_JOB_RETENTION_DAYS days: 410 Gone
    (it existed and will not come back; start the export again)."""

    status, code, title = (
        410,
        "document_job_expired",
        "The file of this export has expired and was deleted / 该导出文件已过期并删除",
    )


class NothingToExport(Conflict):
    code, title = "nothing_to_export", "There is nothing to put in this document / 没有可生成的内容"


class TooManyItems(ValidationFailed):
    code, title = "too_many_items", "Too many items for one document / 单次生成的数量过多"


def cell_error(row: int, column: str, message: str) -> dict[str, Any]:
    """One problem of an import, shaped like a validation error (`loc`/`msg`/`type`) and for
    people (`row`/`column`/`message`), as the ledger import reports them."""
    return {
        "loc": ["row", str(row), column],
        "msg": message,
        "msg_zh": msg_zh({"type": "value_error", "msg": message}),
        "type": "import_invalid",
        "row": row,
        "column": column,
        "message": message,
    }


class SiteDelisted(Conflict):
    code, title = "site_delisted", "A delisted site gets no certificate / 已摘牌的示范点不出具证书"


class PdfFontsMissing(DomainError):
    """The server cannot print Chinese PDFs (no CJK font or no HarfBuzz subsetter): refusing is
    better than a file of empty boxes or of text nobody can copy. The operator installs the
    packages named in `missing_packages` (`scripts/ensure-system.sh pdf`) and restarts."""

    status, code, title = (
        503,
        "pdf_fonts_missing",
        "The server cannot produce PDF documents yet: a system package is missing / "
        "服务器暂无法生成 PDF 文档：缺少系统组件",
    )

    def __init__(self, missing: list[str]) -> None:
        names = " ".join(missing)
        super().__init__(
            f"Install {names} on the server (apt-get install -y {names}, or scripts/"
            f"ensure-system.sh pdf) and restart it; Word documents are still available / "
            f"请在服务器上安装 {names}（apt-get install -y {names}，或运行 scripts/ensure-system.sh pdf）"
            f"后重启服务；Word 版本仍可下载",
            missing_packages=missing,
        )
        self.headers["Retry-After"] = "3600"
