package org.pytorch.executorch;

/**
 * ExecuTorch's error as executorch-android 1.4.0 throws it: a code from runtime/core/error.h and a
 * message "[ExecuTorch Error 0x12] ..." (see Module: JVM build only).
 */
public class ExecutorchRuntimeException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int errorCode;

    public ExecutorchRuntimeException(int errorCode, String details) {
        super("[ExecuTorch Error 0x" + Integer.toHexString(errorCode) + "] " + details);
        this.errorCode = errorCode;
    }

    public int getErrorCode() { return errorCode; }
}
