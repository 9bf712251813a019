package org.influence4j.backend.tf;

import ai.djl.engine.Engine;
import java.util.EnumSet;
import org.influence4j.api.BackendCapability;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.backend.djl.DjlBackend;
import org.influence4j.backend.djl.DjlGraphModel;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import java.util.Arrays;

/**
 * The {@code djl-tf} backend: {@link TfTensorScope scopes} over DJL {@code NDManager}s of the
 * TensorFlow engine (eager tensors) and {@link TfModel models} built as TensorFlow graphs whose
 * derivatives come from {@code Graph.addGradients}. One instance per JVM, obtained from
 * {@link TfBackendProvider#create()} (or {@link TfBackendProvider#backend()}).
 *
 * <p>Capabilities: {@code FLOAT64}, {@code EXACT_HVP} (symbolic double gradients, see
 * {@link TfModel}), {@code BATCHED_PER_SAMPLE_GRADIENTS}, {@code DENSE_LAYER_FACTORS},
 * {@code MIXED_DERIVATIVES}. Models are not thread-safe (no {@code THREAD_SAFE_MODELS}); CPU only
 * (no {@code CUDA}). The backend itself is thread-safe.
 */
public final class TfBackend extends DjlBackend<TfTensorScope> {

    TfBackend(Engine engine) {
        super(TfBackendProvider.NAME, "TensorFlow", engine,
                EnumSet.of(BackendCapability.FLOAT64, BackendCapability.EXACT_HVP,
                        BackendCapability.BATCHED_PER_SAMPLE_GRADIENTS, BackendCapability.DENSE_LAYER_FACTORS,
                        BackendCapability.MIXED_DERIVATIVES, BackendCapability.LAYER_GRAPH,
                        BackendCapability.GAUSS_NEWTON),
                TfTensorScope.class);
    }

    @Override
    public TfTensorScope newScope() {
        return new TfTensorScope(this, engine().newBaseManager());
    }

    /**
     * Builds a {@link TfModel} for Dense layers, a {@link DjlGraphModel} (eager TensorFlow kernels,
     * derivatives from the graph module) for a layer graph.
     */
    @Override
    protected TwiceDifferentiable newModel(ModelSpec spec, double[] parameters) {
        if (spec.isGraph()) {
            return new DjlGraphModel<>(this, spec, parameters, TfDTypes::create, TfIndexing.INSTANCE,
                    () -> () -> { });
        }
        return new TfModel(this, spec, parameters);
    }

    /**
     * At most this many entries (32 MiB of float64) in one one-hot selection of {@link #gatherRows}.
     */
    static final long SELECTION_ENTRIES = 1L << 22;

    /**
     * Rows of a matrix as the product of a one-hot selection matrix {@code [len, m]} with it, where
     * TensorFlow's own gather is not reachable ({@link TfIndexing}): DJL's TensorFlow arrays have
     * neither array indexing nor gather.
     * Exact (each row of the selection holds one 1); costs {@code len·m·c} multiply-adds. The
     * selection is made and multiplied for at most {@link #SELECTION_ENTRIES} / m rows of the index
     * at a time and the blocks joined, so that its memory stays bounded for long indices (an
     * Embedding's tokens, the tables of a scatter). Convolutions and pools do not come here: without
     * the native gather their windows are strided views
     * ({@link org.influence4j.backend.djl.DjlKernels#windows}), since an im2col index of positions ×
     * patch entries into as many rows made these products most of a CNN's time (14 s for the
     * per-sample gradients of 64 images of a 32×32×3 BatchNorm CNN, 0.2 s with the views).
     */
    static NDArray gatherRows(NDManager m, NDArray a, int[] index) {
        long rows = a.getShape().get(0);
        int block = (int) Math.max(1, Math.min(index.length, SELECTION_ENTRIES / Math.max(1, rows)));
        if (block >= index.length) {
            return selected(m, a, index);
        }
        NDList blocks = new NDList();
        try {
            for (int from = 0; from < index.length; from += block) {
                blocks.add(selected(m, a, Arrays.copyOfRange(index, from, Math.min(from + block, index.length))));
            }
            return NDArrays.concat(blocks, 0);
        } finally {
            blocks.close();
        }
    }

    /** @return {@code a}'s rows {@code index} as the product of their one-hot selection with {@code a} */
    private static NDArray selected(NDManager m, NDArray a, int[] index) {
        try (NDArray rows = m.create(index); NDArray selection = rows.oneHot((int) a.getShape().get(0),
                a.getDataType())) {
            return selection.matMul(a);
        }
    }
}
