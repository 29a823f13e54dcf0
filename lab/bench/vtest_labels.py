"""Who is who on a stretch of vtest.avi, labelled by hand (issue 31): frames 400 to 590
(20 s at 1 fps), each person's foot point (the bottom centre of their box, in pixels of
the 768x576 frame) and a letter per pedestrian.

How they were made: every person the detector found on those frames was drawn with its
number, and each was named by looking at the frames side by side: clothes, gait,
direction (A: man in black leaving right; B: man in black who walks down and stands
still from frame 550; C: dark jacket and jeans, walking right; D: red top, walking left;
E: bald, jeans, walking up; F: grey jacket; G1, G2: a couple on the grass, a man in a red
jacket and a blonde woman, one box while they overlap, named for the one in front; H:
enters right at 570). ``sign``: the blue signpost top left, a steady false "person" of
YOLOX-nano that never moves, not a pedestrian. A box holding two people is named for the
one whose feet make its bottom. D and C cross behind the lamp post between 470 and 480.
"""

from __future__ import annotations

LABELS: dict[int, list[tuple[str, int, int]]] = {
    400: [("A", 715, 410), ("B", 603, 203), ("C", 289, 287), ("sign", 39, 142)],
    410: [("C", 309, 289), ("B", 587, 200), ("sign", 39, 143)],
    420: [("B", 563, 208), ("C", 308, 290), ("D", 759, 385), ("sign", 39, 142)],
    430: [("D", 704, 372), ("B", 536, 223), ("C", 308, 290), ("sign", 39, 143)],
    440: [("B", 508, 237), ("D", 632, 354), ("C", 310, 290), ("sign", 39, 142)],
    450: [("D", 578, 336), ("B", 500, 258), ("C", 323, 288), ("sign", 39, 141)],
    460: [("D", 528, 320), ("C", 366, 298), ("sign", 40, 142), ("E", 758, 449), ("E", 759, 399)],
    470: [("D", 472, 303), ("B", 555, 315), ("E", 693, 422), ("C", 425, 312), ("sign", 39, 141)],
    480: [("B", 596, 342), ("E", 626, 392), ("C", 482, 332), ("D", 424, 286), ("sign", 39, 141)],
    490: [("E", 588, 363), ("C", 533, 361), ("B", 631, 361), ("D", 372, 274), ("sign", 39, 141)],
    500: [("C", 585, 388), ("B", 627, 376), ("D", 321, 266), ("sign", 40, 143), ("E", 574, 306)],
    510: [
        ("E", 551, 324),
        ("B", 630, 374),
        ("C", 671, 416),
        ("D", 276, 259),
        ("F", 727, 321),
        ("G1", 686, 575),
        ("sign", 40, 144),
    ],
    520: [
        ("E", 506, 306),
        ("D", 237, 251),
        ("G1", 528, 576),
        ("F", 679, 299),
        ("B", 640, 367),
        ("C", 753, 449),
        ("sign", 40, 143),
    ],
    530: [
        ("F", 639, 278),
        ("B", 649, 366),
        ("E", 474, 282),
        ("G1", 380, 550),
        ("D", 203, 244),
        ("sign", 40, 143),
    ],
    540: [
        ("B", 660, 385),
        ("F", 625, 263),
        ("G1", 260, 528),
        ("E", 452, 268),
        ("D", 172, 238),
        ("G2", 310, 517),
        ("sign", 40, 143),
    ],
    550: [
        ("G1", 197, 513),
        ("G2", 261, 512),
        ("D", 136, 232),
        ("F", 613, 244),
        ("B", 656, 410),
        ("sign", 40, 143),
    ],
    560: [
        ("G2", 213, 536),
        ("D", 93, 237),
        ("B", 656, 411),
        ("F", 600, 232),
        ("sign", 40, 143),
        ("E", 395, 239),
    ],
    570: [
        ("F", 583, 237),
        ("G2", 203, 563),
        ("B", 656, 411),
        ("E", 353, 228),
        ("D", 38, 244),
        ("H", 757, 348),
        ("G1", 208, 468),
        ("sign", 40, 143),
    ],
    580: [
        ("G1", 255, 470),
        ("G2", 220, 576),
        ("H", 696, 330),
        ("F", 596, 248),
        ("B", 655, 410),
        ("E", 297, 215),
        ("sign", 40, 143),
    ],
    590: [
        ("G2", 292, 574),
        ("G1", 364, 437),
        ("H", 638, 314),
        ("B", 655, 412),
        ("E", 242, 216),
        ("sign", 39, 143),
    ],
}

NOT_PEOPLE = {"sign"}
