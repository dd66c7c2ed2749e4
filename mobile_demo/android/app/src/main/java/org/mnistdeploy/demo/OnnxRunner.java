package org.mnistdeploy.demo;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.Collections;
import org.mnistdeploy.demo.core.ModelRunner;

/**
 * A .onnx artifact on ONNX Runtime's CPU provider, session created once, one intra-op thread.
 * No Android API: the JVM tests run this class with the desktop onnxruntime (same Java API).
 */
final class OnnxRunner implements ModelRunner {
    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final OrtSession session;
    private final String inputName;
    private boolean closed;  // guarded by this

    /** inputShape: the manifest's {batch, C, H, W}; a model that disagrees is refused here, not mid-run. */
    OnnxRunner(String path, String inputName, long[] inputShape) {
        this.inputName = inputName;  // from the manifest, e.g. "input"
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
            opts.setIntraOpNumThreads(1);
            session = env.createSession(path, opts);
        } catch (OrtException e) {
            throw new IllegalArgumentException(path + " is not a loadable ONNX model (" + e.getMessage()
                    + "); re-run `python -m export --embed` and rebuild the app", e);
        }
        try {
            checkSignature(path, inputShape);
        } catch (IllegalArgumentException e) {
            closeQuietly();
            throw e;
        } catch (OrtException e) {
            closeQuietly();
            throw new IllegalArgumentException(path + ": cannot read its inputs (" + e.getMessage() + ")", e);
        }
    }

    /** One float input named as the manifest says, with its C, H, W; one [batch, classes] output. */
    private void checkSignature(String path, long[] want) throws OrtException {
        NodeInfo in = session.getInputInfo().get(inputName);
        String fix = "; manifest.json and the artifact come from different exports: re-run `python -m export --embed`";
        if (in == null || !(in.getInfo() instanceof TensorInfo)) {
            throw new IllegalArgumentException(path + " has no tensor input \"" + inputName + "\" (it has "
                    + session.getInputNames() + ")" + fix);
        }
        long[] got = ((TensorInfo) in.getInfo()).getShape();
        boolean same = got.length == want.length;
        for (int k = 1; same && k < got.length; k++) same = got[k] == want[k];  // [0] is the batch axis
        if (!same) {
            throw new IllegalArgumentException(path + " takes input shape " + Arrays.toString(got)
                    + ", the manifest says " + Arrays.toString(want) + fix);
        }
        if (session.getNumOutputs() != 1) {
            throw new IllegalArgumentException(path + " has " + session.getNumOutputs() + " outputs, expected the logits" + fix);
        }
    }

    @Override
    public float[] run(float[] input, long[] shape) throws OrtException {
        try (OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(input), shape);
             OrtSession.Result r = session.run(Collections.singletonMap(inputName, t))) {
            float[][] logits = (float[][]) r.get(0).getValue();  // [batch, classes]
            float[] flat = new float[logits.length * logits[0].length];
            for (int b = 0; b < logits.length; b++) System.arraycopy(logits[b], 0, flat, b * logits[b].length, logits[b].length);
            return flat;
        }
    }

    @Override
    public String runtime() { return "onnxruntime " + env.getVersion(); }

    /** Idempotent: the app may close a runner that failed verification and again when it exits. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        try {
            session.close();
        } catch (OrtException e) {
            throw new IllegalStateException(e);
        }
    }

    private void closeQuietly() {
        try {
            session.close();
        } catch (OrtException ignored) {
            // the constructor is already failing with the reason that matters
        }
    }
}
