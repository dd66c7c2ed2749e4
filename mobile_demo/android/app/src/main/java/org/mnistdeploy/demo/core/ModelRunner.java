package org.mnistdeploy.demo.core;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * One loaded artifact. Implementations (ExecuTorchRunner, OnnxRunner in the app) load the file once
 * in their constructor; run() is called off the UI thread and returns the raw logits.
 */
public interface ModelRunner extends AutoCloseable {
    /** Manifest formats the app has a runtime for: ExecuTorch (.pte) and ONNX Runtime (.onnx). */
    List<String> FORMATS = Collections.unmodifiableList(Arrays.asList("executorch", "onnx"));

    /** input: batch * C * H * W floats, normalized; shape: {batch, C, H, W}. Returns batch * classes logits. */
    float[] run(float[] input, long[] shape) throws Exception;

    /** e.g. "executorch 1.4.0 (xnnpack)"; goes into the results' device.runtime. */
    String runtime();

    @Override
    void close();
}
