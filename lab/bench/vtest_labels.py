"""Who is who on a stretch of vtest.avi, labelled by hand (issue 31): frames 400 to 590
every 10th (20 s at 1 fps) and 600 to 780 every 20th (so that 0.5 fps, too, is measured on
20 frames: 40 s), each person's foot point (the bottom centre of their box, in pixels of
the 768x576 frame) and a letter per pedestrian.

How they were made: every person the detector found on those frames, and on the frames
between them, was drawn with its number, and each was named by looking at the frames side
by side (and enlarged where people cross): clothes, gait, direction. A: man in black
leaving right; B: man in black coat and black trousers who walks down, stands still from
frame 550 and walks again from 620; C: dark jacket and jeans, walking right; D: red top,
walking left; E: bald, dark jacket, jeans, walking up and left, then right from 650; F:
grey jacket; G1, G2: a couple on the grass, a man in a red and navy jacket and a blonde
woman in black, one box while they overlap, named for the one in front; H: dark jacket
and jeans, enters right at 570, walks left, then right from 690; I: dark jacket, crosses
the right edge at 600; J: a woman in a red top, walking right; K: blue jacket, grey
trousers, from the right at 660 to the left edge; L: black leather jacket, a white paper
in hand, from the right at 700. ``sign``: the blue signpost top left, a steady false
"person" of YOLOX-nano that never moves, not a pedestrian. A box holding two people is
named for the one whose feet make its bottom (H in front of J at 660, B in front of G2 at
780). D and C cross behind the lamp post between 470 and 480; G1, J and B cross near it
between 680 and 700; B, E and L pass each other at 720-740, all three in black.
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
    600: [
        ("G2", 311, 576),
        ("G1", 475, 420),
        ("B", 657, 412),
        ("H", 582, 288),
        ("I", 687, 297),
        ("E", 199, 212),
        ("sign", 39, 144),
    ],
    620: [
        ("G2", 402, 576),
        ("G1", 598, 370),
        ("B", 634, 398),
        ("H", 474, 253),
        ("E", 132, 210),
        ("J", 82, 248),
        ("sign", 39, 143),
    ],
    640: [
        ("G2", 361, 524),
        ("G1", 663, 306),
        ("B", 521, 342),
        ("E", 129, 216),
        ("J", 182, 230),
        ("H", 379, 236),
    ],
    660: [
        ("G2", 326, 490),
        ("G1", 632, 257),
        ("B", 477, 280),
        ("K", 703, 412),
        ("E", 191, 225),
        ("H", 285, 230),
        ("sign", 39, 143),
    ],
    680: [
        ("G2", 178, 450),
        ("K", 466, 344),
        ("B", 500, 240),
        ("G1", 528, 232),
        ("J", 398, 214),
        ("E", 287, 240),
        ("H", 186, 226),
        ("sign", 39, 143),
    ],
    700: [
        ("K", 294, 294),
        ("B", 531, 234),
        ("G2", 123, 396),
        ("J", 486, 200),
        ("H", 198, 236),
        ("E", 380, 257),
        ("G1", 415, 205),
        ("L", 706, 308),
        ("sign", 39, 143),
    ],
    720: [
        ("G2", 77, 338),
        ("K", 147, 257),
        ("G1", 317, 244),
        ("H", 274, 257),
        ("E", 477, 292),
        ("B", 510, 264),
        ("L", 575, 287),
        ("J", 568, 188),
        ("sign", 39, 142),
    ],
    740: [
        ("G1", 284, 275),
        ("H", 356, 284),
        ("E", 587, 318),
        ("G2", 140, 298),
        ("L", 453, 270),
        ("J", 635, 175),
        ("K", 29, 235),
        ("B", 570, 253),
    ],
    760: [("L", 326, 254), ("E", 666, 304), ("H", 472, 314), ("G1", 257, 329), ("J", 695, 188)],
    780: [
        ("E", 629, 297),
        ("G1", 370, 365),
        ("H", 585, 347),
        ("B", 328, 273),
        ("L", 248, 247),
        ("J", 676, 204),
    ],
}

NOT_PEOPLE = {"sign"}

# The stretches measured: the first 20 s (at most seven people at once, few crossings), and
# all 40 s (up to nine at once, three walkers crossing in black or half hidden).
STRETCHES = {"first 20 s": range(400, 600), "all 40 s": range(400, 800)}
