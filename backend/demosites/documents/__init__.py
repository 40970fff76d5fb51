"""Documents officials work with: the 申报审批表 (Word, PDF), certificates, Excel lists and imports,
the 创新案例选编, and background jobs for the long ones."""
