#!/usr/bin/env python3
"""A random-initialised ~100M-parameter Llama checkpoint for `./flashattn bench --model` and
scripts/bench_model_torch.py (issue 11): hidden 768, 12 layers, 12 heads, 4 K/V heads, head
dimension 64, MLP 2048, vocabulary 32000, float32 weights (seeded), RoPE theta 500000; the
tokenizer of the model module's fixtures (its ids are all below 32000). Not committed: ~500 MB.

Run: /work/venv/bin/python scripts/make_bench_model.py /tmp/llama-100m
"""
import shutil
import sys
import pathlib

import torch
import transformers

out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/llama-100m")
cfg = transformers.LlamaConfig(
    vocab_size=32000,
    hidden_size=768,
    intermediate_size=2048,
    num_hidden_layers=12,
    num_attention_heads=12,
    num_key_value_heads=4,
    head_dim=64,
    max_position_embeddings=32768,
    rms_norm_eps=1e-5,
    tie_word_embeddings=False,
    bos_token_id=0,
    eos_token_id=1,
    rope_parameters={"rope_type": "default", "rope_theta": 500000.0},
)
torch.manual_seed(11)
model = transformers.LlamaForCausalLM(cfg).eval()
model.save_pretrained(out, safe_serialization=True)
root = pathlib.Path(__file__).resolve().parent.parent
shutil.copy(root / "model/src/test/resources/models/llama/tokenizer.json", out / "tokenizer.json")
n = sum(p.numel() for p in model.parameters())
print(f"wrote {out}: {n / 1e6:.1f}M parameters")
