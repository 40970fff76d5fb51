"""Command line: `python -m demosites.cli seed|openapi|verify-history|checkpoint-history|…`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sqlmodel import Session

from demosites.core.config import ROOT, get_settings
from demosites.core.db import get_engine, long_statements_for_this_process
from demosites.wiring import wire


def cmd_seed(args: argparse.Namespace) -> int:
    from demosites.seed import seed

    demo = args.demo or get_settings().demo_mode
    if demo and get_settings().environment == "production":
        print("demo data is refused in production settings", file=sys.stderr)
        return 2
    with Session(get_engine()) as session:
        pw = seed(session, demo)
        session.commit()
    if pw:
        print("=" * 64)
        print(
            "演示账号 Demo accounts: office, sysadmin, secadmin, auditor, committee, approver, hefei … xuancheng,"
        )
        print("  edu, sasac, fic, cac (assessor), hf_school, wh_community, aq_village …")
        print(f"演示密码 Demo password: {pw}")
        print("=" * 64)
    return 0


def cmd_openapi(args: argparse.Namespace) -> int:
    from demosites.main import create_app

    doc = create_app().openapi()
    text = json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=False) + "\n"
    out = Path(args.output) if args.output else ROOT / "openapi" / "openapi.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out}")
    return 0


def cmd_verify_history(args: argparse.Namespace) -> int:
    """Every stream's chain, and that the history extends the latest checkpoint (exit 1 if not)."""
    from demosites.audit.service import verify_chain

    with Session(get_engine()) as session:
        report = verify_chain(session)
    against = (
        f"checkpoint {report.checkpoint_id} / 检查点 {report.checkpoint_id}"
        if report.checkpoint_id
        else "no checkpoint yet / 尚无检查点"
    )
    print(f"{report.checked} rows in {report.streams} streams checked against {against}")
    if not report.intact:
        print(f"TAMPERED history rows / 被篡改的履历记录: {report.tampered_ids}")
        for finding in report.findings:
            print(f"  {finding.kind}: {finding.detail}")
        return 1
    print("history chain intact / 履历哈希链完整")
    return 0


def cmd_checkpoint_history(args: argparse.Namespace) -> int:
    """Run periodically (cron, or the job engine through audit.checkpoints.run)."""
    from demosites.audit import checkpoints
    from demosites.core.errors import DomainError

    try:
        cp = checkpoints.run()
    except DomainError as exc:
        print(exc.detail, file=sys.stderr)
        return 1
    print(
        f"checkpoint {cp.id}: {cp.total} rows in {cp.streams} streams, head {cp.key_id}:{cp.head} / "
        f"检查点 {cp.id}：{cp.streams} 个对象的 {cp.total} 条履历"
    )
    return 0


def cmd_archive_audit(args: argparse.Namespace) -> int:
    """Run daily (cron): security audit entries past the retention period go to a file."""
    from demosites.core.actor import SYSTEM
    from demosites.security.logs import archive_old_entries

    with Session(get_engine()) as session:
        archive = archive_old_entries(session, SYSTEM, Path(args.dir) if args.dir else None)
        session.commit()
    if archive is None:
        print("nothing to archive / 无需归档")
    else:
        print(f"archived {archive.entries} entries to {archive.path} (sha256 {archive.sha256})")
    return 0


def cmd_create_admin(args: argparse.Namespace) -> int:
    """The first administrators of a fresh installation (三员: one account per role)."""
    import getpass

    from demosites.organizations.schemas import UserCreate
    from demosites.organizations.service import (
        create_user,
        get_org_by_code,
        seed_fixed_organizations,
    )

    password = (
        getpass.getpass("Password / 口令: ") if sys.stdin.isatty() else sys.stdin.readline().strip()
    )
    with Session(get_engine()) as session:
        seed_fixed_organizations(session)
        org = get_org_by_code(session, args.org)
        if org is None:
            print(f"no organisation {args.org}", file=sys.stderr)
            return 2
        try:
            create_user(
                session,
                None,
                UserCreate(
                    username=args.username,
                    display_name=args.name or args.username,
                    password=password,
                    organization_id=org.id or 0,
                    roles=[args.role],
                ),  # fmt: skip
                must_change=True,
            )
        except Exception as exc:  # a policy or duplicate refusal, told plainly
            print(getattr(exc, "detail", str(exc)), file=sys.stderr)
            return 1
        session.commit()
    print(f"created {args.username} ({args.role}); the password must be changed at first login")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="demosites")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("seed", help="seed fixed organisations (and demo data with --demo)")
    p.add_argument("--demo", action="store_true")
    p.set_defaults(func=cmd_seed)
    p = sub.add_parser("openapi", help="write openapi/openapi.json")
    p.add_argument("--output")
    p.set_defaults(func=cmd_openapi)
    p = sub.add_parser("verify-history", help="check every history chain and the last checkpoint")
    p.set_defaults(func=cmd_verify_history)
    p = sub.add_parser("checkpoint-history", help="record each history chain's head (periodically)")
    p.set_defaults(func=cmd_checkpoint_history)
    p = sub.add_parser(
        "archive-audit", help="archive security audit entries past the retention period"
    )
    p.add_argument("--dir", help="default var/archive")
    p.set_defaults(func=cmd_archive_audit)
    p = sub.add_parser("create-admin", help="create an administrator (password read from stdin)")
    p.add_argument("username")
    p.add_argument("--role", choices=["sysadmin", "secadmin", "auditor"], required=True)
    p.add_argument("--org", default="office")
    p.add_argument("--name")
    p.set_defaults(func=cmd_create_admin)
    args = parser.parse_args(argv)
    # Maintenance reads whole tables (the history chain, the audit archive): no statement
    # timeout for the engine these commands open (the other limits kept).
    long_statements_for_this_process()
    wire()
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
