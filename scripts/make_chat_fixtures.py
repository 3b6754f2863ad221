"""Golden renders of chat templates by transformers' apply_chat_template, for ChatTemplateTest.

Writes model/src/test/resources/chat/templates.json: each template (the Jinja source of a real
model family's tokenizer_config.json, and one that exercises tools, tojson and Python's string
methods), conversations, and what transformers renders (or the message of the exception it raises).

    /tmp/venv/bin/python scripts/make_chat_fixtures.py
"""
import json
import pathlib

import transformers
from transformers import PreTrainedTokenizerFast

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "model/src/test/resources/chat/templates.json"

TEMPLATES = {
    # Meta-Llama-3-8B-Instruct
    "llama3": ("<|begin_of_text|>", "<|eot_id|>",
               "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"),
    # Qwen2-Instruct (ChatML with a default system prompt)
    "qwen2": (None, "<|im_end|>",
              "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"),
    # gemma-2-2b-it
    "gemma2": ("<bos>", "<eos>",
               "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}"),
    # Mistral-7B-Instruct-v0.1
    "mistral": ("<s>", "</s>",
                "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}"),
    # Python's string methods, namespace(), whitespace control, tojson, slicing, block trimming
    "pythonic": ("<s>", "</s>",
                 "{%- set ns = namespace(system='') -%}\n"
                 "{%- if messages[0].role == 'system' -%}\n"
                 "  {%- set ns.system = messages[0].content.strip() -%}\n"
                 "  {%- set loop_messages = messages[1:] -%}\n"
                 "{%- else -%}\n"
                 "  {%- set loop_messages = messages -%}\n"
                 "{%- endif -%}\n"
                 "{{ bos_token }}\n"
                 "{% if ns.system %}\n"
                 "SYSTEM: {{ ns.system.upper() }}\n"
                 "{% endif %}\n"
                 "{% for m in loop_messages %}\n"
                 "  {% if m.content.startswith('/') %}\n"
                 "COMMAND {{ m.content.lstrip('/').title() }} {{ m | tojson }}\n"
                 "  {% elif m.role.endswith('ant') %}\n"
                 "A: {{ m.content.rstrip() }}{{ eos_token }}\n"
                 "  {% else %}\n"
                 "U{{ loop.index }}: {{ m.content.replace('\\n', ' ').lower() }}\n"
                 "  {% endif %}\n"
                 "{% endfor %}\n"
                 "{% if add_generation_prompt %}A:{% endif %}"),
}

CONVERSATIONS = [
    [{"role": "user", "content": "Hello!"}],
    [{"role": "system", "content": "  You are terse.  "}, {"role": "user", "content": "What is 2+2?"}],
    [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello, how can I help?  "},
     {"role": "user", "content": "Tell me a joke\nabout cats."}],
    [{"role": "user", "content": "héllo wörld — ünïcode ✓"}, {"role": "assistant", "content": "ok"},
     {"role": "user", "content": "/reset now"}],
    [{"role": "assistant", "content": "I speak first"}],
]


def main():
    tok = PreTrainedTokenizerFast(
        tokenizer_file=str(ROOT / "model/src/test/resources/models/llama/tokenizer.json"))
    cases = []
    for name, (bos, eos, template) in TEMPLATES.items():
        tok.bos_token = bos
        tok.eos_token = eos
        renders = []
        for conv in CONVERSATIONS:
            for gen in (True, False):
                try:
                    text = tok.apply_chat_template(conv, chat_template=template, tokenize=False,
                                                   add_generation_prompt=gen)
                    renders.append({"messages": conv, "add_generation_prompt": gen, "text": text})
                except Exception as e:  # the template's raise_exception
                    renders.append({"messages": conv, "add_generation_prompt": gen,
                                    "error": str(e)})
        cases.append({"name": name, "bos_token": bos, "eos_token": eos, "template": template,
                      "renders": renders})
    OUT.write_text(json.dumps({"transformers": transformers.__version__, "templates": cases},
                              ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
