import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

# torch is the oracle here, not the subject: one thread keeps tiny oracle calls from waiting on
# a thread pool when the machine is busy
import torch  # noqa: E402

torch.set_num_threads(1)
