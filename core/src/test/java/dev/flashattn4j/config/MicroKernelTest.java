package dev.flashattn4j.config;

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
      MicroKernel.Choice c = MicroKernel.choice();
      assertTrue(c.shape().registersNeeded() <= registers, c.toString());
      assertEquals(c.shape(), MicroKernel.chosen());
    }
  }

  private static final CpuId ZEN3 = new CpuId("AMD", 25, 1, "AMD EPYC 7B13");
  private static final CpuId ZEN5 = new CpuId("AMD", 26, 2, "AMD EPYC");
  private static final CpuId SAPPHIRE_RAPIDS = new CpuId("Intel", 6, 143, "Intel Xeon Platinum");
  private static final CpuId UNKNOWN = new CpuId("unknown", -1, -1, "riscv64");

  @Test
  void theTableKeysByVendorFamilyModelAndWidth() {
    MicroKernel.Choice zen3 = MicroKernel.choose(ZEN3, 256, 16);
    assertEquals(MicroKernel.X6V2, zen3.shape());
    assertTrue(zen3.reason().startsWith("measured"), zen3.reason());
    MicroKernel.Choice zen5 = MicroKernel.choose(ZEN5, 512, 32);
    assertTrue(zen5.reason().startsWith("measured"), zen5.reason());
    // the same CPU under -XX:UseAVX=2: another row (256 bits, 16 registers)
    assertEquals(MicroKernel.X6V2, MicroKernel.choose(ZEN5, 256, 16).shape());
    // a CPU without a row: the register rule, and the reason says so
    MicroKernel.Choice unknown = MicroKernel.choose(UNKNOWN, 512, 32);
    assertEquals(MicroKernel.X4V4, unknown.shape());
    assertTrue(unknown.reason().contains("no measurement"), unknown.reason());
    assertEquals(MicroKernel.X6V2, MicroKernel.choose(SAPPHIRE_RAPIDS, 256, 16).shape());
  }

  @Test
  void noRowPicksAShapeTheRegistersCannotHold() {
    for (MicroKernel.Measured m : MicroKernel.TABLE) {
      CpuId cpu = new CpuId(m.vendor(), m.family(), m.modelFrom(), "test");
      for (int registers : new int[] {16, 32}) {
        MicroKernel.Choice c = MicroKernel.choose(cpu, m.bits(), registers);
        assertTrue(c.shape().registersNeeded() <= registers, m + " on " + registers + ": " + c);
      }
      assertTrue(m.bits() > 256 || m.shape() == MicroKernel.X6V2, "256 bits is 16 registers: " + m);
    }
  }

  @Test
  void cpuinfoGivesVendorFamilyAndModel() {
    CpuId amd =
        CpuId.parse(
            java.util.List.of(
                "processor\t: 0",
                "vendor_id\t: AuthenticAMD",
                "cpu family\t: 26",
                "model\t\t: 2",
                "model name\t: AMD EPYC 9R45",
                "processor\t: 1",
                "vendor_id\t: SomethingElse",
                "cpu family\t: 99"));
    assertEquals(new CpuId("AMD", 26, 2, "AMD EPYC 9R45"), amd);
    assertEquals("AMD family 26 model 2 (AMD EPYC 9R45)", amd.describe());
    CpuId intel =
        CpuId.parse(
            java.util.List.of(
                "vendor_id : GenuineIntel",
                "cpu family : 6",
                "model : 143",
                "model name : Intel(R) Xeon(R) Platinum 8480+"));
    assertEquals("Intel", intel.vendor());
    assertEquals(143, intel.model());
    CpuId arm = CpuId.parse(java.util.List.of("CPU implementer\t: 0x41", "CPU part\t: 0xd40"));
    assertEquals("Arm", arm.vendor());
    assertEquals(0x41, arm.family());
    assertEquals(0xd40, arm.model());
    CpuId none = CpuId.parse(java.util.List.of("garbage", "cpu family : many", ": :"));
    assertEquals("unknown", none.vendor());
    assertEquals(-1, none.family());
    assertEquals(
        "unknown", CpuId.read(java.nio.file.Path.of("/no/such/cpuinfo")).vendor(), "not Linux");
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
