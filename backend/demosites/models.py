"""Imports every table so that Alembic and the tests see the whole schema."""

from demosites.applicants.models import ApplicantUnit  # noqa: F401
from demosites.applications.models import (  # noqa: F401
    Application,
    AssessmentAssignment,
    PhaseException,
)
from demosites.audit.models import (  # noqa: F401
    HistoryCheckpoint,
    HistoryCheckpointHead,
    HistoryEntry,
)
from demosites.auth.models import LoginAttempt, UserSession  # noqa: F401
from demosites.core.db import metadata  # noqa: F401
from demosites.core.idempotency import IdempotencyRecord  # noqa: F401
from demosites.core.ratelimit import RateBucket  # noqa: F401
from demosites.documents.models import DocumentJob  # noqa: F401
from demosites.events.models import OutboxEvent  # noqa: F401
from demosites.files.models import StoredFile  # noqa: F401
from demosites.integration.models import (  # noqa: F401
    AllowedWebhookHost,
    DeliveryAttempt,
    FanoutCursor,
    ServiceAccount,
    WebhookDelivery,
    WebhookSubscription,
)
from demosites.ledger.models import (  # noqa: F401
    LedgerEntry,
    LedgerPlan,
    LedgerUnit,
    LedgerUnitAncestor,
    PlanItem,
    PlanSection,
    PlanTarget,
)
from demosites.organizations.models import Organization, User, UserRole  # noqa: F401
from demosites.rounds.models import Meeting, Quota, Round  # noqa: F401
from demosites.security.models import (  # noqa: F401
    AuditArchive,
    PasswordHistory,
    RecoveryCode,
    SecuritySetting,
    UserTotp,
)
from demosites.sites.models import (  # noqa: F401
    Inspection,
    Objection,
    PublicityRecord,
    PublicNotice,
    PublicNoticeEntry,
    Rectification,
    Site,
)
