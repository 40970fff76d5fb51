"""Security administration (安全管理): policy, second factor, sessions, logs and 三员分立."""
