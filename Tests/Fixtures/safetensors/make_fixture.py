"""Writes python_numpy.safetensors with the reference `safetensors` library (numpy API).

Run from this folder: python3 make_fixture.py   (needs numpy and safetensors).
The values follow simple formulas that SafeTensorsTests recomputes, plus a few special floats.
"""
import numpy as np
from safetensors.numpy import save_file

tensors = {
    "backbone.stem.conv.weight": (np.arange(24, dtype=np.float32) * 0.25 - 3.0).reshape(2, 3, 2, 2),
    "head.cls.bias": np.array([-0.0, 1e-40, 3.4028235e38, -4.59512], dtype=np.float32),
    "set.attn.q_proj.weight": (np.sin(np.arange(12, dtype=np.float64)) .astype(np.float32)).reshape(3, 4),
    "step_scale": np.array(0.125, dtype=np.float32),
    "empty": np.zeros((0, 5), dtype=np.float32),
}
metadata = {"format": "pt", "step": "1200", "config": '{"hypotheses": 50, "name": "r\u00e9f\\"q\\""}'}
save_file(tensors, "python_numpy.safetensors", metadata=metadata)
