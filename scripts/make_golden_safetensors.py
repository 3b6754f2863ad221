#!/usr/bin/env python3
"""Golden safetensors file for core's reader, written by Hugging Face's own writer.

Writes core/src/test/resources/safetensors/golden.safetensors (float32, float16, bfloat16,
float64, int64, a scalar and an empty tensor, with __metadata__) and the float32 values the
reader must give for its float tensors, flattened in header order, as expected.npy; the raw
16-bit patterns of the bfloat16 tensor as bf16_bits.npy (float32 holding int16 values).

Run: /work/venv/bin/python scripts/make_golden_safetensors.py   (torch, safetensors, numpy)
"""
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

out = Path(__file__).resolve().parent.parent / "core/src/test/resources/safetensors"
out.mkdir(parents=True, exist_ok=True)
g = torch.Generator().manual_seed(20261201)
tensors = {
    "a.f32": torch.randn(2, 3, generator=g),
    "b.f16": (torch.randn(5, generator=g) * 1000).to(torch.float16),
    "c.bf16": torch.randn(4, 2, generator=g).to(torch.bfloat16),
    "d.f64": torch.randn(3, generator=g, dtype=torch.float64),
    "e.i64": torch.tensor([7, -3], dtype=torch.int64),
    "scalar": torch.tensor(2.5),
    "empty": torch.zeros(0, 4),
}
tensors["b.f16"][0] = float("inf")
tensors["c.bf16"][0, 0] = -0.0
path = out / "golden.safetensors"
save_file(tensors, str(path), metadata={"format": "pt", "note": "golden \u2713"})

# The header's order (safetensors sorts by dtype size, then name): read it back from the file.
import json, struct
raw = path.read_bytes()
(n,) = struct.unpack("<Q", raw[:8])
header = json.loads(raw[8 : 8 + n])
names = [k for k in header if k != "__metadata__"]
expected = [
    tensors[k].to(torch.float32).flatten().numpy()
    for k in names
    if tensors[k].dtype in (torch.float32, torch.float16, torch.bfloat16, torch.float64)
]
np.save(out / "expected.npy", np.concatenate(expected).astype(np.float32))
np.save(out / "bf16_bits.npy", tensors["c.bf16"].view(torch.int16).flatten().numpy().astype(np.float32))
print("wrote", path, "header order:", names)
