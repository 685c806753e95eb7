"""pytest configuration shared by the unit tests and the nbval notebook run.

Progress bars never reach compared notebook output: nbval's kernels inherit this environment.
"""

import os

os.environ.setdefault("TQDM_DISABLE", "1")
