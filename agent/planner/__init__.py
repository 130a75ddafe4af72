"""The offline planner: one request in English or Korean -> one tool call, or a question.

The one entry point is `plan_offline(text, context)`; everything else in this package serves it.
"""

from agent.planner.rules import plan_offline

__all__ = ["plan_offline"]
