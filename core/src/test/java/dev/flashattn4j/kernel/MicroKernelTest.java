package dev.flashattn4j.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class MicroKernelTest {

  @Test
  void theShapeFitsTheRegisterFile() {
    assertEquals(MicroKernel.X6V2, MicroKernel.forRegisters(16), "AVX/AVX2: 16 ymm registers");
    assertEquals(MicroKernel.X4V4, MicroKernel.forRegisters(32), "AVX-512, NEON: 32 registers");
    assertTrue(MicroKernel.X6V2.registersNeeded() <= 16);
    assertTrue(MicroKernel.X4V4.registersNeeded() <= 32);
    assertTrue(MicroKernel.X4V4.registersNeeded() > 16, "4x4 would spill on 16 registers");
    int registers = MicroKernel.registers();
    assertTrue(registers == 16 || registers == 32, "registers " + registers);
    if (MicroKernel.pinned()) {
      assertEquals(
          MicroKernel.parse(System.getProperty(MicroKernel.PROPERTY)), MicroKernel.chosen());
    } else {
      assertEquals(MicroKernel.forRegisters(registers), MicroKernel.chosen());
    }
  }

  @Test
  void thePropertyNamesAShape() {
    assertEquals(MicroKernel.X6V2, MicroKernel.parse("6x2"));
    assertEquals(MicroKernel.X4V4, MicroKernel.parse(" 4×4 "));
    assertEquals(MicroKernel.X4V4, MicroKernel.parse("4X4"));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> MicroKernel.parse("8x8"));
    assertTrue(e.getMessage().contains(MicroKernel.PROPERTY), e.getMessage());
    for (MicroKernel m : MicroKernel.values()) {
      assertEquals(m, MicroKernel.parse(m.label()));
    }
  }

  @Test
  void everyConfigurationCarriesItsShape() {
    KernelConfig c = KernelConfig.defaults();
    assertEquals(MicroKernel.chosen(), c.microKernel());
    assertEquals(MicroKernel.X4V4, c.withMicroKernel(MicroKernel.X4V4).microKernel());
    assertEquals(
        MicroKernel.X4V4,
        c.withMicroKernel(MicroKernel.X4V4).withThreads(2).withTiles(32, 48).microKernel());
    assertThrows(IllegalArgumentException.class, () -> c.withMicroKernel(null));
  }
}
