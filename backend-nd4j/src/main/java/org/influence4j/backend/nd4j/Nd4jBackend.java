package org.influence4j.backend.nd4j;

import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;
import org.influence4j.api.Backend;
import org.influence4j.api.BackendCapability;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.model.ModelSpec;

/**
 * The {@code nd4j} backend: {@link Nd4jTensorScope scopes} of explicitly closed ND4J arrays,
 * {@link Nd4jModel models} of Dense specs whose derivatives come from explicit forward, backward and
 * R-operator passes (ND4J has no double backward), and {@link Nd4jGraphModel layer-graph models}
 * whose derivatives come from the {@code graph} module's autodiff over {@link Nd4jKernels}. One
 * instance per JVM, obtained from {@link Nd4jBackendProvider#create()} (or
 * {@link Nd4jBackendProvider#backend()}).
 *
 * <p>Capabilities: {@code FLOAT64}, {@code EXACT_HVP} (Pearlmutter's R-operator, or double backward
 * for graphs; exact up to rounding), {@code BATCHED_PER_SAMPLE_GRADIENTS}, {@code DENSE_LAYER_FACTORS}
 * (Dense specs), {@code MIXED_DERIVATIVES}, {@code LAYER_GRAPH}, {@code GAUSS_NEWTON} (graph models),
 * and {@code CUDA} when ND4J loaded its CUDA backend (Maven profile {@code -Pnd4j-cuda}). Models are
 * not thread-safe (no {@code THREAD_SAFE_MODELS}); the backend itself is: scopes and models may be
 * created from any thread.
 */
public final class Nd4jBackend implements Backend {

    private final String version;
    private final Set<BackendCapability> capabilities;
    private final boolean cuda;

    Nd4jBackend(String version, boolean cuda) {
        this.version = version;
        this.cuda = cuda;
        EnumSet<BackendCapability> caps = EnumSet.of(BackendCapability.FLOAT64, BackendCapability.EXACT_HVP,
                BackendCapability.BATCHED_PER_SAMPLE_GRADIENTS, BackendCapability.DENSE_LAYER_FACTORS,
                BackendCapability.MIXED_DERIVATIVES, BackendCapability.LAYER_GRAPH, BackendCapability.GAUSS_NEWTON);
        if (cuda) {
            caps.add(BackendCapability.CUDA);
        }
        this.capabilities = Collections.unmodifiableSet(caps);
    }

    @Override
    public String name() {
        return Nd4jBackendProvider.NAME;
    }

    /** @return e.g. {@code ND4J 1.0.0-M2.1 / CpuBackend / OPENBLAS}, read from the loaded backend */
    @Override
    public String version() {
        return version;
    }

    @Override
    public Set<BackendCapability> capabilities() {
        return capabilities;
    }

    @Override
    public Nd4jTensorScope newScope() {
        return new Nd4jTensorScope(this, null);
    }

    /**
     * Builds an {@link Nd4jModel} for Dense layers, an {@link Nd4jGraphModel} for a layer graph
     * ({@link ModelSpec#isGraph()}). Graph models use ND4J's scatter-add for the adjoint of row
     * gathers on the CPU, the gather-and-sum of the {@code graph} module on CUDA (where the native
     * scatter's exactness with repeated rows is not verified).
     *
     * @throws IllegalArgumentException if the spec is null, or the parameters have the wrong length or a NaN/Inf
     */
    @Override
    public TwiceDifferentiable createModel(ModelSpec spec, double[] parameters) {
        if (spec == null) {
            throw new IllegalArgumentException("spec: must not be null");
        }
        if (spec.isGraph()) {
            return new Nd4jGraphModel(this, spec, parameters, !cuda);
        }
        return new Nd4jModel(this, spec, parameters);
    }

    /** @return the scope behind {@code scope}, checking that it belongs to this backend */
    Nd4jTensorScope requireScope(TensorScope scope, String argument) {
        if (!(scope instanceof Nd4jTensorScope nd)) {
            throw new IllegalArgumentException(argument + ": expected an nd4j scope (from Nd4jBackend.newScope()),"
                    + " got " + (scope == null ? "null" : scope.getClass().getName()));
        }
        return nd;
    }

    @Override
    public String toString() {
        return "Nd4jBackend[" + version + "]";
    }
}
