#!/usr/bin/env python3
"""Writes the GGUF fixtures of model/src/test/resources/gguf/ from the test models of
model/src/test/resources/models/ (scripts/make_model_fixtures.py), with the `gguf` Python package,
the way llama.cpp's convert_hf_to_gguf.py writes them:

- GGML tensor names (token_embd, blk.N.attn_q, ..., output_norm, output), GGML dimensions (ne[0] =
  the inputs of a matrix), metadata under the architecture's prefix (llama.*, qwen2.*, gemma2.*)
  and the byte-level BPE tokenizer as tokenizer.ggml.* (tokens, merges, token types, BOS/EOS);
- architecture "llama" (Llama and Mistral): q_proj and k_proj rows permuted per head into GGML's
  interleaved rotary layout (convert_hf_to_gguf.py's LlamaModel.permute); llama3 rope scaling adds
  a rope_freqs.weight tensor;
- gemma2: norm weights stored as 1 + w; no output tensor (tied);
- quantised files (Q8_0, Q4_0): every matrix whose rows are whole 32-value blocks is quantised with
  gguf.quants (bit-exact with ggml's reference quantisers) from float32, the others (llama's
  down_proj, K = 112) stay F32 as llama.cpp's converter leaves them; vectors stay F32.

For the Q8_0 and Q4_0 files it also writes <file>.attn_q.npy, the first layer's attn_q dequantised
by gguf.quants in the file's row order, so that the Java reader's dequantisation is checked against
the package's.

Usage: /tmp/venv/bin/python scripts/make_gguf_fixtures.py   (needs numpy, torch, safetensors, gguf)
"""

import json
import os

import gguf
import numpy as np
from safetensors.torch import load_file

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.join(HERE, "..", "model", "src", "test", "resources", "models")
OUT = os.path.join(HERE, "..", "model", "src", "test", "resources", "gguf")

Q = gguf.GGMLQuantizationType

# (output file, family, tensor type of the matrices)
FIXTURES = [
    ("llama-f32.gguf", "llama", Q.F32),
    ("llama-q8_0.gguf", "llama", Q.Q8_0),
    ("mistral-q4_0.gguf", "mistral", Q.Q4_0),
    ("qwen2-bf16.gguf", "qwen2", Q.BF16),
    ("qwen2-q8_0.gguf", "qwen2", Q.Q8_0),
    ("gemma2-f32.gguf", "gemma2", Q.F32),
]

ARCH = {"llama": "llama", "mistral": "llama", "qwen2": "qwen2", "gemma2": "gemma2"}


QWEN2_CHAT = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")


def permute(w, n_head):
    """convert_hf_to_gguf.py's LlamaModel.permute: per head, the two rotary halves interleaved."""
    return (w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:])
            .swapaxes(1, 2)
            .reshape(w.shape))


def ggml_name(hf, gemma):
    if hf == "model.embed_tokens.weight":
        return "token_embd.weight"
    if hf == "model.norm.weight":
        return "output_norm.weight"
    if hf == "lm_head.weight":
        return "output.weight"
    parts = hf.split(".")
    layer, rest = parts[2], ".".join(parts[3:-1])
    names = {
        "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
        "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
        "mlp.down_proj": "ffn_down", "input_layernorm": "attn_norm",
        "post_attention_layernorm": "post_attention_norm" if gemma else "ffn_norm",
        "pre_feedforward_layernorm": "ffn_norm", "post_feedforward_layernorm": "post_ffw_norm",
    }
    return f"blk.{layer}.{names[rest]}.{parts[-1]}"


def llama3_rope_freqs(cfg):
    """convert_hf_to_gguf.py's rope_freqs for rope_type llama3 (ignored by the Java reader)."""
    rp = cfg["rope_parameters"]
    dim = cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]
    freqs = 1.0 / (rp["rope_theta"] ** (np.arange(0, dim, 2, dtype=np.float32) / dim))
    low = rp["original_max_position_embeddings"] / rp["low_freq_factor"]
    high = rp["original_max_position_embeddings"] / rp["high_freq_factor"]
    factors = []
    for f in freqs:
        wavelen = 2 * np.pi / f
        if wavelen < high:
            factors.append(1)
        elif wavelen > low:
            factors.append(rp["factor"])
        else:
            smooth = (rp["original_max_position_embeddings"] / wavelen - rp["low_freq_factor"]) / (
                rp["high_freq_factor"] - rp["low_freq_factor"])
            factors.append(1 / ((1 - smooth) / rp["factor"] + smooth))
    return np.array(factors, dtype=np.float32)


def write(out, family, qtype):
    d = os.path.join(MODELS, family)
    cfg = json.load(open(os.path.join(d, "config.json")))
    tok = json.load(open(os.path.join(d, "tokenizer.json")))
    arch = ARCH[family]
    gemma = arch == "gemma2"
    w = gguf.GGUFWriter(os.path.join(OUT, out), arch)
    w.add_name(f"flashattn4j test {family}")
    w.add_context_length(cfg["max_position_embeddings"])
    w.add_embedding_length(cfg["hidden_size"])
    w.add_block_count(cfg["num_hidden_layers"])
    w.add_feed_forward_length(cfg["intermediate_size"])
    w.add_head_count(cfg["num_attention_heads"])
    w.add_head_count_kv(cfg["num_key_value_heads"])
    w.add_rope_freq_base(cfg["rope_parameters"]["rope_theta"])
    w.add_layer_norm_rms_eps(cfg["rms_norm_eps"])
    w.add_vocab_size(cfg["vocab_size"])
    head_dim = cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]
    w.add_key_length(head_dim)
    w.add_value_length(head_dim)
    if gemma:
        w.add_sliding_window(cfg["sliding_window"])
        w.add_attn_logit_softcapping(cfg["attn_logit_softcapping"])
        w.add_final_logit_softcapping(cfg["final_logit_softcapping"])
    # the tokenizer as llama.cpp keeps a GPT-2-style byte-level BPE: tokens, merges ("a b"), token
    # types (3: control), BOS/EOS, whether BOS is added; pre "gpt-2" (GPT-2's split regex)
    vocab = sorted(tok["model"]["vocab"].items(), key=lambda kv: kv[1])
    special = {t["id"] for t in tok["added_tokens"] if t["special"]}
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("gpt-2")
    w.add_token_list([t for t, _ in vocab])
    w.add_token_types([3 if i in special else 1 for _, i in vocab])
    w.add_token_merges([m if isinstance(m, str) else " ".join(m) for m in tok["model"]["merges"]])
    w.add_bos_token_id(cfg["bos_token_id"])
    w.add_eos_token_id(cfg["eos_token_id"])
    w.add_add_bos_token(True)
    if family == "qwen2":
        # Qwen2-Instruct's chat template (ChatML), as llama.cpp's converter copies it from
        # tokenizer_config.json: a GGUF file alone serves chat too
        w.add_chat_template(QWEN2_CHAT)
    tensors = load_file(os.path.join(d, "model.safetensors"))
    if arch == "llama" and cfg["rope_parameters"].get("rope_type") == "llama3":
        w.add_tensor("rope_freqs.weight", llama3_rope_freqs(cfg))
    for hf in sorted(tensors):
        if hf == "lm_head.weight" and cfg.get("tie_word_embeddings"):
            continue
        a = tensors[hf].float().numpy()
        if arch == "llama" and (".q_proj." in hf or ".k_proj." in hf):
            heads = cfg["num_attention_heads"] if ".q_proj." in hf else cfg["num_key_value_heads"]
            a = permute(a, heads)
        if gemma and hf.endswith("norm.weight"):
            a = a + 1
        name = ggml_name(hf, gemma)
        if a.ndim == 2 and qtype != Q.F32 and (qtype == Q.BF16 or a.shape[1] % 32 == 0):
            data = gguf.quants.quantize(a, qtype)
            w.add_tensor(name, data, raw_dtype=qtype)
            if name == "blk.0.attn_q.weight" and qtype in (Q.Q8_0, Q.Q4_0):
                deq = gguf.quants.dequantize(data, qtype).astype(np.float32)
                np.save(os.path.join(OUT, out + ".attn_q.npy"), deq)
        else:
            w.add_tensor(name, a)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main():
    os.makedirs(OUT, exist_ok=True)
    for out, family, qtype in FIXTURES:
        write(out, family, qtype)
        print("wrote", out, os.path.getsize(os.path.join(OUT, out)), "bytes")


if __name__ == "__main__":
    main()
