package org.mnistdeploy.demo;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.util.Collections;
import org.mnistdeploy.demo.core.ModelRunner;

/** A .onnx artifact on ONNX Runtime's CPU provider, session created once, one intra-op thread. */
final class OnnxRunner implements ModelRunner {
    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final OrtSession session;
    private final String inputName;

    OnnxRunner(String path, String inputName) throws OrtException {
        this.inputName = inputName;  // from the manifest, e.g. "input"
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
            opts.setIntraOpNumThreads(1);
            session = env.createSession(path, opts);
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
    public String runtime() { return "onnxruntime-android " + OrtEnvironment.getEnvironment().getVersion(); }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            throw new IllegalStateException(e);
        }
    }
}
