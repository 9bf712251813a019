package org.influence4j.backend.tf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import org.influence4j.backend.djl.DjlKernels;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Row gathers on TensorFlow for the layer graph's kernels (an Embedding's lookups, the tables of a
 * scatter). DJL 0.35.1's TensorFlow arrays have no gather ({@code gather}, {@code take} and
 * {@code gatherNd} throw "Not implemented yet"), but its manager runs any TensorFlow op through
 * {@code TfNDManager.opExecutor(name)}, a public method whose result type ({@code TfOpExecutor}) is
 * package-private: this class calls TensorFlow's {@code GatherV2} through it reflectively, with the
 * methods looked up once. Where the lookup fails (another DJL version), it says so in the log and
 * gathers by one-hot products ({@link TfBackend#gatherRows}), whose cost is index length × rows ×
 * columns.
 *
 * <p>It reports no column gather: the windows of convolutions and pools are faster as strided views
 * ({@link DjlKernels#windows}) than as {@code GatherV2} along the columns (per-sample gradients of the
 * Fashion-MNIST CNN: 0.10-0.11 s against 0.17-0.19 s per 256 images).
 *
 * <p>{@code GatherV2} copies the selected rows exactly; an index entry outside the array is an error
 * of TensorFlow's, not a zero. Thread-safe.
 */
final class TfIndexing implements DjlKernels.EngineOps {

    private static final Logger LOG = LoggerFactory.getLogger(TfIndexing.class);

    /** The instance of this JVM, with the native gather where DJL's op executor was found. */
    static final TfIndexing INSTANCE = new TfIndexing(lookUp());

    /** {@code opExecutor}, {@code addInput}, {@code buildSingletonOrThrow}, {@code close}; null without. */
    private final Method[] executor;

    private TfIndexing(Method[] executor) {
        this.executor = executor;
    }

    /** @return the one-hot fallback, as where DJL's op executor is missing (for tests) */
    static TfIndexing withoutNativeGather() {
        return new TfIndexing(null);
    }

    private static Method[] lookUp() {
        try {
            Class<?> manager = Class.forName("ai.djl.tensorflow.engine.TfNDManager");
            Method opExecutor = manager.getMethod("opExecutor", String.class);
            Class<?> op = opExecutor.getReturnType();
            Method[] methods = {opExecutor, op.getMethod("addInput", NDArray.class),
                    op.getMethod("buildSingletonOrThrow"), op.getMethod("close")};
            for (Method m : methods) {
                m.setAccessible(true);
            }
            return methods;
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.warn("TensorFlow's GatherV2 is not reachable through DJL ({}); gathers take one-hot products", e
                    .toString());
            return null;
        }
    }

    /** @return whether TensorFlow's own gather runs (else the one-hot fallback) */
    boolean isNative() {
        return executor != null;
    }

    @Override
    public NDArray gather(NDManager m, NDArray a, int[] index) {
        return executor == null ? TfBackend.gatherRows(m, a, index) : gatherV2(m, a, index);
    }

    /** @return {@code a}'s rows {@code index}, attached to {@code m} */
    private NDArray gatherV2(NDManager m, NDArray a, int[] index) {
        long[] longs = new long[index.length];
        for (int j = 0; j < index.length; j++) {
            longs[j] = index[j];
        }
        try (NDArray indices = m.create(longs); NDArray axis = m.create(0L)) {
            Object op = executor[0].invoke(m, "GatherV2");
            boolean built = false;
            try {
                executor[1].invoke(op, a);
                executor[1].invoke(op, indices);
                executor[1].invoke(op, axis);
                NDArray out = (NDArray) executor[2].invoke(op); // closes the op
                built = true;
                return out;
            } finally {
                if (!built) {
                    executor[3].invoke(op);
                }
            }
        } catch (InvocationTargetException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("TensorFlow's GatherV2 through DJL: " + e, e);
        }
    }
}
