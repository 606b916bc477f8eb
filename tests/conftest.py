"""Test set-up shared by every test module.

torchvision's wheel here is a CUDA build whose C operators cannot load on the CPU-only
torch, so `import torchvision` fails in its fake-kernel registrations ("operator
torchvision::nms does not exist"). Defining the two schemas it registers fakes for,
before its first import, lets it import; the models it builds are plain PyTorch. This
lives in the tests only, never in the package.
"""

from __future__ import annotations

import importlib.util

if importlib.util.find_spec("torchvision") is not None and importlib.util.find_spec("torch") is not None:
    from real_models import prepare_torchvision

    prepare_torchvision()
