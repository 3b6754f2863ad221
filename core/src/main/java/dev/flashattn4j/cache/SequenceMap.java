package dev.flashattn4j.cache;

import java.util.Arrays;

/**
 * The live sequences of a {@link PagedKvCache} by id: an open-addressing table of int keys (linear
 * probing, deletion by backward shift), so that a lookup boxes nothing. A {@code HashMap<Integer,
 * V>} allocates an {@code Integer} per lookup of an id above 127, which a cache that has seen more
 * than 128 sequences does several times per layer and step.
 *
 * @param <V> the values (never null)
 */
final class SequenceMap<V> {

  private int[] keys = new int[16];
  private Object[] values = new Object[16]; // null: an empty slot
  private int size;

  /** The value of {@code key}, or null. */
  @SuppressWarnings("unchecked")
  V get(int key) {
    int mask = keys.length - 1;
    for (int i = slot(key, mask); ; i = (i + 1) & mask) {
      Object v = values[i];
      if (v == null) {
        return null;
      }
      if (keys[i] == key) {
        return (V) v;
      }
    }
  }

  boolean containsKey(int key) {
    return get(key) != null;
  }

  /** Sets the value of {@code key} (not null). */
  void put(int key, V value) {
    if (value == null) {
      throw new IllegalArgumentException("null value");
    }
    if (2 * (size + 1) > keys.length) {
      resize(2 * keys.length);
    }
    int mask = keys.length - 1;
    int i = slot(key, mask);
    while (values[i] != null && keys[i] != key) {
      i = (i + 1) & mask;
    }
    if (values[i] == null) {
      size++;
    }
    keys[i] = key;
    values[i] = value;
  }

  /** Removes {@code key}; the entries after it in its run move back so that probing finds them. */
  void remove(int key) {
    int mask = keys.length - 1;
    int i = slot(key, mask);
    while (values[i] != null && keys[i] != key) {
      i = (i + 1) & mask;
    }
    if (values[i] == null) {
      return;
    }
    values[i] = null;
    size--;
    for (int j = (i + 1) & mask; values[j] != null; j = (j + 1) & mask) {
      int home = slot(keys[j], mask);
      // the entry at j may move to the hole at i unless its home lies cyclically in (i, j]
      boolean stays = i <= j ? i < home && home <= j : i < home || home <= j;
      if (!stays) {
        keys[i] = keys[j];
        values[i] = values[j];
        values[j] = null;
        i = j;
      }
    }
  }

  int size() {
    return size;
  }

  /** The keys, ascending. */
  int[] keys() {
    int[] out = new int[size];
    int n = 0;
    for (int i = 0; i < keys.length; i++) {
      if (values[i] != null) {
        out[n++] = keys[i];
      }
    }
    Arrays.sort(out);
    return out;
  }

  private void resize(int capacity) {
    int[] oldKeys = keys;
    Object[] oldValues = values;
    keys = new int[capacity];
    values = new Object[capacity];
    size = 0;
    for (int i = 0; i < oldKeys.length; i++) {
      if (oldValues[i] != null) {
        @SuppressWarnings("unchecked")
        V v = (V) oldValues[i];
        put(oldKeys[i], v);
      }
    }
  }

  private static int slot(int key, int mask) {
    int h = key * 0x9E3779B9;
    return (h ^ h >>> 16) & mask;
  }
}
