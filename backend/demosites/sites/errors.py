"""Errors of sites, inspections, rectifications and the public notice (stable problem codes).
A wrong state is refused by the state-machine engine's own InvalidTransition (statemachine.errors)."""

from demosites.core.errors import Conflict, NotFound, TooManyRequests, ValidationFailed


class SiteNotFound(NotFound):
    title = "Demonstration site not found / 未找到该示范点"


class InspectionNotFound(NotFound):
    title = "Inspection not found / 未找到该检查"


class RectificationNotFound(NotFound):
    title = "Rectification not found / 未找到该整改"


class NoticeNotFound(NotFound):
    title = "Public notice not found / 未找到该公示"


class ObjectionNotFound(NotFound):
    title = "Objection not found / 未找到该异议"


class PlaqueNotFound(NotFound):
    title = "No demonstration site has this plaque number / 无此牌匾编号的示范点"


class InspectionExists(Conflict):
    code, title = (
        "inspection_exists",
        "This site already has an inspection of this kind this year / 该示范点本年度已有同类检查",
    )


class InspectionRecorded(Conflict):
    code, title = (
        "inspection_recorded",
        "This inspection's outcome is already recorded / 该检查结果已登记",
    )


class DelistNotAllowed(Conflict):
    code, title = (
        "delist_not_allowed",
        "This delisting reason does not apply to the site now / 该摘牌理由当前不适用",
    )


class NoReport(Conflict):
    code, title = "no_report", "No rectification report awaits a decision / 没有待验收的整改报告"


class DeadlinePassed(Conflict):
    code, title = "deadline_passed", "The rectification deadline has passed / 整改期限已过"


class NoticeExists(Conflict):
    code, title = "notice_exists", "This round already has a public notice / 本轮已发布公示"


class NothingToNotify(Conflict):
    code, title = (
        "nothing_to_notify",
        "No approved applications to publish / 没有可公示的已审批申报",
    )


class NoticeClosed(Conflict):
    code, title = "notice_closed", "The public notice is not running / 公示期外不接受异议"


class NoticeRunning(Conflict):
    code, title = "public_notice_running", "The public notice period has not ended / 公示期尚未结束"


class NotInNotice(Conflict):
    code, title = (
        "not_in_public_notice",
        "The application was not on the round's public notice / 该申报未经公示",
    )


class ObjectionOpen(Conflict):
    code, title = (
        "objection_open",
        "An objection to this application is still under investigation / 该申报有尚未办结的异议",
    )


class ObjectionDecided(Conflict):
    code, title = "objection_decided", "This objection already has a result / 该异议已办结"


class ObjectionRateLimited(TooManyRequests):
    code, title = (
        "objection_rate_limited",
        "Too many objections from this address; try again later / 提交过于频繁，请稍后再试",
    )


class InvalidDeadline(ValidationFailed):
    code, title = "invalid_deadline", "The deadline must be after today / 整改期限须晚于今天"


class ReportPending(Conflict):
    code, title = (
        "report_pending",
        "A report already awaits the office's decision / 整改报告已提交，等待验收",
    )
