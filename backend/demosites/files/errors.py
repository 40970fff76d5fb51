"""Errors of uploads."""

from demosites.core.errors import NotFound, PayloadTooLarge, ValidationFailed


class UnsupportedFileType(ValidationFailed):
    code, title = (
        "unsupported_file_type",
        "Only PDF, DOCX, DOC, JPG and PNG files are accepted / 仅接受 PDF、DOCX、DOC、JPG、PNG 文件",
    )


class FileTooLarge(PayloadTooLarge):
    title = "File over the size limit / 文件超过大小限制"


class EmptyFile(ValidationFailed):
    code, title = "empty_file", "The file is empty / 文件为空"


class FileNotFound(NotFound):
    title = "File not found / 未找到该文件"


class InvalidFileName(ValidationFailed):
    code, title = (
        "invalid_file_name",
        "The file name is empty once control characters and folders are removed / "
        "去除控制字符和路径后文件名为空",
    )
