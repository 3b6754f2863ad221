/**
 * What an attention call is described and answered with, as immutable values that every layer may
 * use and that use none of them: the options ({@link dev.flashattn4j.values.AttentionOptions}:
 * scale, {@link dev.flashattn4j.values.Causal}, {@link dev.flashattn4j.values.AttentionMask},
 * {@link dev.flashattn4j.values.Window}, soft cap, ALiBi, sinks, {@link
 * dev.flashattn4j.values.Dropout}), the shape a call resolves to ({@link
 * dev.flashattn4j.values.AttentionShape}) and the results ({@link
 * dev.flashattn4j.values.AttentionResult}, {@link dev.flashattn4j.values.AttentionGradients}).
 */
package dev.flashattn4j.values;
