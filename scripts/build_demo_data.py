#!/usr/bin/env python3
"""Build promptkit's built-in demo datasets (stdlib only, deterministic).

Writes, under ``tasks/data/``:

* ``demo_qa/{train,test}.jsonl``           - short-context extractive QA (fictional entities)
* ``demo_translation/{train,test}.jsonl``  - English -> French everyday sentences (hand-written pairs)
* ``demo_data_to_text/{train,test}.jsonl`` - weather / hotel records -> one English sentence

Everything is original content written for promptkit and released with it (CC0-1.0 or
Apache-2.0, at your option). The QA and data-to-text sets are generated from hand-written
lexicons and templates with a fixed seed; the translation pairs are hand-written and only
shuffled and split here. The lexicons (word lists) and the translation pairs are plain UTF-8
data files under ``scripts/demo_data/`` (see its README.md); this script holds the code.
Running the script again rewrites byte-identical files.

Usage::

    python scripts/build_demo_data.py            # write the files and run the checks
    python scripts/build_demo_data.py --check    # only check the files on disk
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tasks" / "data"
SEED = 20240611

QA_TRAIN, QA_TEST = 400, 150
D2T_TRAIN, D2T_TEST = 400, 150
MT_TEST = 150  # the remaining hand-written pairs go to train

# Word lists and translation pairs live in data files next to this script (see demo_data/README.md)
DEMO_DATA = Path(__file__).resolve().parent / "demo_data"


def word_list(rel: str) -> list[str]:
    """A word list from ``demo_data/<rel>``: UTF-8 text, one entry a line, in file order."""
    entries = (DEMO_DATA / rel).read_text(encoding="utf-8").splitlines()
    bad = [e for e in entries if not e or e != e.strip()]
    if not entries or bad:
        raise ValueError(f"{DEMO_DATA / rel}: empty file, or blank / space-padded entries {bad!r}")
    return entries


def json_data(rel: str):
    """A structured lexicon (mapping or list of pairs) from ``demo_data/<rel>``, UTF-8 JSON."""
    with open(DEMO_DATA / rel, encoding="utf-8") as fh:
        return json.load(fh)


# ---------------------------------------------------------------------------------------------
# Shared lexicons (all names are invented for this project)
# ---------------------------------------------------------------------------------------------

FEMALE = word_list("shared/female.txt")
MALE = word_list("shared/male.txt")
SURNAMES = word_list("shared/surnames.txt")
TOWNS = word_list("shared/towns.txt")
CITIES = word_list("shared/cities.txt")  # larger fictional cities, used for far-away places
RIVERS = word_list("shared/rivers.txt")
STREETS = word_list("shared/streets.txt")
COLOURS = word_list("shared/colours.txt")
MONTHS = word_list("shared/months.txt")
WEEKDAYS = word_list("shared/weekdays.txt")
NUMWORDS = word_list("shared/numwords.txt")
ORDINALS = word_list("shared/ordinals.txt")
JOBS = word_list("shared/jobs.txt")
LANDMARKS = word_list("shared/landmarks.txt")


def an(phrase: str) -> str:
    """'a'/'an' + phrase: vowel rule for words, spoken rule for numbers (an 8.5, an 11%, an 80%)."""
    first = phrase.split()[0]
    digits = re.match(r"\d+", first)
    if digits:
        n = digits.group(0)
        vowel = n.startswith("8") or n in ("11", "18") or (len(n) in (5, 6) and n[:2] in ("11", "18"))
    else:
        vowel = first[0].lower() in "aeiou"
    return ("an " if vowel else "a ") + phrase


def money(n: int) -> str:
    return f"{n:,}"


class Person:
    def __init__(self, first: str, last: str, gender: str):
        self.first, self.last, self.g = first, last, gender
        self.full = f"{first} {last}"
        self.he = "he" if gender == "m" else "she"
        self.He = self.he.capitalize()
        self.his = "his" if gender == "m" else "her"
        self.His = self.his.capitalize()
        self.him = "him" if gender == "m" else "her"


def people(r: random.Random, n: int, gender: str | None = None) -> list[Person]:
    pool = FEMALE if gender == "f" else MALE if gender == "m" else FEMALE + MALE
    firsts = r.sample(pool, n)
    lasts = r.sample(SURNAMES, n)
    return [Person(f, s, "f" if f in FEMALE else "m") for f, s in zip(firsts, lasts, strict=True)]


def year(r: random.Random, lo: int, hi: int) -> str:
    return str(r.randint(lo, hi))


def date(r: random.Random, months: list[str] = MONTHS) -> str:
    return f"{r.randint(1, 28)} {r.choice(months)}"


def clock(r: random.Random, lo: int = 6, hi: int = 21) -> str:
    return f"{r.randint(lo, hi)}:{r.choice(['00', '15', '30', '45'])}"


def strip_article(s: str) -> str:
    for art in ("the ", "a ", "an "):
        if s.startswith(art):
            return s[len(art):]
    return s


def np(s: str) -> list[str]:
    """Answer list for a noun phrase: the bare phrase first, then with its article."""
    bare = strip_article(s)
    return [bare, s] if bare != s else [s]


def place_answers(s: str) -> list[str]:
    """'on the windowsill' -> ['windowsill', 'the windowsill', 'on the windowsill']."""
    rest = s.split(" ", 1)[1]
    return np(rest) + [s]


# ---------------------------------------------------------------------------------------------
# 1. Extractive QA: each template returns (context, [(question, answers), ...])
# ---------------------------------------------------------------------------------------------


def q_move(r):
    (p,) = people(r, 1)
    town, y, job, near = r.choice(TOWNS), year(r, 1975, 2022), r.choice(JOBS), r.choice(LANDMARKS)
    ctx = (f"{p.full} moved to {town} in {y} and now works there as {an(job)}. "
           f"{p.He} lives in a small house near the {near}.")
    return ctx, [
        (f"Which town did {p.full} move to?", [town]),
        (f"In what year did {p.first} move to {town}?", [y]),
        (f"What is {p.full}'s job?", np(an(job))),
        (f"What is {p.first}'s house near?", np(f"the {near}")),
    ]


BAKERIES = word_list("qa/bakeries.txt")


def q_bakery(r):
    b, st = r.choice(BAKERIES), r.choice(STREETS)
    t = r.choice(["5:30", "6:00", "6:30", "7:00", "7:30", "8:00"])
    n = r.randrange(80, 620, 20)
    (p,) = people(r, 1)
    ctx = (f"The {b} bakery on {st} opens at {t} every morning. "
           f"It sells about {n} loaves of bread a day and is run by {p.full}.")
    return ctx, [
        (f"What time does the {b} bakery open?", [t]),
        (f"How many loaves of bread does the {b} bakery sell each day?", [str(n), f"about {n}"]),
        (f"On which street is the {b} bakery?", [st]),
        (f"Who runs the {b} bakery?", [p.full]),
    ]


BRIDGES = word_list("qa/bridges.txt")


def q_bridge(r):
    b, river, c = r.choice(BRIDGES), r.choice(RIVERS), r.choice(COLOURS)
    y, n = year(r, 1790, 1990), r.randrange(40, 400, 5)
    ctx = (f"The {b} Bridge was built in {y} and crosses the River {river}. "
           f"It is painted {c} and is {n} metres long.")
    return ctx, [
        (f"What colour is the {b} Bridge?", [c]),
        (f"When was the {b} Bridge built?", [y]),
        (f"Which river does the {b} Bridge cross?", [f"River {river}", river]),
        (f"How long is the {b} Bridge?", [f"{n} metres", str(n)]),
    ]


PETNAMES = word_list("qa/petnames.txt")
PET_COLOURS = json_data("qa/pet_colours.json")
SPOTS = word_list("qa/spots.txt")


def q_pet(r):
    (p,) = people(r, 1)
    animal = r.choice(sorted(PET_COLOURS))
    c, name, spot = r.choice(PET_COLOURS[animal]), r.choice(PETNAMES), r.choice(SPOTS)
    times = r.choice(["twice", "three times"])
    ctx = (f"{p.first} has a {c} {animal} called {name}. "
           f"The {animal} likes to sleep {spot}, and {p.first} feeds it {times} a day.")
    return ctx, [
        (f"What is the name of {p.first}'s {animal}?", [name]),
        (f"What colour is {p.first}'s {animal}?", [c]),
        (f"Where does {name} like to sleep?", [spot] + [a for a in place_answers(spot) if a != spot]),
        (f"What kind of animal is {name}?", [animal]),
        (f"How often does {p.first} feed {name}?", [f"{times} a day", times]),
    ]


TEAMS = word_list("qa/teams.txt")


def q_football(r):
    t1, t2 = r.sample(TOWNS, 2)
    n1, n2 = r.sample(TEAMS, 2)
    a = r.randint(2, 5)
    b = r.randint(0, a - 1)
    day = r.choice(WEEKDAYS)
    (p,) = people(r, 1)
    how = r.choice(["scored twice", "scored the first goal", "scored the winning goal"])
    ctx = (f"The {t1} {n1} beat the {t2} {n2} {a}-{b} on {day}. "
           f"Their captain, {p.full}, {how}.")
    return ctx, [
        (f"Which team did the {t1} {n1} beat?", [f"{t2} {n2}", f"the {t2} {n2}"]),
        (f"Who is the captain of the {t1} {n1}?", [p.full]),
        ("What was the final score of the match?", [f"{a}-{b}"]),
        ("On which day was the match played?", [day]),
    ]


COMPANIES = word_list("qa/companies.txt")
PRODUCTS = word_list("qa/products.txt")


def q_company(r):
    c, prod, town = r.choice(COMPANIES), r.choice(PRODUCTS), r.choice(TOWNS)
    y, n = year(r, 1950, 2019), r.randrange(12, 900)
    (p,) = people(r, 1)
    ctx = (f"{c} was founded in {y} by {p.full} in the town of {town}. "
           f"Today the company makes {prod} and employs {n} people.")
    return ctx, [
        (f"Who founded {c}?", [p.full]),
        (f"In which town was {c} founded?", [town]),
        (f"What does {c} make?", [prod]),
        (f"How many people does {c} employ?", [str(n)]),
        (f"When was {c} founded?", [y]),
    ]


FEST_KINDS = word_list("qa/fest_kinds.txt")
FEST_PLACES = word_list("qa/fest_places.txt")


def q_festival(r):
    m, town, kind, place = r.choice(MONTHS), r.choice(TOWNS), r.choice(FEST_KINDS), r.choice(FEST_PLACES)
    n = money(r.randrange(300, 9000, 50))
    ctx = (f"Every {m}, the village of {town} holds {an(kind)} festival {place}. "
           f"About {n} visitors come each year.")
    return ctx, [
        (f"In which month is the festival in {town} held?", [m]),
        ("How many visitors come to the festival each year?", [n, f"About {n}"]),
        (f"What kind of festival does {town} hold?", [kind, f"{kind} festival"]),
        (f"Where in {town} is the festival held?", [place] + place_answers(place)[:-1]),
    ]


NOVELS = word_list("qa/novels.txt")
HEROES = word_list("qa/heroes.txt")


def q_novel(r):
    title, hero, town = r.choice(NOVELS), r.choice(HEROES), r.choice(TOWNS)
    y = year(r, 1921, 2021)
    (p,) = people(r, 1)
    ctx = (f"The novel \"{title}\" was written by {p.full} and published in {y}. "
           f"It tells the story of {hero} in the town of {town}.")
    return ctx, [
        (f"Who wrote \"{title}\"?", [p.full]),
        (f"When was \"{title}\" published?", [y]),
        (f"Who is the novel \"{title}\" about?", np(hero)),
        (f"In which town is \"{title}\" set?", [town]),
    ]


MOUNTAINS = word_list("qa/mountains.txt")


def q_mountain(r):
    mtn, valley = r.choice(MOUNTAINS), r.choice(TOWNS)
    h, y = money(r.randrange(900, 4600, 10)), year(r, 1820, 1960)
    (p,) = people(r, 1)
    name = f"Mount {mtn}" if " " not in mtn else mtn
    ctx = (f"{name} rises {h} metres above the valley of {valley}. "
           f"It was first climbed in {y} by {p.full}.")
    return ctx, [
        (f"How high is {name}?", [f"{h} metres", h]),
        (f"Who first climbed {name}?", [p.full]),
        (f"When was {name} first climbed?", [y]),
        (f"Which valley does {name} rise above?", [valley]),
    ]


def q_train(r):
    a, b = r.sample(TOWNS, 2)
    t = clock(r, 5, 22)
    n = r.randrange(15, 150, 5)
    k, c = r.sample(range(2, 11), 2)
    ctx = (f"The {t} train from {a} to {b} takes {n} minutes. "
           f"It stops at {NUMWORDS[k]} stations on the way and has {NUMWORDS[c]} carriages.")
    return ctx, [
        (f"How long does the {t} train from {a} to {b} take?", [f"{n} minutes", str(n)]),
        (f"How many stations does the {t} train stop at?", [NUMWORDS[k]]),
        (f"Where does the {t} train from {a} go?", [b]),
        (f"How many carriages does the {t} train have?", [NUMWORDS[c]]),
        (f"At what time does the train from {a} to {b} leave?", [t]),
    ]


RECIPES = json_data("qa/recipes.json")


def q_recipe(r):
    (p,) = people(r, 1)
    dish = r.choice(sorted(RECIPES))
    verb, ings = RECIPES[dish]
    i1, i2, i3 = r.sample(ings, 3)
    w1, w2, w3 = r.sample(range(2, 9), 3)
    n = r.randrange(10, 75, 5)
    if verb == "rests":
        second = f"{p.He} lets the batter rest for {n} minutes."
        q2 = (f"How long does {p.first} let the batter rest?", [f"{n} minutes", str(n)])
    else:
        second = f"{p.He} {verb} it for {n} minutes."
        q2 = (f"For how long does {p.first} {verb[:-1]} the {dish}?", [f"{n} minutes", str(n)])
    ctx = (f"To make {p.his} {dish}, {p.first} uses {NUMWORDS[w1]} {i1}, {NUMWORDS[w2]} {i2} "
           f"and {NUMWORDS[w3]} {i3}. {second}")
    return ctx, [
        (f"How many {i1} does {p.first} use for the {dish}?", [NUMWORDS[w1]]),
        (f"How many {i3} go into {p.first}'s {dish}?", [NUMWORDS[w3]]),
        q2,
    ]


SCHOOLS = word_list("qa/schools.txt")


def q_school(r):
    s, town = r.choice(SCHOOLS), r.choice(TOWNS)
    n, k, y = r.randrange(90, 640), r.randint(6, 35), year(r, 1998, 2023)
    (p,) = people(r, 1)
    title = "Mr" if p.g == "m" else "Ms"
    ctx = (f"{s} Primary School in {town} has {n} pupils and {k} teachers. "
           f"Its head teacher is {title} {p.last}, who has led the school since {y}.")
    return ctx, [
        (f"How many pupils does {s} Primary School have?", [str(n)]),
        (f"How many teachers work at {s} Primary School?", [str(k)]),
        (f"Who is the head teacher of {s} Primary School?", [f"{title} {p.last}", p.last]),
        (f"Since when has {title} {p.last} led the school?", [y]),
        (f"In which town is {s} Primary School?", [town]),
    ]


ITEMS = word_list("qa/items.txt")
FRUITS = word_list("qa/fruits.txt")


def q_shopping(r):
    (p,) = people(r, 1)
    day, c, item, town, fruit = (r.choice(WEEKDAYS), r.choice(COLOURS), r.choice(ITEMS),
                                 r.choice(TOWNS), r.choice(FRUITS))
    price = r.randint(3, 45)
    ctx = (f"On {day}, {p.first} bought {an(c)} {item} for {price} euros at the market in {town}. "
           f"{p.He} also bought a bag of {fruit}.")
    return ctx, [
        (f"What colour is the {item} that {p.first} bought?", [c]),
        (f"How much did {p.first} pay for the {item}?", [f"{price} euros", str(price)]),
        (f"On which day did {p.first} go to the market?", [day]),
        (f"In which town is the market where {p.first} shopped?", [town]),
        (f"What fruit did {p.first} buy?", [fruit]),
    ]


RELATIVES = word_list("qa/relatives.txt")
GIFTS = word_list("qa/gifts.txt")
CAKES = word_list("qa/cakes.txt")


def q_birthday(r):
    (p,) = people(r, 1)
    age, d, rel, c, gift, cake = (r.randint(5, 15), date(r), r.choice(RELATIVES), r.choice(COLOURS),
                                  r.choice(GIFTS), r.choice(CAKES))
    ctx = (f"{p.first} turned {NUMWORDS[age]} on {d}. "
           f"{p.His} {rel} gave {p.him} {an(c)} {gift}, and everyone ate {cake} cake.")
    return ctx, [
        (f"How old did {p.first} turn on {d}?", [NUMWORDS[age]]),
        (f"When is {p.first}'s birthday?", [d]),
        (f"What did {p.first}'s {rel} give {p.him}?", [f"{c} {gift}", an(f"{c} {gift}")]),
        (f"Who gave {p.first} the {gift}?", [rel, f"{p.His} {rel}"]),
        ("What kind of cake did everyone eat?", [cake, f"{cake} cake"]),
    ]


MUSEUMS = json_data("qa/museums.json")


def q_museum(r):
    town, city = r.choice(TOWNS), r.choice(CITIES)
    big, small = r.choice(MUSEUMS)
    y, n, y0 = year(r, 1900, 2015), money(r.randrange(120, 4000, 10)), year(r, 1450, 1790)
    ctx = (f"The {town} Museum of {big}, which opened in {y}, holds more than {n} {small}. "
           f"Its oldest piece was made in {city} around {y0}.")
    return ctx, [
        (f"How many {small} does the {town} Museum of {big} hold?", [n, f"more than {n}"]),
        (f"When did the {town} Museum of {big} open?", [y]),
        ("Where was the museum's oldest piece made?", [city]),
        ("Around what year was the museum's oldest piece made?", [y0]),
    ]


def q_storm(r):
    d, (town, town2) = date(r, ["November", "December", "January", "February", "March"]), r.sample(TOWNS, 2)
    n, k = r.randrange(10, 95, 5), r.randint(2, 6)
    ctx = (f"On {d}, a storm brought {n} centimetres of snow to {town}. "
           f"Schools stayed closed for {NUMWORDS[k]} days and the road to {town2} was blocked.")
    return ctx, [
        (f"How much snow did the storm bring to {town}?", [f"{n} centimetres", str(n)]),
        ("Which town did the storm hit?", [town]),
        ("How many days were the schools closed?", [NUMWORDS[k]]),
        (f"On what date did the storm hit {town}?", [d]),
        ("The road to which town was blocked?", [town2]),
    ]


VEG = word_list("qa/veg.txt")
FLOWERS = word_list("qa/flowers.txt")
FLOWER_COLOURS = word_list("qa/flower_colours.txt")


def q_garden(r):
    (p,) = people(r, 1)
    v1, v2 = r.sample(VEG, 2)
    fl, c, when = r.choice(FLOWERS), r.choice(FLOWER_COLOURS), r.choice(["morning", "evening"])
    ctx = (f"In {p.his} garden, {p.first} grows {v1}, {v2} and {c} {fl}. "
           f"{p.He} waters them every {when} and sells the {v1} at the Saturday market.")
    return ctx, [
        (f"What colour are the {fl} in {p.first}'s garden?", [c]),
        (f"When does {p.first} water the garden?", [f"every {when}", when]),
        (f"What does {p.first} sell at the Saturday market?", [v1]),
        (f"Which flowers grow in {p.first}'s garden?", [f"{c} {fl}", fl]),
    ]


BAGS = word_list("qa/bags.txt")
BAG_PLACES = word_list("qa/bag_places.txt")


def q_lostbag(r):
    p, p2 = people(r, 2)
    bag, c, bus, place = (r.choice(BAGS), r.choice(["black", "brown", "red", "blue", "green", "grey", "orange"]),
                          r.randint(2, 99), r.choice(BAG_PLACES))
    ctx = (f"{p.first} left {p.his} {c} {bag} on the number {bus} bus. "
           f"A driver named {p2.first} found it and took it to the {place}.")
    return ctx, [
        (f"Who found {p.first}'s {bag}?", [p2.first]),
        (f"On which bus did {p.first} leave the {bag}?", [f"number {bus}", str(bus)]),
        (f"What colour is {p.first}'s {bag}?", [c]),
        (f"Where did {p2.first} take the {bag}?", np(f"the {place}")),
    ]


PERFORMERS = word_list("qa/performers.txt")
VENUES = word_list("qa/venues.txt")


def q_concert(r):
    (p,) = people(r, 1)
    perf, venue, town, d = r.choice(PERFORMERS), r.choice(VENUES), r.choice(TOWNS), date(r)
    n = r.randint(8, 40)
    ctx = (f"The {perf} {p.full} will perform at the {venue} in {town} on {d}. "
           f"Tickets cost {n} pounds, and children get in free.")
    return ctx, [
        (f"Who will perform at the {venue} in {town}?", [p.full]),
        (f"In which town will {p.full} perform?", [town]),
        (f"At which venue will {p.full} perform?", np(f"the {venue}")),
        ("How much do tickets cost?", [f"{n} pounds", str(n)]),
        (f"On what date will {p.full} perform?", [d]),
    ]


PLANTS = word_list("qa/plants.txt")
HILLS = word_list("qa/hills.txt")
KIN = json_data("qa/kin.json")


def q_botanist(r):
    p, k = people(r, 2)
    y, plant, hills = year(r, 1850, 2015), r.choice(PLANTS), r.choice(HILLS)
    rel = r.choice(KIN[k.g])
    ctx = (f"In {y}, the botanist {p.full} discovered a new species of {plant} on the slopes of the "
           f"{hills}. {p.He} named it after {p.his} {rel}, {k.first}.")
    return ctx, [
        (f"Who discovered the new species of {plant}?", [p.full]),
        (f"In what year was the new {plant} discovered?", [y]),
        (f"Where did {p.full} find the new {plant}?", [hills, f"the {hills}", f"slopes of the {hills}"]),
        (f"What kind of plant did {p.full} discover?", [plant]),
        (f"Who was the new {plant} named after?", [k.first, f"{p.his} {rel}", f"{p.his} {rel}, {k.first}"]),
    ]


FERRIES = word_list("qa/ferries.txt")
ISLANDS = word_list("qa/islands.txt")


def q_ferry(r):
    f, port, isle = r.choice(FERRIES), r.choice(TOWNS), r.choice(ISLANDS)
    n, m = r.randrange(80, 900, 10), r.randrange(25, 150, 5)
    ctx = (f"The ferry {f} carries up to {n} passengers between {port} and the island of {isle}. "
           f"The crossing takes {m} minutes in calm weather.")
    return ctx, [
        (f"How many passengers can the ferry {f} carry?", [str(n), f"up to {n}"]),
        (f"How long does the crossing to {isle} take in calm weather?", [f"{m} minutes", str(m)]),
        (f"Which island does the ferry {f} sail to?", [isle, f"the island of {isle}"]),
        (f"From which town does the ferry {f} sail to {isle}?", [port]),
    ]


CAFES = word_list("qa/cafes.txt")
CAFE_DISHES = word_list("qa/cafe_dishes.txt")


def q_cafe(r):
    cafe, st, dish = r.choice(CAFES), r.choice(STREETS), r.choice(CAFE_DISHES)
    t = r.choice(["10:30", "11:00", "11:30", "12:00"])
    price = f"{r.randint(4, 14)}.{r.choice(['00', '50', '80', '20'])}"
    ctx = (f"{cafe} on {st} serves breakfast until {t}. "
           f"Its most popular dish is the {dish}, which costs {price} euros.")
    return ctx, [
        (f"Until what time does {cafe} serve breakfast?", [t]),
        (f"What is the most popular dish at {cafe}?", np(f"the {dish}")),
        (f"On which street is {cafe}?", [st]),
        (f"How much does the {dish} cost?", [f"{price} euros", price]),
    ]


def q_marathon(r):
    p1, p2 = people(r, 2)
    town, h, m, k = r.choice(TOWNS), r.randint(2, 3), r.randint(1, 59), r.randint(3, 59)
    hours = "hours"
    ctx = (f"{p1.full} won the {town} marathon in {h} {hours} and {m} minutes. "
           f"{p2.full} finished second, just {k} seconds behind.")
    return ctx, [
        (f"Who won the {town} marathon?", [p1.full]),
        (f"Who finished second in the {town} marathon?", [p2.full]),
        (f"How long did {p1.full} take to finish the marathon?", [f"{h} {hours} and {m} minutes"]),
        (f"How far behind the winner was {p2.full}?", [f"{k} seconds", str(k)]),
    ]


def q_siblings(r):
    (p,) = people(r, 1)
    g = r.choice("fm")
    k = r.choice([2, 3])
    sibs = people(r, k + 1, g)
    sibs = [s for s in sibs if s.first != p.first][:k]
    word = "sisters" if g == "f" else "brothers"
    names = " and ".join(s.first for s in sibs) if k == 2 else f"{sibs[0].first}, {sibs[1].first} and {sibs[2].first}"
    job, town = r.choice(JOBS), r.choice(TOWNS)
    rest = f"{sibs[1].first} is" if k == 2 else "the others are"
    ctx = (f"{p.first} has {NUMWORDS[k]} {word}, {names}. "
           f"{sibs[0].first} works as {an(job)} in {town}, while {rest} still at school.")
    return ctx, [
        (f"How many {word} does {p.first} have?", [NUMWORDS[k]]),
        (f"What does {sibs[0].first} do for a living?", np(an(job))),
        (f"Where does {sibs[0].first} work?", [town]),
    ]


def q_library(r):
    town, day = r.choice(TOWNS), r.choice(WEEKDAYS[:6])
    n = r.randrange(40, 700, 10)
    (p,) = people(r, 1)
    ctx = (f"The library in {town} lends out about {n} books a day. "
           f"It is closed on {day}s, and the head librarian is {p.full}.")
    return ctx, [
        (f"On which day is the library in {town} closed?", [f"{day}s", day]),
        (f"How many books does the library in {town} lend out each day?", [str(n), f"about {n}"]),
        (f"Who is the head librarian in {town}?", [p.full]),
    ]


INVENTIONS = word_list("qa/inventions.txt")


def q_invention(r):
    (p,) = people(r, 1)
    inv, y, town, city = r.choice(INVENTIONS), year(r, 1850, 1975), r.choice(TOWNS), r.choice(CITIES)
    n = money(r.randrange(200, 9000, 50))
    ctx = (f"The {inv} was invented in {y} by {p.full}, an engineer from {town}. "
           f"{p.He} sold the idea to a company in {city} for {n} pounds.")
    return ctx, [
        (f"Who invented the {inv}?", [p.full]),
        (f"When was the {inv} invented?", [y]),
        (f"Where was the inventor of the {inv} from?", [town]),
        (f"How much did {p.full} sell the idea for?", [f"{n} pounds", n]),
        ("In which city was the company that bought the idea?", [city]),
    ]


CREATURES = json_data("qa/creatures.json")
CREATURE_ADJ = word_list("qa/creature_adj.txt")
HABITATS = word_list("qa/habitats.txt")
FOODS = word_list("qa/foods.txt")


def q_animal(r):
    kind = r.choice(sorted(CREATURES))
    adj, hab = r.choice(CREATURE_ADJ), r.choice(HABITATS)
    food = r.choice([f for f in FOODS if not f.startswith(kind)])
    lo, hi = CREATURES[kind]
    n = r.randint(lo, hi)
    when = r.choice(["dawn", "dusk", "night"])
    ctx = (f"The {adj} {kind} of the {hab} can grow up to {n} centimetres long. "
           f"It feeds mainly on {food} and is most active at {when}.")
    return ctx, [
        (f"How long can the {adj} {kind} grow?", [f"{n} centimetres", str(n), f"up to {n} centimetres"]),
        (f"What does the {adj} {kind} mainly eat?", [food]),
        (f"Where does the {adj} {kind} live?", np(f"the {hab}")),
        (f"When is the {adj} {kind} most active?", [when, f"at {when}"]),
    ]


PARKS = word_list("qa/parks.txt")
PARK_BIRDS = word_list("qa/park_birds.txt")


def q_park(r):
    name, birds, c = r.choice(PARKS), r.choice(PARK_BIRDS), r.choice(COLOURS)
    n, gate = r.randint(4, 90), r.choice(["north", "south", "east", "west"])
    ctx = (f"{name} Park covers {n} hectares and has a pond full of {birds}. "
           f"Its benches are painted {c}, and the playground is next to the {gate} gate.")
    return ctx, [
        (f"How big is {name} Park?", [f"{n} hectares", str(n)]),
        (f"Which birds live on the pond in {name} Park?", [birds]),
        (f"What colour are the benches in {name} Park?", [c]),
        ("Which gate is the playground next to?", [f"{gate} gate", f"the {gate} gate", gate]),
    ]


MEETINGS = word_list("qa/meetings.txt")


def q_meeting(r):
    team = r.choice(MEETINGS)
    d1, d2 = r.sample(WEEKDAYS[:5], 2)
    t, room = clock(r, 8, 17), str(r.randint(101, 450))
    (p,) = people(r, 1)
    ctx = (f"The {team} meeting has been moved from {d1} to {d2}. "
           f"It will start at {t} in room {room}, and {p.full} will lead it.")
    return ctx, [
        (f"On which day will the {team} meeting now take place?", [d2]),
        (f"On which day was the {team} meeting first planned?", [d1]),
        (f"What time will the {team} meeting start?", [t]),
        (f"In which room will the {team} meeting be held?", [room, f"room {room}"]),
        (f"Who will lead the {team} meeting?", [p.full]),
    ]


def q_election(r):
    (p,) = people(r, 1)
    y, town, job = year(r, 1990, 2023), r.choice(TOWNS), r.choice(JOBS)
    n, k = money(r.randrange(900, 30000, 7)), r.randint(3, 30)
    ctx = (f"In the {y} election, {p.full} became mayor of {town} with {n} votes. "
           f"Before that, {p.he} worked as {an(job)} for {k} years.")
    return ctx, [
        (f"Who became mayor of {town} in {y}?", [p.full]),
        (f"How many votes did {p.full} receive?", [n]),
        (f"What was {p.full}'s job before becoming mayor?", np(an(job))),
        (f"For how many years did {p.full} work as {an(job)}?", [str(k), f"{k} years"]),
    ]


PAINTINGS = word_list("qa/paintings.txt")
PAINT_OBJS = word_list("qa/paint_objs.txt")
GALLERIES = word_list("qa/galleries.txt")
SKIES = word_list("qa/skies.txt")


def q_painting(r):
    (p,) = people(r, 1)
    title, obj, gal, sky, town = (r.choice(PAINTINGS), r.choice(PAINT_OBJS), r.choice(GALLERIES),
                                  r.choice(SKIES), r.choice(TOWNS))
    k = r.randint(2, 9)
    ctx = (f"The painting \"{title}\" by {p.full} shows {NUMWORDS[k]} {obj} under {an(sky)} sky. "
           f"It hangs in the {gal} in {town}.")
    return ctx, [
        (f"Who painted \"{title}\"?", [p.full]),
        (f"What colour is the sky in \"{title}\"?", [sky]),
        (f"Where does \"{title}\" hang?", np(f"the {gal}")),
        (f"How many {obj} does \"{title}\" show?", [NUMWORDS[k]]),
        (f"In which town can you see \"{title}\"?", [town]),
    ]


BANDS = word_list("qa/bands.txt")
ALBUMS = word_list("qa/albums.txt")
STUDIOS = word_list("qa/studios.txt")


def q_band(r):
    band, album, studio, town = r.choice(BANDS), r.choice(ALBUMS), r.choice(STUDIOS), r.choice(TOWNS)
    y, k = year(r, 1968, 2022), r.randint(3, 30)
    ctx = (f"The band {band} released their first album, \"{album}\", in {y}. "
           f"It was recorded in {studio} near {town} in just {k} days.")
    return ctx, [
        (f"What was the name of {band}'s first album?", [album]),
        (f"When did {band} release their first album?", [y]),
        (f"Near which town was \"{album}\" recorded?", [town]),
        (f"How long did it take to record \"{album}\"?", [f"{k} days", str(k)]),
        (f"In what kind of building was \"{album}\" recorded?", np(studio)),
    ]


def q_flight(r):
    code = f"{r.choice(['PK', 'VL', 'AZ', 'NR', 'QT'])} {r.randint(100, 989)}"
    city, g, t, m = r.choice(CITIES), str(r.randint(1, 48)), clock(r, 5, 23), r.choice([20, 25, 30, 40, 45])
    ctx = (f"Flight {code} to {city} leaves from gate {g} at {t}. "
           f"Passengers should be at the gate {m} minutes before departure.")
    return ctx, [
        (f"Which gate does flight {code} leave from?", [g, f"gate {g}"]),
        (f"What time does flight {code} leave?", [t]),
        (f"Where is flight {code} going?", [city]),
        ("How early should passengers be at the gate?", [f"{m} minutes before departure", f"{m} minutes"]),
    ]


FIELDS = word_list("qa/fields.txt")


def q_doctor(r):
    (p,) = people(r, 1)
    town, town2 = r.sample(TOWNS, 2)
    k, field = r.randint(2, 32), r.choice(FIELDS)
    ctx = (f"Dr {p.full} has worked at {town} Hospital for {k} years. "
           f"{p.He} specialises in {field} and also teaches at the university in {town2}.")
    return ctx, [
        (f"How long has Dr {p.last} worked at {town} Hospital?", [f"{k} years", str(k)]),
        (f"What does Dr {p.full} specialise in?", [field]),
        (f"At which hospital does Dr {p.full} work?", [f"{town} Hospital", town]),
        (f"In which town does Dr {p.last} teach?", [town2]),
    ]


SEAS = word_list("qa/seas.txt")
FAMOUS = word_list("qa/famous.txt")


def q_river(r):
    river, sea, town, thing = r.choice(RIVERS), r.choice(SEAS), r.choice(TOWNS), r.choice(FAMOUS)
    n = r.randrange(30, 600, 5)
    ctx = (f"The River {river} is {n} kilometres long and flows into the {sea}. "
           f"The largest town on its banks is {town}, known for its {thing}.")
    return ctx, [
        (f"How long is the River {river}?", [f"{n} kilometres", str(n)]),
        (f"Where does the River {river} flow into?", np(f"the {sea}")),
        (f"What is the largest town on the River {river}?", [town]),
        (f"What is {town} known for?", [thing, f"its {thing}"]),
    ]


VEHICLES = word_list("qa/vehicles.txt")
OWNERS = word_list("qa/owners.txt")
GOODS = word_list("qa/goods.txt")


def q_van(r):
    (p,) = people(r, 1)
    c, veh, rel, y, goods, town = (r.choice(COLOURS), r.choice(VEHICLES), r.choice(OWNERS),
                                   year(r, 1995, 2022), r.choice(GOODS), r.choice(TOWNS))
    ctx = (f"{p.first} drives an old {c} {veh} that {p.he} bought from {p.his} {rel} in {y}. "
           f"{p.He} uses it to deliver {goods} around {town}.")
    return ctx, [
        (f"What colour is {p.first}'s {veh}?", [c]),
        (f"Who did {p.first} buy the {veh} from?", [rel, f"{p.his} {rel}"]),
        (f"When did {p.first} buy the {veh}?", [y]),
        (f"What does {p.first} deliver?", [goods]),
        (f"Where does {p.first} make deliveries?", [town, f"around {town}"]),
    ]


PRIZES = word_list("qa/prizes.txt")
TARTS = word_list("qa/tarts.txt")


def q_contest(r):
    p1, p2 = people(r, 2)
    town, fruit, prize = r.choice(TOWNS), r.choice(TARTS), r.choice(PRIZES)
    ctx = (f"The {town} baking contest was won by {p1.full} with a {fruit} tart. "
           f"The prize was {an(prize)}, presented by the mayor, {p2.full}.")
    return ctx, [
        (f"Who won the {town} baking contest?", [p1.full]),
        (f"What did {p1.full} bake?", [f"{fruit} tart", f"a {fruit} tart"]),
        (f"What was the prize in the {town} baking contest?", np(an(prize))),
        ("Who is the mayor?", [p2.full]),
    ]


LANGS = word_list("qa/langs.txt")
CLASS_PLACES = word_list("qa/class_places.txt")


def q_class(r):
    (p,) = people(r, 1)
    day, lang, place = r.choice(WEEKDAYS), r.choice(LANGS), r.choice(CLASS_PLACES)
    n, k = r.randint(4, 16), r.choice([45, 60, 75, 90, 120])
    ctx = (f"Every {day} evening, {p.first} teaches {lang} to a group of {NUMWORDS[n]} adults at the "
           f"{place}. Each lesson lasts {k} minutes.")
    return ctx, [
        (f"What language does {p.first} teach?", [lang]),
        (f"How many adults are in {p.first}'s group?", [NUMWORDS[n]]),
        (f"Where does {p.first} teach?", np(f"the {place}")),
        (f"On which evening does {p.first} teach?", [day]),
        ("How long does each lesson last?", [f"{k} minutes", str(k)]),
    ]


QA_HOTEL_NAMES = word_list("qa/qa_hotel_names.txt")
QA_HOTEL_FEATURES = word_list("qa/qa_hotel_features.txt")


def q_hotel(r):
    (p,) = people(r, 1)
    name, feat = r.choice(QA_HOTEL_NAMES), r.choice(QA_HOTEL_FEATURES)
    n, y = r.randint(12, 240), year(r, 1890, 2020)
    ctx = (f"The {name} Hotel has {n} rooms and {an(feat)}. "
           f"It was designed by the architect {p.full} and opened in {y}.")
    return ctx, [
        (f"How many rooms does the {name} Hotel have?", [str(n)]),
        (f"Who designed the {name} Hotel?", [p.full]),
        (f"When did the {name} Hotel open?", [y]),
        (f"Apart from its rooms, what does the {name} Hotel have?", np(an(feat))),
    ]


TREES = word_list("qa/trees.txt")


def q_volunteers(r):
    (p,) = people(r, 1)
    day, tree, town = r.choice(WEEKDAYS), r.choice(TREES), r.choice(TOWNS)
    n, m = r.randint(12, 90), r.randrange(150, 2500, 25)
    ctx = (f"On {day}, {n} volunteers planted {money(m)} {tree} trees along the road to {town}. "
           f"The work was organised by {p.full}.")
    return ctx, [
        (f"How many volunteers planted trees on {day}?", [str(n)]),
        ("How many trees did the volunteers plant?", [money(m)]),
        ("What kind of trees did the volunteers plant?", [tree, f"{tree} trees"]),
        ("The trees were planted along the road to which town?", [town]),
        ("Who organised the tree planting?", [p.full]),
    ]


CAPES = word_list("qa/capes.txt")


def q_lighthouse(r):
    cape = r.choice(CAPES)
    c1, c2 = r.sample(["red", "white", "black", "yellow", "blue", "green"], 2)
    n, k, y = r.randint(12, 60), r.randint(8, 45), year(r, 1790, 1950)
    ctx = (f"The lighthouse at {cape} is {n} metres tall and is painted with {c1} and {c2} stripes. "
           f"It was built in {y}, and its light can be seen from {k} kilometres away.")
    return ctx, [
        (f"How tall is the lighthouse at {cape}?", [f"{n} metres", str(n)]),
        (f"What colours are the stripes on the lighthouse at {cape}?", [f"{c1} and {c2}"]),
        (f"From how far away can the light at {cape} be seen?", [f"{k} kilometres", str(k)]),
        (f"When was the lighthouse at {cape} built?", [y]),
    ]


KINGS = word_list("qa/kings.txt")
QUEENS = word_list("qa/queens.txt")
KINGDOMS = word_list("qa/kingdoms.txt")
ROMAN = word_list("qa/roman.txt")


def q_ruler(r):
    queen = r.random() < 0.5
    title, he = ("Queen", "She") if queen else ("King", "He")
    name = f"{r.choice(QUEENS if queen else KINGS)} {r.choice(ROMAN)}"
    kingdom = r.choice(KINGDOMS)
    y1 = r.randint(1100, 1650)
    y2 = y1 + r.randint(4, 45)
    c0, c1 = r.sample(CITIES, 2)
    ctx = (f"{title} {name} ruled the kingdom of {kingdom} from {y1} to {y2}. "
           f"{he} moved the capital from {c0} to the city of {c1}.")
    return ctx, [
        (f"Who ruled {kingdom} from {y1} to {y2}?", [f"{title} {name}", name]),
        (f"Which city became the new capital of {kingdom}?", [c1]),
        (f"Which city was the capital of {kingdom} before {title} {name} moved it?", [c0]),
        (f"In what year did the reign of {title} {name} end?", [str(y2)]),
        (f"When did {title} {name} begin to rule {kingdom}?", [str(y1)]),
    ]


MARKET_PLACES = word_list("qa/market_places.txt")


def q_market(r):
    town, day, place = r.choice(TOWNS), r.choice(WEEKDAYS), r.choice(MARKET_PLACES)
    n, t = r.randint(15, 140), clock(r, 12, 18)
    ctx = (f"The farmers' market in {town} is held every {day} in {place}. "
           f"Around {n} stalls sell fruit, cheese and bread, and the market closes at {t}.")
    return ctx, [
        (f"On which day is the farmers' market in {town} held?", [day, f"every {day}"]),
        (f"Where is the farmers' market in {town} held?", np(place)),
        ("How many stalls are there at the market?", [str(n), f"Around {n}"]),
        ("What time does the market close?", [t]),
    ]


FARM_ANIMALS = word_list("qa/farm_animals.txt")


def q_family_move(r):
    town1, town2 = r.sample(TOWNS, 2)
    (p,) = people(r, 1)
    son = people(r, 1, r.choice("fm"))[0]
    child = "son" if son.g == "m" else "daughter"
    animals, n = r.choice(FARM_ANIMALS), r.randint(4, 40)
    ctx = (f"After {n} years in {town1}, the {p.last} family moved to a farm near {town2}, "
           f"where they keep {animals}. Their eldest {child}, {son.first}, runs the farm shop.")
    return ctx, [
        (f"Where did the {p.last} family live before moving to the farm?", [town1]),
        (f"What animals do the {p.last} family keep?", [animals]),
        (f"How long did the {p.last} family live in {town1}?", [f"{n} years", str(n)]),
        (f"Near which town is the {p.last} family's farm?", [town2]),
        ("Who runs the farm shop?", [son.first]),
    ]


SUBJECTS = word_list("qa/subjects.txt")


def q_exam(r):
    p, p2 = people(r, 2)
    subj = r.choice(SUBJECTS)
    n = r.randint(82, 100)
    m = r.randint(60, n - 2)
    ctx = (f"{p.first} scored {n} points in {p.his} {subj} exam, the highest mark in {p.his} class. "
           f"{p.His} friend {p2.first} came second with {m} points.")
    return ctx, [
        (f"How many points did {p.first} score?", [str(n), f"{n} points"]),
        (f"In which subject did {p.first} get the highest mark?", [subj]),
        (f"Who came second in the {subj} exam?", [p2.first]),
        (f"How many points did {p2.first} get?", [str(m), f"{m} points"]),
    ]


PHONE_BRANDS = word_list("qa/phone_brands.txt")
PHONE_MODELS = word_list("qa/phone_models.txt")


def q_phone(r):
    b, mdl, d = r.choice(PHONE_BRANDS), r.choice(PHONE_MODELS), date(r)
    n, h, price = r.randint(120, 230), r.randint(14, 60), r.randrange(149, 1099, 10)
    ctx = (f"The {b} {mdl} phone weighs {n} grams, and its battery lasts about {h} hours. "
           f"It will go on sale on {d} for {price} euros.")
    return ctx, [
        (f"How much does the {b} {mdl} weigh?", [f"{n} grams", str(n)]),
        (f"How long does the battery of the {b} {mdl} last?", [f"{h} hours", f"about {h} hours", str(h)]),
        (f"When will the {b} {mdl} go on sale?", [d]),
        (f"How much will the {b} {mdl} cost?", [f"{price} euros", str(price)]),
    ]


ZOO_ANIMALS = json_data("qa/zoo_animals.json")
ZOO_NAMES = word_list("qa/zoo_names.txt")


def q_zoo(r):
    town, animal, month = r.choice(TOWNS), r.choice(sorted(ZOO_ANIMALS)), r.choice(MONTHS)
    baby, mum = r.sample(ZOO_NAMES, 2)
    lo, hi = ZOO_ANIMALS[animal]
    n = r.randint(lo, hi)
    he, his = r.choice([("She", "her"), ("He", "his")])
    ctx = (f"{town} Zoo welcomed a baby {animal} named {baby} in {month}. "
           f"{he} weighed {n} kilograms at birth, and {his} mother is called {mum}.")
    return ctx, [
        (f"What is the name of the baby {animal} at {town} Zoo?", [baby]),
        (f"In which month was {baby} born?", [month]),
        (f"How much did {baby} weigh at birth?", [f"{n} kilograms", str(n)]),
        (f"What is the name of {baby}'s mother?", [mum]),
    ]


NICKS = word_list("qa/nicks.txt")


def q_tree(r):
    tree, town, nick, c = r.choice(TREES), r.choice(TOWNS), r.choice(NICKS), r.choice(COLOURS)
    n = r.randrange(120, 800, 10)
    ctx = (f"The old {tree} tree behind the church in {town} is about {n} years old. "
           f"Local children call it \"{nick}\" and tie {c} ribbons to its branches every spring.")
    return ctx, [
        (f"How old is the {tree} tree behind the church in {town}?", [f"{n} years old", f"{n} years", str(n)]),
        (f"What do local children call the old {tree} tree?", [nick]),
        ("What colour are the ribbons tied to the tree?", [c]),
        (f"What kind of tree stands behind the church in {town}?", [tree]),
    ]


def q_cycle(r):
    p1, p2 = people(r, 2)
    a, b, c = r.sample(TOWNS, 3)
    n, t = r.randint(40, 160), clock(r, 15, 21)
    ctx = (f"{p1.first} and {p2.first} cycled {n} kilometres from {a} to {b} in one day. "
           f"They stopped for lunch in {c} and arrived at {t}.")
    return ctx, [
        (f"How far did {p1.first} and {p2.first} cycle?", [f"{n} kilometres", str(n)]),
        ("Where did they stop for lunch?", [c]),
        (f"Where did {p1.first} and {p2.first} start their ride?", [a]),
        (f"Where did {p1.first} and {p2.first} cycle to?", [b]),
        ("What time did they arrive?", [t]),
    ]


NEW_PETS = word_list("qa/new_pets.txt")


def q_penpal(r):
    p, p2 = people(r, 2)
    town, pet, k = r.choice(TOWNS + CITIES), r.choice(NEW_PETS), r.randint(3, 12)
    ctx = (f"{p.first} wrote a letter to {p.his} pen pal {p2.first}, who lives in {town}, "
           f"to tell {p2.him} about {p.his} new {pet}. The letter took {NUMWORDS[k]} days to arrive.")
    return ctx, [
        (f"Who is {p.first}'s pen pal?", [p2.first]),
        (f"Where does {p2.first} live?", [town]),
        (f"What did {p.first} write about?", [f"{p.his} new {pet}", f"new {pet}", pet]),
        ("How long did the letter take to arrive?", [f"{NUMWORDS[k]} days", NUMWORDS[k]]),
    ]


def q_ages(r):
    p1, p2 = people(r, 2, "m")
    (p3,) = [x for x in people(r, 3) if x.first not in (p1.first, p2.first)][:1]
    a, b = r.sample(range(5, 15), 2)
    c = max(a, b) + r.randint(2, 8)
    town = r.choice(TOWNS)
    ctx = (f"{p1.first} is {a} years old, and his brother {p2.first} is {b}. "
           f"Their cousin {p3.first}, who lives in {town}, is the oldest at {c}.")
    return ctx, [
        (f"How old is {p2.first}?", [str(b)]),
        (f"How old is {p1.first}?", [str(a), f"{a} years old"]),
        ("Who is the oldest of the three?", [p3.first]),
        (f"Where does {p3.first} live?", [town]),
    ]


def q_bus(r):
    n = r.randint(2, 99)
    a, b = r.sample(TOWNS, 2)
    k, t = r.choice([10, 12, 15, 20, 30, 40, 60]), clock(r, 5, 7)
    price = f"{r.randint(1, 4)}.{r.choice(['20', '50', '80', '90'])}"
    ctx = (f"Bus {n} runs from {a} to {b} every {k} minutes. "
           f"The first bus leaves at {t}, and a single ticket costs {price} euros.")
    return ctx, [
        (f"How often does bus {n} run?", [f"every {k} minutes", f"{k} minutes"]),
        (f"When does the first bus {n} leave?", [t]),
        (f"How much is a single ticket on bus {n}?", [f"{price} euros", price]),
        (f"Where does bus {n} go to?", [b]),
    ]


VIEWS = word_list("qa/views.txt")


def q_flat(r):
    fl, k, view = r.randint(0, 7), r.randint(1, 4), r.choice(VIEWS)
    rent = r.randrange(450, 1900, 25)
    ctx = (f"The flat on the {ORDINALS[fl]} floor has {NUMWORDS[k]} bedroom{'s' if k > 1 else ''} "
           f"and a balcony facing the {view}. The rent is {money(rent)} euros a month.")
    return ctx, [
        ("On which floor is the flat?", [ORDINALS[fl], f"{ORDINALS[fl]} floor", f"the {ORDINALS[fl]} floor"]),
        ("How many bedrooms does the flat have?", [NUMWORDS[k]]),
        ("What does the balcony face?", np(f"the {view}")),
        ("How much is the rent?", [f"{money(rent)} euros a month", f"{money(rent)} euros", money(rent)]),
    ]


STROKES = word_list("qa/strokes.txt")


def q_swim(r):
    (p,) = people(r, 1)
    dist, stroke, town = r.choice([50, 100, 200]), r.choice(STROKES), r.choice(TOWNS)
    base = {50: 24, 100: 52, 200: 115}[dist]
    s = f"{base + r.randint(0, 12)}.{r.randint(10, 99)}"
    age = r.randint(16, 31)
    ctx = (f"The swimmer {p.full} set a new national record of {s} seconds in the {dist}-metre {stroke}. "
           f"{p.He} is {age} years old and trains in {town}.")
    return ctx, [
        (f"What record time did {p.full} set?", [f"{s} seconds", s]),
        (f"In which event did {p.full} set the record?", [f"{dist}-metre {stroke}", stroke]),
        (f"How old is {p.full}?", [str(age), f"{age} years old"]),
        (f"Where does {p.full} train?", [town]),
    ]


WEDDING_FLOWERS = word_list("qa/wedding_flowers.txt")


def q_wedding(r):
    p1, p2 = people(r, 2)
    d, town, fl, n = date(r), r.choice(TOWNS), r.choice(WEDDING_FLOWERS), r.randint(20, 180)
    ctx = (f"{p1.first} and {p2.first} got married on {d} in the garden of an old inn in {town}. "
           f"There were {n} guests, and the cake was decorated with {fl}.")
    return ctx, [
        (f"When did {p1.first} and {p2.first} get married?", [d]),
        (f"In which town did {p1.first} and {p2.first} get married?", [town]),
        ("How many guests were at the wedding?", [str(n)]),
        ("What was the wedding cake decorated with?", [fl]),
    ]


SHIPS = word_list("qa/ships.txt")


def q_expedition(r):
    (p,) = people(r, 1)
    y, ship, isle = year(r, 1780, 1930), r.choice(SHIPS), r.choice(ISLANDS)
    k, n = r.randint(9, 90), r.randint(8, 60)
    ctx = (f"In {y}, Captain {p.full} sailed the schooner {ship} to the Isle of {isle}. "
           f"The voyage took {k} days, and {n} sailors were on board.")
    return ctx, [
        (f"Who sailed the {ship} to the Isle of {isle}?", [f"Captain {p.full}", p.full]),
        (f"What was the name of Captain {p.last}'s schooner?", [ship]),
        (f"How long did the voyage to {isle} take?", [f"{k} days", str(k)]),
        (f"How many sailors were on board the {ship}?", [str(n)]),
        (f"In what year did the {ship} sail to {isle}?", [y]),
    ]


def q_interview(r):
    (p,) = people(r, 1)
    comp, d, t, job, _unused_town = (r.choice(COMPANIES), date(r), clock(r, 8, 16), r.choice(JOBS),
                             r.choice(TOWNS))
    k = r.choice([30, 40, 45, 60, 90])
    ctx = (f"{p.first} has a job interview at {comp} on {d} at {t}. "
           f"{p.He} is applying to work as {an(job)}, and the interview will last {k} minutes.")
    return ctx, [
        (f"Which company is {p.first}'s interview with?", [comp]),
        (f"On what date is {p.first}'s interview?", [d]),
        (f"At what time is {p.first}'s interview?", [t]),
        (f"What job is {p.first} applying for?", np(an(job))),
        ("How long will the interview last?", [f"{k} minutes", str(k)]),
    ]


QA_TEMPLATES = [
    q_move, q_bakery, q_bridge, q_pet, q_football, q_company, q_festival, q_novel, q_mountain,
    q_train, q_recipe, q_school, q_shopping, q_birthday, q_museum, q_storm, q_garden, q_lostbag,
    q_concert, q_botanist, q_ferry, q_cafe, q_marathon, q_siblings, q_library, q_invention,
    q_animal, q_park, q_meeting, q_election, q_painting, q_band, q_flight, q_doctor, q_river,
    q_van, q_contest, q_class, q_hotel, q_volunteers, q_lighthouse, q_ruler, q_market,
    q_family_move, q_exam, q_phone, q_zoo, q_tree, q_cycle, q_penpal, q_ages, q_bus, q_flat,
    q_swim, q_wedding, q_expedition, q_interview,
]


# ---------------------------------------------------------------------------------------------
# 2. English -> French: hand-written pairs in demo_data/translation/pairs.txt,
#    one per line: "en | fr | alternative | ..."
#    French typography: straight apostrophe, a plain space before ? and !, accents kept.
# ---------------------------------------------------------------------------------------------

MT_PAIRS = (DEMO_DATA / "translation/pairs.txt").read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# 3. Data-to-text: weather forecasts and hotel descriptions
# ---------------------------------------------------------------------------------------------

# sky value -> (verb phrases after the city, noun phrases); every phrase contains the value
SKY = json_data("data_to_text/sky.json")
WET = {"light rain", "heavy rain", "showers", "thunderstorms", "snow", "sleet"}
COLD = {"snow", "sleet"}
WINDS = word_list("data_to_text/winds.txt")
WEATHER_KEYS = ["city", "day", "sky", "high", "low", "wind", "rain"]

HOTEL_NAMES = word_list("data_to_text/hotel_names.txt")
HOTEL_FEATURES = json_data("data_to_text/hotel_features.json")  # feature -> article used in the sentence
NEAR = word_list("data_to_text/near.txt")
HOTEL_KEYS = ["name", "city", "stars", "price", "rating", "feature", "near"]


def join_and(items: list[str]) -> str:
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]


def cap(s: str) -> str:
    return s[0].upper() + s[1:]


def weather_record(r: random.Random) -> dict:
    rec = {"city": r.choice(TOWNS)}
    if r.random() < 0.75:
        rec["day"] = r.choice(WEEKDAYS)
    budget = r.randint(2, 5) - len(rec)
    extras = ["sky", "high", "low", "wind", "rain"]
    r.shuffle(extras)
    chosen = set(extras[:max(budget, 1)])
    sky = r.choice(sorted(SKY)) if "sky" in chosen else None
    if sky:
        rec["sky"] = sky
    hi = r.randint(-4, 3) if sky in COLD else r.randint(6, 34) if sky in ("sunny", "clear") else r.randint(2, 26)
    if "high" in chosen:
        rec["high"] = f"{hi}°C"
    if "low" in chosen:
        rec["low"] = f"{min(hi - r.randint(4, 11), 21)}°C"
    if "wind" in chosen:
        rec["wind"] = r.choice(WINDS)
    if "rain" in chosen and sky not in WET:
        lo, top = (5, 40) if sky else (5, 95)
        rec["rain"] = f"{r.randrange(lo, top + 1, 5)}%"
    return {k: rec[k] for k in WEATHER_KEYS if k in rec}


def weather_extras(r: random.Random, rec: dict) -> list[str]:
    """Noun phrases for the non-sky attributes: temperatures stay high-then-low, as a block."""
    temps, out = [], []
    for k in ("high", "low", "wind", "rain"):
        if k not in rec:
            continue
        v = rec[k]
        if k == "high":
            temps.append(r.choice([f"a high of {v}", f"highs of around {v}", f"a top temperature of {v}",
                                   f"temperatures reaching {v}"]))
        elif k == "low":
            temps.append(r.choice([f"a low of {v}", f"an overnight low of {v}", f"lows of {v} at night"]))
        elif k == "wind":
            opts = [f"{v} winds"]
            if v in ("light", "moderate"):
                opts.append(f"{an(v)} breeze")
            elif v != "gale-force":
                opts.append(f"{v} wind")
            out.append(r.choice(opts))
        else:
            out.append(r.choice([f"{an(v)} chance of rain", f"{an(v)} risk of rain"]))
    r.shuffle(out)
    return temps + out if r.random() < 0.6 else out + temps


def weather_sentence(r: random.Random, rec: dict) -> str:
    city, day, sky = rec["city"], rec.get("day"), rec.get("sky")
    on = f" on {day}" if day else ""
    ex = weather_extras(r, rec)
    w = f" with {join_and(ex)}" if ex else ""
    if sky:
        preds, noms = SKY[sky]
        forms = [f"{city} {r.choice(preds)}{on}{w}.",
                 f"Expect {r.choice(noms)} in {city}{on}{w}.",
                 f"The forecast for {city}{on} is {r.choice(noms)}{w}."]
        if day:
            forms.append(f"On {day}, {city} {r.choice(preds)}{w}.")
        if ex and len(ex) == 1:
            forms.append(f"{city} {r.choice(preds)}{on}, with {ex[0]}.")
        return r.choice(forms)
    np_ = join_and(ex)
    forms = [f"{city} will have {np_}{on}.", f"Expect {np_} in {city}{on}.",
             f"The forecast for {city}{on} shows {np_}."]
    if day:
        forms.append(f"On {day}, {city} can expect {np_}.")
    return r.choice(forms)


def hotel_record(r: random.Random) -> dict:
    rec = {"name": r.choice(HOTEL_NAMES)}
    n = r.randint(1, 4)
    keys = ["city", "stars", "price", "rating", "feature", "near"]
    weights_first = ["city"] if r.random() < 0.6 else []
    rest = [k for k in keys if k not in weights_first]
    r.shuffle(rest)
    picked = (weights_first + rest)[:n]
    stars = r.randint(2, 5)
    for k in picked:
        if k == "city":
            rec[k] = r.choice(TOWNS)
        elif k == "stars":
            rec[k] = str(stars)
        elif k == "price":
            lo, hi = (40, 320) if "stars" not in picked else (20 + 25 * stars, 70 + 50 * stars)
            rec[k] = f"€{r.randrange(lo, hi, 5)}"
        elif k == "rating":
            rec[k] = f"{r.randint(6, 9)}.{r.randint(0, 9)}"
        elif k == "feature":
            rec[k] = r.choice(sorted(HOTEL_FEATURES))
        else:
            rec[k] = r.choice(NEAR)
    return {k: rec[k] for k in HOTEL_KEYS if k in rec}


def hotel_sentence(r: random.Random, rec: dict) -> str:
    name = rec["name"]
    np_ = an(f"{rec['stars']}-star hotel") if "stars" in rec else "a hotel"
    loc = f" in {rec['city']}" if "city" in rec else ""
    near = ""
    if "near" in rec:
        near = " " + r.choice([f"near the {rec['near']}", f"close to the {rec['near']}",
                               f"a short walk from the {rec['near']}"])
    withs, vps = [], []
    if "feature" in rec:
        f = rec["feature"]
        art = HOTEL_FEATURES[f]
        fnp = f"{art} {f}".strip()
        withs.append(fnp)
        vps.append(r.choice([f"offers {fnp}", f"has {fnp}"]))
    if "price" in rec:
        p = rec["price"]
        withs.append(r.choice([f"rooms from {p} a night", f"rooms at {p} per night"]))
        has_used = any(v.startswith("has ") for v in vps)
        vps.append(r.choice([f"charges {p} a night"] + ([] if has_used else [f"has rooms from {p} per night"])))
    if "rating" in rec:
        v = rec["rating"]
        withs.append(r.choice([f"{an(v)} guest rating", f"a guest rating of {v}", f"a rating of {v} out of 10"]))
        vps.append(r.choice([f"is rated {v} out of 10 by guests", f"scores {v} in guest reviews"]))
    order = list(range(len(withs)))
    r.shuffle(order)
    withs = [withs[i] for i in order]
    vps = [vps[i] for i in order]
    w = f" with {join_and(withs)}" if withs else ""
    forms = [f"{name} is {np_}{loc}{near}{w}."]
    placed = bool(loc or near)
    if placed and ("stars" in rec or withs):
        where = " and ".join(x.strip() for x in (loc, near) if x)
        forms.append(f"Located {where}, {name} is {np_}{w}.")
    if vps and ("stars" in rec or placed):
        forms.append(f"{name}, {np_}{loc}{near}, {join_and(vps)}.")
    if "stars" in rec or placed:
        which = f", which {join_and(vps)}" if vps else ""
        forms.append(f"For {np_}{loc}{near}, try {name}{which}.")
    if "stars" not in rec and placed:
        if vps and not near:
            forms.append(f"You can stay at {name}{loc}, which {join_and(vps)}.")
        elif not vps:
            forms.append(f"You can stay at {name}{loc}{near}.")
        if loc and not withs:
            forms.append(f"{name} is located{loc}{near}.")
    if vps and not placed and "stars" not in rec:
        forms.append(f"{name} {join_and(vps)}.")
    return r.choice(forms)


def linearise(rec: dict) -> str:
    return ", ".join(f"{k}[{v}]" for k, v in rec.items())


# ---------------------------------------------------------------------------------------------
# Builders
# ---------------------------------------------------------------------------------------------


def dedupe(seq: list[str]) -> list[str]:
    out: list[str] = []
    for s in seq:
        if s not in out:
            out.append(s)
    return out


def build_qa() -> tuple[list[dict], list[dict]]:
    r = random.Random(SEED + 1)
    total = QA_TRAIN + QA_TEST
    order: list = []
    while len(order) < total:
        block = list(QA_TEMPLATES)
        r.shuffle(block)
        order += block
    rows: list[dict] = []
    seen: set[str] = set()
    for template in order[:total]:
        for _ in range(50):
            ctx, qas = template(r)
            if ctx not in seen:
                break
        else:
            raise RuntimeError(f"{template.__name__}: cannot draw a new context")
        seen.add(ctx)
        question, answers = r.choice(qas)
        rows.append({"context": ctx, "question": question, "answers": dedupe(answers),
                     "_template": template.__name__})
    r.shuffle(rows)
    train, test = rows[:QA_TRAIN], rows[QA_TRAIN:]
    out = []
    for split, part in (("train", train), ("test", test)):
        out.append([{"id": f"qa-{split}-{i:04d}", "context": x["context"], "question": x["question"],
                     "answers": x["answers"]} for i, x in enumerate(part, 1)])
    return out[0], out[1]


def parse_mt() -> list[dict]:
    rows = []
    for line in MT_PAIRS.strip().splitlines():
        parts = [p.strip() for p in line.split("|")]
        assert len(parts) >= 2 and all(parts), f"bad translation line: {line!r}"
        en, fr, alts = parts[0], parts[1], dedupe([a for a in parts[2:] if a != parts[1]])
        rows.append({"en": en, "fr": fr, "fr_alt": alts})
    return rows


def build_mt() -> tuple[list[dict], list[dict]]:
    rows = parse_mt()
    r = random.Random(SEED + 2)
    r.shuffle(rows)
    test, train = rows[:MT_TEST], rows[MT_TEST:]
    out = []
    for split, part in (("train", train), ("test", test)):
        out.append([{"id": f"mt-{split}-{i:04d}", **x} for i, x in enumerate(part, 1)])
    return out[0], out[1]


def build_d2t() -> tuple[list[dict], list[dict]]:
    r = random.Random(SEED + 3)
    total = D2T_TRAIN + D2T_TEST
    rows: list[dict] = []
    seen: set[str] = set()
    while len(rows) < total:
        weather = len(rows) % 2 == 0
        rec = weather_record(r) if weather else hotel_record(r)
        if len(rec) < 2:
            continue
        mr = linearise(rec)
        if mr in seen:
            continue
        make = weather_sentence if weather else hotel_sentence
        refs: list[str] = []
        for _ in range(30):
            s = make(r, rec)
            if s not in refs:
                refs.append(s)
            if len(refs) == 3:
                break
        seen.add(mr)
        rows.append({"data": rec, "mr": mr, "refs": refs})
    r.shuffle(rows)
    train, test = rows[:D2T_TRAIN], rows[D2T_TRAIN:]
    out = []
    for split, part in (("train", train), ("test", test)):
        out.append([{"id": f"d2t-{split}-{i:04d}", **x} for i, x in enumerate(part, 1)])
    return out[0], out[1]


# ---------------------------------------------------------------------------------------------
# Writing and checking
# ---------------------------------------------------------------------------------------------

FIELDS_OF = {
    "demo_qa": ["id", "context", "question", "answers"],
    "demo_translation": ["id", "en", "fr", "fr_alt"],
    "demo_data_to_text": ["id", "data", "mr", "refs"],
}


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def words(s: str) -> int:
    return len(s.split())


def check_all() -> list[str]:
    """Validate the files on disk; returns a list of problems (empty when all is well)."""
    problems: list[str] = []

    def fail(msg: str) -> None:
        problems.append(msg)

    loaded = {}
    for name, fields in FIELDS_OF.items():
        for split in ("train", "test"):
            path = DATA / name / f"{split}.jsonl"
            if not path.exists():
                fail(f"{path} is missing")
                continue
            rows = read_jsonl(path)
            loaded[name, split] = rows
            for row in rows:
                if list(row) != fields:
                    fail(f"{path}: {row.get('id')} has fields {list(row)}, expected {fields}")
    if problems:
        return problems
    all_ids: list[str] = [row["id"] for rows in loaded.values() for row in rows]
    if len(all_ids) != len(set(all_ids)):
        fail("ids are not unique across the demo sets")

    # QA
    qa_tr, qa_te = loaded["demo_qa", "train"], loaded["demo_qa", "test"]
    if (len(qa_tr), len(qa_te)) != (QA_TRAIN, QA_TEST):
        fail(f"demo_qa sizes {len(qa_tr)}/{len(qa_te)}")
    for row in qa_tr + qa_te:
        ctx = row["context"]
        if not row["answers"]:
            fail(f"{row['id']}: no answers")
        for a in row["answers"]:
            if a not in ctx:
                fail(f"{row['id']}: answer {a!r} not in context")
        if words(row["answers"][0]) > 5:
            fail(f"{row['id']}: first answer too long: {row['answers'][0]!r}")
        if words(ctx) > 60:
            fail(f"{row['id']}: context has {words(ctx)} words")
        if len(re.findall(r"[.!?](?:\s|$)(?=[A-Z\"]|$)", ctx)) > 3:
            fail(f"{row['id']}: context has more than 3 sentences")
    if {r["context"] for r in qa_tr} & {r["context"] for r in qa_te}:
        fail("demo_qa: train and test share contexts")
    if len({r["context"] for r in qa_tr + qa_te}) != len(qa_tr + qa_te):
        fail("demo_qa: duplicated contexts")

    # Translation
    mt_tr, mt_te = loaded["demo_translation", "train"], loaded["demo_translation", "test"]
    if len(mt_te) != MT_TEST or len(mt_tr) < 380:
        fail(f"demo_translation sizes {len(mt_tr)}/{len(mt_te)}")
    for row in mt_tr + mt_te:
        if not 5 <= words(row["en"]) <= 15:
            fail(f"{row['id']}: English has {words(row['en'])} words")
        for fr in [row["fr"]] + row["fr_alt"]:
            if re.search(r"\S[?!]", fr) or "  " in fr or "’" in fr:
                fail(f"{row['id']}: French typography: {fr!r}")
            if fr[-1] not in ".?!":
                fail(f"{row['id']}: French lacks final punctuation: {fr!r}")
    for key in ("en", "fr"):
        a = [r[key] for r in mt_tr + mt_te]
        if len(a) != len(set(a)):
            fail(f"demo_translation: duplicated {key} sentences")
        if {r[key] for r in mt_tr} & {r[key] for r in mt_te}:
            fail(f"demo_translation: train and test share {key} sentences")

    # Data-to-text
    dt_tr, dt_te = loaded["demo_data_to_text", "train"], loaded["demo_data_to_text", "test"]
    if (len(dt_tr), len(dt_te)) != (D2T_TRAIN, D2T_TEST):
        fail(f"demo_data_to_text sizes {len(dt_tr)}/{len(dt_te)}")
    for row in dt_tr + dt_te:
        data = row["data"]
        if not 2 <= len(data) <= 5:
            fail(f"{row['id']}: {len(data)} attributes")
        if row["mr"] != linearise(data):
            fail(f"{row['id']}: mr does not match data")
        if not 1 <= len(row["refs"]) <= 3 or len(set(row["refs"])) != len(row["refs"]):
            fail(f"{row['id']}: bad refs list")
        for ref in row["refs"]:
            for v in data.values():
                if v.lower() not in ref.lower():
                    fail(f"{row['id']}: value {v!r} missing from {ref!r}")
            if not (ref[0].isupper() and ref.endswith(".")):
                fail(f"{row['id']}: ref not a sentence: {ref!r}")
    if {r["mr"] for r in dt_tr} & {r["mr"] for r in dt_te}:
        fail("demo_data_to_text: train and test share records")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="only validate the files on disk")
    args = ap.parse_args(argv)
    if not args.check:
        for name, (train, test) in (("demo_qa", build_qa()), ("demo_translation", build_mt()),
                                    ("demo_data_to_text", build_d2t())):
            write_jsonl(DATA / name / "train.jsonl", train)
            write_jsonl(DATA / name / "test.jsonl", test)
            print(f"{name}: {len(train)} train, {len(test)} test")
    problems = check_all()
    for p in problems:
        print("PROBLEM:", p, file=sys.stderr)
    if problems:
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
