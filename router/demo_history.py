"""A believable made-up history of a desk, planned ahead as events in time: pure and
deterministic for a seed (``relaydesk demo seed`` plays it through the desk's own use
cases; ``workers.desk.demo_seed``).

Requests arrive on weekdays in office hours (a few at weekends), by email, the web
form and Telegram, from requesters of a few organisations and private addresses, in
the languages asked for. Each request then lives one of a few common lives: answered
(quickly, or late enough to breach its SLA), asked a question and left waiting on
the requester (who answers, or does not: the desk's follow-ups remind and resolve),
written to again, noted about with a colleague mentioned, moved to another team,
resolved, rated, reopened. Events past ``end`` are not planned: the last days'
requests are still open, as on a real desk.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from router.demo_corpus import (
    FAMILY_NAMES,
    GIVEN_NAMES,
    ORGANISATIONS,
    PRIVATE_DOMAINS,
    TOPICS,
    Topic,
)
from router.vocabulary import Channel

LANGUAGES = tuple(TOPICS)  # en, zh
CHANNEL_SHARES = ((Channel.EMAIL, 0.55), (Channel.WEB, 0.30), (Channel.TELEGRAM, 0.15))
ALL_CHANNELS = tuple(channel for channel, _ in CHANNEL_SHARES)


class Step(StrEnum):
    ARRIVE = "arrive"  # the request comes in
    WRITE_AGAIN = "write_again"  # the requester writes again on it
    ANSWER = "answer"  # an agent answers
    ASK = "ask"  # an agent asks a question and sets it pending
    NOTE = "note"  # an internal note naming a colleague
    TRANSFER = "transfer"  # an agent moves it to another team
    RESOLVE = "resolve"  # an agent sets it resolved
    RATE = "rate"  # the requester rates the help
    REOPEN = "reopen"  # the requester writes after the resolution: it reopens


@dataclass(frozen=True)
class DemoOrganisation:
    name: str
    domain: str
    tier: str | None


@dataclass(frozen=True)
class DemoRequester:
    name: str
    email: str
    chat_id: int  # their Telegram chat, for requests by Telegram
    language: str  # en or zh


@dataclass(frozen=True)
class DemoEvent:
    at: datetime
    request: int  # the request's index in the plan (its ticket number is known on arrival)
    step: Step
    text: str = ""
    good: bool = True  # RATE: good or bad


@dataclass(frozen=True)
class DemoRequest:
    requester: int  # index into ``DemoPlan.requesters``
    channel: Channel
    topic: Topic
    subject: str


@dataclass(frozen=True)
class DemoPlan:
    organisations: tuple[DemoOrganisation, ...]
    requesters: tuple[DemoRequester, ...]
    requests: tuple[DemoRequest, ...]
    events: tuple[DemoEvent, ...]  # in time order (ties: by request, then as planned)


def plan_history(
    *,
    seed: int,
    tickets: int,
    days: int,
    languages: tuple[str, ...],
    end: datetime,
    zone: str = "UTC",
    channels: tuple[Channel, ...] = ALL_CHANNELS,
) -> DemoPlan:
    """The plan of ``tickets`` requests over the ``days`` before ``end`` (aware), in
    ``languages`` (a subset of ``LANGUAGES``), by ``channels`` (of email, web and
    Telegram: the desk's own); office hours are local to ``zone``."""
    unknown = [lang for lang in languages if lang not in TOPICS]
    if unknown or not languages:
        raise ValueError(f"languages must be among {', '.join(LANGUAGES)}")
    shares = tuple((c, share) for c, share in CHANNEL_SHARES if c in channels)
    if not shares:
        raise ValueError("no channel to write in: email, web or Telegram")
    if tickets < 0 or days < 1:
        raise ValueError("tickets must be 0 or more and days 1 or more")
    rng = random.Random(seed)
    requesters = _requesters(rng, max(1, tickets // 3), languages)
    start = end - timedelta(days=days)
    arrivals = sorted(_arrival(rng, start, end, ZoneInfo(zone)) for _ in range(tickets))
    requests: list[DemoRequest] = []
    events: list[tuple[datetime, int, int, DemoEvent]] = []
    for index, arrived in enumerate(arrivals):
        who = rng.randrange(len(requesters))
        topic = rng.choice(TOPICS[requesters[who].language])
        channel = _pick_channel(rng, shares)
        requests.append(DemoRequest(who, channel, topic, topic.subject))
        for order, event in enumerate(_life(rng, index, topic, arrived)):
            if event.at <= end:
                events.append((event.at, index, order, event))
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    organisations = tuple(
        DemoOrganisation(name, domain, tier) for name, domain, tier in ORGANISATIONS
    )
    return DemoPlan(
        organisations=organisations,
        requesters=tuple(requesters),
        requests=tuple(requests),
        events=tuple(e[3] for e in events),
    )


def _requesters(rng: random.Random, count: int, languages: tuple[str, ...]) -> list[DemoRequester]:
    domains = [domain for _, domain, _ in ORGANISATIONS] + list(PRIVATE_DOMAINS)
    people = []
    for i in range(count):
        lang = languages[i % len(languages)]
        given, family = rng.choice(GIVEN_NAMES[lang]), rng.choice(FAMILY_NAMES[lang])
        name = f"{family}{given}" if lang == "zh" else f"{given} {family}"
        local = f"user{i + 1}"
        people.append(
            DemoRequester(
                name=name,
                email=f"{local}@{rng.choice(domains)}",
                chat_id=700_000_000 + i,
                language=lang,
            )
        )
    return people


def _arrival(rng: random.Random, start: datetime, end: datetime, zone: ZoneInfo) -> datetime:
    """A moment in office hours (8:00-18:00, busiest mid-morning) on a weekday, or any
    daytime hour on one request in ten at a weekend."""
    while True:
        day = (start + timedelta(days=rng.randrange((end - start).days + 1))).astimezone(zone)
        weekend = day.weekday() >= 5
        if weekend and rng.random() > 0.1:
            continue
        hour = min(max(rng.gauss(11.5, 2.6), 8.0), 17.99)
        local = datetime(day.year, day.month, day.day, tzinfo=zone) + timedelta(hours=hour)
        moment = local.astimezone(start.tzinfo).replace(microsecond=0)
        if start <= moment <= end:
            return moment


def _pick_channel(rng: random.Random, shares: tuple[tuple[Channel, float], ...]) -> Channel:
    roll = rng.random() * sum(share for _, share in shares)
    for channel, share in shares:
        if roll < share:
            return channel
        roll -= share
    return shares[-1][0]


def _minutes(rng: random.Random, median: float, spread: float = 1.0) -> timedelta:
    """A log-normal wait around ``median`` minutes: mostly near it, now and then long."""
    return timedelta(seconds=round(max(1.0, rng.lognormvariate(0, spread) * median) * 60))


def _life(rng: random.Random, index: int, topic: Topic, arrived: datetime) -> list[DemoEvent]:
    """The events of one request after it arrives, in order."""
    at = arrived
    life = [DemoEvent(at, index, Step.ARRIVE)]

    def then(wait: timedelta, step: Step, text: str = "", good: bool = True) -> None:
        nonlocal at
        at = at + wait
        life.append(DemoEvent(at, index, step, text, good))

    # one in ten is answered late (often past a 4-hour first-response target), the rest
    # within the half hour: two agents keep up with a few dozen requests a day
    first = _minutes(rng, 300 if rng.random() < 0.1 else 20, 0.8)
    if rng.random() < 0.15:  # the requester writes again before anyone answers
        then(first * 0.5, Step.WRITE_AGAIN, topic.again)
        first = first * 0.5
    if rng.random() < 0.08:
        then(first * 0.5, Step.TRANSFER, "wrong team")
        first = first * 0.5
    if rng.random() < 0.15:
        then(first * 0.3, Step.NOTE, topic.note)
        first = first * 0.7
    if rng.random() < 0.25:
        then(first, Step.ASK, topic.question)
        if rng.random() < 0.02:
            # never answered: the desk's follow-ups remind, then resolve, days later (a
            # pending ticket holds its agent's slot all that time: 1 in 200, not 1 in 13)
            return life
        then(_minutes(rng, 60, 0.8), Step.WRITE_AGAIN, topic.answer_to_question)
        then(_minutes(rng, 20, 0.8), Step.ANSWER, topic.reply)
    else:
        then(first, Step.ANSWER, topic.reply)
        if rng.random() < 0.12:  # it did not help
            then(_minutes(rng, 60, 1.0), Step.WRITE_AGAIN, topic.again)
            then(_minutes(rng, 20, 0.8), Step.ANSWER, topic.reply)
    # every answered request is resolved soon after (a ticket left open for good would
    # hold its agent's slot to the end: a desk whose agents stay full, routing nothing);
    # only the last days' requests are still open, their lives planned past ``end``
    if rng.random() < 0.2:
        then(_minutes(rng, 30, 0.8), Step.WRITE_AGAIN, topic.thanks)
    then(_minutes(rng, 15, 0.8), Step.RESOLVE)
    if rng.random() < 0.05:
        then(_minutes(rng, 240, 1.0), Step.REOPEN, topic.again)
        then(_minutes(rng, 60, 0.8), Step.ANSWER, topic.reply)
        then(_minutes(rng, 60, 1.0), Step.RESOLVE)
    if rng.random() < 0.45:
        good = rng.random() < 0.82
        comment = ""
        if rng.random() < 0.4:
            comment = topic.comment_good if good else topic.comment_bad
        then(_minutes(rng, 90, 1.2), Step.RATE, comment, good)
    return life
