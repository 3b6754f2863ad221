"""transformers generating the prompts of `./flashattn bench-serve` as one padded batch.

The baseline of issue 21's throughput figure: the same model directory, the same prompts
(LoadTest.prompt(c, 0, words) for c < clients), greedy, every request exactly --max-tokens new
tokens (EOS ignored, as bench-serve's ignore_eos), left-padded into one batch, on --threads CPU
threads. Prints tokens/s (median of --repeats runs after one warm-up).

    /tmp/venv/bin/python scripts/bench_serve_torch.py --model /tmp/llama-100m --clients 16 \
        --max-tokens 128 --threads 2
"""
import argparse
import statistics
import time

import torch
from transformers import AutoModelForCausalLM, PreTrainedTokenizerFast

WORDS = ["the", "model", "reads", "a", "long", "story", "about", "rivers", "and", "mountains",
         "in", "winter", "light", "while", "people", "walk", "slowly", "home", "under", "grey",
         "skies"]


def prompt(c, r, words):
    """LoadTest.prompt: the same text, word for word."""
    out = f"Request {c}.{r}:"
    for j in range(words):
        out += " " + WORDS[(c * 7 + r * 5 + j * 3 + j // len(WORDS)) % len(WORDS)]
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--prompt-words", type=int, default=32)
    p.add_argument("--max-tokens", type=int, default=128)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    tok = PreTrainedTokenizerFast(tokenizer_file=f"{a.model}/tokenizer.json")
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token or tok.convert_ids_to_tokens(0)
    tok.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.float32).eval()
    texts = [prompt(c, 0, a.prompt_words) for c in range(a.clients)]
    batch = tok(texts, return_tensors="pt", padding=True)
    kwargs = dict(max_new_tokens=a.max_tokens, min_new_tokens=a.max_tokens, do_sample=False,
                  pad_token_id=tok.pad_token_id)
    with torch.inference_mode():
        model.generate(**batch, **dict(kwargs, max_new_tokens=8, min_new_tokens=8))
        times = []
        for _ in range(a.repeats):
            t0 = time.perf_counter()
            out = model.generate(**batch, **kwargs)
            times.append(time.perf_counter() - t0)
    new = (out.shape[1] - batch["input_ids"].shape[1]) * a.clients
    t = statistics.median(times)
    print(f"transformers {__import__('transformers').__version__}, torch {torch.__version__},"
          f" {a.threads} thread(s): {a.clients} prompts of {batch['input_ids'].shape[1]} tokens"
          f" (padded), {new} new tokens in {t:.2f} s (median of {a.repeats}):"
          f" {new / t:.1f} tokens/s")


if __name__ == "__main__":
    main()
