package org.mnistdeploy.demo.core;

import static org.junit.Assert.*;

import org.junit.Test;

public class PteVersionsTest {
    @Test
    public void comparesMajorMinorOnly() {
        assertTrue(PteVersions.exporterIsNewer("1.5.1+cpu", "1.4.0"));
        assertTrue(PteVersions.exporterIsNewer("2.0.0", "1.9.3"));
        assertFalse(PteVersions.exporterIsNewer("1.4.1", "1.4.0"));
        assertFalse(PteVersions.exporterIsNewer("1.3.0", "1.4.0"));
        assertFalse("an unrecorded exporter is not judged", PteVersions.exporterIsNewer(null, "1.4.0"));
        assertThrows(IllegalArgumentException.class, () -> PteVersions.exporterIsNewer("main", "1.4.0"));
    }

    @Test
    public void theLoadErrorNamesBothVersionsAndTheFix() {
        String newer = PteVersions.loadError("m.pte", "1.5.1+cpu", "1.4.0", "error 0x12: bad program");
        assertTrue(newer, newer.startsWith("executorch-android 1.4.0 cannot load m.pte, written by executorch 1.5.1+cpu"));
        assertTrue(newer, newer.contains("error 0x12: bad program"));
        assertTrue(newer, newer.contains("gradle/libs.versions.toml") && newer.contains("executorch 1.4.x"));
        String same = PteVersions.loadError("m.pte", "1.4.0", "1.4.0", "error 0x1");
        assertTrue(same, same.contains("python -m export --embed"));
        assertTrue(PteVersions.loadError("m.pte", null, "1.4.0", "x").contains("does not record"));
    }
}
