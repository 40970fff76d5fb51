"""Errors of applicant units."""

from demosites.core.errors import Conflict, NotFound, ValidationFailed


class ApplicantNotFound(NotFound):
    title = "Applicant unit not found / 未找到该申报主体"


class InvalidApplicantUnit(ValidationFailed):
    title = "The applicant unit's details do not fit its kind / 申报主体信息与类型不符"


class DuplicateOrganizationCode(Conflict):
    code, title = "duplicate", "An organisation with this code exists / 该组织代码已存在"
