package org.mnistdeploy.demo.core;

import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/** Hex sha256 of a stream: every artifact is checked against the manifest before it is loaded. */
public final class Sha256 {
    private Sha256() {}

    public static String of(InputStream in) throws IOException {
        MessageDigest d;
        try {
            d = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
        byte[] buf = new byte[1 << 16];
        for (int n; (n = in.read(buf)) > 0; ) d.update(buf, 0, n);
        StringBuilder hex = new StringBuilder();
        for (byte b : d.digest()) hex.append(String.format("%02x", b));
        return hex.toString();
    }
}
