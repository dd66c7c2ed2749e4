package org.pytorch.executorch;

/** The part of ExecuTorch's Tensor that ExecuTorchRunner calls (see Module: JVM build only). */
public class Tensor {
    private final float[] data;

    private Tensor(float[] data) { this.data = data; }

    public static Tensor fromBlob(float[] data, long[] shape) { return new Tensor(data); }

    public float[] getDataAsFloatArray() { return data; }
}
