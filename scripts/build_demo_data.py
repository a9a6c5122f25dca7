#!/usr/bin/env python3
"""Build promptkit's built-in demo datasets (stdlib only, deterministic).

Writes, under ``tasks/data/``:

* ``demo_qa/{train,test}.jsonl``           - short-context extractive QA (fictional entities)
* ``demo_translation/{train,test}.jsonl``  - English -> French everyday sentences (hand-written pairs)
* ``demo_data_to_text/{train,test}.jsonl`` - weather / hotel records -> one English sentence

Everything is original content written for promptkit and released with it (CC0-1.0 or
Apache-2.0, at your option). The QA and data-to-text sets are generated from hand-written
lexicons and templates with a fixed seed; the translation pairs are hand-written below and only
shuffled and split here. Running the script again rewrites byte-identical files.

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

# ---------------------------------------------------------------------------------------------
# Shared lexicons (all names are invented for this project)
# ---------------------------------------------------------------------------------------------

FEMALE = [
    "Amara", "Chiara", "Elif", "Farah", "Hana", "Jana", "Leila", "Nadia", "Priya", "Rosa",
    "Tilde", "Vera", "Ximena", "Zofia", "Aiko", "Camille", "Esme", "Greta", "Ines", "Kiri",
    "Lucia", "Noor", "Olga", "Rania", "Talia", "Wren", "Yara", "Anouk", "Cosima", "Freya",
    "Halima", "Juno", "Lorna", "Marisol", "Odette", "Pilar", "Sunniva", "Una", "Wilma", "Alba",
    "Dagny", "Fenna", "Ilse", "Keziah", "Linnea", "Nerys", "Maren", "Beatriz", "Signe", "Thandi",
]
MALE = [
    "Bruno", "Dmitri", "Gustav", "Idris", "Kofi", "Mateo", "Oskar", "Quentin", "Samir", "Ugo",
    "Wendell", "Yusuf", "Bjorn", "Dario", "Felix", "Hugo", "Jonas", "Milo", "Pavel", "Soren",
    "Viktor", "Benedikt", "Desmond", "Emeka", "Gideon", "Ivo", "Kasimir", "Nils", "Rafael",
    "Tobias", "Valentin", "Cyrus", "Ezra", "Hamish", "Jovan", "Magnus", "Anders", "Lorcan",
    "Tariq", "Matthias", "Osei", "Ruben", "Teodor", "Lars", "Arjun", "Callum", "Emil", "Florin",
    "Henrik", "Ilya",
]
SURNAMES = [
    "Adler", "Brandt", "Castell", "Dunmore", "Ekwueme", "Farrow", "Galloway", "Holm", "Ibarra",
    "Jessop", "Kovac", "Lindqvist", "Marlow", "Nakamura", "Okafor", "Pryce", "Quill", "Rasmussen",
    "Strand", "Thorne", "Umber", "Varga", "Whitlock", "Yilmaz", "Zeller", "Abernethy", "Corrigan",
    "Delacroix", "Eriksen", "Fenwick", "Grieve", "Hartigan", "Ivers", "Juarez", "Kettering",
    "Lowry", "Moreau", "Novak", "Oyelaran", "Pemberton", "Rook", "Sandoval", "Tarrant", "Vance",
    "Wexley", "Yardley", "Banerjee", "Calloway", "Draper", "Esposito", "Fairbairn", "Haddad",
    "Iqbal", "Jankowski", "Kowalczyk", "Lachance", "Mwangi", "Nyberg", "Ortega", "Petrescu", "Rahimi",
    "Sato", "Tamm", "Ueda", "Voss", "Wainwright", "Achterberg", "Bellamy", "Carvalho", "Dimitrov",
]
TOWNS = [
    "Brindlemoor", "Castelvane", "Dunmere", "Eldermoss", "Fallowby", "Gildersby", "Hollin Cross",
    "Ironholt", "Juniper Bay", "Kelsworth", "Larkhollow", "Marrowfield", "Norhaven", "Ottersby",
    "Quarrington", "Rookwell", "Saltmere", "Tollbridge", "Umberlee", "Vexmoor", "Wrenford",
    "Yarrowdale", "Zellbrook", "Ashcombe", "Brackwell", "Corwen Heath", "Drayford", "Emberton",
    "Fernhill", "Glenmarra", "Hazelford", "Kestrel Point", "Lindmoor", "Mistlebury",
    "Netherby Cross", "Orrindale", "Pinewick", "Redlow", "Sorrel Bay", "Thistlecombe",
    "Upper Wendle", "Valmont", "Westerhythe", "Amberly Cove", "Bellhaven", "Coldwater Mill",
    "Duskmere", "Elmsworth", "Foxley End", "Goldcrest", "Hollowmere", "Kingsmere", "Lowfield",
    "Merrowby", "Nettlebank", "Oldcastle Reach", "Ravensholm", "Stonebury", "Tarnwick",
    "Wickerby", "Aldmoor", "Brightwater", "Cinderford Vale", "Dovecote", "Eskerby", "Farthingale",
    "Greywater", "Heronsgate", "Ivyholme", "Kettlewick", "Lammerton", "Mossley Green",
]
CITIES = [  # larger fictional cities, used for far-away places
    "Tessaly", "Porto Verre", "Kastelholm", "Novarra", "Saint Ilse", "Corvanna", "Aurenburg",
    "Valdoria", "Mirabel", "Ostrava Nova", "Lysander", "Port Caldis", "Belmaris", "Drossen",
    "Halvard", "Quenta", "Sarnoth", "Velamo",
]
RIVERS = [
    "Lenn", "Ambel", "Orrin", "Tessel", "Wend", "Silvie", "Brennock", "Morra", "Kessel", "Varrow",
    "Dunnet", "Pellow", "Arlen", "Corvin", "Isel", "Marl",
]
STREETS = [
    "Mill Street", "Harbour Road", "Chapel Lane", "Orchard Way", "Station Road", "Willow Street",
    "Fountain Square", "Baker's Lane", "Quarry Road", "Linden Avenue", "Copper Street",
    "Tanner's Row", "Rope Walk", "Church Hill", "Market Street", "Ferry Lane", "Elm Grove",
    "Castle Street", "Weaver Street", "Garden Row",
]
COLOURS = [
    "red", "blue", "green", "yellow", "white", "black", "grey", "orange", "purple", "pink",
    "brown", "dark green", "pale blue", "bright yellow", "navy blue", "silver",
]
MONTHS = [
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
NUMWORDS = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
]
ORDINALS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth"]
JOBS = [
    "carpenter", "nurse", "librarian", "baker", "electrician", "architect", "vet", "teacher",
    "pharmacist", "gardener", "engineer", "photographer", "translator", "chef", "dentist",
    "firefighter", "journalist", "potter", "tailor", "mechanic", "plumber", "accountant",
    "florist", "bookbinder", "beekeeper", "surveyor", "bus driver", "piano tuner",
]
LANDMARKS = [
    "old mill", "harbour", "train station", "town hall", "market square", "stone church",
    "public library", "football ground", "village green", "clock tower", "canal lock",
    "fire station", "swimming pool", "castle ruins",
]


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


BAKERIES = ["Golden Crumb", "Rising Moon", "Copper Oven", "Little Wheat", "Honeycomb", "Blue Door",
            "Morning Star", "Warm Hearth", "Three Sheaves", "Crooked Loaf", "Sunrise", "Poppyseed"]


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


BRIDGES = ["Harrow", "Kingfisher", "Saltmarsh", "Wexley", "Tanners'", "Mercy", "Lark", "Ironstone",
           "Weaver's", "Gull", "Copperleaf", "Juniper", "Abbot's", "Heron"]


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


PETNAMES = ["Pepper", "Biscuit", "Mango", "Noodle", "Pickle", "Clover", "Ziggy", "Marble", "Toffee",
            "Pebble", "Waffle", "Bramble", "Sprout", "Nutmeg", "Olive", "Captain", "Bean", "Socks",
            "Hazel", "Mabel", "Turnip", "Figaro"]
PET_COLOURS = {
    "cat": ["grey", "black", "white", "ginger", "cream"],
    "dog": ["brown", "black", "white", "golden", "grey"],
    "rabbit": ["white", "brown", "grey", "black"],
    "parrot": ["green", "blue", "red", "yellow"],
    "hamster": ["golden", "white", "brown", "grey"],
    "guinea pig": ["brown", "white", "black", "ginger"],
}
SPOTS = ["on the windowsill", "under the piano", "in a laundry basket", "on the stairs",
         "behind the sofa", "in an old shoebox", "by the fireplace", "on top of the fridge",
         "in the garden shed", "under the kitchen table"]


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


TEAMS = ["Foxes", "Rovers", "Harriers", "Comets", "Otters", "Kestrels", "Wanderers", "Badgers",
         "Mariners", "Pilgrims", "Herons", "Millers", "Falcons", "Stags"]


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


COMPANIES = ["Velora Systems", "Brightwell & Co", "Kestrel Labs", "Nimbus Works", "Tallowmere Ltd",
             "Orrin Industries", "Quillfeather", "Halcyon Goods", "Lumen Forge", "Northgate Makers",
             "Pebblestone Group", "Ashgrove Trading", "Cobalt Hill", "Bramblewick & Sons"]
PRODUCTS = ["solar lamps", "wooden toys", "bicycle bells", "wool blankets", "garden tools",
            "electric kettles", "ceramic tiles", "hiking boots", "water filters", "paper kites",
            "school desks", "glass bottles", "fishing nets", "music boxes"]


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


FEST_KINDS = ["lantern", "kite", "cheese", "apple", "music", "flower", "storytelling", "boat",
              "pumpkin", "honey", "poetry", "folk dance"]
FEST_PLACES = ["by the lake", "in the main square", "on the village green", "along the river",
               "in the old orchard", "at the harbour"]


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


NOVELS = ["The Salt Orchard", "A House of Paper Birds", "The Winter Ferry", "Nine Lamps",
          "The Glass Shepherd", "Under the Copper Hill", "Rooms Without Clocks", "The Silent Foundry",
          "Letters from Kessel", "The Orange Balloon", "A Map of Small Rivers", "The Borrowed Summer"]
HEROES = ["a lighthouse keeper", "a young baker", "a retired sea captain", "two sisters",
          "a travelling musician", "a clockmaker", "a lost dog", "a village doctor",
          "a boatbuilder's daughter", "an old beekeeper", "a schoolteacher", "three brothers"]


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


MOUNTAINS = ["Carrow", "Eldra", "Brannock", "Veskel", "Harle", "Tormund", "Ossian", "Grell", "Lumis",
             "Kaldor", "Sorrow Peak", "Aubrel"]


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


RECIPES = {
    "vegetable stew": ("cooks", ["carrots", "onions", "potatoes", "tomatoes", "peppers"]),
    "apple cake": ("bakes", ["eggs", "apples", "cups of flour", "spoons of honey"]),
    "lentil soup": ("cooks", ["carrots", "onions", "cups of lentils", "cloves of garlic", "tomatoes"]),
    "fruit salad": ("chills", ["apples", "pears", "oranges", "bananas", "peaches"]),
    "pancakes": ("rests", ["eggs", "cups of milk", "cups of flour", "spoons of sugar"]),
    "fish pie": ("bakes", ["potatoes", "eggs", "onions", "leeks"]),
}


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


SCHOOLS = ["Greenfield", "Oakhurst", "St Brigid's", "Riverside", "Hilltop", "Meadowbank", "Foxglove",
           "Larchwood", "Sandpiper", "Kingsway"]


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


ITEMS = ["umbrella", "scarf", "teapot", "lamp", "backpack", "notebook", "kettle", "raincoat",
         "flower pot", "wool hat", "bicycle helmet", "picture frame"]
FRUITS = ["cherries", "plums", "apricots", "figs", "pears", "peaches", "apples", "grapes"]


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


RELATIVES = ["grandmother", "grandfather", "aunt", "uncle", "godmother", "older brother", "older sister"]
GIFTS = ["bicycle", "kite", "scooter", "telescope", "guitar", "watch", "tent", "skateboard", "sketchbook"]
CAKES = ["chocolate", "lemon", "carrot", "strawberry", "coconut", "walnut"]


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


MUSEUMS = [("Clocks", "clocks"), ("Maps", "maps"), ("Toys", "toys"), ("Kites", "kites"),
           ("Buttons", "buttons"), ("Hats", "hats"), ("Teapots", "teapots"), ("Keys", "keys"),
           ("Lamps", "lamps"), ("Bicycles", "bicycles"), ("Board Games", "board games"),
           ("Umbrellas", "umbrellas")]


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


VEG = ["tomatoes", "beans", "courgettes", "lettuces", "strawberries", "peas", "pumpkins",
       "potatoes", "radishes", "cucumbers"]
FLOWERS = ["roses", "tulips", "dahlias", "poppies", "lilies", "irises"]
FLOWER_COLOURS = ["red", "white", "yellow", "pink", "purple", "orange"]


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


BAGS = ["backpack", "suitcase", "handbag", "sports bag", "laptop bag", "guitar case"]
BAG_PLACES = ["depot", "lost property office", "ticket office", "police station"]


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


PERFORMERS = ["violinist", "pianist", "cellist", "guitarist", "harpist", "flautist", "singer"]
VENUES = ["Corn Exchange", "Assembly Rooms", "Old Chapel", "Lantern Hall", "Riverside Theatre",
          "Music Barn", "Glass House", "Guildhall"]


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


PLANTS = ["orchid", "fern", "moss", "lily", "poppy", "thistle", "bellflower", "violet"]
HILLS = ["Vell Hills", "Corran Hills", "Marrow Downs", "Ashen Hills", "Kessel Heights", "Tarn Fells",
         "Greyfold Hills"]
KIN = {"f": ["daughter", "mother", "sister", "grandmother"], "m": ["son", "father", "brother", "grandfather"]}


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


FERRIES = ["Marigold", "Seafern", "Morning Gull", "Clementine", "Osprey", "Silver Wake", "Bluebell",
           "Northern Star", "Kittiwake", "Perseverance"]
ISLANDS = ["Quarn", "Ellsay", "Tollan", "Innisfay", "Varra", "Skelmor", "Orsay Beg", "Calla"]


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


CAFES = ["Café Lumen", "The Copper Kettle", "Blue Heron Café", "Café Marisol", "The Reading Room",
         "Little Fig", "The Tin Cup", "Café Aster", "Bramble & Bean", "The Yellow Teapot"]
CAFE_DISHES = ["mushroom omelette", "pear pancakes", "spinach pie", "smoked fish soup",
               "cinnamon porridge", "cheese scones", "tomato toast", "lemon waffles"]


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


INVENTIONS = ["folding kettle", "self-stirring pot", "clockwork fan", "glass umbrella",
              "musical doorbell", "pocket loom", "snow bicycle", "solar clock", "tidal lamp",
              "folding ladder", "singing kettle", "window heater"]


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


CREATURES = {"lizard": (10, 45), "frog": (3, 12), "beetle": (2, 6), "shrew": (5, 14), "owl": (20, 60),
             "snail": (2, 9), "crab": (5, 30), "gecko": (8, 25)}
CREATURE_ADJ = ["striped", "spotted", "blue-tailed", "long-eared", "red-throated", "golden",
                "pale", "black-footed"]
HABITATS = ["Orra Desert", "Fenmoor Marshes", "Kessel Caves", "Tarn Forest", "Ellan Coast",
            "Brannock Mountains", "Silvie Delta", "Greyfold Moors"]
FOODS = ["beetles", "seeds", "small fish", "moss", "berries", "snails", "ants", "fallen leaves",
         "mushrooms"]


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


PARKS = ["Larkfield", "Elmstead", "Holloway", "Brookside", "Cedar", "Ravensworth", "Tansy", "Wilder"]
PARK_BIRDS = ["swans", "ducks", "geese", "herons", "moorhens"]


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


MEETINGS = ["sales", "design", "finance", "marketing", "planning", "research", "garden club",
            "book club", "choir", "safety"]


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


PAINTINGS = ["Winter Harbour", "The Red Kite", "Morning at Quarn", "Two Pears", "The Empty Stage",
             "Harvest Moon", "Boats at Rest", "The Blue Window", "Evening Market", "Rain on Mill Street"]
PAINT_OBJS = ["fishing boats", "cows", "windmills", "sailors", "herons", "apple trees", "children",
              "lanterns"]
GALLERIES = ["Grell Gallery", "Marlow Gallery", "Old Customs House", "Harbour Gallery",
             "City Art Rooms", "Castell Collection"]
SKIES = ["pale yellow", "pink", "grey", "violet", "orange", "deep blue", "green", "silver"]


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


BANDS = ["Silver Lanterns", "Paper Foxes", "Quiet Engines", "Moth & Mirror", "Blue Orchard",
         "Tidewalkers", "Northern Lamps", "Velvet Harbour", "Small Hours Club", "Juniper Skies"]
ALBUMS = ["Night Roads", "Salt and Stone", "Glass Weather", "Small Fires", "Harbour Lights",
          "Paper Moons", "The Long Field", "Open Windows", "Cold Tea", "Kite Season"]
STUDIOS = ["a barn", "an old chapel", "a boathouse", "a farmhouse kitchen", "an empty cinema"]


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


FIELDS = ["children's heart surgery", "skin diseases", "sports injuries", "eye surgery",
          "sleep problems", "broken bones", "allergies", "hearing loss"]


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


SEAS = ["Sea of Carth", "Bay of Ellan", "Gulf of Varro", "Ossel Sea", "Amber Sea", "Bay of Tollan"]
FAMOUS = ["stone bridges", "paper mills", "boat races", "spring fair", "wooden houses", "cheese market"]


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


VEHICLES = ["van", "pickup truck", "camper van", "tractor", "motorbike", "estate car"]
OWNERS = ["uncle", "aunt", "neighbour", "grandfather", "cousin", "old teacher"]
GOODS = ["vegetables", "flowers", "firewood", "bread", "parcels", "eggs"]


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


PRIZES = ["silver spoon", "copper pan", "signed cookbook", "golden whisk", "new oven", "picnic basket"]
TARTS = ["plum", "cherry", "apricot", "rhubarb", "pear", "lemon", "blackberry", "fig"]


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


LANGS = ["Spanish", "Italian", "Portuguese", "German", "Japanese", "Arabic", "Greek", "Welsh",
         "Dutch", "Polish", "Swahili", "Finnish"]
CLASS_PLACES = ["community hall", "public library", "old school", "church hall", "youth centre",
                "sailing club"]


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


QA_HOTEL_NAMES = ["Seaview", "Grand Marlow", "Kingfisher", "Old Quarry", "Lantern", "Belvedere",
               "Northgate", "Orchard", "Harbourside", "Mirador"]
QA_HOTEL_FEATURES = ["rooftop pool", "winter garden", "library bar", "glass dome", "private beach",
                  "bowling alley", "rooftop cinema", "clock tower"]


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


TREES = ["oak", "birch", "cherry", "maple", "lime", "apple", "walnut", "chestnut", "beech"]


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


CAPES = ["Cape Dunlin", "Cape Merrow", "Gull Point", "Skerrow Head", "Cape Ambel", "Heron Point",
         "Ness Point", "Cape Tollan"]


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


KINGS = ["Aldric", "Osric", "Berengar", "Casimir", "Leofric", "Theobald"]
QUEENS = ["Isolde", "Matilde", "Rowena", "Ermengard", "Sybilla", "Adelina"]
KINGDOMS = ["Veskar", "Ostrelia", "Calvary Downs", "Merrenhold", "Thule Minor", "Arvandy"]
ROMAN = ["I", "II", "III", "IV", "V"]


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


MARKET_PLACES = ["the town square", "the old cattle yard", "Church Street", "the station car park",
                 "the castle courtyard"]


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


FARM_ANIMALS = ["goats", "sheep", "alpacas", "bees", "chickens", "ducks", "donkeys"]


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


SUBJECTS = ["chemistry", "history", "geography", "biology", "physics", "music", "French", "maths"]


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


PHONE_BRANDS = ["Nova", "Lumo", "Arden", "Zephyr", "Quanta", "Pollux", "Tern"]
PHONE_MODELS = ["X2", "S7", "Air 3", "Mini 5", "Pro 9", "Lite 4", "One"]


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


ZOO_ANIMALS = {"giraffe": (45, 80), "elephant": (90, 130), "rhino": (35, 65), "zebra": (25, 40),
               "camel": (30, 45), "hippo": (25, 50), "tapir": (5, 11)}
ZOO_NAMES = ["Tilly", "Bongo", "Pip", "Ziggy", "Dot", "Mango", "Kiki", "Bao", "Lulu", "Tembo",
             "Nala", "Fig"]


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


NICKS = ["Old Grumble", "the Giant", "Grandfather Green", "the Whisperer", "Big Bess", "the Wizard",
         "Old Knotty", "the Sleeping Bear"]


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


NEW_PETS = ["puppy", "kitten", "rabbit", "goldfish", "tortoise", "parrot", "hamster"]


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


VIEWS = ["park", "river", "harbour", "old cathedral", "railway line", "sea", "mountains"]


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


STROKES = ["butterfly", "backstroke", "breaststroke", "freestyle"]


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


WEDDING_FLOWERS = ["sunflowers", "white roses", "lavender", "daisies", "poppies", "violets"]


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


SHIPS = ["Albatross", "Silver Heron", "Resolute", "Morning Cloud", "Sea Lark", "Endeavour Bay",
         "Amelia Rose", "North Wind"]


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
# 2. English -> French: hand-written pairs, one per line: "en | fr | alternative | ..."
#    French typography: straight apostrophe, a plain space before ? and !, accents kept.
# ---------------------------------------------------------------------------------------------

MT_PAIRS = """
Good morning, how are you today? | Bonjour, comment allez-vous aujourd'hui ? | Bonjour, comment vas-tu aujourd'hui ?
It was very nice to meet you. | C'était très agréable de vous rencontrer. | Ce fut un plaisir de vous rencontrer.
Thank you very much for your help. | Merci beaucoup pour votre aide. | Merci beaucoup pour ton aide.
See you tomorrow at the same time. | À demain, à la même heure.
Excuse me, do you speak English? | Excusez-moi, parlez-vous anglais ? | Excusez-moi, vous parlez anglais ?
My name is Paul and I live in Lyon. | Je m'appelle Paul et j'habite à Lyon. | Je m'appelle Paul et je vis à Lyon.
Could you repeat that more slowly, please? | Pourriez-vous répéter plus lentement, s'il vous plaît ?
I'm sorry, I don't understand. | Je suis désolé, je ne comprends pas. | Je suis désolée, je ne comprends pas.
Have a nice weekend with your family. | Passe un bon week-end avec ta famille. | Passez un bon week-end avec votre famille.
Welcome to our home, please come in. | Bienvenue chez nous, entrez, je vous en prie. | Bienvenue chez nous, entre, je t'en prie.
How long have you lived here? | Depuis combien de temps habitez-vous ici ? | Depuis combien de temps habites-tu ici ?
Where do you come from? | D'où venez-vous ? | D'où viens-tu ?
I hope you have a good trip. | J'espère que vous ferez un bon voyage. | J'espère que tu feras un bon voyage.
Please say hello to your parents for me. | Dis bonjour à tes parents de ma part, s'il te plaît. | Saluez vos parents de ma part, s'il vous plaît.
It's been a long time since we last met. | Ça fait longtemps qu'on ne s'est pas vus. | Cela fait longtemps que nous ne nous sommes pas vus.
Congratulations on your new job! | Félicitations pour ton nouveau travail ! | Félicitations pour votre nouveau poste !
Happy birthday, I hope you like the present. | Joyeux anniversaire, j'espère que le cadeau te plaît. | Joyeux anniversaire, j'espère que le cadeau vous plaît.
Can I introduce you to my colleague? | Puis-je vous présenter mon collègue ? | Je peux te présenter mon collègue ?
Sorry I'm late, the traffic was terrible. | Désolé du retard, la circulation était épouvantable. | Désolée d'être en retard, la circulation était terrible.
Good night, sleep well and sweet dreams. | Bonne nuit, dors bien et fais de beaux rêves.
I would like a coffee with milk, please. | Je voudrais un café au lait, s'il vous plaît. | Je voudrais un café avec du lait, s'il vous plaît.
Can we have the bill, please? | Pouvons-nous avoir l'addition, s'il vous plaît ? | On peut avoir l'addition, s'il vous plaît ?
This soup is too salty for me. | Cette soupe est trop salée pour moi.
We are having fish for dinner tonight. | Ce soir, nous mangeons du poisson au dîner. | Nous mangeons du poisson ce soir.
Do you want some more bread? | Veux-tu encore du pain ? | Voulez-vous encore du pain ?
My sister doesn't eat meat or fish. | Ma sœur ne mange ni viande ni poisson.
The bakery sells fresh bread every morning. | La boulangerie vend du pain frais tous les matins.
I'm hungry, let's have lunch now. | J'ai faim, allons déjeuner maintenant.
Could I see the menu, please? | Pourrais-je voir la carte, s'il vous plaît ? | Est-ce que je pourrais voir le menu, s'il vous plaît ?
The cake needs forty minutes in the oven. | Le gâteau doit cuire quarante minutes au four.
Would you like a glass of water? | Voulez-vous un verre d'eau ? | Tu veux un verre d'eau ?
I drink my tea without sugar. | Je bois mon thé sans sucre. | Je prends mon thé sans sucre.
These strawberries are sweet and very red. | Ces fraises sont sucrées et très rouges.
We bought cheese and grapes at the market. | Nous avons acheté du fromage et du raisin au marché.
The restaurant is closed on Sunday evenings. | Le restaurant est fermé le dimanche soir.
She makes the best apple pie in town. | Elle fait la meilleure tarte aux pommes de la ville.
Put the milk back in the fridge, please. | Remets le lait au frigo, s'il te plaît. | Remettez le lait au réfrigérateur, s'il vous plaît.
I don't like coffee, but I love tea. | Je n'aime pas le café, mais j'adore le thé.
The children want pizza for dinner. | Les enfants veulent de la pizza pour le dîner. | Les enfants veulent une pizza pour le dîner.
Is there a good restaurant near here? | Y a-t-il un bon restaurant près d'ici ? | Est-ce qu'il y a un bon restaurant près d'ici ?
Breakfast is served from seven to ten. | Le petit-déjeuner est servi de sept heures à dix heures.
My father cooks dinner every Friday. | Mon père prépare le dîner tous les vendredis. | Mon père fait le dîner tous les vendredis.
The oranges cost two euros a kilo. | Les oranges coûtent deux euros le kilo.
Can you pass me the salt, please? | Peux-tu me passer le sel, s'il te plaît ? | Pouvez-vous me passer le sel, s'il vous plaît ?
We need eggs, butter and flour. | Il nous faut des œufs, du beurre et de la farine. | Nous avons besoin d'œufs, de beurre et de farine.
How much does this jacket cost? | Combien coûte cette veste ?
Do you have this shirt in blue? | Avez-vous cette chemise en bleu ?
These shoes are too small for me. | Ces chaussures sont trop petites pour moi.
Can I pay by card, please? | Est-ce que je peux payer par carte, s'il vous plaît ? | Puis-je payer par carte, s'il vous plaît ?
The shop opens at nine in the morning. | Le magasin ouvre à neuf heures du matin.
I'm looking for a present for my mother. | Je cherche un cadeau pour ma mère.
The supermarket is very busy on Saturdays. | Il y a beaucoup de monde au supermarché le samedi. | Le supermarché est très fréquenté le samedi.
Where are the fitting rooms, please? | Où sont les cabines d'essayage, s'il vous plaît ? | Où se trouvent les cabines d'essayage, s'il vous plaît ?
She bought a red dress for the wedding. | Elle a acheté une robe rouge pour le mariage.
This bag is cheaper than the other one. | Ce sac est moins cher que l'autre.
Do you need a bag for your things? | Avez-vous besoin d'un sac pour vos affaires ? | As-tu besoin d'un sac pour tes affaires ?
The bookshop has a sale this week. | La librairie fait des soldes cette semaine.
My brother wants a new bicycle for Christmas. | Mon frère veut un nouveau vélo pour Noël.
I forgot my wallet at home. | J'ai oublié mon portefeuille à la maison.
Could you wrap it as a gift? | Pourriez-vous faire un paquet cadeau ? | Pouvez-vous l'emballer pour offrir ?
The market sells fruit, vegetables and flowers. | Le marché vend des fruits, des légumes et des fleurs. | On vend des fruits, des légumes et des fleurs au marché.
These apples are not very fresh. | Ces pommes ne sont pas très fraîches.
I would like to return these trousers. | Je voudrais rendre ce pantalon. | J'aimerais rapporter ce pantalon.
Everything in this shop is made by hand. | Dans ce magasin, tout est fait à la main.
We don't have enough money for a new car. | Nous n'avons pas assez d'argent pour une nouvelle voiture.
Where is the train station, please? | Où est la gare, s'il vous plaît ?
The bus leaves in ten minutes. | Le bus part dans dix minutes.
I'd like a return ticket to Paris. | Je voudrais un aller-retour pour Paris. | Je voudrais un billet aller-retour pour Paris.
Our flight was delayed by two hours. | Notre vol a été retardé de deux heures. | Notre vol a eu deux heures de retard.
Turn left at the end of the street. | Tournez à gauche au bout de la rue. | Tourne à gauche au bout de la rue.
The museum is next to the post office. | Le musée est à côté de la poste.
How long does the journey take? | Combien de temps dure le trajet ? | Combien de temps dure le voyage ?
We are going to the seaside this summer. | Cet été, nous allons au bord de la mer. | Nous allons à la mer cet été.
Excuse me, is this seat free? | Excusez-moi, cette place est-elle libre ? | Excusez-moi, est-ce que cette place est libre ?
The hotel is a short walk from the beach. | L'hôtel est à quelques minutes à pied de la plage.
I missed the last train home. | J'ai raté le dernier train pour rentrer. | J'ai manqué le dernier train pour rentrer chez moi.
Take the second street on the right. | Prenez la deuxième rue à droite. | Prends la deuxième rue à droite.
My suitcase is heavier than yours. | Ma valise est plus lourde que la tienne. | Ma valise est plus lourde que la vôtre.
We rented a small car for the week. | Nous avons loué une petite voiture pour la semaine.
Can you show me on the map? | Pouvez-vous me montrer sur la carte ? | Tu peux me montrer sur la carte ?
The airport is forty kilometres from the city. | L'aéroport est à quarante kilomètres de la ville.
She travels to work by bike every day. | Elle va au travail à vélo tous les jours.
Don't forget your passport and your tickets. | N'oublie pas ton passeport et tes billets. | N'oubliez pas votre passeport et vos billets.
The road to the village is very narrow. | La route qui mène au village est très étroite. | La route du village est très étroite.
We stayed in a small hotel near the port. | Nous avons séjourné dans un petit hôtel près du port.
The trains are often late in winter. | Les trains sont souvent en retard en hiver.
How do I get to the city centre? | Comment est-ce que je vais au centre-ville ? | Comment aller au centre-ville ?
I prefer to travel by train rather than by plane. | Je préfère voyager en train plutôt qu'en avion.
The taxi is waiting in front of the hotel. | Le taxi attend devant l'hôtel.
They arrived in Rome late last night. | Ils sont arrivés à Rome tard hier soir.
Our house has three bedrooms and a garden. | Notre maison a trois chambres et un jardin.
Please close the window, it's cold. | Ferme la fenêtre, s'il te plaît, il fait froid. | Fermez la fenêtre, s'il vous plaît, il fait froid.
The keys are on the kitchen table. | Les clés sont sur la table de la cuisine.
I need to clean my room today. | Je dois ranger ma chambre aujourd'hui. | Je dois nettoyer ma chambre aujourd'hui.
The washing machine is broken again. | La machine à laver est encore en panne. | Le lave-linge est de nouveau en panne.
We painted the living room light green. | Nous avons peint le salon en vert clair.
Can you turn off the lights, please? | Peux-tu éteindre les lumières, s'il te plaît ? | Pouvez-vous éteindre la lumière, s'il vous plaît ?
The cat is sleeping on the sofa. | Le chat dort sur le canapé.
Our neighbours are very quiet and friendly. | Nos voisins sont très calmes et sympathiques. | Nos voisins sont très discrets et aimables.
There is a lamp next to my bed. | Il y a une lampe à côté de mon lit.
I water the plants every Sunday morning. | J'arrose les plantes tous les dimanches matin.
The flat is small but very bright. | L'appartement est petit mais très lumineux.
Who left the door open this morning? | Qui a laissé la porte ouverte ce matin ?
We are moving to a new flat in May. | Nous déménageons dans un nouvel appartement en mai.
The heating doesn't work in the bathroom. | Le chauffage ne marche pas dans la salle de bains. | Le chauffage ne fonctionne pas dans la salle de bain.
My grandmother lives on the third floor. | Ma grand-mère habite au troisième étage.
Put your shoes by the front door. | Mets tes chaussures près de la porte d'entrée. | Mettez vos chaussures près de la porte d'entrée.
The garden needs a lot of work this spring. | Le jardin demande beaucoup de travail ce printemps.
I usually do the dishes after dinner. | D'habitude, je fais la vaisselle après le dîner. | Je fais généralement la vaisselle après le dîner.
The rent is due at the end of the month. | Le loyer doit être payé à la fin du mois.
There are too many boxes in the garage. | Il y a trop de cartons dans le garage.
The kitchen smells of fresh coffee. | La cuisine sent le café frais.
My bedroom window looks onto the park. | La fenêtre de ma chambre donne sur le parc.
We have to fix the roof before winter. | Nous devons réparer le toit avant l'hiver.
The towels are in the cupboard upstairs. | Les serviettes sont dans le placard à l'étage. | Les serviettes sont dans le placard en haut.
My brother is two years older than me. | Mon frère a deux ans de plus que moi.
Her parents live in a small village. | Ses parents habitent dans un petit village. | Ses parents vivent dans un petit village.
We visit our grandparents every summer. | Nous rendons visite à nos grands-parents chaque été.
My best friend is getting married in June. | Mon meilleur ami se marie en juin. | Ma meilleure amie se marie en juin.
They have two children, a boy and a girl. | Ils ont deux enfants, un garçon et une fille.
My uncle works as a doctor in Marseille. | Mon oncle travaille comme médecin à Marseille. | Mon oncle est médecin à Marseille.
She looks a lot like her mother. | Elle ressemble beaucoup à sa mère.
Our daughter started school last September. | Notre fille est entrée à l'école en septembre dernier.
I call my sister every Sunday evening. | J'appelle ma sœur tous les dimanches soir.
His cousins are coming to stay for a week. | Ses cousins viennent passer une semaine chez lui.
My friends and I often play cards on Fridays. | Mes amis et moi jouons souvent aux cartes le vendredi.
The baby is sleeping, please don't make any noise. | Le bébé dort, ne faites pas de bruit, s'il vous plaît. | Le bébé dort, ne fais pas de bruit, s'il te plaît.
My grandfather tells wonderful stories about his childhood. | Mon grand-père raconte des histoires merveilleuses sur son enfance.
We had a big family dinner on Sunday. | Nous avons fait un grand dîner en famille dimanche.
Her son wants to become a pilot. | Son fils veut devenir pilote.
I haven't seen my cousin for years. | Je n'ai pas vu mon cousin depuis des années. | Ça fait des années que je n'ai pas vu mon cousin.
My parents met at university in Lille. | Mes parents se sont rencontrés à l'université de Lille.
Our twins are five years old today. | Nos jumeaux ont cinq ans aujourd'hui.
She is spending the holidays with her aunt. | Elle passe les vacances chez sa tante. | Elle passe les vacances avec sa tante.
My little sister is afraid of the dark. | Ma petite sœur a peur du noir.
Paul and his wife have a lovely garden. | Paul et sa femme ont un joli jardin.
I'm going to a party at Marie's house tonight. | Je vais à une fête chez Marie ce soir.
He lent me his car for the weekend. | Il m'a prêté sa voiture pour le week-end.
We grew up in the same street. | Nous avons grandi dans la même rue.
My mother always sings in the kitchen. | Ma mère chante toujours dans la cuisine.
I start work at eight every morning. | Je commence le travail à huit heures tous les matins.
The meeting has been moved to Thursday. | La réunion a été déplacée à jeudi. | La réunion a été reportée à jeudi.
She works for a small company in Nantes. | Elle travaille pour une petite entreprise à Nantes.
Can you send me the report by Friday? | Pouvez-vous m'envoyer le rapport d'ici vendredi ? | Peux-tu m'envoyer le rapport avant vendredi ?
My boss is on holiday this week. | Mon patron est en vacances cette semaine. | Ma patronne est en vacances cette semaine.
I have a job interview tomorrow afternoon. | J'ai un entretien d'embauche demain après-midi.
We need to finish this project before June. | Nous devons terminer ce projet avant juin. | Nous devons finir ce projet avant juin.
He has worked here for ten years. | Il travaille ici depuis dix ans.
The office is closed on public holidays. | Le bureau est fermé les jours fériés.
I'm working from home today. | Aujourd'hui, je travaille de chez moi. | Je travaille à la maison aujourd'hui.
Our team won an award last year. | Notre équipe a remporté un prix l'année dernière. | Notre équipe a gagné un prix l'an dernier.
She is looking for a new job in marketing. | Elle cherche un nouveau travail dans le marketing. | Elle cherche un nouvel emploi dans le marketing.
The printer on the second floor is broken. | L'imprimante du deuxième étage est en panne.
Please answer my email as soon as possible. | Merci de répondre à mon e-mail dès que possible. | Répondez à mon courriel dès que possible, s'il vous plaît.
I have too much work at the moment. | J'ai trop de travail en ce moment.
The new manager arrives next Monday. | Le nouveau directeur arrive lundi prochain. | La nouvelle directrice arrive lundi prochain.
We have lunch together in the canteen. | Nous déjeunons ensemble à la cantine.
He wants to open his own restaurant. | Il veut ouvrir son propre restaurant.
My colleague helped me with the presentation. | Mon collègue m'a aidé pour la présentation. | Ma collègue m'a aidé pour la présentation.
The shop needs two more workers for the summer. | Le magasin a besoin de deux employés de plus pour l'été.
I will call the client after lunch. | J'appellerai le client après le déjeuner. | Je vais appeler le client après le déjeuner.
Their factory makes parts for bicycles. | Leur usine fabrique des pièces de vélo. | Leur usine fabrique des pièces pour vélos.
The contract must be signed today. | Le contrat doit être signé aujourd'hui.
She is a nurse at the city hospital. | Elle est infirmière à l'hôpital de la ville.
I took a day off to rest. | J'ai pris un jour de congé pour me reposer.
The students are preparing for their exams. | Les élèves préparent leurs examens. | Les étudiants préparent leurs examens.
I'm learning French at evening classes. | J'apprends le français en cours du soir.
Our teacher gave us a lot of homework. | Notre professeur nous a donné beaucoup de devoirs. | Notre prof nous a donné beaucoup de devoirs.
The library is open until eight in the evening. | La bibliothèque est ouverte jusqu'à vingt heures. | La bibliothèque est ouverte jusqu'à huit heures du soir.
My son is good at mathematics. | Mon fils est bon en mathématiques. | Mon fils est fort en maths.
She studies medicine at the university. | Elle étudie la médecine à l'université. | Elle fait des études de médecine à l'université.
Can I borrow your pen for a moment? | Je peux emprunter ton stylo un instant ? | Puis-je emprunter votre stylo un moment ?
The lesson starts at half past nine. | Le cours commence à neuf heures et demie.
I forgot my history book at school. | J'ai oublié mon livre d'histoire à l'école.
The children learn to swim at school. | Les enfants apprennent à nager à l'école.
He passed his driving test on the first try. | Il a eu son permis du premier coup. | Il a réussi son permis de conduire du premier coup.
We read a novel by Victor Hugo in class. | Nous avons lu un roman de Victor Hugo en classe.
Please write your name at the top of the page. | Écrivez votre nom en haut de la page, s'il vous plaît. | Écris ton nom en haut de la page, s'il te plaît.
The school holidays start next week. | Les vacances scolaires commencent la semaine prochaine.
I don't understand this exercise at all. | Je ne comprends pas du tout cet exercice.
Our class is going to the museum on Friday. | Notre classe va au musée vendredi.
She wants to study abroad next year. | Elle veut étudier à l'étranger l'année prochaine.
The exam will last three hours. | L'examen durera trois heures.
He always sits at the back of the classroom. | Il s'assoit toujours au fond de la classe. | Il s'assied toujours au fond de la salle de classe.
I need a new dictionary for my English class. | J'ai besoin d'un nouveau dictionnaire pour mon cours d'anglais.
The teacher explained the lesson again. | Le professeur a expliqué la leçon une nouvelle fois. | Le professeur a réexpliqué la leçon.
My daughter is learning to play the piano. | Ma fille apprend à jouer du piano.
They are building a new school near the park. | Ils construisent une nouvelle école près du parc. | On construit une nouvelle école près du parc.
Reading every day improves your vocabulary. | Lire tous les jours améliore ton vocabulaire. | Lire chaque jour enrichit votre vocabulaire.
It's raining again this morning. | Il pleut encore ce matin. | Il pleut de nouveau ce matin.
Tomorrow it will be sunny and warm. | Demain, il fera beau et chaud. | Demain, il y aura du soleil et il fera chaud.
It snowed all night in the mountains. | Il a neigé toute la nuit en montagne. | Il a neigé toute la nuit dans les montagnes.
Take an umbrella, it might rain later. | Prends un parapluie, il risque de pleuvoir plus tard. | Prenez un parapluie, il pourrait pleuvoir plus tard.
The wind is very strong today. | Le vent est très fort aujourd'hui. | Il y a beaucoup de vent aujourd'hui.
Spring is my favourite season of the year. | Le printemps est ma saison préférée.
It's too hot to work in the garden. | Il fait trop chaud pour travailler dans le jardin.
The sky is grey and cloudy today. | Le ciel est gris et nuageux aujourd'hui.
In autumn, the leaves turn red and yellow. | En automne, les feuilles deviennent rouges et jaunes.
There was a big storm last night. | Il y a eu un gros orage hier soir. | Il y a eu une grosse tempête la nuit dernière.
The lake freezes every winter. | Le lac gèle chaque hiver. | Le lac gèle tous les hivers.
It's cold, so put on a warm coat. | Il fait froid, alors mets un manteau chaud. | Il fait froid, alors mettez un manteau chaud.
We had beautiful weather on holiday. | Nous avons eu un temps magnifique en vacances. | Il a fait très beau pendant nos vacances.
The fog was so thick we couldn't see the road. | Le brouillard était si épais que nous ne voyions pas la route.
Summers here are hot and dry. | Ici, les étés sont chauds et secs.
It will be cooler at the end of the week. | Il fera plus frais en fin de semaine.
The weather forecast says it will snow tomorrow. | D'après la météo, il va neiger demain. | La météo annonce de la neige pour demain.
I love walking in the rain. | J'adore marcher sous la pluie. | J'aime me promener sous la pluie.
The sun sets very late in June. | Le soleil se couche très tard en juin.
It hasn't rained for three weeks. | Il n'a pas plu depuis trois semaines.
The temperature dropped below zero last night. | La température est descendue sous zéro la nuit dernière. | La température est passée sous zéro cette nuit.
What time is it, please? | Quelle heure est-il, s'il vous plaît ?
I'll meet you at the café at noon. | Je te retrouve au café à midi. | On se retrouve au café à midi.
We are going to the cinema tonight. | Nous allons au cinéma ce soir. | On va au cinéma ce soir.
What are you doing this weekend? | Qu'est-ce que tu fais ce week-end ? | Que faites-vous ce week-end ?
The film starts in twenty minutes. | Le film commence dans vingt minutes.
I'll be back in an hour. | Je reviens dans une heure. | Je serai de retour dans une heure.
Let's go for a walk after lunch. | Allons nous promener après le déjeuner. | Allons faire une promenade après le déjeuner.
My appointment is on Tuesday at three. | Mon rendez-vous est mardi à quinze heures. | Mon rendez-vous est mardi à trois heures.
We will leave early tomorrow morning. | Nous partirons tôt demain matin.
Are you free on Saturday afternoon? | Es-tu libre samedi après-midi ? | Êtes-vous libre samedi après-midi ?
I have been waiting for half an hour. | J'attends depuis une demi-heure.
The party starts at eight, don't be late. | La fête commence à huit heures, ne sois pas en retard. | La fête commence à vingt heures, ne soyez pas en retard.
We plan to visit Spain next summer. | Nous prévoyons de visiter l'Espagne l'été prochain. | Nous avons l'intention d'aller en Espagne l'été prochain.
I'm sorry, I don't have time today. | Je suis désolé, je n'ai pas le temps aujourd'hui. | Désolée, je n'ai pas le temps aujourd'hui.
The concert was cancelled at the last minute. | Le concert a été annulé à la dernière minute.
She always arrives ten minutes early. | Elle arrive toujours dix minutes en avance.
Shall we have dinner together on Friday? | Et si on dînait ensemble vendredi ? | On dîne ensemble vendredi ?
I usually get up at half past six. | D'habitude, je me lève à six heures et demie. | Je me lève généralement à six heures et demie.
The days are getting shorter now. | Les jours raccourcissent maintenant. | Les jours deviennent plus courts maintenant.
We have been friends for twenty years. | Nous sommes amis depuis vingt ans.
I'll call you when I arrive. | Je t'appellerai quand j'arriverai. | Je vous appellerai quand j'arriverai.
The shops close early on Sundays. | Les magasins ferment tôt le dimanche.
Next week I'm going to visit my aunt. | La semaine prochaine, je vais rendre visite à ma tante.
It's already midnight, I should go to bed. | Il est déjà minuit, je devrais aller me coucher.
The train leaves at a quarter past five. | Le train part à cinq heures et quart. | Le train part à dix-sept heures quinze.
I have a headache and a sore throat. | J'ai mal à la tête et mal à la gorge.
You should see a doctor about that cough. | Tu devrais consulter un médecin pour cette toux. | Vous devriez voir un médecin pour cette toux.
She broke her arm while skiing. | Elle s'est cassé le bras en faisant du ski.
Take this medicine three times a day. | Prenez ce médicament trois fois par jour. | Prends ce médicament trois fois par jour.
I feel much better today, thank you. | Je me sens beaucoup mieux aujourd'hui, merci.
The pharmacy on the corner is open all night. | La pharmacie du coin est ouverte toute la nuit.
My back hurts after the long drive. | J'ai mal au dos après ce long trajet en voiture.
He goes running every morning before work. | Il va courir tous les matins avant le travail. | Il court chaque matin avant le travail.
Drink plenty of water when it's hot. | Buvez beaucoup d'eau quand il fait chaud. | Bois beaucoup d'eau quand il fait chaud.
I need to make an appointment with the dentist. | Je dois prendre rendez-vous chez le dentiste.
The doctor told me to rest for a week. | Le médecin m'a dit de me reposer pendant une semaine.
My son has a fever and is staying in bed. | Mon fils a de la fièvre et reste au lit.
She is allergic to cats and dogs. | Elle est allergique aux chats et aux chiens.
Eating vegetables is good for your health. | Manger des légumes est bon pour la santé.
I slept badly last night. | J'ai mal dormi la nuit dernière. | J'ai mal dormi cette nuit.
You look tired, you should sleep more. | Tu as l'air fatigué, tu devrais dormir davantage. | Tu as l'air fatiguée, tu devrais dormir plus.
The hospital is at the end of this road. | L'hôpital est au bout de cette route.
I go swimming twice a week. | Je vais nager deux fois par semaine. | Je vais à la piscine deux fois par semaine.
He stopped smoking three years ago. | Il a arrêté de fumer il y a trois ans.
Wash your hands before you eat. | Lave-toi les mains avant de manger. | Lavez-vous les mains avant de manger.
I like reading books on the train. | J'aime lire des livres dans le train. | J'aime lire dans le train.
She plays the guitar in a small band. | Elle joue de la guitare dans un petit groupe.
We go hiking in the mountains every summer. | Nous faisons de la randonnée en montagne chaque été.
My father loves fishing in the river. | Mon père adore pêcher dans la rivière.
Do you want to play tennis on Sunday? | Tu veux jouer au tennis dimanche ? | Voulez-vous jouer au tennis dimanche ?
He has been painting since he was a child. | Il peint depuis qu'il est enfant. | Il fait de la peinture depuis son enfance.
Our football team lost the match yesterday. | Notre équipe de football a perdu le match hier. | Notre équipe de foot a perdu le match hier.
I took a lot of photos during the trip. | J'ai pris beaucoup de photos pendant le voyage.
She collects old stamps from all over the world. | Elle collectionne de vieux timbres du monde entier. | Elle collectionne les vieux timbres du monde entier.
We watched a great film last night. | Nous avons regardé un très bon film hier soir. | On a vu un super film hier soir.
My grandmother knits scarves for the whole family. | Ma grand-mère tricote des écharpes pour toute la famille.
Let's play a board game this evening. | Jouons à un jeu de société ce soir.
He learned to ride a horse last year. | Il a appris à monter à cheval l'année dernière.
I listen to music while I cook. | J'écoute de la musique pendant que je cuisine. | J'écoute de la musique en cuisinant.
The museum has a new photography exhibition. | Le musée présente une nouvelle exposition de photographie. | Le musée a une nouvelle exposition de photos.
They dance salsa every Thursday evening. | Ils dansent la salsa tous les jeudis soir.
My brother spends hours playing video games. | Mon frère passe des heures à jouer aux jeux vidéo.
We went to a jazz concert in the park. | Nous sommes allés à un concert de jazz dans le parc.
She sings in the church choir on Sundays. | Elle chante dans la chorale de l'église le dimanche.
I'd like to learn how to cook Indian food. | J'aimerais apprendre à cuisiner des plats indiens. | J'aimerais apprendre à faire de la cuisine indienne.
Gardening helps me relax after work. | Le jardinage m'aide à me détendre après le travail.
The children are building a sandcastle on the beach. | Les enfants construisent un château de sable sur la plage. | Les enfants font un château de sable sur la plage.
He reads the newspaper every morning with his coffee. | Il lit le journal tous les matins en buvant son café.
We are going skiing in the Alps in February. | Nous allons skier dans les Alpes en février.
My favourite sport is basketball. | Mon sport préféré est le basket. | Mon sport préféré, c'est le basket-ball.
I'm very happy to see you again. | Je suis très content de te revoir. | Je suis très contente de vous revoir.
She was nervous before the interview. | Elle était nerveuse avant l'entretien.
I think this film is too long. | Je trouve ce film trop long. | Je pense que ce film est trop long.
We are tired after the long journey. | Nous sommes fatigués après ce long voyage.
He is angry because he lost his keys. | Il est en colère parce qu'il a perdu ses clés.
Don't worry, everything will be fine. | Ne t'inquiète pas, tout ira bien. | Ne vous inquiétez pas, tout ira bien.
I'm bored, let's do something fun. | Je m'ennuie, faisons quelque chose d'amusant.
This is the most beautiful beach I have ever seen. | C'est la plus belle plage que j'aie jamais vue.
I'm proud of my daughter's results. | Je suis fier des résultats de ma fille. | Je suis fière des résultats de ma fille.
They were surprised by the good news. | Ils ont été surpris par la bonne nouvelle.
My little brother is afraid of spiders. | Mon petit frère a peur des araignées.
In my opinion, the first book was better. | À mon avis, le premier livre était meilleur.
She is sad because her friend moved away. | Elle est triste parce que son amie a déménagé. | Elle est triste parce que son ami a déménagé.
I really like your new haircut. | J'aime beaucoup ta nouvelle coupe de cheveux. | J'aime beaucoup votre nouvelle coupe de cheveux.
We are worried about our old dog. | Nous sommes inquiets pour notre vieux chien. | Nous nous inquiétons pour notre vieux chien.
It's a pity you can't come tonight. | C'est dommage que tu ne puisses pas venir ce soir. | Dommage que vous ne puissiez pas venir ce soir.
I agree with you completely. | Je suis tout à fait d'accord avec toi. | Je suis entièrement d'accord avec vous.
He was disappointed with the hotel room. | Il a été déçu par la chambre d'hôtel. | Il était déçu de la chambre d'hôtel.
I prefer the mountains to the sea. | Je préfère la montagne à la mer.
The children are excited about the holidays. | Les enfants sont tout excités à l'idée des vacances.
I'm sure you will pass the exam. | Je suis sûr que tu vas réussir l'examen. | Je suis sûre que tu réussiras l'examen.
What do you think of this idea? | Que penses-tu de cette idée ? | Qu'est-ce que vous pensez de cette idée ?
This music always makes me feel calm. | Cette musique m'apaise toujours. | Cette musique me calme toujours.
I love the smell of the sea. | J'adore l'odeur de la mer.
She laughed when she heard the story. | Elle a ri quand elle a entendu l'histoire.
The dog barks every time the postman comes. | Le chien aboie chaque fois que le facteur passe.
There are many birds in the forest. | Il y a beaucoup d'oiseaux dans la forêt.
The river runs through the middle of the town. | La rivière traverse le centre de la ville.
We saw a deer near the edge of the wood. | Nous avons vu un chevreuil à la lisière du bois. | Nous avons vu un cerf près de la lisière du bois.
My cat likes to sleep in the sun. | Mon chat aime dormir au soleil.
The flowers in the park are beautiful in May. | Les fleurs du parc sont magnifiques en mai.
The horses are eating grass in the field. | Les chevaux mangent de l'herbe dans le pré. | Les chevaux broutent l'herbe dans le champ.
That tree is more than a hundred years old. | Cet arbre a plus de cent ans.
Be careful, the water here is very deep. | Attention, l'eau est très profonde ici. | Fais attention, l'eau est très profonde ici.
The view from the top of the hill is amazing. | La vue du haut de la colline est incroyable. | La vue depuis le sommet de la colline est magnifique.
Bees are very important for the garden. | Les abeilles sont très importantes pour le jardin.
We walked along the beach at sunset. | Nous nous sommes promenés sur la plage au coucher du soleil. | Nous avons marché le long de la plage au coucher du soleil.
The farmer has cows, sheep and chickens. | Le fermier a des vaches, des moutons et des poules.
A small bird built a nest in our garden. | Un petit oiseau a fait son nid dans notre jardin.
The mountains are covered with snow. | Les montagnes sont couvertes de neige.
Please don't feed the ducks with bread. | Ne donnez pas de pain aux canards, s'il vous plaît. | Ne donne pas de pain aux canards, s'il te plaît.
Our dog loves to swim in the lake. | Notre chien adore nager dans le lac.
The island is famous for its white beaches. | L'île est célèbre pour ses plages blanches.
The forest is very quiet in the early morning. | La forêt est très calme tôt le matin.
I found a little frog in the garden. | J'ai trouvé une petite grenouille dans le jardin.
The sea was calm and very blue. | La mer était calme et très bleue.
My rabbit eats carrots and lettuce. | Mon lapin mange des carottes et de la salade. | Mon lapin mange des carottes et de la laitue.
The stars are very bright tonight. | Les étoiles sont très brillantes ce soir. | Les étoiles brillent beaucoup ce soir.
Wolves live in the north of the country. | Les loups vivent dans le nord du pays.
The path goes up to an old castle. | Le chemin monte jusqu'à un vieux château.
I need to send this letter to Canada. | Je dois envoyer cette lettre au Canada.
The bank is closed on Saturday afternoons. | La banque est fermée le samedi après-midi.
Is there a cash machine near here? | Y a-t-il un distributeur de billets près d'ici ? | Est-ce qu'il y a un distributeur automatique près d'ici ?
The town hall is in the main square. | La mairie se trouve sur la place principale. | La mairie est sur la grand-place.
The streets are very crowded at Christmas. | Il y a beaucoup de monde dans les rues à Noël. | Les rues sont bondées à Noël.
They are building a new bridge over the river. | Ils construisent un nouveau pont sur la rivière. | On construit un nouveau pont sur la rivière.
I'd like to open a bank account. | Je voudrais ouvrir un compte bancaire. | J'aimerais ouvrir un compte en banque.
The police station is opposite the church. | Le commissariat est en face de l'église.
Our town has a beautiful covered market. | Notre ville a un beau marché couvert.
The swimming pool is closed for repairs. | La piscine est fermée pour travaux.
You can park behind the supermarket. | Vous pouvez vous garer derrière le supermarché. | Tu peux te garer derrière le supermarché.
The city is very beautiful at night. | La ville est très belle la nuit.
I lost my umbrella somewhere in town. | J'ai perdu mon parapluie quelque part en ville.
There is a lot of traffic in the city centre. | Il y a beaucoup de circulation dans le centre-ville.
The post office is just around the corner. | La poste est juste au coin de la rue.
The new library will open in the spring. | La nouvelle bibliothèque ouvrira au printemps.
We live in a quiet street near the station. | Nous habitons dans une rue calme près de la gare.
The cinema in our town closed last year. | Le cinéma de notre ville a fermé l'année dernière.
Where can I buy stamps, please? | Où est-ce que je peux acheter des timbres, s'il vous plaît ? | Où puis-je acheter des timbres, s'il vous plaît ?
The old church was built in the twelfth century. | La vieille église a été construite au douzième siècle. | La vieille église date du XIIe siècle.
My phone battery is almost empty. | La batterie de mon téléphone est presque vide. | Mon téléphone n'a presque plus de batterie.
Can you send me the photos by email? | Peux-tu m'envoyer les photos par e-mail ? | Pouvez-vous m'envoyer les photos par courriel ?
The internet is very slow this morning. | La connexion internet est très lente ce matin. | Internet est très lent ce matin.
I forgot the password for my account. | J'ai oublié le mot de passe de mon compte.
My computer is too old for this game. | Mon ordinateur est trop vieux pour ce jeu.
Please turn off your phones during the film. | Veuillez éteindre vos téléphones pendant le film.
She bought a new laptop for university. | Elle a acheté un nouvel ordinateur portable pour l'université.
I'll send you a message when I'm ready. | Je t'enverrai un message quand je serai prêt. | Je vous enverrai un message quand je serai prête.
What is the Wi-Fi password, please? | Quel est le mot de passe du Wi-Fi, s'il vous plaît ?
The printer has run out of paper. | L'imprimante n'a plus de papier.
He spends too much time on his phone. | Il passe trop de temps sur son téléphone.
Can you help me install this program? | Peux-tu m'aider à installer ce programme ? | Pouvez-vous m'aider à installer ce logiciel ?
I read the news on my tablet. | Je lis les actualités sur ma tablette. | Je lis les informations sur ma tablette.
My grandmother has just learned to use the internet. | Ma grand-mère vient d'apprendre à utiliser internet.
The screen of my phone is broken. | L'écran de mon téléphone est cassé.
We watched the match on the big screen. | Nous avons regardé le match sur grand écran.
Don't forget to save your work. | N'oublie pas d'enregistrer ton travail. | N'oubliez pas de sauvegarder votre travail.
This camera takes very good pictures at night. | Cet appareil photo prend de très bonnes photos la nuit.
I bought these headphones online. | J'ai acheté ces écouteurs en ligne. | J'ai acheté ce casque sur internet.
Call me if you have any problems. | Appelle-moi si tu as un problème. | Appelez-moi si vous avez le moindre problème.
Yesterday we went to the beach with friends. | Hier, nous sommes allés à la plage avec des amis.
She left the house very early this morning. | Elle a quitté la maison très tôt ce matin. | Elle est partie de la maison très tôt ce matin.
I met an old friend at the station. | J'ai croisé un vieil ami à la gare. | J'ai rencontré un vieil ami à la gare.
We visited a lot of museums in Paris. | Nous avons visité beaucoup de musées à Paris.
The children played in the garden all afternoon. | Les enfants ont joué dans le jardin tout l'après-midi.
He lost his glasses at the swimming pool. | Il a perdu ses lunettes à la piscine.
My parents bought an old house in the country. | Mes parents ont acheté une vieille maison à la campagne.
I finished my book on the plane. | J'ai fini mon livre dans l'avion. | J'ai terminé mon livre dans l'avion.
They got married in a small church. | Ils se sont mariés dans une petite église.
She came home late after the party. | Elle est rentrée tard après la fête.
We waited for the bus for forty minutes. | Nous avons attendu le bus pendant quarante minutes.
My grandparents lived in Algeria for many years. | Mes grands-parents ont vécu en Algérie pendant de nombreuses années. | Mes grands-parents ont habité en Algérie pendant des années.
I saw a very funny film last week. | J'ai vu un film très drôle la semaine dernière.
The neighbours had a party until two in the morning. | Les voisins ont fait la fête jusqu'à deux heures du matin.
He fell off his bike on the way to school. | Il est tombé de vélo en allant à l'école.
We ate at a small Italian restaurant. | Nous avons mangé dans un petit restaurant italien.
She called me as soon as she arrived. | Elle m'a appelé dès qu'elle est arrivée. | Elle m'a appelée dès son arrivée.
I slept for ten hours last night. | J'ai dormi dix heures la nuit dernière. | J'ai dormi dix heures cette nuit.
The cat broke a glass in the kitchen. | Le chat a cassé un verre dans la cuisine.
They sold their car last month. | Ils ont vendu leur voiture le mois dernier.
We stayed at home because of the rain. | Nous sommes restés à la maison à cause de la pluie.
My sister found a job in London. | Ma sœur a trouvé un travail à Londres. | Ma sœur a trouvé un emploi à Londres.
The letters arrived this morning at last. | Les lettres sont enfin arrivées ce matin.
I wrote to my grandmother last week. | J'ai écrit à ma grand-mère la semaine dernière.
We forgot to buy bread for dinner. | Nous avons oublié d'acheter du pain pour le dîner.
He has never been to Japan. | Il n'est jamais allé au Japon.
The guests left after midnight. | Les invités sont partis après minuit.
I have already read this book twice. | J'ai déjà lu ce livre deux fois.
She opened the window and looked at the sea. | Elle a ouvert la fenêtre et a regardé la mer.
Our team scored a goal in the last minute. | Notre équipe a marqué un but à la dernière minute.
Do you know where the nearest pharmacy is? | Savez-vous où se trouve la pharmacie la plus proche ? | Sais-tu où est la pharmacie la plus proche ?
Why are you laughing at me? | Pourquoi te moques-tu de moi ? | Pourquoi ris-tu de moi ?
How many languages do you speak? | Combien de langues parlez-vous ? | Combien de langues parles-tu ?
Which bus goes to the airport? | Quel bus va à l'aéroport ?
Have you ever been to Italy? | Es-tu déjà allé en Italie ? | Êtes-vous déjà allé en Italie ?
Who is the man in the photo? | Qui est l'homme sur la photo ?
When does the next train leave? | Quand part le prochain train ? | À quelle heure part le prochain train ?
Can you help me carry these boxes? | Peux-tu m'aider à porter ces cartons ? | Pouvez-vous m'aider à porter ces boîtes ?
What is your favourite colour? | Quelle est ta couleur préférée ? | Quelle est votre couleur préférée ?
How often do you go to the gym? | À quelle fréquence vas-tu à la salle de sport ? | Tu vas souvent à la salle de sport ?
Would you like to come with us? | Voulez-vous venir avec nous ? | Tu veux venir avec nous ?
Is the beach far from here? | Est-ce que la plage est loin d'ici ? | La plage est-elle loin d'ici ?
What did you do last weekend? | Qu'as-tu fait le week-end dernier ? | Qu'avez-vous fait le week-end dernier ?
Where did you buy that hat? | Où as-tu acheté ce chapeau ? | Où avez-vous acheté ce chapeau ?
How much is a ticket for the museum? | Combien coûte un billet pour le musée ? | Combien coûte l'entrée du musée ?
Do you mind if I open the window? | Ça vous dérange si j'ouvre la fenêtre ? | Ça te dérange si j'ouvre la fenêtre ?
Whose coat is this on the chair? | À qui est ce manteau sur la chaise ?
Can I leave my bag here for an hour? | Puis-je laisser mon sac ici pendant une heure ? | Je peux laisser mon sac ici une heure ?
Why is the shop closed today? | Pourquoi le magasin est-il fermé aujourd'hui ?
How do you say this word in French? | Comment dit-on ce mot en français ?
My neighbour is a tall man with grey hair. | Mon voisin est un homme grand aux cheveux gris.
She has long black hair and green eyes. | Elle a de longs cheveux noirs et les yeux verts.
Our new teacher is young and very patient. | Notre nouveau professeur est jeune et très patient. | Notre nouvelle professeure est jeune et très patiente.
The old man walks slowly with a stick. | Le vieil homme marche lentement avec une canne.
Her brother is funny and very kind. | Son frère est drôle et très gentil.
This house is bigger than ours. | Cette maison est plus grande que la nôtre.
The streets of the old town are narrow. | Les rues de la vieille ville sont étroites.
My car is old but it still works well. | Ma voiture est vieille, mais elle marche encore bien. | Ma voiture est vieille, mais elle roule encore bien.
This room is dark and a bit cold. | Cette pièce est sombre et un peu froide.
The girls in the photo are my nieces. | Les filles sur la photo sont mes nièces.
He is the youngest player in the team. | C'est le plus jeune joueur de l'équipe.
Her new glasses are round and red. | Ses nouvelles lunettes sont rondes et rouges.
The water in the lake is very clear. | L'eau du lac est très claire.
These chairs are comfortable but expensive. | Ces chaises sont confortables mais chères.
It is a small village with a white church. | C'est un petit village avec une église blanche.
My shoes are wet because of the rain. | Mes chaussures sont mouillées à cause de la pluie.
The soup was hot and delicious. | La soupe était chaude et délicieuse.
His jokes are never very funny. | Ses blagues ne sont jamais très drôles.
The new bridge is longer than the old one. | Le nouveau pont est plus long que l'ancien.
The shirts are white and the trousers are black. | Les chemises sont blanches et les pantalons sont noirs.
Could you open the door for me, please? | Pourriez-vous m'ouvrir la porte, s'il vous plaît ? | Tu peux m'ouvrir la porte, s'il te plaît ?
Please speak a little louder. | Parlez un peu plus fort, s'il vous plaît. | Parle un peu plus fort, s'il te plaît.
Would you mind waiting a few minutes? | Pourriez-vous patienter quelques minutes ? | Ça vous dérange d'attendre quelques minutes ?
Can you lend me your umbrella until tomorrow? | Peux-tu me prêter ton parapluie jusqu'à demain ? | Pouvez-vous me prêter votre parapluie jusqu'à demain ?
Please don't touch the paintings. | Merci de ne pas toucher les tableaux. | Ne touchez pas aux tableaux, s'il vous plaît.
Let me help you with your bags. | Laissez-moi vous aider avec vos sacs. | Laisse-moi t'aider avec tes sacs.
Could you take a photo of us? | Pourriez-vous nous prendre en photo ? | Tu peux nous prendre en photo ?
Please wait for me at the entrance. | Attends-moi à l'entrée, s'il te plaît. | Attendez-moi à l'entrée, s'il vous plaît.
Can you tell me the way to the museum? | Pouvez-vous m'indiquer le chemin du musée ? | Pouvez-vous me dire comment aller au musée ?
I would like to book a table for four. | Je voudrais réserver une table pour quatre personnes. | J'aimerais réserver une table pour quatre.
Please sit down and make yourself comfortable. | Asseyez-vous et mettez-vous à l'aise, je vous en prie. | Assieds-toi et mets-toi à l'aise.
Could you bring us another bottle of water? | Pourriez-vous nous apporter une autre bouteille d'eau ?
Don't forget to lock the door. | N'oublie pas de fermer la porte à clé. | N'oubliez pas de fermer la porte à clé.
Can you call me back in ten minutes? | Pouvez-vous me rappeler dans dix minutes ? | Tu peux me rappeler dans dix minutes ?
Please turn the music down a little. | Baisse un peu la musique, s'il te plaît. | Baissez un peu la musique, s'il vous plaît.
We have a reservation for two nights. | Nous avons une réservation pour deux nuits.
Is breakfast included in the price? | Le petit-déjeuner est-il compris dans le prix ? | Est-ce que le petit-déjeuner est compris dans le prix ?
Our room has a view of the sea. | Notre chambre a vue sur la mer. | Notre chambre donne sur la mer.
What time do we have to leave the room? | À quelle heure devons-nous libérer la chambre ?
The shower in our room doesn't work. | La douche de notre chambre ne marche pas. | La douche de notre chambre ne fonctionne pas.
Could we have an extra blanket, please? | Pourrions-nous avoir une couverture supplémentaire, s'il vous plaît ?
The hotel staff were very friendly. | Le personnel de l'hôtel était très aimable. | Le personnel de l'hôtel a été très sympathique.
Do you have a room for tonight? | Avez-vous une chambre pour ce soir ?
The lift is at the end of the corridor. | L'ascenseur est au bout du couloir.
I left my key at the reception desk. | J'ai laissé ma clé à la réception.
I need a warm jumper for the winter. | J'ai besoin d'un pull chaud pour l'hiver.
He always wears a hat when it's sunny. | Il porte toujours un chapeau quand il y a du soleil. | Il met toujours un chapeau quand il fait beau.
Your shirt is on inside out. | Ta chemise est à l'envers. | Votre chemise est à l'envers.
These jeans are too long for me. | Ce jean est trop long pour moi.
She is wearing a yellow coat and white boots. | Elle porte un manteau jaune et des bottes blanches.
Take off your shoes before you come in. | Enlève tes chaussures avant d'entrer. | Enlevez vos chaussures avant d'entrer.
I can't find my other sock. | Je ne trouve pas mon autre chaussette. | Je n'arrive pas à trouver mon autre chaussette.
My grandmother knitted this scarf for me. | Ma grand-mère m'a tricoté cette écharpe. | C'est ma grand-mère qui m'a tricoté cette écharpe.
He put on his best suit for the interview. | Il a mis son plus beau costume pour l'entretien.
The children need new shoes for school. | Les enfants ont besoin de nouvelles chaussures pour l'école.
Our team plays every Saturday afternoon. | Notre équipe joue tous les samedis après-midi.
She runs five kilometres every morning. | Elle court cinq kilomètres tous les matins. | Elle court cinq kilomètres chaque matin.
The match was cancelled because of the snow. | Le match a été annulé à cause de la neige.
He swims faster than his older brother. | Il nage plus vite que son grand frère.
We watched the race on television. | Nous avons regardé la course à la télévision.
I play football with my friends after school. | Je joue au football avec mes amis après l'école. | Je joue au foot avec mes copains après l'école.
The stadium was full for the final. | Le stade était plein pour la finale. | Le stade était comble pour la finale.
She won a gold medal at the championship. | Elle a gagné une médaille d'or au championnat. | Elle a remporté une médaille d'or au championnat.
My father taught me how to ride a bike. | Mon père m'a appris à faire du vélo.
The players are training in the rain. | Les joueurs s'entraînent sous la pluie.
Cycling is very popular in this region. | Le vélo est très populaire dans cette région. | Le cyclisme est très populaire dans cette région.
We lost the game by one point. | Nous avons perdu le match d'un point.
He goes to the gym three times a week. | Il va à la salle de sport trois fois par semaine.
The tennis courts are behind the school. | Les courts de tennis sont derrière l'école.
Our club is looking for new members. | Notre club cherche de nouveaux membres.
Please put the bottles in the green bin. | Mettez les bouteilles dans la poubelle verte, s'il vous plaît. | Mets les bouteilles dans la poubelle verte, s'il te plaît.
We should use less water in summer. | Nous devrions utiliser moins d'eau en été. | On devrait consommer moins d'eau en été.
Many people now come to work by bike. | Beaucoup de gens viennent maintenant au travail à vélo.
Turn off the tap while you brush your teeth. | Ferme le robinet pendant que tu te brosses les dents.
The town plants new trees every year. | La ville plante de nouveaux arbres chaque année.
There is too much rubbish on the beach. | Il y a trop de déchets sur la plage.
We grow our own vegetables in the garden. | Nous cultivons nos propres légumes dans le jardin.
The air in the mountains is very clean. | L'air de la montagne est très pur. | En montagne, l'air est très pur.
Electric cars are becoming more common. | Les voitures électriques sont de plus en plus courantes. | Les voitures électriques deviennent plus courantes.
Don't throw paper on the ground. | Ne jette pas de papier par terre. | Ne jetez pas de papiers par terre.
Hello, may I speak to Mr Martin, please? | Bonjour, pourrais-je parler à M. Martin, s'il vous plaît ?
I'm sorry, he is not here at the moment. | Je suis désolé, il n'est pas là pour le moment. | Désolée, il n'est pas là en ce moment.
Can I leave a message for her? | Puis-je lui laisser un message ? | Je peux lui laisser un message ?
I'll call you back this evening. | Je te rappelle ce soir. | Je vous rappellerai ce soir.
I think you have the wrong number. | Je crois que vous vous êtes trompé de numéro. | Je pense que vous avez fait un faux numéro.
The line is bad, I can't hear you. | La ligne est mauvaise, je ne t'entends pas. | La ligne est mauvaise, je ne vous entends pas.
What is your phone number, please? | Quel est votre numéro de téléphone, s'il vous plaît ? | Quel est ton numéro de téléphone, s'il te plaît ?
She didn't answer her phone all day. | Elle n'a pas répondu au téléphone de toute la journée. | Elle n'a pas répondu à son téléphone de la journée.
My grandmother is eighty-five years old. | Ma grand-mère a quatre-vingt-cinq ans.
This book costs fifteen euros. | Ce livre coûte quinze euros.
There are thirty students in my class. | Il y a trente élèves dans ma classe.
The village has about two hundred inhabitants. | Le village compte environ deux cents habitants. | Le village a environ deux cents habitants.
I paid twenty euros for the tickets. | J'ai payé vingt euros pour les billets.
We live on the fifth floor. | Nous habitons au cinquième étage. | Nous vivons au cinquième étage.
The concert lasted almost three hours. | Le concert a duré presque trois heures.
My father was born in 1962. | Mon père est né en 1962.
The shop is open seven days a week. | Le magasin est ouvert sept jours sur sept.
Half of the class was ill today. | La moitié de la classe était malade aujourd'hui.
It takes an hour to get to work. | Il faut une heure pour aller au travail.
My daughter is three and my son is six. | Ma fille a trois ans et mon fils a six ans.
I'm going to take a shower before dinner. | Je vais prendre une douche avant le dîner.
She reads a story to her children every night. | Elle lit une histoire à ses enfants tous les soirs.
The dog needs to go out for a walk. | Le chien a besoin de sortir se promener.
Can you buy some milk on your way home? | Peux-tu acheter du lait en rentrant ? | Tu peux acheter du lait en rentrant à la maison ?
I left my glasses in the car. | J'ai laissé mes lunettes dans la voiture.
We usually have dinner at seven. | D'habitude, nous dînons à sept heures. | Nous dînons généralement à dix-neuf heures.
The postman comes at about ten o'clock. | Le facteur passe vers dix heures.
I have to go to the bank this afternoon. | Je dois aller à la banque cet après-midi.
My alarm clock didn't ring this morning. | Mon réveil n'a pas sonné ce matin.
Let's sit in the shade, it's too hot. | Asseyons-nous à l'ombre, il fait trop chaud.
The coffee machine in the office is empty. | La machine à café du bureau est vide.
He forgot his umbrella on the train. | Il a oublié son parapluie dans le train.
I'll do the shopping on Saturday morning. | Je ferai les courses samedi matin.
They are painting the garden fence. | Ils peignent la clôture du jardin.
The baby started walking last week. | Le bébé a commencé à marcher la semaine dernière.
I can't find my keys anywhere. | Je ne trouve mes clés nulle part.
The kids are watching cartoons in the living room. | Les enfants regardent des dessins animés dans le salon.
She is making a cake for her son's birthday. | Elle fait un gâteau pour l'anniversaire de son fils. | Elle prépare un gâteau pour l'anniversaire de son fils.
We need to leave in five minutes. | Nous devons partir dans cinq minutes. | On doit partir dans cinq minutes.
It's my turn to cook tonight. | C'est à moi de faire la cuisine ce soir. | C'est mon tour de cuisiner ce soir.
I'm going to bed early tonight. | Je vais me coucher tôt ce soir.
The fridge is almost empty again. | Le frigo est de nouveau presque vide. | Le réfrigérateur est encore presque vide.
Could you feed the cat while I'm away? | Pourrais-tu nourrir le chat pendant mon absence ? | Pourriez-vous donner à manger au chat pendant mon absence ?
He is fixing his bike in the garage. | Il répare son vélo dans le garage.
My sister and I share a bedroom. | Ma sœur et moi partageons une chambre. | Ma sœur et moi, nous partageons la même chambre.
The water is too cold for swimming. | L'eau est trop froide pour se baigner. | L'eau est trop froide pour nager.
We are having a picnic by the river. | Nous faisons un pique-nique au bord de la rivière.
The children are playing hide and seek outside. | Les enfants jouent à cache-cache dehors.
I always drink a glass of orange juice in the morning. | Je bois toujours un verre de jus d'orange le matin.
Our neighbours have a very noisy dog. | Nos voisins ont un chien très bruyant.
My father washes the car every Sunday. | Mon père lave la voiture tous les dimanches.
She is learning to drive this summer. | Elle apprend à conduire cet été.
They invited us to dinner on Saturday. | Ils nous ont invités à dîner samedi.
The lights went out during the storm. | Les lumières se sont éteintes pendant l'orage. | Il y a eu une coupure de courant pendant l'orage.
Please leave your coats in the hall. | Laissez vos manteaux dans l'entrée, s'il vous plaît.
I'm looking forward to the holidays. | J'ai hâte d'être en vacances. | Il me tarde d'être en vacances.
The library books must be returned on Monday. | Les livres de la bibliothèque doivent être rendus lundi.
We celebrated New Year with our neighbours. | Nous avons fêté le Nouvel An avec nos voisins.
My brother and his wife live in Canada. | Mon frère et sa femme habitent au Canada. | Mon frère et sa femme vivent au Canada.
The teacher is reading a story to the class. | Le professeur lit une histoire à la classe. | La maîtresse lit une histoire à la classe.
You can leave your bike in the courtyard. | Tu peux laisser ton vélo dans la cour. | Vous pouvez laisser votre vélo dans la cour.
I need to charge my phone before we leave. | Je dois recharger mon téléphone avant de partir. | Je dois charger mon téléphone avant qu'on parte.
Dinner is ready, come and sit down. | Le dîner est prêt, venez vous asseoir. | Le dîner est prêt, viens t'asseoir.
We had a wonderful time at your party. | Nous nous sommes très bien amusés à ta fête. | Nous avons passé un excellent moment à votre fête.
The streets are wet after the rain. | Les rues sont mouillées après la pluie.
"""


# ---------------------------------------------------------------------------------------------
# 3. Data-to-text: weather forecasts and hotel descriptions
# ---------------------------------------------------------------------------------------------

# sky value -> (verb phrases after the city, noun phrases); every phrase contains the value
SKY = {
    "sunny": (["will be sunny", "will enjoy sunny weather"], ["sunny weather", "a sunny day", "sunny skies"]),
    "partly cloudy": (["will be partly cloudy"], ["partly cloudy skies", "a partly cloudy day"]),
    "cloudy": (["will be cloudy", "will stay cloudy"], ["cloudy skies", "a cloudy day"]),
    "overcast": (["will be overcast", "will stay overcast"], ["overcast skies", "an overcast day"]),
    "foggy": (["will be foggy"], ["foggy weather", "a foggy day"]),
    "clear": (["will have clear skies", "will stay clear"], ["clear skies"]),
    "light rain": (["will see light rain", "can expect light rain"], ["light rain"]),
    "heavy rain": (["will see heavy rain", "can expect heavy rain"], ["heavy rain"]),
    "showers": (["will see showers", "can expect showers"], ["showers"]),
    "thunderstorms": (["will see thunderstorms", "can expect thunderstorms"], ["thunderstorms"]),
    "snow": (["will see snow", "can expect snow"], ["snow"]),
    "sleet": (["will see sleet", "can expect sleet"], ["sleet"]),
}
WET = {"light rain", "heavy rain", "showers", "thunderstorms", "snow", "sleet"}
COLD = {"snow", "sleet"}
WINDS = ["light", "moderate", "strong", "gusty", "gale-force"]
WEATHER_KEYS = ["city", "day", "sky", "high", "low", "wind", "rain"]

HOTEL_NAMES = [
    "Juniper Inn", "Grey Heron Lodge", "Lantern House", "Harbour View Hotel", "Hotel Aurelia",
    "Maple Court Hotel", "Kestrel Lodge", "Old Mill Inn", "Hotel Belmonte", "Saltwind Hotel",
    "Foxglove House", "Copper Beech Hotel", "Hotel Marisol", "Thornfield Lodge", "Bluebell Inn",
    "Lighthouse Hotel", "Hotel Esperanza", "Orchard House", "Weavers' Inn", "Stag and Hound",
    "Hotel Valcour", "Seagull Rest", "Moonrise Hotel", "Quayside Inn", "Willowbank Hotel",
    "Hotel Linden", "Falconer's Lodge", "Rosehip Guesthouse", "Amber Gate Hotel", "Pinecrest Lodge",
]
HOTEL_FEATURES = {  # feature -> article used in the sentence
    "rooftop pool": "a", "free parking": "", "spa": "a", "free Wi-Fi": "", "fitness room": "a",
    "garden restaurant": "a", "indoor pool": "an", "sauna": "a", "bicycle rental": "",
    "children's playground": "a", "terrace bar": "a", "garden terrace": "a",
    "airport shuttle": "an", "pet-friendly rooms": "", "library lounge": "a",
}
NEAR = ["train station", "beach", "cathedral", "airport", "old harbour", "botanical garden",
        "city museum", "ski lifts", "university", "castle", "lake", "market square"]
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
