package org.mnistdeploy.demo;

import org.mnistdeploy.demo.core.ModelRunner;
import org.mnistdeploy.demo.core.PteVersions;
import org.pytorch.executorch.EValue;
import org.pytorch.executorch.ExecutorchRuntimeException;
import org.pytorch.executorch.Module;
import org.pytorch.executorch.Tensor;

/** A .pte artifact on ExecuTorch (XNNPACK delegate inside the .pte), loaded once, one thread. */
final class ExecuTorchRunner implements ModelRunner {
    static final String VERSION = "1.4.0";  // keep equal to gradle/libs.versions.toml's executorch
    private final Module module;

    /** How a .pte is opened: Module.load on a phone (a parameter so the tests can hand in ExecuTorch's refusal). */
    interface Loader {
        Module load(String path);
    }

    /** exporter: the executorch Python package that wrote the file (manifest versions.executorch), or null. */
    ExecuTorchRunner(String path, String exporter) {
        // LOAD_MODE_FILE reads the whole (small) file; numThreads 1 matches the other targets' rows.
        module = open(path, exporter, p -> Module.load(p, Module.LOAD_MODE_FILE, 1));
    }

    /** A file ExecuTorch refuses fails in load (the program) or loadMethod (its kernels): both get the version message. */
    static Module open(String path, String exporter, Loader loader) {
        Module module = null;
        try {
            module = loader.load(path);
            module.loadMethod("forward");  // load now, so load time is not billed to the first run
            return module;
        } catch (ExecutorchRuntimeException e) {
            if (module != null) module.destroy();
            String detail = "error 0x" + Integer.toHexString(e.getErrorCode()) + ": " + e.getMessage();
            throw new IllegalStateException(PteVersions.loadError(path, exporter, VERSION, detail), e);
        }
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
