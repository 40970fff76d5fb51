"""Errors of rounds, quotas, exceptions and meetings."""

from demosites.core.errors import Conflict, NotFound, ValidationFailed


class RoundNotFound(NotFound):
    title = "Round not found / 未找到该创建轮次"


class QuotaNotFound(NotFound):
    title = "Quota rule not found / 未找到该名额规则"


class MeetingNotFound(NotFound):
    title = "Meeting not found / 未找到该会议"


class DuplicateRound(Conflict):
    code, title = "duplicate", "A round of this year exists / 该年度的创建轮次已存在"


class DuplicateQuota(Conflict):
    code, title = (
        "duplicate",
        "This recommender already has a rule in this field / 该推荐单位在此领域已有名额规则",
    )


class OutsidePhase(Conflict):
    code, title = (
        "outside_phase",
        "Not allowed in the current phase of the round / 当前阶段不允许此操作",
    )


class QuotaRulesLocked(OutsidePhase):
    title = (
        "Quota rules can only change before the application window opens / "
        "申报推荐开始后不能再修改名额规则"
    )


class InvalidWindows(ValidationFailed):
    title = "Phase windows must be in order and must not overlap / 各阶段时间须依次排列且不得重叠"


class ReasonRequired(ValidationFailed):
    title = "Moving a window needs a reason / 调整阶段时间须说明理由"


class NotARecommender(ValidationFailed):
    title = "Not a recommending body / 该组织不是推荐单位"
