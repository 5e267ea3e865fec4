"""Budget component: a monthly billing budget for the stack's project with alert thresholds."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from infra.config import BudgetConfig

__all__ = ["Budget", "BudgetArgs"]


@dataclass(frozen=True)
class BudgetArgs:
    """Inputs of :class:`Budget`."""

    budget: BudgetConfig
    project: str
    """The GCP project whose spend the budget watches."""
    stack: str


class Budget(pulumi.ComponentResource):
    """The billing budget alert of one stack."""

    def __init__(self, name: str, args: BudgetArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("idf:budget:Budget", name, None, opts)
        budget = args.budget
        project = gcp.organizations.get_project_output(project_id=args.project)
        self.budget = gcp.billing.Budget(
            f"{name}-monthly",
            billing_account=budget.billing_account_id,
            display_name=f"IDF {args.stack} monthly",
            budget_filter=gcp.billing.BudgetBudgetFilterArgs(
                projects=[project.number.apply(lambda n: f"projects/{n}")],
                calendar_period="MONTH",
            ),
            amount=gcp.billing.BudgetAmountArgs(
                specified_amount=gcp.billing.BudgetAmountSpecifiedAmountArgs(
                    currency_code="USD", units=str(budget.amount_usd_per_month)
                )
            ),
            threshold_rules=[
                gcp.billing.BudgetThresholdRuleArgs(threshold_percent=pct / 100, spend_basis="CURRENT_SPEND")
                for pct in budget.alert_thresholds_percent
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"budget_id": self.budget.id})
