/** Pictures of FlashAttention: GIF animations, the step-through page, PNG charts. */
package dev.flashattn4j.viz;
