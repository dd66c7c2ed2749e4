package org.mnistdeploy.demo;

import static org.junit.Assert.*;

import org.junit.Test;
import org.pytorch.executorch.ExecutorchRuntimeException;

/**
 * A .pte that ExecuTorch refuses as a program (truncated, another file identifier, a newer schema)
 * fails inside Module.load: the native program load raises error 0x12 there. The app must still say
 * which runtime refused which exporter's file, as PteVersions words it. No ExecuTorch runtime exists
 * for a desktop JVM, so the loader hands in the refusal executorch-android 1.4.0 throws.
 */
public class ExecuTorchRunnerTest {
    @Test
    public void aProgramTheRuntimeRefusesNamesBothVersions() {
        ExecutorchRuntimeException refused = new ExecutorchRuntimeException(0x12, "Cannot get load module");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> ExecuTorchRunner.open("mlp.pte", "1.5.1+cpu", path -> { throw refused; }));
        String m = e.getMessage();
        assertTrue(m, m.startsWith("executorch-android 1.4.0 cannot load mlp.pte, written by executorch 1.5.1+cpu (error 0x12: "));
        assertTrue(m, m.contains("set executorch in gradle/libs.versions.toml to the exporter's release"));
        assertSame(refused, e.getCause());
    }
}
