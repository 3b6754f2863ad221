package dev.flashattn4j.internal;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Whether the incubating Vector API ({@code jdk.incubator.vector}) is in this JVM's module graph,
 * checked once and before any class that uses it is touched. A program on the class path that was
 * started without {@code --add-modules jdk.incubator.vector} does not have it: the kernels then run
 * their scalar twins (the same results, slower), and the first kernel set up says so on one line of
 * standard error, once per JVM.
 *
 * <p>No Vector API type appears in this class, nor in any class the scalar paths load: they run
 * without the module. {@link Simd} and the kernels' {@code *Vectors} classes are loaded only when
 * {@link #PRESENT} is true.
 */
public final class VectorModule {

  /** The module's name, as {@code --add-modules} takes it. */
  public static final String NAME = "jdk.incubator.vector";

  /** True when {@value #NAME} is in the boot layer, so that the SIMD paths can load. */
  public static final boolean PRESENT = ModuleLayer.boot().findModule(NAME).isPresent();

  /** The one line printed when the module is missing (and vectors were not turned off). */
  public static final String WARNING =
      "flashattn4j: module "
          + NAME
          + " is not in this JVM, so the scalar kernels run (same results, about 35 times slower);"
          + " for SIMD speed start java with --add-modules "
          + NAME;

  /** The one piece of global state: whether {@link #WARNING} has been printed. */
  private static final AtomicBoolean WARNED = new AtomicBoolean();

  private VectorModule() {}

  /**
   * True when the SIMD paths run by default: the module is present and {@value Simd#PROPERTY} is
   * not 0. When the module is missing this prints {@link #WARNING} once per JVM (not when the
   * property already asks for the scalar path) and returns false.
   */
  public static boolean vectorsEnabled() {
    if (!PRESENT) {
      if (!scalarRequested() && WARNED.compareAndSet(false, true)) {
        System.err.println(WARNING);
      }
      return false;
    }
    return Simd.ENABLED;
  }

  /** True when {@value Simd#PROPERTY} is 0: the caller asked for the scalar twins. */
  private static boolean scalarRequested() {
    String p = System.getProperty(Simd.PROPERTY);
    return p != null && p.trim().equals("0");
  }
}
