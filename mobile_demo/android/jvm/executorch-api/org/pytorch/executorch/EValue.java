package org.pytorch.executorch;

/** The part of ExecuTorch's EValue that ExecuTorchRunner calls (see Module: JVM build only). */
public class EValue {
    private final Tensor tensor;

    private EValue(Tensor tensor) { this.tensor = tensor; }

    public static EValue from(Tensor tensor) { return new EValue(tensor); }

    public Tensor toTensor() { return tensor; }
}
