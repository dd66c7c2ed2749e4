package org.mnistdeploy.demo;

import org.mnistdeploy.demo.core.ModelRunner;
import org.pytorch.executorch.EValue;
import org.pytorch.executorch.Module;
import org.pytorch.executorch.Tensor;

/** A .pte artifact on ExecuTorch (XNNPACK delegate inside the .pte), loaded once, one thread. */
final class ExecuTorchRunner implements ModelRunner {
    static final String VERSION = "1.4.0";  // keep equal to app/build.gradle's executorch-android
    private final Module module;

    ExecuTorchRunner(String path) {
        // LOAD_MODE_FILE reads the whole (small) file; numThreads 1 matches the other targets' rows.
        module = Module.load(path, Module.LOAD_MODE_FILE, 1);
        int err = module.loadMethod("forward");  // load now, so load time is not billed to the first run
        if (err != 0) throw new IllegalStateException("ExecuTorch could not load forward() of " + path
                + " (error 0x" + Integer.toHexString(err) + "); is the .pte from a newer executorch?");
    }

    @Override
    public float[] run(float[] input, long[] shape) {
        EValue[] out = module.forward(EValue.from(Tensor.fromBlob(input, shape)));
        if (out.length == 0) throw new IllegalStateException("ExecuTorch forward() returned nothing");
        return out[0].toTensor().getDataAsFloatArray();
    }

    @Override
    public String runtime() { return "executorch-android " + VERSION; }

    @Override
    public void close() { module.destroy(); }
}
