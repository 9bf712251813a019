package org.influence4j.backend.pytorch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.jni.JniUtils;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.influence4j.api.DType;
import org.influence4j.api.data.HostArray;

/**
 * Creation of arrays whose memory libtorch owns.
 *
 * <p>DJL builds CPU tensors from Java data with {@code from_blob} over a direct {@link ByteBuffer}
 * that only the Java {@code NDArray} object keeps alive. libtorch does not reference-count that
 * memory: a view that outlives its closed parent, or a tensor saved by autograd (e.g. the scalar of
 * {@code x.div(3.0)}, which DJL closes right after the op), then reads freed memory once the buffer
 * is garbage-collected. This backend therefore
 * <ul>
 *   <li>copies host data through a reusable per-thread staging buffer into a {@code clone()} that
 *       libtorch owns, closing the buffer-backed array at once (this also avoids allocating a new
 *       direct buffer per call, whose native memory would only be freed by a later GC);</li>
 *   <li>creates scalars with {@code torch::full} and never passes Java numbers to DJL operations.</li>
 * </ul>
 */
final class PtArrays {

    /** Staging buffers up to this size are kept per thread; larger uploads use a one-off buffer. */
    private static final int MAX_CACHED_BYTES = 16 << 20;
    private static final ThreadLocal<ByteBuffer> STAGING = new ThreadLocal<>();

    private PtArrays() {
    }

    /** @return a libtorch-owned array holding {@code data} in {@code type}, attached to {@code m} */
    static NDArray owned(NDManager m, double[] data, Shape shape, DataType type) {
        return owned(m, new HostArray(data, new long[] {data.length}, DType.FLOAT64), shape, type);
    }

    /**
     * @return a libtorch-owned array holding {@code data} (any storage; float32 storage goes into a
     *     float32 array as it is) in {@code type} with {@code shape}, attached to {@code m}
     */
    static NDArray owned(NDManager m, HostArray data, Shape shape, DataType type) {
        int n = data.size();
        if (n == 0) {
            return m.zeros(shape, type);
        }
        int bytes = Math.multiplyExact(n, type.getNumOfBytes());
        ByteBuffer buffer = staging(bytes);
        if (type == DataType.FLOAT64) {
            buffer.asDoubleBuffer().put(data.doubles());
        } else if (type == DataType.FLOAT32) {
            buffer.asFloatBuffer().put(data.floats()); // float32 storage as it is, other storage rounded once
        } else {
            throw new IllegalStateException("djl-pytorch: unexpected data type " + type);
        }
        NDArray blob = m.create(buffer, shape, type);
        try {
            return blob.duplicate();
        } finally {
            blob.close();
        }
    }

    /** @return a libtorch-owned 0-dimensional array holding {@code value}, attached to {@code m} */
    static NDArray scalar(NDManager m, double value, DataType type) {
        return JniUtils.full((PtNDManager) m, new Shape(), value, type, m.getDevice(), SparseFormat.DENSE);
    }

    private static ByteBuffer staging(int bytes) {
        ByteBuffer buffer = STAGING.get();
        if (buffer == null || buffer.capacity() < bytes) {
            buffer = ByteBuffer.allocateDirect(bytes).order(ByteOrder.nativeOrder());
            if (bytes <= MAX_CACHED_BYTES) {
                STAGING.set(buffer);
            }
        }
        buffer.clear();
        buffer.limit(bytes);
        return buffer;
    }
}
