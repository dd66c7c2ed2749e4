package org.mnistdeploy.demo.core;

import static org.junit.Assert.*;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import org.junit.Test;

public class Sha256Test {
    @Test
    public void knownDigest() throws Exception {
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                Sha256.of(new ByteArrayInputStream("abc".getBytes(StandardCharsets.US_ASCII))));
    }
}
