"""Words shown for the bulletins' own values (Flask-free): the one list of msgids that pages,
renditions and e-mails translate, so the risk levels read the same everywhere."""

from __future__ import annotations

from bulletins.models import RiskLevel
from core.i18n import N_

# maCERT's "Niveau de Risque" / "Niveau d'Impact": Critique, Important, Modéré, Faible
RISK_LEVELS: dict[RiskLevel, str] = {
    RiskLevel.CRITICAL: N_("Critical"),
    RiskLevel.IMPORTANT: N_("Important"),
    RiskLevel.MODERATE: N_("Moderate"),
    RiskLevel.LOW: N_("Low"),
}
