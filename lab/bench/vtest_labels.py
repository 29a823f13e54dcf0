"""Who is who on a stretch of vtest.avi, labelled by hand (issue 31): frames 200 to 590
every 10th (at 1 fps, 20 s before the measured stretch and its first 20 s) and 600 to 780
every 20th (so that 0.5 fps, too, is measured on 20 frames: 40 s), each person's foot
point (the bottom centre of their box, in pixels of the 768x576 frame) and a letter per
pedestrian.

How they were made: every person the detector found on those frames, and on the frames
between them, was drawn with its number, and each was named by looking at the frames side
by side (and enlarged where people cross): clothes, gait, direction. A: black leather
jacket, a white paper in hand, in from the right at 230, down and left, back right from
320 and out at 410; B: black coat and black trousers, out right at 210 and back, up and
left, right from 320, down from 400, still from 550, walking again from 620; C: black
jacket and jeans, left and up, right from 290, back left from 340 (hidden behind R and
the sign post at 345-350), right from 390; D: red top, walking left; E: bald, dark
jacket, jeans, walking up and left, then right from 650; F: grey jacket; G1, G2: a
couple, a man in a red and navy jacket and a blonde woman in black, down the road at the
top side by side (G1 on the left) and out right at 370, back from the bottom right at
510, one box while they overlap, named for the one in front; H: dark jacket and jeans,
enters right at 570, walks left, then right from 690; I: dark jacket, crosses the right
edge at 600; J: a woman in a red top, walking right; K: blue jacket, grey trousers, from
the right at 660 to the left edge; L: black leather jacket, a white paper in hand, from
the right at 700 (likely A back, named apart: 30 s between); P: striped jumper and jeans,
out left at 280; Q: light blue jacket, out left at 220; R: dark jacket and jeans, left
until 280, then right and out at 400. ``sign``: the blue signpost top left, a steady
false "person" of YOLOX-nano that never moves, not a pedestrian. A box holding two people
is named for the one whose feet make its bottom (H in front of J at 660, B in front of G2
at 780), and left unnamed where that cannot be told (G1 and G2 at the right edge at 370).
D and C cross behind the lamp post between 470 and 480; G1, J and B cross near it between
680 and 700; B, E and L pass each other at 720-740, all three in black; B and R cross at
305.
"""

from __future__ import annotations

LABELS: dict[int, list[tuple[str, int, int]]] = {
    200: [
        ("C", 633, 367),
        ("P", 234, 267),
        ("B", 723, 355),
        ("Q", 93, 219),
        ("G1", 690, 153),
        ("R", 502, 219),
        ("G2", 712, 155),
    ],
    210: [("C", 676, 410), ("G1", 675, 158), ("Q", 41, 208), ("P", 168, 262), ("G2", 701, 158)],
    220: [
        ("C", 603, 412),
        ("G1", 669, 163),
        ("P", 111, 251),
        ("B", 754, 322),
        ("G2", 690, 163),
        ("R", 380, 240),
    ],
    230: [
        ("C", 523, 386),
        ("A", 747, 401),
        ("B", 688, 297),
        ("P", 59, 247),
        ("G1", 660, 172),
        ("R", 305, 240),
        ("G2", 681, 171),
        ("sign", 40, 143),
    ],
    240: [
        ("B", 626, 279),
        ("C", 466, 352),
        ("A", 683, 380),
        ("P", 50, 244),
        ("G1", 653, 180),
        ("R", 250, 227),
        ("G2", 674, 179),
        ("sign", 39, 144),
    ],
    250: [
        ("A", 618, 354),
        ("B", 562, 265),
        ("C", 399, 325),
        ("P", 50, 244),
        ("R", 207, 225),
        ("G1", 646, 185),
        ("G2", 668, 184),
        ("sign", 39, 144),
    ],
    260: [
        ("A", 549, 342),
        ("C", 346, 300),
        ("B", 498, 249),
        ("P", 50, 244),
        ("R", 175, 220),
        ("G1", 633, 193),
        ("G2", 651, 192),
        ("sign", 39, 143),
    ],
    270: [
        ("C", 298, 280),
        ("P", 44, 245),
        ("A", 479, 332),
        ("G1", 612, 200),
        ("R", 139, 209),
        ("G2", 645, 201),
    ],
    280: [
        ("C", 280, 262),
        ("R", 128, 218),
        ("B", 372, 232),
        ("G1", 612, 208),
        ("G2", 641, 208),
        ("P", 14, 243),
        ("A", 428, 321),
    ],
    290: [
        ("A", 371, 310),
        ("G1", 605, 220),
        ("C", 273, 246),
        ("R", 159, 227),
        ("B", 313, 227),
        ("G2", 632, 218),
        ("sign", 40, 143),
    ],
    300: [
        ("G1", 597, 234),
        ("B", 253, 221),
        ("A", 331, 295),
        ("R", 202, 235),
        ("G2", 630, 230),
        ("C", 311, 235),
        ("sign", 39, 143),
    ],
    310: [
        ("B", 202, 231),
        ("G1", 601, 250),
        ("A", 286, 286),
        ("G2", 631, 244),
        ("R", 259, 241),
        ("C", 375, 222),
        ("sign", 40, 142),
    ],
    320: [
        ("A", 268, 278),
        ("G1", 612, 266),
        ("R", 318, 252),
        ("B", 214, 241),
        ("G2", 643, 265),
        ("C", 443, 205),
        ("sign", 40, 142),
    ],
    330: [
        ("C", 491, 219),
        ("R", 375, 258),
        ("G1", 630, 285),
        ("B", 271, 244),
        ("A", 305, 283),
        ("G2", 660, 284),
        ("sign", 40, 142),
    ],
    340: [
        ("C", 490, 238),
        ("G1", 655, 299),
        ("A", 351, 297),
        ("G2", 683, 296),
        ("R", 433, 268),
        ("B", 326, 254),
        ("sign", 40, 141),
    ],
    350: [("R", 489, 276), ("G1", 687, 316), ("G2", 711, 318), ("A", 400, 318), ("sign", 40, 141)],
    360: [
        ("C", 385, 247),
        ("R", 550, 286),
        ("G1", 715, 333),
        ("G2", 748, 333),
        ("A", 450, 334),
        ("B", 452, 250),
        ("sign", 39, 140),
    ],
    370: [("B", 504, 244), ("A", 516, 357), ("R", 614, 296), ("C", 341, 246), ("sign", 39, 141)],
    380: [("A", 587, 378), ("B", 550, 232), ("C", 296, 254), ("R", 677, 310), ("sign", 39, 142)],
    390: [("A", 650, 392), ("C", 270, 265), ("B", 583, 216), ("R", 739, 322), ("sign", 40, 142)],
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
# all 40 s (up to nine at once, three walkers crossing in black or half hidden); and the 20 s
# before them, to tune a tracker on without fitting what is measured.
STRETCHES = {
    "first 20 s": range(400, 600),
    "all 40 s": range(400, 800),
    "20 s before": range(200, 400),
}
