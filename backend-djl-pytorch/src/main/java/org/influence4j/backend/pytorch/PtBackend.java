package org.influence4j.backend.pytorch;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import java.nio.file.Path;
import java.util.EnumSet;
import org.influence4j.api.BackendCapability;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.api.model.NativeModelFormat;
import org.influence4j.api.model.NativeModelOptions;
import org.influence4j.backend.djl.DjlBackend;
import org.influence4j.backend.djl.DjlGraphModel;
import org.influence4j.backend.djl.DjlKernels;

/**
 * The {@code djl-pytorch} backend: {@link PtTensorScope scopes} over DJL {@code NDManager}s and
 * {@link PtModel models} whose derivatives come from libtorch autograd. One instance per JVM,
 * obtained from {@link PtBackendProvider#create()} (or {@link PtBackendProvider#backend()}).
 *
 * <p>Capabilities: {@code FLOAT64}, {@code EXACT_HVP} (autograd through an explicit backward pass,
 * see {@link PtModel}), {@code BATCHED_PER_SAMPLE_GRADIENTS}, {@code DENSE_LAYER_FACTORS},
 * {@code MIXED_DERIVATIVES}, {@code LAYER_GRAPH}, {@code GAUSS_NEWTON}, and {@code TORCHSCRIPT}:
 * {@link #loadModel} reads TorchScript modules as {@link PtTorchScriptModel}s. Models are not thread-safe
 * (no {@code THREAD_SAFE_MODELS}); the backend itself is: scopes and models may be created from any
 * thread.
 */
public final class PtBackend extends DjlBackend<PtTensorScope> {

    PtBackend(Engine engine) {
        super(PtBackendProvider.NAME, "PyTorch", engine,
                EnumSet.of(BackendCapability.FLOAT64, BackendCapability.EXACT_HVP,
                        BackendCapability.BATCHED_PER_SAMPLE_GRADIENTS, BackendCapability.DENSE_LAYER_FACTORS,
                        BackendCapability.MIXED_DERIVATIVES, BackendCapability.LAYER_GRAPH,
                        BackendCapability.GAUSS_NEWTON, BackendCapability.TORCHSCRIPT),
                PtTensorScope.class);
    }

    @Override
    public PtTensorScope newScope() {
        return new PtTensorScope(this, engine().newBaseManager());
    }

    /** @return libtorch's intra-op threads of the calling thread ({@code at::get_num_threads}) */
    @Override
    public int callingThreadOpThreads() {
        return JniUtils.getNumThreads();
    }

    /**
     * Sets libtorch's intra-op threads of the calling thread ({@code at::set_num_threads}: the
     * thread's OpenMP team size; it is also the default of threads that have not used libtorch yet,
     * and MKL's).
     */
    @Override
    public boolean setCallingThreadOpThreads(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads: must be >= 1, got " + threads);
        }
        JniUtils.setNumThreads(threads);
        return true;
    }

    /** Builds a {@link PtModel} for Dense layers, a {@link DjlGraphModel} for a layer graph. */
    @Override
    protected TwiceDifferentiable newModel(ModelSpec spec, double[] parameters) {
        if (spec.isGraph()) {
            return new DjlGraphModel<>(this, spec, parameters, PtArrays::owned, INDEXING,
                    PtGradMode::disabled);
        }
        return new PtModel(this, spec, parameters);
    }

    /**
     * Reads a TorchScript module ({@link NativeModelFormat#TORCHSCRIPT}) as a {@link PtTorchScriptModel}.
     *
     * @throws UnsupportedOperationException for any other format
     * @throws IllegalArgumentException as {@link PtTorchScriptModel#load}
     */
    @Override
    public TwiceDifferentiable loadModel(Path file, NativeModelOptions options) {
        if (options == null || options.format() != NativeModelFormat.TORCHSCRIPT) {
            return super.loadModel(file, options);
        }
        return PtTorchScriptModel.load(this, file, options);
    }

    /**
     * Rows of a matrix by index_select, columns by gather with the index expanded over the rows (the
     * fastest of libtorch's column gathers here), the index in libtorch-owned memory (no direct
     * buffer per call); libtorch's own convolutions and pools for values that need no gradient.
     */
    static final DjlKernels.EngineOps INDEXING = new DjlKernels.EngineOps() {
        @Override
        public NDArray gather(NDManager m, NDArray a, int[] index) {
            return a.get(DjlKernels.indexArray(m, PtArrays::owned, index));
        }

        @Override
        public boolean gathersColumns() {
            return true;
        }

        @Override
        public NDArray gatherColumns(NDManager m, NDArray a, int[] index) {
            long rows = a.getShape().get(0);
            try (NDArray i = DjlKernels.indexArray(m, PtArrays::owned, index);
                 NDArray row = i.reshape(1, index.length);
                 NDArray every = row.broadcast(rows, index.length)) {
                return a.gather(every, 1);
            }
        }

        @Override
        public boolean nativeLayers() {
            return true;
        }
    };
}
