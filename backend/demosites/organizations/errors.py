"""Errors of organisations and users."""

from demosites.core.errors import Conflict, NotFound, ValidationFailed


class OrganizationNotFound(NotFound):
    title = "Organisation not found / 未找到该组织"


class DuplicateCode(Conflict):
    code, title = "duplicate", "Already exists / 已存在同名记录"


class UnknownCity(ValidationFailed):
    title = "Not a city of Anhui / 不是安徽省的城市"
