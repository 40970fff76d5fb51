"""Errors of applications and their stage machine (stable problem codes of the API contract)."""

from demosites.core.errors import Conflict, NotFound, ValidationFailed
from demosites.rounds.errors import OutsidePhase

__all__ = [
    "ApplicationNotFound",
    "ConflictOfInterest",
    "DuplicateApplication",
    "NotAnAssessor",
    "NotEligible",
    "OutsidePhase",
    "QuotaExceeded",
    "FormIncomplete",
]


class ApplicationNotFound(NotFound):
    title = "Application not found / 未找到该申报"


class QuotaExceeded(Conflict):
    code, title = "quota_exceeded", "The recommender's quota is used up / 推荐名额已用完"


class NotEligible(Conflict):
    code, title = (
        "not_eligible",
        "The applicant unit is not within this recommender's rules / 该申报主体不在此推荐单位的推荐范围内",
    )


class DuplicateApplication(Conflict):
    code, title = (
        "duplicate_application",
        "This unit already has a live application in this round / 该申报主体本轮已有申报",
    )


class ConflictOfInterest(Conflict):
    code, title = (
        "conflict_of_interest",
        "An assessor cannot assess an application their own organisation recommended / 考核人员须回避本单位推荐的申报",
    )


class FormIncomplete(ValidationFailed):
    title = "The form is incomplete / 申报材料不完整"


class NotAnAssessor(ValidationFailed):
    title = "Only users with the assessor role can be assigned / 只能指派具有考核角色的人员"
