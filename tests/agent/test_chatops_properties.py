"""Property test: no request string makes plan or ask (ChatOps.run) raise, and none changes the fleet
without a yes (the confirmer here always says No)."""

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.chatops import ChatOps
from agent.mcp_client import open_session
from tests.helpers import state_of
from utils.config import load_settings

WORDS = ["stop", "reboot", "terminate", "start", "list", "all", "prod", "web-server", "api-1", "db-primary",
         "중지", "재부팅", "종료", "시작", "비용", "로그", ";", "&&", "not", "if", "\u200f", "🔥", "i-123"]
REQUESTS = st.one_of(
    st.text(max_size=300),
    st.lists(st.sampled_from(WORDS), max_size=8).map(" ".join),
    st.text(alphabet=st.characters(categories=["Cc", "Cf", "Zs", "So"]), max_size=50),
)


async def no(_message: str) -> bool:
    return False


def test_no_request_raises_or_changes_the_fleet(estate, ec2):
    before = {iid: state_of(ec2, iid) for iid in estate.values()}

    async def check_all(texts: list[str]) -> None:
        async with open_session(load_settings()) as session:
            chat = ChatOps(session)
            for text in texts:
                plan = await chat.plan(text)
                assert plan.call is not None or plan.clarification is not None
                reply = await chat.run(text, no)
                assert reply.status in {"ok", "declined", "refused", "error"}

    collected: list[str] = []

    @settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(REQUESTS)
    def gather(text: str) -> None:
        collected.append(text)

    gather()
    asyncio.run(check_all(collected))
    after = {iid: state_of(ec2, iid) for iid in estate.values()}
    # Start needs no confirmation, so a generated "start ..." may start a stopped box; nothing may stop.
    assert all(after[i] == before[i] or (before[i] == "stopped" and after[i] in {"pending", "running"})
               for i in before)
