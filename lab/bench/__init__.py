"""``is21 bench``: the detector alone and the fleet, side by side in one run.

The detector alone (decode, preprocess, infer, decode outputs; no Redis, no RQ) is the
ceiling; the fleet's results/s is reported as a ratio of it, on the same photos, model
and thread settings. The phases are interleaved and repeated (``--repeats``) and each
figure is the median over repeats, because on a shared 2-core machine the speed drifts
by 10-20 % from one minute to the next; a ratio of two phases measured minutes apart
would mostly measure that drift. For the same reason each repeat runs the detector alone
twice, before the fleet's flat-out phases and after the naive one, and each of those
phases is compared with the detector's rate interpolated at its own time (``ceiling_at``).
The light phase's ceiling, the detector paced at 1 image/s, runs in the same seconds as
it, half a second after each of its frames.
"""

from is21.lab.bench.report import format_table
from is21.lab.bench.run import run_bench

__all__ = ["format_table", "run_bench"]
