/**
 * Language models on the library: Llama-family checkpoints from Hugging Face ({@link
 * dev.flashattn4j.model.Model#load}: Llama, Mistral, Qwen2, Gemma 2; safetensors weights in
 * float32, float16 or bfloat16; {@code tokenizer.json} through Hugging Face's tokenizers), run with
 * the library's attention and paged KV cache, token for token what transformers computes. A {@link
 * dev.flashattn4j.model.Session} is one conversation that grows turn by turn; {@link
 * dev.flashattn4j.model.Model#generate} runs several prompts together.
 *
 * {@snippet file="dev/flashattn4j/model/ModelSnippetsTest.java" region="generate"}
 *
 * <p>Offline and quiet by itself ({@link dev.flashattn4j.model.Tokenizer}); a directory that is not
 * a model it can run is refused at load with a {@link dev.flashattn4j.model.ModelFormatException}
 * that names the file and the field.
 */
package dev.flashattn4j.model;
