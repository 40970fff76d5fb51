"""Rounds (创建轮次): the calendar of phases, quota rules, phase exceptions and meetings."""
