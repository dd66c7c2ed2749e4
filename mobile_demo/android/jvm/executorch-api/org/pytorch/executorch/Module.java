package org.pytorch.executorch;

/**
 * The part of ExecuTorch's Module (executorch-android 1.4.0) that ExecuTorchRunner calls, for the
 * JVM build only: Maven Central does not serve org.pytorch:executorch-android, and Gradle builds
 * use the real AAR (check.sh compile checks the calls against it when EXECUTORCH_AAR is set).
 * Loading the class loads the native library "executorch", as the real Module's static
 * initializer does (through SoLoader's SystemDelegate, i.e. System.loadLibrary): on a desktop JVM,
 * as on a phone without libexecutorch.so, that throws UnsatisfiedLinkError, so nothing below runs.
 */
public class Module {
    public static final int LOAD_MODE_FILE = 0;

    static {
        System.loadLibrary("executorch");
    }

    private Module() {}

    public static Module load(String modelPath, int loadMode, int numThreads) {
        throw new UnsupportedOperationException("needs libexecutorch.so");
    }

    public void loadMethod(String methodName) {
        throw new UnsupportedOperationException("needs libexecutorch.so");
    }

    public EValue[] forward(EValue... inputs) {
        throw new UnsupportedOperationException("needs libexecutorch.so");
    }

    public void destroy() {
        throw new UnsupportedOperationException("needs libexecutorch.so");
    }
}
