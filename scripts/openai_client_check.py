"""OpenAI's own Python client against `./flashattn serve` (issue 21's check by hand).

    ./flashattn serve --model DIR --port 8080 &
    /tmp/venv/bin/python scripts/openai_client_check.py --base http://127.0.0.1:8080/v1 [--chat]

Lists the models, then a completion and (with --chat, for a model with a chat template) a chat
completion, each streamed and not; then the errors the client raises for an unknown model and a
parameter out of range. Exits 1 on anything unexpected.
"""
import argparse
import sys

import openai


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--base", default="http://127.0.0.1:8080/v1")
    p.add_argument("--chat", action="store_true")
    p.add_argument("--api-key", default="none", help="the server's --api-key, if it has one")
    a = p.parse_args()
    client = openai.OpenAI(base_url=a.base, api_key=a.api_key, max_retries=0)
    print("openai", openai.__version__)
    model = client.models.list().data[0].id
    print("model:", model)

    c = client.completions.create(model=model, prompt="Once upon a time", max_tokens=12,
                                  temperature=0)
    print("completion:", repr(c.choices[0].text), c.choices[0].finish_reason, c.usage)
    streamed = "".join(e.choices[0].text for e in client.completions.create(
        model=model, prompt="Once upon a time", max_tokens=12, temperature=0, stream=True)
        if e.choices)
    print("streamed:  ", repr(streamed))
    assert streamed == c.choices[0].text, "the stream's text is the completion's"

    if a.chat:
        messages = [{"role": "system", "content": "You are brief."},
                    {"role": "user", "content": "Say hello."}]
        r = client.chat.completions.create(model=model, messages=messages, max_tokens=12,
                                           temperature=0)
        print("chat:", repr(r.choices[0].message.content), r.choices[0].finish_reason, r.usage)
        parts = []
        for e in client.chat.completions.create(model=model, messages=messages, max_tokens=12,
                                                temperature=0, stream=True,
                                                stream_options={"include_usage": True}):
            if e.choices and e.choices[0].delta.content:
                parts.append(e.choices[0].delta.content)
            if e.usage:
                print("streamed usage:", e.usage)
        print("chat streamed:", repr("".join(parts)))
        assert "".join(parts) == r.choices[0].message.content

    try:
        client.completions.create(model="no-such-model", prompt="x")
        sys.exit("an unknown model was accepted")
    except openai.NotFoundError as e:
        print("unknown model:", e.status_code, e.body)
    try:
        client.completions.create(model=model, prompt="x", temperature=5)
        sys.exit("temperature 5 was accepted")
    except openai.BadRequestError as e:
        print("bad temperature:", e.status_code, e.body)
    print("OK")


if __name__ == "__main__":
    main()
