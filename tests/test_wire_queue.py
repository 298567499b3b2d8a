"""While waiting: the count of possible partners, and plain words when there is nobody."""

from wsclient import Clients, fresh_lang


async def test_a_member_nobody_can_meet_is_told_why_with_a_suggestion(make_server) -> None:
    srv = make_server("--stuck-after", "1")
    async with Clients(srv.ws_url) as clients:
        lang = fresh_lang()
        alone, other = await clients.member(), await clients.member()
        home, work = alone.prompt_id(0), alone.prompt_id(2)
        work_text = alone.welcome["prompts"][2]["text"]
        first = await alone.join([home], [lang])
        assert first["waiting"] == 0 and first["eta_s"] is None and "hint" not in first
        await other.join([work], [lang])
        hinted = await alone.find("queued", wait=5, ticket=first["ticket"])
        while "hint" not in hinted:
            hinted = await alone.find("queued", wait=5, ticket=first["ticket"])
        hint = hinted["hint"]
        # Someone waits in the same language on another prompt: choose that one too.
        assert hint["code"] == "no_prompt" and hint["prompt"] == work
        assert work_text in hint["message"]  # the prompt's words, not its id
        assert hinted["waiting"] == 0
