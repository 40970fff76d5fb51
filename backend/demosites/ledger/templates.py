"""Plan templates shipped with the product: seed 003, 电厂街道2023年度宣传思想工作要点.

Every quantified duty of the document is a target here (as data): copy the template into a
street's plan and its communities' ledgers are measured against it.
"""

from __future__ import annotations

from typing import Any

T = dict[str, Any]


def _min(
    count: int, period: str, scope: str = "self", child_level: str | None = None, label: str = ""
) -> T:
    return {"kind": "min_count", "count": count, "period": period, "scope": scope,
            "child_level": child_level, "label": label}  # fmt: skip


_EACH = {"scope": "each_child", "child_level": "community"}

DIANCHANG_2023: dict[str, Any] = {
    "code": "dianchang_2023",
    "title": "电厂街道2023年度宣传思想工作要点",
    "unit_level": "street",
    "year": 2023,
    "source": "中共通辽经济技术开发区电厂街道工作委员会，2023年3月28日",
    "sections": [
        {
            "title": "一、学习引领，矢志遵循“总基调”",
            "items": [
                {"code": "1.1", "title": "党工委理论中心组学习",
                 "description": "全年不少于12次理论中心组学习。",
                 "targets": [_min(12, "year", label="全年不少于12次")]},
                {"code": "1.2", "title": "中心组学习确定主题（“三个一”）",
                 "description": "每季度至少确定一个主题。",
                 "targets": [_min(1, "quarter", label="每季度至少确定一个主题")]},
                {"code": "1.3", "title": "学习总书记重要讲话原文（“三个一”）",
                 "description": "每月学习一篇总书记重要讲话原文。",
                 "targets": [_min(1, "month", label="每月学习一篇")]},
                {"code": "2", "title": "加强宣讲员队伍建设",
                 "description": "以“道德讲堂”为载体，制定宣讲计划，持续推进“五进”。", "targets": []},
                {"code": "3", "title": "用好各类学习宣传平台载体",
                 "description": "各党支部定期开展主题党日活动；各社区不定期开展科普活动。", "targets": []},
            ],
        },
        {
            "title": "二、舆论引领，占领思想阵地“制高点”",
            "items": [
                {"code": "5.1", "title": "意识形态纳入中心组学习（“四个二”）",
                 "targets": [_min(2, "year", label="每年至少学习2次")]},
                {"code": "5.2", "title": "意识形态专题研究会议（“四个二”）",
                 "targets": [_min(2, "year", label="每年至少开展2次")]},
                {"code": "5.3", "title": "意识形态会议研判部署（“四个二”）",
                 "targets": [_min(2, "year", label="每年开展2次")]},
                {"code": "5.4", "title": "向上级部门汇报意识形态工作（“四个二”）",
                 "description": "意识形态半年工作总结及年工作总结。",
                 "targets": [_min(2, "year", label="每年汇报2次")]},
                {"code": "5.5", "title": "网络安全宣传进社区、进基层防诈骗活动",
                 "description": "9月份各社区组织开展。",
                 "targets": [{"kind": "month_required", "count": 1, "month": 9, **_EACH,
                              "label": "9月份各社区开展"}]},
                {"code": "5.6", "title": "舆情联络员5分钟内回复并联系处置",
                 "description": "各社区舆情联络员保持24小时手机畅通，确保在5分钟内回复并联系处置。",
                 "targets": [{"kind": "response_time", "max_minutes": 5, **_EACH,
                              "label": "5分钟内回复"}]},
                {"code": "6", "title": "制定舆情监控及网络评论工作制度，开展“扫黄打非”宣传", "targets": []},
            ],
        },
        {
            "title": "三、宣传引领，把好新闻宣传“航船舵”",
            "items": [
                {"code": "7", "title": "加强主题宣传，强化对上宣传报送", "targets": []},
                {"code": "8", "title": "宣传工作人员业务理论培训", "targets": []},
            ],
        },
        {
            "title": "四、精神引领，汇聚精神文明“正能量”",
            "items": [
                {"code": "12.1", "title": "每月志愿服务方案",
                 "description": "各社区每月要有方案。",
                 "targets": [_min(1, "month", label="各社区每月要有方案", **_EACH)]},
                {"code": "12.2", "title": "每月志愿服务台账",
                 "description": "建立每月志愿服务台账。",
                 "targets": [_min(1, "month", label="各社区每月建立志愿服务台账", **_EACH)]},
                {"code": "12.3", "title": "新时代文明实践主题性活动",
                 "description": "每月至少开展8次主题性活动，同时要创新活动形式。",
                 "targets": [_min(8, "month", label="各社区每月至少8次", **_EACH)]},
                {"code": "12.4", "title": "培育有影响力的新时代文明实践品牌项目",
                 "description": "各社区培育1个有影响力的品牌项目。",
                 "targets": [_min(1, "year", label="各社区培育1个", **_EACH)]},
                {"code": "14", "title": "报送通辽好人典型事迹材料",
                 "description": "各社区每月7号前按文件要求报送一名通辽好人典型事迹材料。",
                 "targets": [{"kind": "due_day", "count": 1, "due_day": 7, **_EACH,
                              "label": "每月7号前报送一名"}]},
            ],
        },
        {
            "title": "五、文化引领，倾听时代主流“最强音”",
            "items": [
                {"code": "16", "title": "开展特色文体活动", "targets": []},
                {"code": "17", "title": "全民阅读主题阅读活动",
                 "description": "社区每月至少开展一次阅读活动。",
                 "targets": [_min(1, "month", label="各社区每月至少一次", **_EACH)]},
            ],
        },
    ],
}  # fmt: skip

TEMPLATES: dict[str, dict[str, Any]] = {DIANCHANG_2023["code"]: DIANCHANG_2023}
