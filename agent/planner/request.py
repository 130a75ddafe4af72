"""One request as the offline planner reads it: the text, its analysis, and the names found in it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from agent.planner.intents import Analysis
from agent.planner.inventory_index import InventoryIndex
from agent.planner.places import Places
from agent.planner.targets import Found
from agent.planner.types import PlanningContext


@dataclass
class Request:
    raw: str
    norm: str
    context: PlanningContext
    index: InventoryIndex
    analysis: Analysis
    found: Found
    today: date
    places: Places = field(default_factory=Places)

