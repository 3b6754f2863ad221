#!/usr/bin/env python3
"""Small random-initialised models of each family, and what transformers computes with them.

For Llama (with Llama-3 rope_scaling), Mistral (sliding window), Qwen2 (q/k/v biases, tied
embeddings, bfloat16 weights) and Gemma 2 (soft-caps, alternating sliding/global layers,
query_pre_attn_scalar, (1 + w) norms, GeGLU), this writes a Hugging Face model directory under
model/src/test/resources/models/<family>/:

    config.json, model.safetensors, tokenizer.json, tokenizer_config.json   (the checkpoint)
    expected.json      the prompts, their token ids (the tokenizers library), transformers'
                       greedy continuations (32 new tokens, eager attention, float32), the
                       smallest top-1/top-2 logit gap along each, the tolerance of each prompt's
                       logits, and a batch of prompts of different lengths generated together
                       (left padding), as transformers' generate does
    logits_<i>.npy     float32 logits of prompt i followed by its continuation, at every
                       position, from one full forward pass (eager, float32)

The tolerance of prompt i is max(1e-4, 2 * |logits_float32 - logits_float64|_max): twice
transformers' own float32 error against the same model run in float64, as FlashAttention's tests
do (Gemma 2's soft-caps make that error larger than 1e-4 on some positions).

The weights are seeded (torch.Generator per family) and drawn at scales that give O(1)
activations; seeds and prompts were picked so that every greedy step's top-1/top-2 gap is far
above float32 error (the script checks this and fails otherwise). The tokenizer is a byte-level
BPE trained with the tokenizers library on a few paragraphs, with <|bos|> prepended.

Run (from the repository root; needs torch, transformers, tokenizers, safetensors; no network):
    /work/venv/bin/python scripts/make_model_fixtures.py
The project's tests read the files; they never run Python.
"""

import copy
import json
import math
import pathlib
import shutil

import numpy as np
import torch
from safetensors.torch import save_file
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "model/src/test/resources/models"
NEW_TOKENS = 32
MIN_GAP = 1e-3  # smallest top-1/top-2 gap accepted: 10x the 1e-4 tolerance, ~500x float32 error
SEED_TRIES = 50

CORPUS = [
    "FlashAttention computes exact attention with fewer reads and writes of the slow memory. "
    "It splits the queries into row blocks and the keys and values into column blocks, and "
    "carries the running maximum and the running sum of the softmax from block to block.",
    "The quick brown fox jumps over the lazy dog. A wizard's job is to vex chumps quickly in "
    "fog. How vexingly quick daft zebras jump! Sphinx of black quartz, judge my vow.",
    "Once upon a time there was a small model that lived in a test directory. Every day it "
    "predicted the next token, and every day the tests checked that it did so exactly as the "
    "reference implementation did, to the fourth decimal place.",
    "Rotary position embeddings rotate pairs of query and key features by an angle that grows "
    "with the position. Grouped-query attention shares each key and value head among several "
    "query heads. A sliding window lets each token see only the most recent ones.",
    "def attention(q, k, v): return softmax(q @ k.T / sqrt(d)) @ v  # 1234567890 + - * / = < >",
]

PROMPTS = [
    "The quick brown fox",
    "Once upon a time there was a small model",
    "Rotary position embeddings rotate pairs of query and key features, and grouped-query "
    "attention shares each key and value head among several query heads.",
    "def attention(q, k, v):",
]
BATCH = [0, 2, 3]  # prompts generated together, left-padded to the longest


def train_tokenizer():
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=320,
        special_tokens=["<|bos|>", "<|eos|>", "<|pad|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(CORPUS * 3, trainer)
    bos = tok.token_to_id("<|bos|>")
    tok.post_processor = processors.TemplateProcessing(
        single="<|bos|> $A", pair="<|bos|> $A <|bos|> $B", special_tokens=[("<|bos|>", bos)]
    )
    return tok


FAMILIES = {
    "llama": dict(
        arch="LlamaForCausalLM",
        seed=101,
        config=dict(
            model_type="llama",
            hidden_size=64,
            intermediate_size=112,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            head_dim=16,
            rms_norm_eps=1e-5,
            max_position_embeddings=256,
            tie_word_embeddings=False,
            hidden_act="silu",
            rope_parameters=dict(
                rope_type="llama3",
                rope_theta=500000.0,
                factor=8.0,
                low_freq_factor=1.0,
                high_freq_factor=4.0,
                original_max_position_embeddings=64,
            ),
        ),
        dtype=torch.float32,
    ),
    "mistral": dict(
        arch="MistralForCausalLM",
        seed=202,
        config=dict(
            model_type="mistral",
            hidden_size=64,
            intermediate_size=96,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=1,
            head_dim=16,
            rms_norm_eps=1e-6,
            max_position_embeddings=256,
            tie_word_embeddings=False,
            hidden_act="silu",
            sliding_window=8,
            rope_parameters=dict(rope_type="default", rope_theta=10000.0),
        ),
        dtype=torch.float32,
    ),
    "qwen2": dict(
        arch="Qwen2ForCausalLM",
        seed=303,
        config=dict(
            model_type="qwen2",
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            rms_norm_eps=1e-6,
            max_position_embeddings=256,
            tie_word_embeddings=True,
            hidden_act="silu",
            use_sliding_window=False,
            rope_parameters=dict(rope_type="default", rope_theta=1000000.0),
        ),
        dtype=torch.bfloat16,
    ),
    "gemma2": dict(
        arch="Gemma2ForCausalLM",
        seed=404,
        config=dict(
            model_type="gemma2",
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=4,
            num_attention_heads=4,
            num_key_value_heads=2,
            head_dim=24,
            rms_norm_eps=1e-6,
            max_position_embeddings=256,
            tie_word_embeddings=True,
            hidden_activation="gelu_pytorch_tanh",
            query_pre_attn_scalar=32,
            sliding_window=6,
            attn_logit_softcapping=2.0,
            final_logit_softcapping=30.0,
            rope_parameters=dict(rope_type="default", rope_theta=10000.0),
        ),
        dtype=torch.float32,
    ),
}


def init_weights(model, seed, family):
    """Seeded weights at scales that give O(1) activations (not transformers' 0.02)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            if p.dim() == 2:
                std = 1.0 / math.sqrt(p.shape[1])
                if "embed_tokens" in name and not model.config.tie_word_embeddings:
                    std = 1.0  # untied: O(1) inputs; a tied head keeps logits O(1) with 1/sqrt(h)
                p.copy_(torch.randn(p.shape, generator=g) * std)
            elif "norm" in name:
                base = 0.0 if family == "gemma2" else 1.0  # Gemma's norms scale by (1 + w)
                p.copy_(base + 0.2 * torch.randn(p.shape, generator=g))
            else:  # biases
                p.copy_(0.3 * torch.randn(p.shape, generator=g))


def round_to(model, dtype):
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.to(dtype).to(torch.float32))


def greedy(model, ids, new_tokens):
    """transformers' generate, greedy, eager attention; returns the tokens and the smallest
    top-1/top-2 logit gap among the steps."""
    out = model.generate(
        torch.tensor([ids]),
        attention_mask=torch.ones(1, len(ids), dtype=torch.long),
        max_new_tokens=new_tokens,
        min_new_tokens=new_tokens,
        do_sample=False,
        output_scores=True,
        return_dict_in_generate=True,
        pad_token_id=2,
        eos_token_id=None,
    )
    gaps = []
    for s in out.scores:
        top = torch.topk(s[0].float(), 2).values
        gaps.append(float(top[0] - top[1]))
    return out.sequences[0, len(ids) :].tolist(), min(gaps)


def make(family, spec, tok):
    """Tries seeds from the spec's on until every greedy step has a gap of MIN_GAP."""
    for seed in range(spec["seed"], spec["seed"] + SEED_TRIES):
        if make_seeded(family, spec, tok, seed):
            return
        print(f"{family}: seed {seed} gives a top-1/top-2 gap under {MIN_GAP}; next seed", flush=True)
    raise SystemExit(f"{family}: no seed in {SEED_TRIES} tries gives gaps of {MIN_GAP}")


def make_seeded(family, spec, tok, seed):
    import transformers

    cls = getattr(transformers, spec["arch"])
    cfg_cls = transformers.AutoConfig.for_model
    vocab = tok.get_vocab_size()
    cfg = cfg_cls(
        vocab_size=vocab,
        bos_token_id=0,
        eos_token_id=1,
        pad_token_id=2,
        attention_dropout=0.0,
        **spec["config"],
    )
    cfg._attn_implementation = "eager"
    torch.manual_seed(0)
    model = cls(cfg).eval()
    init_weights(model, seed, family)
    if spec["dtype"] != torch.float32:
        round_to(model, spec["dtype"])  # the float32 model is exactly the bf16 checkpoint's
    d = OUT / family
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    # The checkpoint, in the dtype of the family's spec (transformers' own save_pretrained), from
    # a copy: converting the model itself would also round its RoPE buffer.
    copy.deepcopy(model).to(spec["dtype"]).save_pretrained(d, safe_serialization=True)
    tok.save(str(d / "tokenizer.json"))
    (d / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "tokenizer_class": "PreTrainedTokenizerFast",
                "bos_token": "<|bos|>",
                "eos_token": "<|eos|>",
                "pad_token": "<|pad|>",
            },
            indent=2,
        )
        + "\n"
    )
    for extra in ("generation_config.json",):
        if (d / extra).exists():
            (d / extra).unlink()

    # The reference is what transformers computes from the checkpoint on disk, in float32 and in
    # float64 (eager attention).
    model = cls.from_pretrained(d, dtype=torch.float32, attn_implementation="eager").eval()
    model64 = cls.from_pretrained(d, dtype=torch.float64, attn_implementation="eager").eval()

    cases = []
    for i, text in enumerate(PROMPTS):
        ids = tok.encode(text).ids
        new, gap = greedy(model, ids, NEW_TOKENS)
        if gap < MIN_GAP:
            print(f"{family} seed {seed} prompt {i}: gap {gap:.2e}", flush=True)
            return None
        full = torch.tensor([ids + new])
        with torch.no_grad():
            l32 = model(full).logits[0].float()
            l64 = model64(full).logits[0]
        err32 = float((l32.double() - l64).abs().max())
        tol = max(1e-4, 2 * err32)
        np.save(d / f"logits_{i}.npy", l32.numpy().astype(np.float32))
        cases.append(
            dict(
                prompt=text,
                ids=ids,
                greedy=new,
                min_gap=gap,
                float32_error=err32,
                tolerance=tol,
            )
        )
        print(f"{family} prompt {i}: {len(ids)} tokens, gap {gap:.3g}, f32 err {err32:.2e}")

    # The batch: left-padded, generated together.
    texts = [PROMPTS[i] for i in BATCH]
    enc = [tok.encode(t).ids for t in texts]
    longest = max(len(e) for e in enc)
    input_ids = torch.tensor([[2] * (longest - len(e)) + e for e in enc])
    mask = torch.tensor([[0] * (longest - len(e)) + [1] * len(e) for e in enc])
    out = model.generate(
        input_ids,
        attention_mask=mask,
        max_new_tokens=NEW_TOKENS,
        min_new_tokens=NEW_TOKENS,
        do_sample=False,
        pad_token_id=2,
        eos_token_id=None,
    )
    batch = [out[b, longest:].tolist() for b in range(len(BATCH))]
    for b, i in enumerate(BATCH):
        if batch[b] != cases[i]["greedy"]:
            raise SystemExit(f"{family}: the padded batch continues prompt {i} differently")
    expected = dict(
        family=family,
        seed=seed,
        transformers=transformers.__version__,
        torch=torch.__version__,
        weights_dtype=str(spec["dtype"]).replace("torch.", ""),
        new_tokens=NEW_TOKENS,
        cases=cases,
        batch=dict(prompts=BATCH, greedy=batch),
    )
    (d / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")
    return True


def main():
    torch.set_num_threads(2)
    tok = train_tokenizer()
    for family, spec in FAMILIES.items():
        make(family, spec, tok)
    total = sum(f.stat().st_size for f in OUT.rglob("*") if f.is_file())
    print(f"wrote {OUT} ({total / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
